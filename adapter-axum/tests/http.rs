//! The layer behind a real server on loopback, driven by a real HTTP client.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use axum::Router;
use common::{app, FlakyStore};
use reqwest::{Client, StatusCode};

/// Serves `app` on a free loopback port until the test's runtime ends.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get("set-cookie")?.to_str().unwrap();
    Some(value.split(';').next().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn login_show_and_untouched_routes_over_http() {
    let store = FlakyStore::default();
    let addr = serve(app(store.clone())).await;
    let client = Client::new();

    let hello = client
        .get(format!("http://{addr}/hello"))
        .send()
        .await
        .unwrap();
    assert!(hello.headers().get("set-cookie").is_none());
    assert_eq!(hello.text().await.unwrap(), "hello");

    let login = client
        .post(format!("http://{addr}/login"))
        .body("ada")
        .send()
        .await
        .unwrap();
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = session_cookie(&login).unwrap();

    let show = client
        .get(format!("http://{addr}/show"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(show.headers()["vary"], "Cookie");
    assert_eq!(show.text().await.unwrap(), "ada");
    assert_eq!(store.writes(), 1, "one write: the login");
}

#[tokio::test(flavor = "multi_thread")]
async fn store_outage_on_load_is_503_over_http() {
    let store = FlakyStore::default();
    let addr = serve(app(store.clone())).await;
    let client = Client::new();
    let login = client
        .post(format!("http://{addr}/login"))
        .body("ada")
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&login).unwrap();

    store.set_fail_loads(true);
    let show = client
        .get(format!("http://{addr}/show"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(show.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(show.headers().get("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_increments_on_one_session_all_count() {
    const REQUESTS: i64 = 50;
    let addr = serve(app(FlakyStore::default())).await;
    let client = Client::new();
    let first = client
        .post(format!("http://{addr}/count"))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&first).unwrap();
    assert_eq!(first.text().await.unwrap(), "1");

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let (client, cookie) = (client.clone(), cookie.clone());
        tasks.spawn(async move {
            let response = client
                .post(format!("http://{addr}/count"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "concurrent writes never fail"
            );
            assert!(
                response.headers().get("set-cookie").is_none(),
                "the id never changes"
            );
            response.text().await.unwrap().parse::<i64>().unwrap()
        });
    }
    let mut seen: Vec<i64> = tasks.join_all().await;
    seen.sort_unstable();
    // Serialised per session: each request saw a distinct value, 2 through 51.
    assert_eq!(seen, (2..=REQUESTS + 1).collect::<Vec<_>>());

    let last = client
        .post(format!("http://{addr}/count"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(last.text().await.unwrap(), (REQUESTS + 2).to_string());
}
