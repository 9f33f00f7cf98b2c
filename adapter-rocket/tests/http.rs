//! The guard and the fairing over Rocket's local client: what is written, when, with
//! which headers, and what happens when the store fails.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use adapter_rocket::SessionConfig;
use common::{client, client_with, cookie_pair, log_in, set_cookies, store};
use rocket::http::{Header, Status};

#[tokio::test(flavor = "multi_thread")]
async fn untouched_route_touches_neither_store_nor_cookie() {
    let store = store();
    let client = client(&store).await;
    // A failing store proves the route never reached it.
    store.set_failing(true);
    let response = client
        .get("/untouched")
        .header(Header::new("Cookie", "session=whatever"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(response.headers().get_one("Vary"), None);
    assert_eq!(response.headers().get_one("Cache-Control"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn session_cookie_has_every_attribute() {
    let store = store();
    let client = client(&store).await;
    let response = client.post("/login/ada").dispatch().await;
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Max-Age"), "not permanent: {cookie}");

    let insecure = client_with(&store, SessionConfig::default().with_secure(false)).await;
    let response = insecure.post("/login/ada").dispatch().await;
    assert!(!set_cookies(&response)[0].contains("Secure"));

    let permanent = SessionConfig::default()
        .with_permanent(true)
        .with_lifetime(Duration::from_secs(600));
    let permanent = client_with(&store, permanent).await;
    let response = permanent.post("/login/ada").dispatch().await;
    assert!(set_cookies(&response)[0].contains("Max-Age=600"));
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_vary_on_cookie_and_writes_are_not_cached() {
    let store = store();
    let client = client(&store).await;
    let login = client.post("/login/ada").dispatch().await;
    assert_eq!(login.headers().get_one("Vary"), Some("Cookie"));
    assert_eq!(login.headers().get_one("Cache-Control"), Some("no-store"));
    let cookie = Header::new("Cookie", cookie_pair(&login));

    let read = client.get("/read").header(cookie.clone()).dispatch().await;
    assert!(set_cookies(&read).is_empty(), "a read writes no cookie");
    assert_eq!(read.headers().get_one("Vary"), Some("Cookie"));
    assert_eq!(read.headers().get_one("Cache-Control"), None);
    assert_eq!(read.into_string().await.as_deref(), Some("ada"));

    // The handler's own Vary is kept (Cookie added once); its caching is overridden only
    // when a cookie is set.
    let cached = client.get("/cached").header(cookie).dispatch().await;
    let vary: Vec<_> = cached.headers().get("Vary").collect();
    assert_eq!(vary, ["Accept-Encoding", "Cookie"]);
    assert_eq!(
        cached.headers().get_one("Cache-Control"),
        Some("max-age=60")
    );
    let anonymous_write = client.post("/count").dispatch().await;
    assert_eq!(
        anonymous_write.headers().get_one("Cache-Control"),
        Some("no-store")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_guards_in_one_request_share_one_session() {
    let store = store();
    let client = client(&store).await;
    let response = client.post("/twice").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(set_cookies(&response).len(), 1, "saved once");
    assert_eq!(response.into_string().await.as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_sends_a_matching_removal_cookie() {
    let store = store();
    let client = client(&store).await;
    let cookie = log_in(&client, "ada").await;
    let response = client
        .post("/logout")
        .header(cookie.clone())
        .dispatch()
        .await;
    let removal = &set_cookies(&response)[0];
    assert!(removal.starts_with("session=;"), "{removal}");
    assert!(
        removal.contains("Max-Age=0") && removal.contains("Path=/"),
        "{removal}"
    );
    let read = client.get("/read").header(cookie).dispatch().await;
    assert_eq!(
        read.into_string().await.as_deref(),
        Some(""),
        "the old id is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn store_down_on_load_is_503_not_a_logout() {
    let store = store();
    let client = client(&store).await;
    let cookie = log_in(&client, "ada").await;
    store.set_failing(true);
    let response = client.get("/read").header(cookie.clone()).dispatch().await;
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert!(set_cookies(&response).is_empty(), "no removal cookie");
    store.set_failing(false);
    let response = client.get("/read").header(cookie).dispatch().await;
    assert_eq!(response.into_string().await.as_deref(), Some("ada"));
}

#[tokio::test(flavor = "multi_thread")]
async fn store_down_on_save_replaces_the_response_with_503() {
    let store = store();
    let client = client(&store).await;
    let response = client.post("/write-then-fail").dispatch().await;
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert!(set_cookies(&response).is_empty());
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains("try again later"), "{body}");
    assert!(!body.contains("handler succeeded"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn too_large_session_is_413_naming_size_and_limit() {
    let store = store();
    let client = client(&store).await;
    let cookie = log_in(&client, "ada").await;
    let response = client.post("/big").header(cookie.clone()).dispatch().await;
    assert_eq!(response.status(), Status::PayloadTooLarge);
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains("65536-byte limit"), "{body}");
    let read = client.get("/read").header(cookie).dispatch().await;
    assert_eq!(
        read.into_string().await.as_deref(),
        Some("ada"),
        "unchanged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_increments_all_count() {
    const REQUESTS: u64 = 50;
    let store = store();
    let client = Arc::new(client(&store).await);
    let cookie = log_in(&client, "ada").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let (client, cookie) = (Arc::clone(&client), cookie.clone());
        tasks.spawn(async move {
            let response = client.post("/count").header(cookie).dispatch().await;
            assert_eq!(response.status(), Status::Ok);
            response
                .into_string()
                .await
                .unwrap()
                .parse::<u64>()
                .unwrap()
        });
    }
    let mut values = Vec::new();
    while let Some(value) = tasks.join_next().await {
        values.push(value.unwrap());
    }
    values.sort_unstable();
    assert_eq!(values, (1..=REQUESTS).collect::<Vec<_>>());
    let next = client.post("/count").header(cookie).dispatch().await;
    assert_eq!(next.into_string().await, Some((REQUESTS + 1).to_string()));
}
