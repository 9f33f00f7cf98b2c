//! Client-side sessions: the whole session lives in the cookie, signed so nobody can
//! forge it, optionally encrypted so nobody can read it. Nothing is stored on the server.
//!
//! | backend | cookie format | use it when |
//! |---|---|---|
//! | [`CookieBackend`] | this crate's own ([`secure`]): HMAC-SHA256, key ids for rotation, optional AES-256-GCM, millisecond timestamps | a Rust service wants Flask's default "session in a cookie" |
//! | [`FlaskCookieBackend`] | exactly Flask's ([`flask`]): itsdangerous, tagged JSON, `SECRET_KEY_FALLBACKS` | a Rust service and a Flask app share one login |
//!
//! Both are backends: they implement
//! [`SessionBackend`](session_core::backend::SessionBackend) themselves (there is no
//! record store underneath: nothing is kept on the server), so any adapter serves them
//! like a server-side store. Both judge expiry on every load from signed timestamps
//! (idle timeout, absolute timeout, lifetime, to the millisecond), refuse a write that
//! would make the cookie longer than 4093 bytes ([`DEFAULT_MAX_COOKIE_BYTES`]) with
//! [`SessionError::TooLarge`](session_core::SessionError::TooLarge) (the session stays as
//! it was), and treat a missing, tampered, foreign or expired cookie as an anonymous
//! visitor, never as an error.
//!
//! # Examples
//!
//! ```
//! use session_core::adapter::SessionManager;
//! use session_core::keys::{Key, KeyRing};
//! use session_core::SessionConfig;
//! use session_cookie::CookieBackend;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let keys = KeyRing::new(Key::try_from_secret("a random secret of 32 bytes or more")?);
//! let config = SessionConfig::default().with_keys(keys.clone());
//! let manager = SessionManager::new(CookieBackend::new(keys), config)?;
//!
//! let request = manager.request(None);
//! request.session().await?.insert("username", "ada")?;
//! let plan = request.finish().await?.ok_or("the session was loaded")?;
//! let set_cookie = plan.set_cookie.ok_or("a write sets the cookie")?;
//!
//! // The next request sends the cookie back: the session is in it.
//! let header = format!("session={}", set_cookie.value());
//! let request = manager.request(manager.find_cookie([header.as_bytes()]).as_deref());
//! let session = request.session().await?;
//! assert_eq!(session.get::<String>("username")?.as_deref(), Some("ada"));
//!
//! // Too much data for a cookie is refused at `insert`, and nothing changes.
//! assert!(session.insert("essay", "x".repeat(5_000)).is_err());
//! assert!(!session.contains("essay"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a cookie session cannot do
//!
//! **A cookie session cannot be revoked once issued.** Logging out
//! ([`Session::destroy`](session_core::Session::destroy)) removes the cookie from the
//! browser, but a copy of the cookie (stolen, or saved before logout) stays valid until
//! it expires: the server keeps no list of live sessions to strike it from. Where that
//! matters, use a server-side store (`session-sqlite`, `session-redis`), or short idle
//! and absolute timeouts. Both backends declare this in their
//! [`Capabilities`](session_core::backend::Capabilities) (`server_side_revocation: false`).
//!
//! Concurrent requests cannot merge either: each response carries a whole cookie, and
//! the browser keeps whichever arrives last (`merges_concurrent_writes: false`).
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `zlib-compat` | off | compress Flask payloads with C zlib (`libz-sys`) instead of the pure-Rust backend, and every payload offered to it (not only those of 256 bytes and more), so cookies are byte-identical to CPython's; Flask reads either |

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::time::Duration;

pub mod flask;
mod flask_backend;
mod native;
mod plan;
pub mod secure;
mod verified;

pub use crate::flask_backend::{FlaskCookieBackend, FlaskOrigin, TIMES_KEY};
pub use crate::native::{CookieBackend, CookieState};

/// The default cookie size limit, `name=value` in bytes: the most every common browser
/// keeps for one cookie.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 4093;

/// How far ahead of the server's clock a cookie's signed issue time, or the creation time
/// it carries, may be and the cookie still be accepted: 60 seconds.
///
/// Both backends count every timeout (idle, absolute, lifetime) from those two times, so a
/// cookie stamped in the future would outlive all of them; one stamped far enough ahead
/// (say `i64::MAX`) would never expire. Such a cookie cannot come from this library on a
/// sane clock; it comes from a server whose clock is badly wrong, or from someone holding
/// the key. Both backends therefore treat a cookie with either time beyond `now +
/// MAX_CLOCK_SKEW` as an anonymous visitor (logged at debug level), as itsdangerous refuses
/// a signature younger than zero.
///
/// Why not zero: the processes behind one site each read their own clock, and those
/// differ a little (NTP keeps them within milliseconds, a badly synced host by seconds);
/// and a re-issued cookie is stamped 1 ms after its predecessor so its value always
/// changes, so a quick run of writes can put a cookie a few milliseconds ahead of the
/// clock. A minute covers both with room to spare while keeping the damage bounded: no
/// accepted cookie lives more than a minute beyond its timeouts.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60);
