//! Failures: a missing layer, a store that fails to load or to save, sessions too large,
//! error responses, and cancelled requests.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use adapter_axum::session_core::store::ServerSide;
use adapter_axum::{Error, Session, SessionConfig, SessionLayer};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use common::{app, cookie_of, request, routes, text, FlakyStore};
use tower::ServiceExt as _;

/// Turns a hang into a failure; not a timing assertion.
const HANG: Duration = Duration::from_secs(30);

#[tokio::test]
async fn missing_layer_says_how_to_fix_it() {
    let response = routes()
        .oneshot(request("GET", "/show", None, ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert!(body.contains("add `SessionLayer` to the router"), "{body}");
}

#[tokio::test]
async fn optional_session_is_none_without_the_layer() {
    async fn maybe(session: Option<Session>) -> &'static str {
        if session.is_some() {
            "some"
        } else {
            "none"
        }
    }
    let router = Router::new().route("/", get(maybe));
    let without = router
        .clone()
        .oneshot(request("GET", "/", None, ""))
        .await
        .unwrap();
    assert_eq!(text(without).await, "none");
    let with = router.layer(SessionLayer::new(
        FlakyStore::default(),
        SessionConfig::default(),
    ));
    let response = with.oneshot(request("GET", "/", None, "")).await.unwrap();
    assert_eq!(text(response).await, "some");
}

#[tokio::test]
async fn store_failing_on_load_is_a_503_not_a_logout() {
    let store = FlakyStore::default();
    let app = app(store.clone());
    let cookie = cookie_of(
        &app.clone()
            .oneshot(request("POST", "/login", None, "ada"))
            .await
            .unwrap(),
    )
    .unwrap();

    store.set_fail_loads(true);
    let response = app
        .clone()
        .oneshot(request("GET", "/show", Some(&cookie), ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no removal cookie on an outage"
    );
    let body = text(response).await;
    assert!(body.contains("try again later"), "{body}");
    assert!(
        !body.contains("switched off"),
        "the cause is logged, not shown: {body}"
    );

    store.set_fail_loads(false);
    let response = app
        .oneshot(request("GET", "/show", Some(&cookie), ""))
        .await
        .unwrap();
    assert_eq!(
        text(response).await,
        "ada",
        "still logged in once the store is back"
    );
}

#[tokio::test]
async fn store_failing_on_save_replaces_the_response() {
    let store = FlakyStore::default();
    let app = app(store.clone());
    store.set_fail_writes(true);
    let response = app
        .oneshot(request("POST", "/count", None, ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("set-cookie").is_none());
    assert_ne!(
        text(response).await,
        "1",
        "the handler's answer must not claim success"
    );
}

#[tokio::test]
async fn too_large_from_a_handler_is_a_413_naming_size_and_limit() {
    async fn big(session: Session) -> Result<&'static str, Error> {
        session.insert("blob", "x".repeat(200))?;
        Ok("stored")
    }
    let backend = ServerSide::new(FlakyStore::default()).with_max_session_bytes(Some(100));
    let app = Router::new()
        .route("/big", post(big))
        .route("/count", post(common::count))
        .layer(SessionLayer::new(backend, SessionConfig::default()));
    let response = app
        .clone()
        .oneshot(request("POST", "/big", None, ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = text(response).await;
    assert!(
        body.contains("100-byte limit") && body.contains("bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn error_responses_still_save_the_session() {
    async fn fails(session: Session) -> (StatusCode, &'static str) {
        session.insert("username", "ada").unwrap();
        (StatusCode::NOT_FOUND, "nothing here")
    }
    let app = common::routes()
        .route("/fails", get(fails))
        .layer(SessionLayer::new(
            FlakyStore::default(),
            SessionConfig::default(),
        ));
    let response = app
        .clone()
        .oneshot(request("GET", "/fails", None, ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let cookie = cookie_of(&response).unwrap();
    let show = app
        .oneshot(request("GET", "/show", Some(&cookie), ""))
        .await
        .unwrap();
    assert_eq!(text(show).await, "ada");
}

#[tokio::test]
async fn a_cancelled_request_releases_its_session() {
    let (loaded_tx, loaded_rx) = tokio::sync::oneshot::channel::<()>();
    let loaded_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(loaded_tx)));
    let stuck = move |session: Session| {
        let loaded_tx = loaded_tx.clone();
        async move {
            session.insert("during", true).unwrap();
            if let Some(tx) = loaded_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            std::future::pending::<()>().await;
        }
    };
    let app = common::routes()
        .route("/stuck", post(stuck))
        .layer(SessionLayer::new(
            FlakyStore::default(),
            SessionConfig::default(),
        ));
    let cookie = cookie_of(
        &app.clone()
            .oneshot(request("POST", "/login", None, "ada"))
            .await
            .unwrap(),
    )
    .unwrap();

    // The request holds the session's lock, then its future is dropped (a client that
    // went away).
    let stuck_request =
        tokio::spawn(
            app.clone()
                .oneshot(request("POST", "/stuck", Some(&cookie), "")),
        );
    loaded_rx.await.unwrap();
    stuck_request.abort();
    assert!(stuck_request.await.unwrap_err().is_cancelled());

    let next = tokio::time::timeout(
        HANG,
        app.oneshot(request("POST", "/count", Some(&cookie), "")),
    )
    .await
    .expect("the cancelled request's lock was released")
    .unwrap();
    assert_eq!(
        text(next).await,
        "1",
        "the cancelled request's write was not saved"
    );
}

#[tokio::test]
async fn taking_the_session_twice_loads_once() {
    async fn twice(a: Session, b: Session) -> String {
        a.insert("k", 1).unwrap();
        b.get::<i32>("k").unwrap().unwrap_or_default().to_string()
    }
    let store = FlakyStore::default();
    let app = common::routes()
        .route("/twice", post(twice))
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let cookie = cookie_of(
        &app.clone()
            .oneshot(request("POST", "/login", None, "ada"))
            .await
            .unwrap(),
    )
    .unwrap();
    let loads = store.loads();
    let response = tokio::time::timeout(
        HANG,
        app.oneshot(request("POST", "/twice", Some(&cookie), "")),
    )
    .await
    .expect("a second extractor does not wait for the first's lock")
    .unwrap();
    assert_eq!(text(response).await, "1", "both handles share one session");
    assert_eq!(store.loads() - loads, 1);
}
