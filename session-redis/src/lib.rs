//! Server-side sessions in Redis, for apps that run on many machines.
//!
//! [`RedisStore`] is a [`RecordStore`](session_core::RecordStore): hand it to an adapter
//! (or a [`SessionManager`](session_core::SessionManager)) and every process of the app
//! shares the same sessions. Each session is one Redis hash whose TTL is the session's
//! deadline; saves are compare-and-swap Lua scripts, so concurrent requests on different
//! machines never lose each other's writes. Only the SHA-256 of a session id is stored.
//!
//! [`FlaskSessionStore`] reads and writes Flask-Session's own records
//! (`session:<sid>`, msgpack), so a Flask app and a Rust service share logins.
//!
//! # Examples
//!
//! ```
//! use session_core::{SessionConfig, SessionManager};
//! use session_redis::RedisStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
//! let manager = SessionManager::new(store, SessionConfig::default())?;
//!
//! let session = manager.load(None).await?;
//! session.insert("username", "ada")?;
//! let cookie = manager.save(&session).await?.set_cookie.expect("a new session sets a cookie");
//!
//! // Any process connected to the same Redis now knows this session.
//! let value = manager.find_cookie([cookie.as_str()]);
//! let session = manager.load(value.as_deref()).await?;
//! assert_eq!(session.get::<String>("username")?.as_deref(), Some("ada"));
//!
//! // Logout removes it from Redis.
//! session.destroy();
//! manager.save(&session).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `flask-session` | yes | [`FlaskSessionStore`]: Flask-Session's records (`rmp-serde`, `sha1`) |
//! | `cluster` | no | `RedisConfig::cluster(nodes)`: Redis Cluster through `redis`' `cluster-async` |
//!
//! # Why the `redis` crate
//!
//! The `redis` crate (redis-rs) is the most used and most actively maintained Redis
//! client for Rust, now maintained under the Redis organisation. Its
//! `ConnectionManager` multiplexes every request of a process over one connection
//! (pipelined, so no pool and no per-request connection cost) and re-dials a dropped
//! connection by itself; its cluster client does the same per node; `Script` runs Lua
//! with `EVALSHA` and loads the script when the server lacks it. Built with
//! `default-features = false` plus `tokio-comp`, `connection-manager` and `script`, it
//! adds little to a build. `fred` is as fast but larger and more than this store needs.
//!
//! # Failures
//!
//! Every command runs under a timeout ([`RedisConfig::with_command_timeout`], 2 s by
//! default). A refused connection, a dropped one or a timeout is
//! [`StoreError::Unavailable`](session_core::StoreError::Unavailable) (adapters answer
//! `503`) with a [`RedisError`] as its source, naming the server without its password;
//! a record that cannot be decoded is
//! [`StoreError::Corrupt`](session_core::StoreError::Corrupt) with a [`DecodeError`].
//! After an outage the connection comes back by itself.
//!
//! Requires Redis 4.0 or later (multi-field `HSET` in scripts).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod config;
mod conn;
mod error;
#[cfg(feature = "flask-session")]
mod flask;
mod store;

pub use crate::config::{RedisConfig, DEFAULT_PREFIX};
pub use crate::error::{DecodeError, RedisError};
#[cfg(feature = "flask-session")]
pub use crate::flask::FlaskSessionStore;
pub use crate::store::RedisStore;
