//! Server-side sessions in the PostgreSQL an app already runs, through `sqlx`.
//!
//! [`PostgresStore`] implements [`RecordStore`](session_core::store::RecordStore); hand it
//! to a [`SessionManager`](session_core::adapter::SessionManager) (or an adapter), which
//! wraps it in [`ServerSide`](session_core::store::ServerSide) for ids, hashing, expiry
//! and conflict replay. Any number of app processes may share one table: concurrent
//! updates of one session are never lost.
//!
//! # Examples
//!
//! ```no_run
//! use session_core::adapter::SessionManager;
//! use session_core::SessionConfig;
//! use session_postgres::PostgresStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! // Creates the table `session_records` on first use.
//! let store = PostgresStore::connect("postgres://postgres@127.0.0.1:5432/postgres").await?;
//! let manager = SessionManager::new(store, SessionConfig::default())?;
//!
//! let request = manager.request(None);
//! request.session().await?.insert("username", "ada")?;
//! let plan = request.finish().await?.ok_or("the session was loaded")?;
//! let cookie = plan.cookie_value().ok_or("a new session sets a cookie")?;
//!
//! let again = manager.request(Some(cookie));
//! assert_eq!(again.session().await?.get::<String>("username")?.as_deref(), Some("ada"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the app's own pool, a schema of its own and a longer cleanup interval:
//!
//! ```no_run
//! use std::time::Duration;
//! use session_postgres::PostgresStoreOptions;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let pool = sqlx::PgPool::connect("postgres://app@127.0.0.1/app").await?;
//! let store = PostgresStoreOptions::default()
//!     .with_schema("sessions")
//!     .with_cleanup_interval(Some(Duration::from_secs(600)))
//!     .from_pool(pool)
//!     .await?;
//! assert_eq!(store.table(), "sessions.session_records");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The database
//!
//! - **Table**: `session_records` (see [`PostgresStoreOptions::with_table`]) in the
//!   connection's current schema (or [`PostgresStoreOptions::with_schema`]); one row per
//!   session, keyed by `id_hash`, the SHA-256 of the session id (the raw id never reaches
//!   the store); `data`, the JSON of the session's values as `bytea` (exactly the bytes
//!   saved: `jsonb` would re-sort keys and rewrite numbers, and nothing queries inside
//!   the data); `created_at`, `last_active`, `expires_at` in unix milliseconds;
//!   `permanent`; `version` for compare-and-swap; `principal`, the user a session is
//!   tied to (NULL for none). An index on `expires_at` serves cleanup.
//! - **Per-user index**: the store keeps it (`indexes_principals` is true): the
//!   statement that writes a session's data also writes its `principal` column, and a
//!   partial index on `(principal, expires_at)` makes listing a user's live sessions one
//!   index scan, never a scan of every session. Deletes, key changes and cleanup take
//!   the entry with the row, so "log out everywhere" misses nothing. Added by schema
//!   version 2 (a catalog-only column and an index built in the migration's
//!   transaction, which holds off writes to the table while it builds).
//! - **Migrations**: the crate creates the schema, the table and its ledger
//!   `session_records_migrations` on connect, in one transaction under a PostgreSQL
//!   advisory lock (`pg_advisory_xact_lock`), so processes starting together on an empty
//!   database wait for each other instead of failing. A table already at the current
//!   version is left alone, so the app's role needs no `CREATE` privilege once it exists.
//! - **Concurrency**: every write is one conditional statement (a key change is two in
//!   one transaction). A save is a compare-and-swap on `version`; a create replaces only
//!   an expired row. No lost updates across processes, no lock held between requests.
//! - **Expiry**: every operation judges a row's deadline against the `now` it is handed
//!   (a bound parameter, never the server's clock), so a row past its deadline is absent
//!   before the cleanup task deletes it.
//! - **Cleanup**: a background task deletes expired rows in batches of 1000 every 60
//!   seconds (`FOR UPDATE SKIP LOCKED`, so several processes' tasks never wait for each
//!   other), and stops when the last clone of the store is dropped or closed. Having no
//!   request to take the time from, it reads the store's clock
//!   ([`PostgresStoreOptions::with_clock`], the system clock by default).
//! - **Connections**: a pool of 10 by default; an operation waits at most the acquire
//!   timeout (5 s) for a connection, then fails as unavailable (503) with an error that
//!   says whether the pool was exhausted or the server did not answer. A connection found
//!   dead (the server restarted) is replaced by itself; loads retry once on a fresh one.
//! - **Corrupt rows**: a row that does not decode is `StoreError::Corrupt`, which
//!   `ServerSide` answers by deleting it and starting a new session.
//! - **Errors**: [`PostgresError`] names the operation, the database and the table (never
//!   a password: URLs go through [`redact_url`](session_core::store::redact_url)) and
//!   keeps sqlx's error, whose message is the server's; see its docs for how it maps to
//!   `StoreError`.
//! - **TLS**: this crate turns on no TLS feature of sqlx. To reach a server over TLS,
//!   enable `sqlx/tls-rustls` (or another) in your own manifest and pass `sslmode` in the
//!   URL, or build the pool yourself ([`PostgresStore::from_pool`]).
//!
//! The crate has no feature flags.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod cleanup;
mod error;
mod options;
mod record_store;
mod schema;
mod sql;
mod store;

pub use crate::error::PostgresError;
pub use crate::options::PostgresStoreOptions;
pub use crate::store::PostgresStore;

#[cfg(test)]
mod tests;
