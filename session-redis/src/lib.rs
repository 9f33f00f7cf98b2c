//! Server-side sessions in Redis, for apps that run on many machines.
//!
//! [`RedisStore`] is a [`RecordStore`](session_core::store::RecordStore): hand it to an
//! adapter (or a [`SessionManager`](session_core::adapter::SessionManager)) and every
//! process of the app shares the same sessions. Each session is one Redis hash whose TTL
//! is the session's deadline; saves are compare-and-swap Lua scripts, so concurrent
//! requests on different machines never lose each other's writes. Only the SHA-256 of a
//! session id is stored.
//! It also keeps the per-user index ("log out everywhere"): a sorted set per principal,
//! hash-tagged so it works in a Redis Cluster.
//!
//! [`FlaskSessionStore`] reads and writes Flask-Session's own records
//! (`session:<sid>`, msgpack), so a Flask app and a Rust service share logins. It keeps
//! no per-user index (a Flask app writing the same records would not maintain one).
//!
//! Expiry is judged against the `now` each call is handed (the manager's clock), not
//! Redis' clock: a session is gone from its deadline on even if the key's TTL has not
//! fired yet.
//!
//! # Examples
//!
//! ```
//! use session_core::adapter::SessionManager;
//! use session_core::backend::CookieUpdate;
//! use session_core::SessionConfig;
//! use session_redis::RedisStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
//! let manager = SessionManager::new(store, SessionConfig::default())?;
//!
//! let request = manager.request(None);
//! request.session().await?.insert("username", "ada")?;
//! let plan = request.finish().await?.ok_or("the session was loaded")?;
//! let set_cookie = plan.set_cookie.ok_or("a new session sets a cookie")?;
//!
//! // Any process connected to the same Redis now knows this session.
//! let header = format!("session={}", set_cookie.value());
//! let cookie = manager.find_cookie([header.as_bytes()]);
//! let request = manager.request(cookie.as_deref());
//! let session = request.session().await?;
//! assert_eq!(session.get::<String>("username")?.as_deref(), Some("ada"));
//!
//! // Logout removes it from Redis.
//! session.destroy();
//! let plan = request.finish().await?.ok_or("the session was loaded")?;
//! assert_eq!(plan.cookie, CookieUpdate::Remove);
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
//! [`StoreError::Unavailable`](session_core::store::StoreError::Unavailable) (adapters answer
//! `503`) with a [`RedisError`] as its source, naming the server without its password;
//! a record that cannot be decoded (a garbled or missing field, another Redis type under a
//! session's key) is
//! [`StoreError::Corrupt`](session_core::store::StoreError::Corrupt) with a [`DecodeError`],
//! which `ServerSide` deletes when met. What a cookie names is never an outage: a cookie
//! that names no record, or (in the Flask-Session mode, where the sid is the key) a key of
//! another Redis type, is an anonymous visitor. After an outage the connection comes back
//! by itself.
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
