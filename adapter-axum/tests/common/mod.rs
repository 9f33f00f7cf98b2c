//! Shared by the adapter's test files: a store that fails on demand and counts its calls,
//! a small app, and response helpers.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;

use adapter_axum::{Error, MemoryStore, Session, SessionConfig, SessionLayer};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use session_conformance::FaultyStore;

/// A [`MemoryStore`] that can be told to fail, and counts what it is asked: the
/// conformance kit's [`FaultyStore`], shared so the test keeps a handle on it.
pub type FlakyStore = Arc<FaultyStore<MemoryStore>>;

pub async fn hello() -> &'static str {
    "hello"
}

pub async fn show(session: Session) -> Result<String, Error> {
    Ok(session.get::<String>("username")?.unwrap_or_default())
}

pub async fn login(session: Session, body: String) -> Result<&'static str, Error> {
    session.regenerate();
    session.insert("username", body)?;
    Ok("ok")
}

pub async fn count(session: Session) -> Result<String, Error> {
    Ok(session
        .update("counter", |n: Option<i64>| n.unwrap_or(0) + 1)?
        .to_string())
}

pub async fn logout(session: Session) -> StatusCode {
    session.destroy();
    StatusCode::NO_CONTENT
}

/// The routes every test file uses, without a layer.
pub fn routes() -> Router {
    Router::new()
        .route("/hello", get(hello))
        .route("/show", get(show))
        .route("/login", post(login))
        .route("/count", post(count))
        .route("/logout", post(logout))
}

/// The default config: the tests check the defaults users get.
pub fn config() -> SessionConfig {
    SessionConfig::default()
}

pub fn app(store: FlakyStore) -> Router {
    routes().layer(SessionLayer::new(store, config()))
}

pub fn request(method: &str, uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// The `name=value` part of the response's `Set-Cookie`, if any.
pub fn cookie_of(response: &Response<Body>) -> Option<String> {
    let all: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert!(
        all.len() <= 1,
        "at most one session cookie per response: {all:?}"
    );
    all.first().map(|value| {
        value
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    })
}

pub fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}
