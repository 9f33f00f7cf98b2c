//! What the axum and Rocket demos share, so both serve the same site from the same flags:
//! the flags ([`CommonArgs`]), the secret ([`Secret`]), backend selection
//! ([`session_manager`]), the pages ([`Templates`]) and input checks ([`username`],
//! [`remember_me`], [`message`]).
//!
//! The demo contract (routes, statuses, cookie attributes) is in the workspace's
//! `DESIGN.md`; the framework-specific halves are `demo/axum` and `demo/rocket`.
//!
//! # Examples
//!
//! ```
//! use clap::Parser;
//! use demo_support::{session_manager, username, CommonArgs, Secret, Templates};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[arg(long, env = "DEMO_ADDR", default_value = "127.0.0.1:3000")]
//!     addr: String,
//!     #[command(flatten)]
//!     common: CommonArgs,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let secret = "a demo secret, at least thirty-two bytes long";
//! let cli = Cli::try_parse_from(["demo-axum", "--backend", "memory", "--secret-key", secret])?;
//! let secret = Secret::new(cli.common.secret_key.as_deref())?;
//! let manager = session_manager(&cli.common, &secret).await?;
//! assert!(manager.config().secure());
//!
//! let name = username(Some("ada"))?;
//! let page = Templates::new("axum", "memory backend").index(Some(name), &[])?;
//! assert!(page.contains("Logged in as ada"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! None: every backend the demos offer is always compiled in.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod args;
mod backend;
mod devices;
mod secret;
mod templates;
mod validate;

pub use crate::args::{BackendKind, CommonArgs, DEFAULT_REDIS_PREFIX};
pub use crate::backend::{describe, session_config, session_manager, StartupError};
pub use crate::devices::{handle, sessions_json, tie_login};
pub use crate::secret::Secret;
pub use crate::templates::{escape_html, Templates};
pub use crate::validate::{
    message, remember_me, username, welcome, InvalidMessage, InvalidUsername,
};
/// What rendering a page can fail with.
pub use minijinja::Error as TemplateError;

/// An error and its causes on one line, each cause once: the library's
/// [`session_core::adapter::error_chain`], the one helper both demos and both
/// adapters use.
pub use session_core::adapter::error_chain;
