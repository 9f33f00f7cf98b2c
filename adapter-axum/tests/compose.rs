//! The layer inside real routers: nested routers, state, and other layers around it.

#![allow(clippy::unwrap_used)]

mod common;

use adapter_axum::{Session, SessionConfig, SessionLayer};
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use common::{cookie_of, header, request, routes, text, FlakyStore};
use tower::ServiceExt as _;

fn layer() -> SessionLayer {
    SessionLayer::new(FlakyStore::default(), SessionConfig::default())
}

async fn login_then_show(app: Router, login: &str, show: &str) -> String {
    let response = app
        .clone()
        .oneshot(request("POST", login, None, "ada"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{login}");
    let cookie = cookie_of(&response).unwrap();
    text(
        app.oneshot(request("GET", show, Some(&cookie), ""))
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn works_on_a_nested_router_with_the_layer_outside() {
    let app = Router::new().nest("/api", routes()).layer(layer());
    assert_eq!(login_then_show(app, "/api/login", "/api/show").await, "ada");
}

#[tokio::test]
async fn works_with_the_layer_on_the_nested_router_only() {
    let app = Router::new()
        .route("/plain", get(|| async { "plain" }))
        .nest("/api", routes().layer(layer()));
    assert_eq!(
        login_then_show(app.clone(), "/api/login", "/api/show").await,
        "ada"
    );
    // Routes outside the layer have no session.
    let response = app
        .oneshot(request("GET", "/plain", None, ""))
        .await
        .unwrap();
    assert_eq!(header(&response, "set-cookie"), None);
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[tokio::test]
async fn works_next_to_state() {
    async fn greet(State(state): State<AppState>, session: Session) -> String {
        let name = session
            .get::<String>("username")
            .unwrap()
            .unwrap_or_default();
        format!("{} {name}", state.greeting)
    }
    let app = routes()
        .merge(
            Router::new()
                .route("/greet", get(greet))
                .with_state(AppState { greeting: "hi" }),
        )
        .layer(layer());
    assert_eq!(login_then_show(app, "/login", "/greet").await, "hi ada");
}

#[tokio::test]
async fn works_between_other_layers() {
    // Outside the session layer: sees the final response, cookie included.
    async fn outer(request: Request, next: Next) -> Response {
        let mut response = next.run(request).await;
        let saw_cookie = response.headers().contains_key("set-cookie");
        let value = HeaderValue::from_static(if saw_cookie { "cookie" } else { "none" });
        response.headers_mut().insert("x-outer", value);
        response
    }
    // Inside the session layer: may itself take the session, before the handler.
    async fn inner(session: Session, request: Request, next: Next) -> Response {
        session.insert("visited_by_middleware", true).unwrap();
        next.run(request).await
    }
    async fn check(session: Session) -> String {
        session
            .get::<bool>("visited_by_middleware")
            .unwrap()
            .unwrap_or(false)
            .to_string()
    }
    let app = Router::new()
        .route("/check", post(check))
        .layer(middleware::from_fn(inner))
        .layer(layer())
        .layer(middleware::from_fn(outer));
    let response = app
        .oneshot(request("POST", "/check", None, ""))
        .await
        .unwrap();
    assert_eq!(header(&response, "x-outer"), Some("cookie"));
    assert!(cookie_of(&response).is_some());
    assert_eq!(
        text(response).await,
        "true",
        "middleware and handler share one session"
    );
}
