//! The conformance kit for session stores and backends.
//!
//! One public async check per rule of the store contracts in `session-core`, plus macros
//! that expand every check into a `#[tokio::test]` for your store. Depend on this crate
//! from your store's tests and run:
//!
//! ```
//! # use session_conformance::{MemoryBackendHarness as MyBackendHarness, MemoryHarness as MyHarness};
//! session_conformance::record_store_tests!(MyHarness);
//! session_conformance::backend_tests!(MyBackendHarness);
//! # fn main() {}
//! ```
//!
//! - [`record_store`] checks a [`RecordStore`](session_core::RecordStore) (layer 2): round
//!   trips, compare-and-swap, atomic key change, touch, expiry, hashed keys at rest, and
//!   100 concurrent updates through [`ServerSide`](session_core::ServerSide).
//! - [`backend`] checks any [`SessionBackend`](session_core::SessionBackend) (layer 1),
//!   cookie backends included. Checks a backend cannot meet by nature (revoking a cookie)
//!   follow its declared [`Capabilities`](session_core::Capabilities): the check then
//!   asserts the declared limitation really is there, so nothing is skipped silently and
//!   nothing is claimed falsely.
//!
//! # Examples
//!
//! The kit run against [`MemoryStore`](session_core::MemoryStore), by hand:
//!
//! ```
//! use session_conformance::{record_store, MemoryHarness};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
//! record_store::compare_and_swap_refuses_stale_versions(&MemoryHarness).await;
//! # });
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
// A test kit reports failures by panicking, as assertions do.
#![allow(clippy::unwrap_used)]

pub mod backend;
mod concurrent;
pub mod e2e;
mod faulty;
mod harness;
mod macros;
pub mod record_store;

pub use crate::faulty::FaultyStore;
pub use crate::harness::{BackendHarness, MemoryBackendHarness, MemoryHarness, StoreHarness};
