//! Server-side sessions in one SQLite file, through `sqlx`: the embedded default.
//!
//! [`SqliteStore`] implements [`RecordStore`](session_core::store::RecordStore); hand it to
//! a [`SessionManager`](session_core::adapter::SessionManager) (or an adapter), which wraps
//! it in [`ServerSide`](session_core::store::ServerSide) for ids, hashing, expiry and
//! conflict replay.
//!
//! # Examples
//!
//! ```
//! use session_core::adapter::SessionManager;
//! use session_core::SessionConfig;
//! use session_sqlite::SqliteStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let dir = tempfile::tempdir()?;
//! let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
//! let store = SqliteStore::connect(&url).await?; // creates the file and its schema
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
//! # The database
//!
//! - **URLs**: `sqlite://relative.db`, `sqlite:///absolute/path.db` (a missing file is
//!   created, its directory is not), `sqlite::memory:` (a private in-memory database
//!   per store).
//! - **Schema**: table `session_records`, one row per session, keyed by `id_hash`, the
//!   SHA-256 of the session id (the raw id never reaches the store); `data` is the JSON
//!   object of the session's values; `created_at`, `last_active`, `expires_at` are unix
//!   milliseconds; `permanent`; `version` for compare-and-swap; `principal`, the user a
//!   session is tied to (NULL for none). An index on `expires_at` serves cleanup. The
//!   crate owns `session_records` and
//!   `session_sqlite_migrations` (its schema versions), and migrates them on connect,
//!   safely even when several processes open a new file at once.
//! - **Concurrency**: WAL journal (readers never wait for the writer), a few reader
//!   connections and one writer connection, a busy timeout. Every write is one
//!   conditional statement (a key change is two in one `BEGIN IMMEDIATE` transaction),
//!   so several processes can share one file without losing updates. A load is one
//!   prepared statement on an idle connection: no per-request pragmas, no pool pings.
//! - **Per-user index**: the store keeps it (`indexes_principals` is true): the
//!   statement that writes a session's data also writes its `principal` column, and a
//!   partial index on `(principal, expires_at)` makes listing a user's live sessions one
//!   index range scan, never a scan of every session. Deletes, key changes and cleanup
//!   take the entry with the row, so "log out everywhere" misses nothing. Added by
//!   schema version 2, applied on connect to files made by earlier versions.
//! - **Durability**: `synchronous=NORMAL`: an application crash loses nothing that was
//!   acknowledged; a power loss can drop the last commits. See [`SqliteStoreOptions`].
//! - **Expiry**: every operation judges a row's deadline against the `now` it is handed
//!   (a bound parameter, never SQLite's or the system's clock), so a row past its deadline
//!   is absent before the cleanup task deletes it.
//! - **Cleanup**: a background task deletes expired rows in batches of 1000 every 60
//!   seconds (undecodable ones too, counted in its log), and stops when the store is
//!   dropped or closed. Having no request to take the time from, it reads the store's
//!   clock ([`SqliteStoreOptions::with_clock`], the system clock by default).
//! - **Corrupt rows**: a row that does not decode is `StoreError::Corrupt`, which
//!   `ServerSide` answers by deleting it and starting a new session.
//! - **A removed file**: SQLite would go on writing to a database file unlinked while
//!   open, and every session would vanish at the next restart. Before each write the
//!   store checks that the path still names the file it opened (device and inode); if
//!   not, writes fail with [`SqliteError::FileRemoved`] (unavailable, 503), logged once.
//! - **Errors**: [`SqliteError`] names the file and keeps sqlx's error; the store maps it
//!   to `StoreError::Unavailable` (busy, locked, I/O, cannot open, file removed),
//!   `StoreError::Corrupt` (a row that does not decode, a record too large to store) or
//!   `StoreError::Backend`.
//!
//! For maintenance of your own (an integrity check, a backup),
//! [`SqliteStore::acquire_writer`] lends the write connection.
//!
//! The crate has no feature flags.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod cleanup;
mod conns;
mod error;
mod file_watch;
mod options;
mod record_store;
mod schema;
mod store;

pub use crate::error::SqliteError;
pub use crate::options::SqliteStoreOptions;
pub use crate::store::SqliteStore;

#[cfg(test)]
mod tests;
