//! The conformance kit for session stores and backends.
//!
//! One public async check per rule of the store and backend contracts in `session-core`,
//! plus macros that expand every check into a `#[tokio::test]` for your store. Depend on
//! this crate (and on `tokio` with `macros` and `rt-multi-thread`, which the expanded
//! tests use) from your store's tests, implement [`StoreHarness`] or [`BackendHarness`],
//! and run:
//!
//! ```
//! # use session_conformance::{MemoryBackendHarness as MyBackendHarness, MemoryHarness as MyHarness};
//! session_conformance::record_store_tests!(MyHarness);
//! session_conformance::backend_tests!(MyBackendHarness);
//! # fn main() {}
//! ```
//!
//! - [`record_store`] checks a [`RecordStore`](session_core::store::RecordStore): round
//!   trips, compare-and-swap, atomic key change, touch, expiry, hashed keys at rest, and
//!   100 concurrent updates through [`ServerSide`](session_core::store::ServerSide).
//! - [`backend`] checks any [`SessionBackend`](session_core::backend::SessionBackend),
//!   cookie backends included, driven through a
//!   [`SessionManager`](session_core::adapter::SessionManager) as an adapter drives it.
//!   Checks a backend cannot meet by nature (revoking a cookie) follow its declared
//!   [`Capabilities`](session_core::backend::Capabilities): the check then asserts the
//!   declared limitation really is there, so nothing is skipped silently and nothing is
//!   claimed falsely.
//! - [`index`] checks the per-user index of any backend (tie, list, revoke, cap, expiry,
//!   other processes, racing logins), held to its declared
//!   [`Capabilities::per_user_index`](session_core::backend::Capabilities::per_user_index)
//!   both ways.
//! - [`FaultyStore`] wraps a store and fails on demand, for checks of what an outage does.
//!
//! No check sleeps and none measures how long anything took: each check reads time from
//! its own [`ManualClock`](session_core::clock::ManualClock), started at the system time
//! and moved by hand, hands it to the manager (`with_clock`) and passes its `now` to every
//! store call. A timeout check moves the clock by minutes and is over in milliseconds; a
//! backend or store that reads the system clock instead of the time it is handed fails it.
//!
//! # Examples
//!
//! The kit run against [`MemoryStore`](session_core::store::MemoryStore), by hand:
//!
//! ```
//! use session_conformance::{backend, record_store, MemoryBackendHarness, MemoryHarness};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
//! record_store::compare_and_swap_refuses_stale_versions(&MemoryHarness).await;
//! record_store::expired_records_are_never_returned(&MemoryHarness).await;
//! backend::idle_timeout_expires_idle_sessions(&MemoryBackendHarness).await;
//! # });
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
// A test kit reports failures by panicking, as assertions do.
#![allow(clippy::unwrap_used)]

pub mod backend;
mod concurrent;
mod drive;
mod faulty;
mod harness;
pub mod index;
mod macros;
pub mod record_store;
pub mod requests;

pub use crate::faulty::FaultyStore;
pub use crate::harness::{BackendHarness, MemoryBackendHarness, MemoryHarness, StoreHarness};
