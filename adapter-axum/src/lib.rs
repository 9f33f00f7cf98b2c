//! Sessions for [axum](https://docs.rs/axum) 0.8: Flask's `session`, typed, for Rust.
//!
//! Add a [`SessionLayer`] to the router and take a [`Session`] in the handlers that need
//! one. The session is loaded on first use (handlers that never ask for it cost nothing)
//! and saved after the handler returns, only if something changed.
//!
//! # Examples
//!
//! ```
//! use adapter_axum::{Error, MemoryStore, Session, SessionConfig, SessionLayer};
//! use axum::{body::Body, http::Request, routing::get, Router};
//! use tower::ServiceExt as _;
//!
//! async fn index(session: Session) -> Result<String, Error> {
//!     Ok(match session.get::<String>("username")? {
//!         Some(name) => format!("Logged in as {name}"),
//!         None => "You are not logged in".into(),
//!     })
//! }
//!
//! async fn login(session: Session) -> Result<&'static str, Error> {
//!     session.regenerate();
//!     session.insert("username", "ada")?;
//!     Ok("welcome")
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let app = Router::new()
//!     .route("/", get(index))
//!     .route("/login", get(login))
//!     .layer(SessionLayer::new(MemoryStore::default(), SessionConfig::default()));
//!
//! let response = app.clone().oneshot(Request::get("/login").body(Body::empty())?).await?;
//! let set_cookie = response.headers()["set-cookie"].to_str()?;
//! let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
//!
//! let request = Request::get("/").header("cookie", cookie).body(Body::empty())?;
//! let response = app.oneshot(request).await?;
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "Logged in as ada");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What happens on a request
//!
//! | step | where | what |
//! |---|---|---|
//! | before the handler | [`SessionService`] | notes the session cookie; no store access |
//! | first `Session` extraction | [`Session`] | loads the session (one store read); a store outage is a 503 [`SessionRejection`], never a silent logout |
//! | after the handler | [`SessionService`] | saves if loaded, whatever the status; adds `Set-Cookie`, `Vary: Cookie`, `Cache-Control: no-store` as needed; a failed save turns the response into a 503, 413 or 500 |
//!
//! Requests on one session in one process run one after another from load to save (the
//! lock lives in `session-core`'s [`ServerSide`](session_core::store::ServerSide) and is released
//! when the session is saved, or dropped with a cancelled request), so concurrent
//! `update`s are never lost.
//!
//! # Errors in handlers
//!
//! Session methods return [`SessionError`], which knows no web framework; return
//! `Result<_, adapter_axum::Error>` and `?` converts it into a response (413 for
//! [`SessionError::TooLarge`], 503 for a store outage, 500 otherwise).
//!
//! # Configuration
//!
//! [`SessionSettings`] reads every option and the secret from `SESSION_*` environment
//! variables (or any serde source), the same type Rocket users read from `Rocket.toml`:
//!
//! ```
//! use adapter_axum::{MemoryStore, SessionLayer, SessionSettings};
//!
//! let settings = SessionSettings::from_vars([("SESSION_IDLE_TIMEOUT", "1800")])?;
//! let layer = SessionLayer::try_new(MemoryStore::default(), settings.config()?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To choose the backend at run time, box it:
//! [`BoxedBackend`] (see `examples/axum_runtime_backend.rs`).
//!
//! # Features
//!
//! This crate has no cargo features; backends come from their own crates.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod error;
mod extract;
mod future;
mod layer;
mod service;

pub use session_core;
pub use session_core::adapter::SessionManager;
pub use session_core::backend::BoxedBackend;
pub use session_core::keys::{Key, KeyRing};
pub use session_core::store::MemoryStore;
pub use session_core::{
    ConfigError, Flash, LiveSession, Principal, Refresh, SameSite, SessionConfig, SessionError,
    SessionHandle, SessionKey, SessionSettings, SettingsError,
};

pub use crate::error::Error;
pub use crate::extract::{Session, SessionRejection};
pub use crate::future::ResponseFuture;
pub use crate::layer::SessionLayer;
pub use crate::service::SessionService;
