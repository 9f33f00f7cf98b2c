//! Servers, a browser and the comparisons the side-by-side tests share.
//!
//! Every server is a process on 127.0.0.1, started with `--port 0` (the Flask originals
//! through `tests/python/tutorials/serve.py`, the Rust examples as cargo builds them) and
//! awaited until it prints ` * Running on http://127.0.0.1:PORT` on stderr. A [`Browser`]
//! is a small HTTP client with a cookie jar that follows no redirects, so each answer is
//! seen as the server sent it.

mod browser;
mod compare;
mod server;

use std::time::Duration;

pub use self::browser::{Browser, Reply, SetCookie};
pub use self::compare::*;
pub use self::server::Server;

/// How long a server may take to start (a cold `cargo build` of the examples is waited
/// for separately) and a request to be answered.
const WAIT: Duration = Duration::from_secs(60);
