//! Server-side sessions as files in a directory, and Flask-Session's filesystem sessions.
//!
//! [`FileStore`] keeps one file per session in this crate's own format: hand it to a
//! [`SessionManager`](session_core::adapter::SessionManager) (or an adapter), which wraps it
//! in [`ServerSide`](session_core::store::ServerSide) for ids, hashing, expiry and conflict
//! replay. Several processes of an app on one machine can share the directory.
//!
//! [`FlaskSessionFileStore`] reads and writes what Flask-Session 0.8 keeps with
//! `SESSION_TYPE = "filesystem"` (cachelib's `FileSystemCache`), so a Flask app and a Rust
//! service on one machine share logins.
//!
//! # Examples
//!
//! ```
//! use session_core::adapter::SessionManager;
//! use session_core::SessionConfig;
//! use session_files::FileStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let dir = tempfile::tempdir()?;
//! let store = FileStore::open(dir.path().join("sessions")).await?;
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
//! # The directory ([`FileStore`])
//!
//! - **Layout** (directories 0700, files 0600):
//!
//!   | path | what |
//!   |---|---|
//!   | `<dir>/<key>` | one file per session, named by its storage key: the SHA-256 of its id (64 hex digits); the raw id never reaches the store |
//!   | `<dir>/.session-files.lock` | the lock file |
//!   | `<dir>/.tmp-*.tmp` | writes in flight (and what a crashed writer left) |
//!   | `<dir>/.principals/<bucket>/<key>` | the per-user index: an empty marker per session tied to a principal; the bucket is the SHA-256 (hex) of the principal's name |
//!
//! - **A session file** (format 1, little-endian):
//!
//!   | offset | size | field |
//!   |---|---|---|
//!   | 0 | 4 | magic `\x89SES` |
//!   | 4 | 2 | format version (1) |
//!   | 6 | 2 | flags (0) |
//!   | 8 | 8 | `expires_at`, Unix ms |
//!   | 16 | 8 | `version` |
//!   | 24 | 4 | body length |
//!   | 28 | … | the record as JSON: `data`, `created_at`, `last_active`, `expires_at`, `permanent`, `version` |
//!
//!   Bytes 0–16 keep their meaning in later formats, so an older build can tell when a
//!   newer file expires; a file of a newer format is otherwise left alone.
//! - **Writes**: a temporary file in the directory, synced per [`Durability`], renamed
//!   over the session's file. A reader sees the old file or the new one; a writer killed
//!   mid-write (`SIGKILL`) leaves no torn file.
//! - **Compare-and-swap across processes**: one exclusive lock on the directory (`flock`
//!   through `fd-lock`) covers reading the current file and the rename; the new file is
//!   written and synced before the lock is taken, so the lock is held for microseconds.
//!   Why one lock for the directory and not one per session, and why `fd-lock`: see
//!   the `dir::lock` module's source.
//! - **Per-user index** ([`RecordStore::sessions_of`](session_core::store::RecordStore::sessions_of)):
//!   a record whose data ties it to a principal has a marker in the principal's bucket,
//!   moved under the same lock as the session file: a write adds the new marker before
//!   the rename and removes the old one after it (a save that ties, unties or reties; a
//!   change of key); a delete removes the file, then the marker. A crash can leave a
//!   marker without its session, never a tied session without its marker. A listing
//!   reads the principal's bucket and the files it names, never the whole directory, and
//!   returns the live records still tied to the principal; a marker that leads nowhere is
//!   skipped, and removed by the listing (under the lock) or the cleanup. Under
//!   [`Durability::SyncAll`] a new marker is synced before the rename, ahead of the
//!   lock.
//! - **Expiry**: judged on every call against the `now` it is handed; a background task
//!   removes expired (and undecodable) files every 60 s, then the index markers whose
//!   file is gone and the buckets left empty, and temporary files a crashed writer left
//!   behind. Having no request to take the time from, it reads the store's
//!   clock ([`FileStoreOptions::with_clock`]).
//! - **Errors**: [`FileStoreError`] names the path and keeps the cause; I/O failures and a
//!   directory removed while the store runs are `StoreError::Unavailable` (503); a file
//!   that does not decode is `StoreError::Corrupt`, which `ServerSide` answers by removing
//!   it and starting a new session.
//!
//! # Flask-Session's directory ([`FlaskSessionFileStore`])
//!
//! See the type's documentation for the format, what the mode keeps of a Flask app's
//! session, and what it cannot promise.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `flask-session` | yes | [`FlaskSessionFileStore`]: Flask-Session's filesystem sessions (`serde-pickle`, `num-bigint`, `md-5`) |

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod cleanup;
mod dir;
mod error;
#[cfg(feature = "flask-session")]
mod flask;
mod native;
mod options;

pub use crate::error::{FileStoreError, FormatError};
#[cfg(feature = "flask-session")]
pub use crate::flask::{FilenameDigest, FlaskFileError, FlaskSessionFileStore, FlaskSessionFormat};
pub use crate::native::FileStore;
pub use crate::options::{Durability, FileStoreOptions};

#[cfg(test)]
mod tests;
