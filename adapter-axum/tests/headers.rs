//! What the layer writes on responses, driven with `tower::ServiceExt::oneshot`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use adapter_axum::{SessionConfig, SessionLayer};
use common::{app, cookie_of, header, request, routes, text, FlakyStore};
use tower::ServiceExt as _;

#[tokio::test]
async fn untouched_handler_touches_no_store_and_sets_no_cookie() {
    let store = FlakyStore::default();
    let app = app(store.clone());
    // Even with a (well-formed) cookie, a handler that never asks for the session does not
    // cause a store read.
    let cookie = "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let response = app
        .oneshot(request("GET", "/hello", Some(cookie), ""))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "set-cookie"), None);
    assert_eq!(header(&response, "vary"), None);
    assert_eq!(header(&response, "cache-control"), None);
    assert_eq!((store.loads(), store.writes()), (0, 0));
}

#[tokio::test]
async fn new_session_cookie_has_the_secure_defaults() {
    let response = app(FlakyStore::default())
        .oneshot(request("POST", "/login", None, "ada"))
        .await
        .unwrap();
    let set_cookie = header(&response, "set-cookie").unwrap();
    assert!(set_cookie.starts_with("session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert!(
        !set_cookie.contains("Max-Age"),
        "browser-session cookie by default: {set_cookie}"
    );
    assert_eq!(header(&response, "vary"), Some("Cookie"));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn insecure_and_permanent_settings_reach_the_cookie() {
    let config = SessionConfig::default()
        .with_secure(false)
        .with_permanent(true)
        .with_lifetime(Duration::from_secs(3600));
    let app = routes().layer(SessionLayer::new(FlakyStore::default(), config));
    let response = app
        .oneshot(request("POST", "/count", None, ""))
        .await
        .unwrap();
    let set_cookie = header(&response, "set-cookie").unwrap();
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age=3600"), "{set_cookie}");
    assert!(set_cookie.contains("Expires="), "{set_cookie}");
}

#[tokio::test]
async fn reading_varies_on_cookie_without_writing() {
    let store = FlakyStore::default();
    let app = app(store.clone());
    let login = app
        .clone()
        .oneshot(request("POST", "/login", None, "ada"))
        .await
        .unwrap();
    let cookie = cookie_of(&login).unwrap();
    let writes = store.writes();

    let response = app
        .oneshot(request("GET", "/show", Some(&cookie), ""))
        .await
        .unwrap();
    assert_eq!(header(&response, "set-cookie"), None);
    assert_eq!(header(&response, "vary"), Some("Cookie"));
    assert_eq!(
        header(&response, "cache-control"),
        None,
        "no cookie set, cacheable per Vary"
    );
    assert_eq!(text(response).await, "ada");
    assert_eq!(store.writes(), writes, "a read writes nothing");
}

#[tokio::test]
async fn logout_sends_a_removal_cookie_with_the_same_attributes() {
    let app = app(FlakyStore::default());
    let login = app
        .clone()
        .oneshot(request("POST", "/login", None, "ada"))
        .await
        .unwrap();
    let cookie = cookie_of(&login).unwrap();
    let response = app
        .clone()
        .oneshot(request("POST", "/logout", Some(&cookie), ""))
        .await
        .unwrap();
    let removal = header(&response, "set-cookie").unwrap();
    assert!(removal.starts_with("session=;"), "{removal}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure", "Max-Age=0"] {
        assert!(removal.contains(attribute), "{removal} lacks {attribute}");
    }
    // The old cookie is dead on the server.
    let replay = app
        .oneshot(request("GET", "/show", Some(&cookie), ""))
        .await
        .unwrap();
    assert_eq!(text(replay).await, "");
}

#[tokio::test]
async fn existing_vary_and_cache_headers_are_kept_or_overridden_as_needed() {
    use axum::http::{HeaderValue, Response};
    use axum::routing::post;
    use axum::Router;

    async fn handler(session: adapter_axum::Session) -> Response<axum::body::Body> {
        session.insert("k", 1).unwrap();
        let mut response = Response::new(axum::body::Body::from("ok"));
        let headers = response.headers_mut();
        headers.insert("vary", HeaderValue::from_static("Accept-Encoding, cookie"));
        headers.insert(
            "cache-control",
            HeaderValue::from_static("public, max-age=600"),
        );
        headers.insert("set-cookie", HeaderValue::from_static("theme=dark"));
        response
    }
    let app = Router::new()
        .route("/", post(handler))
        .layer(SessionLayer::new(
            FlakyStore::default(),
            SessionConfig::default(),
        ));
    let response = app.oneshot(request("POST", "/", None, "")).await.unwrap();
    let vary: Vec<_> = response.headers().get_all("vary").iter().collect();
    assert_eq!(
        vary,
        ["Accept-Encoding, cookie"],
        "Cookie already listed: not repeated"
    );
    assert_eq!(
        header(&response, "cache-control"),
        Some("no-store"),
        "a session cookie is never cached"
    );
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(
        cookies.len(),
        2,
        "the handler's own cookie is kept: {cookies:?}"
    );
}

#[tokio::test]
async fn a_non_utf8_byte_in_another_cookie_keeps_the_user_logged_in() {
    let store = FlakyStore::default();
    let app = app(store.clone());
    let login = app
        .clone()
        .oneshot(request("POST", "/login", None, "ada"))
        .await
        .unwrap();
    let session = cookie_of(&login).unwrap();
    // `theme=café` as a Latin-1 browser sends it: one byte that is not UTF-8.
    let mut raw = format!("{session}; theme=caf").into_bytes();
    raw.push(0xE9);
    let mut show = request("GET", "/show", None, "");
    show.headers_mut()
        .insert("cookie", axum::http::HeaderValue::from_bytes(&raw).unwrap());
    let response = app.oneshot(show).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response).await,
        "ada",
        "the session cookie is still found"
    );
}
