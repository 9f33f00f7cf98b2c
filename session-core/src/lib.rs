//! Sessions for Rust web apps, without a web framework: Flask's `session`, typed.
//!
//! Three rooms, one per audience:
//!
//! | who | where | what |
//! |---|---|---|
//! | handler authors | the crate root | [`Session`] (get, insert, update, regenerate, destroy, flash...), [`SessionKey`], [`Flash`], [`SessionConfig`], [`SessionSettings`], [`SessionError`] |
//! | backend authors | [`backend`] | [`SessionBackend`](backend::SessionBackend), [`Loaded`](backend::Loaded), [`Outcome`](backend::Outcome), [`Lifecycle`](backend::Lifecycle), [`BoxedBackend`](backend::BoxedBackend) |
//! | store authors | [`store`] | [`RecordStore`](store::RecordStore), [`Record`](store::Record), [`StorageKey`](store::StorageKey); [`ServerSide`](store::ServerSide) and [`MemoryStore`](store::MemoryStore) |
//!
//! Framework adapters (`adapter-axum`, `adapter-rocket`) share everything that is not
//! framework glue through [`adapter`]; keys live in [`keys`], time in [`clock`].
//!
//! # Examples
//!
//! A handler's view: the session is loaded before it runs and saved after it returns.
//!
//! ```
//! use session_core::{Session, SessionError, SessionKey};
//!
//! const USERNAME: SessionKey<String> = SessionKey::new("username");
//!
//! fn login(session: &Session, name: &str) -> Result<(), SessionError> {
//!     session.regenerate(); // a new id at login: a planted id is worthless
//!     USERNAME.insert(session, name.to_owned())?;
//!     session.flash(format!("Welcome, {name}!"))
//! }
//!
//! let session = Session::default();
//! login(&session, "ada")?;
//! assert_eq!(USERNAME.get(&session)?.as_deref(), Some("ada"));
//! assert_eq!(session.take_flashes()[0].message, "Welcome, ada!");
//! # Ok::<(), SessionError>(())
//! ```
//!
//! # Security defaults
//!
//! 256-bit ids from the OS random source; only their SHA-256 is stored; cookies are
//! `HttpOnly`, `Secure`, `SameSite=Lax`; expiry is enforced on the server on every load;
//! unknown ids are never adopted; secrets under 32 bytes are refused; keys and ids never
//! appear in `Debug` output or logs.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod adapter;
pub mod backend;
pub mod clock;
mod config;
mod error;
pub mod keys;
mod session;
mod settings;
pub mod store;

pub use crate::config::{ConfigError, Refresh, SameSite, SessionConfig};
pub use crate::error::SessionError;
pub use crate::session::{
    Flash, InvalidSessionHandle, LiveSession, Principal, Session, SessionHandle, SessionKey,
};
pub use crate::settings::{SessionSettings, SettingsError, ENV_PREFIX};
