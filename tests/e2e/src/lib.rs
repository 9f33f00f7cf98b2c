//! End-to-end suites for the demo sites (unpublished: the conformance kit a store author
//! runs is the separate `session-conformance` crate): each demo binary started as a
//! process on a free loopback port and driven over real HTTP, one scenario per rule of
//! the demo contract, the same scenarios for every framework and every backend.
//!
//! - [`Demo`] builds a demo binary once per test process (`cargo build`, path read from
//!   cargo's JSON messages), starts it with `--addr 127.0.0.1:PORT --backend ...
//!   --secret-key ...` and the database URL the backend needs, waits until it answers
//!   and kills it on drop, printing its output when a test failed.
//! - [`Visitor`] is an HTTP client that never follows redirects and keeps its cookies in
//!   a jar the test can read, replay and tamper with; [`Reply`] and [`SetCookie`] take
//!   answers apart.
//! - [`scenarios`] holds one async function per scenario and [`e2e_suite!`](crate::e2e_suite)
//!   expands them all into `#[tokio::test]`s.
//! - What a backend cannot do by nature (revoke a cookie, survive a restart in memory,
//!   list a user's sessions from a cookie) is in [`Backend::capabilities`], read from the
//!   library's own backend where the library declares it; scenarios then assert the
//!   declared behaviour, never skip.
//! - Demos on Redis write under a key prefix of their own configuration, deleted with it
//!   ([`redis`]); on PostgreSQL, in a schema of their own, dropped with it; on the
//!   directory backends (`files`, `flask-files`), in a directory inside their temporary
//!   directory, removed with it.
//! - [`webdriver`] logs in and out in a real Chromium, and revokes one browser's session
//!   from another's `/sessions` page.
//!
//! # Examples
//!
//! ```
//! use session_e2e::{text_after, Backend, SetCookie};
//!
//! // The capability table the scenarios follow.
//! assert!(Backend::Sqlite.capabilities().server_side_revocation);
//! assert!(!Backend::from_flag("cookie").capabilities().server_side_revocation);
//! assert!(!Backend::Memory.capabilities().survives_restart);
//! assert!(Backend::Sqlite.capabilities().per_user_index);
//! assert!(!Backend::from_flag("cookie").capabilities().per_user_index);
//!
//! // Taking a demo's answers apart.
//! let cookie = SetCookie::parse("session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=0").unwrap();
//! assert!(cookie.is_removal() && cookie.http_only);
//! let html = "<p>Logged in as Ada &amp; Bob</p>";
//! assert_eq!(text_after(html, "Logged in as ").as_deref(), Some("Ada & Bob"));
//! ```
//!
//! In a test file (here against demo-axum with SQLite):
//!
//! ```ignore
//! session_e2e::e2e_suite!(sqlite, package = "demo-axum", bin = "demo-axum", backend = "sqlite");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
// The scenarios report failures by panicking, as assertions do.
#![allow(clippy::unwrap_used)]

mod backend;
mod binary;
pub(crate) mod demo;
mod error;
mod macros;
mod postgres;
pub mod redis;
mod reply;
pub mod scenarios;
mod visitor;
pub mod webdriver;

pub use self::backend::{Backend, Capabilities, Storage};
pub use self::binary::demo_binary;
pub use self::demo::{Demo, DemoConfig, DemoSpec};
pub use self::error::E2eError;
pub use self::reply::{decode_entities, text_after, Reply, SetCookie};
pub use self::visitor::{form_urlencoded, Visitor, SESSION_COOKIE};
