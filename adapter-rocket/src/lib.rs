//! Sessions for [Rocket](https://rocket.rs) 0.5: Flask's `session`, typed, for Rust.
//!
//! Attach a [`SessionFairing`] and take a [`Session`] guard in the routes that need one.
//! The session is loaded by the guard (routes that never ask for it cost nothing) and
//! saved by the fairing after the handler, only if something changed. Cookies, headers
//! and error statuses are those of `adapter-axum`: both come from `session-core`'s
//! [`SessionManager`].
//!
//! # Examples
//!
//! ```
//! use adapter_rocket::{Error, MemoryStore, Session, SessionConfig, SessionFairing};
//! use rocket::http::{Header, Status};
//! use rocket::local::asynchronous::Client;
//!
//! #[rocket::get("/")]
//! fn index(session: Session) -> Result<String, Error> {
//!     Ok(match session.get::<String>("username")? {
//!         Some(name) => format!("Logged in as {name}"),
//!         None => "You are not logged in".into(),
//!     })
//! }
//!
//! #[rocket::post("/login")]
//! fn login(session: Session) -> Result<&'static str, Error> {
//!     session.regenerate();
//!     session.insert("username", "ada")?;
//!     Ok("welcome")
//! }
//!
//! # rocket::async_test(async {
//! let rocket = rocket::build()
//!     .mount("/", rocket::routes![index, login])
//!     .attach(SessionFairing::new(MemoryStore::default(), SessionConfig::default()));
//! let client = Client::untracked(rocket).await?;
//!
//! let response = client.post("/login").dispatch().await;
//! let set_cookie = response.headers().get_one("Set-Cookie").unwrap_or_default();
//! let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
//!
//! let response = client.get("/").header(Header::new("Cookie", cookie)).dispatch().await;
//! assert_eq!(response.status(), Status::Ok);
//! assert_eq!(response.into_string().await.as_deref(), Some("Logged in as ada"));
//! # Ok::<(), rocket::Error>(())
//! # })?;
//! # Ok::<(), rocket::Error>(())
//! ```
//!
//! # What happens on a request
//!
//! | step | where | what |
//! |---|---|---|
//! | launch | [`SessionFairing`] (ignite) | sets up the backend, or aborts launch with a logged [`LaunchError`]; the [`Session`] sentinel aborts launch when the fairing is missing |
//! | first `Session` guard | [`Session`] | loads the session (one store read) into the request's local cache; a store outage fails the guard with 503, never a silent logout |
//! | after the handler | [`SessionFairing`] (response) | saves if loaded, whatever the status; adds `Set-Cookie`, `Vary: Cookie`, `Cache-Control: no-store` as needed; a failed save turns the response into a 503, 413 or 500 |
//!
//! # Configuration
//!
//! In code with [`SessionFairing::new`], or from Rocket's configuration with
//! [`SessionFairing::from_figment`] / [`SessionFairing::connect`] and a `sessions` table,
//! read into `session-core`'s [`SessionSettings`] (the type Axum apps read from `SESSION_*`
//! variables; it lists every key) and handed to `connect` as [`LaunchSettings`]:
//!
//! ```toml
//! [default.sessions]
//! idle_timeout = 1800
//! same_site = "strict"
//! ```
//!
//! Outside the `debug` profile, a backend that needs keys refuses to launch without
//! `sessions.secret_key`, as Rocket does without its `secret_key`; see
//! [`SessionFairing`]'s "Secret keys". To choose the backend at run time, box it:
//! [`BoxedBackend`] (see `examples/rocket_runtime_backend.rs`).
//!
//! # Errors in handlers
//!
//! Session methods return [`SessionError`], which knows no web framework; return
//! `Result<_, adapter_rocket::Error>` and `?` converts it into a response (413 for
//! [`SessionError::TooLarge`], 503 for a store outage, 500 otherwise).
//!
//! # Features
//!
//! This crate has no cargo features and needs none of Rocket's (not even `secrets`:
//! sessions are signed with their own keys); backends come from their own crates.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod error;
mod fairing;
mod guard;
mod launch;
mod settings;

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
pub use crate::fairing::SessionFairing;
pub use crate::guard::{Session, SessionRejection};
pub use crate::launch::LaunchError;
pub use crate::settings::LaunchSettings;
