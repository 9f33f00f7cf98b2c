//! Sessions for Rust web apps, without a web framework: the [`Session`] handle handlers
//! use, the [`Record`] stores keep, ids and keys, expiry policy, the two store contracts
//! and an in-memory store.
//!
//! Framework adapters (`adapter-axum`, `adapter-rocket`) wire a [`SessionManager`] into a
//! server; backends (`session-cookie`, `session-sqlite`, `session-redis`, or
//! [`MemoryStore`] here) decide where sessions live.
//!
//! # Examples
//!
//! What an adapter does around every request, by hand:
//!
//! ```
//! use session_core::{MemoryStore, SessionConfig, SessionManager};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
//!
//! // First request: no cookie, an anonymous session; logging in writes it.
//! let session = manager.load(None).await?;
//! assert_eq!(session.get::<String>("username")?, None);
//! session.regenerate();
//! session.insert("username", "ada")?;
//! let response = manager.save(&session).await?;
//! let set_cookie = response.set_cookie.expect("login sets a cookie");
//!
//! // Next request: the browser sends the cookie back.
//! let cookie = manager.find_cookie([set_cookie.split(';').next().unwrap_or_default()]);
//! let session = manager.load(cookie.as_deref()).await?;
//! assert_eq!(session.get::<String>("username")?.as_deref(), Some("ada"));
//!
//! // A request that only reads writes nothing.
//! assert_eq!(manager.save(&session).await?.set_cookie, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The two contracts
//!
//! | trait | implemented by | job |
//! |---|---|---|
//! | [`SessionBackend`] | cookie backends, [`ServerSide`] | cookie value in, [`Session`] out; [`Outcome`] in, [`CookieUpdate`] out |
//! | [`RecordStore`] | [`MemoryStore`], SQLite, Redis | load, create, compare-and-swap save, change key, delete, touch, delete expired |
//!
//! [`ServerSide`] turns any [`RecordStore`] into a [`SessionBackend`]: it issues ids, hashes
//! them at rest, enforces strict mode and expiry, serialises requests per session and
//! replays writes after compare-and-swap conflicts.
//!
//! # Security defaults
//!
//! 256-bit ids from the OS random source; only their SHA-256 is stored; cookies are
//! `HttpOnly`, `Secure`, `SameSite=Lax`; expiry is enforced on the server on every load;
//! unknown ids are never adopted; keys and ids never appear in `Debug` output or logs.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod config;
mod error;
mod id;
mod keys;
mod manager;
mod memory;
mod record;
mod server_side;
mod session;
mod store;
mod timestamp;

pub use crate::config::{ConfigError, Refresh, SameSite, SessionConfig};
pub use crate::error::{BoxError, SessionError, StoreError};
pub use crate::id::{InvalidSessionId, RandomSourceError, SessionId, StorageKey};
pub use crate::keys::{Key, KeyError, KeyId, KeyRing, MIN_KEY_BYTES};
pub use crate::manager::{SessionManager, SessionResponse};
pub use crate::memory::MemoryStore;
pub use crate::record::{json_len, Record};
pub use crate::server_side::{KeyScheme, ServerSide};
pub use crate::session::{ChangeSet, Flash, Origin, Outcome, Session, SizeLimit};
pub use crate::store::{
    Capabilities, CookieUpdate, IntoSessionBackend, RecordStore, SessionBackend,
};
pub use crate::timestamp::Timestamp;
