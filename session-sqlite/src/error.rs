//! What can go wrong with the session database, and how it maps onto [`StoreError`].

use std::path::{Path, PathBuf};

use session_core::store::{BoxError, StoreError};

/// A failure of the session database, naming the database file and keeping the cause.
///
/// [`SqliteStore::connect`](crate::SqliteStore::connect) returns it directly; the
/// [`RecordStore`](session_core::store::RecordStore) methods box it into a [`StoreError`]:
/// [`StoreError::Unavailable`] when retrying later may help or the operator must act (the
/// file is locked or busy, cannot be opened, was removed while open, an I/O error, no
/// connection free in time), [`StoreError::Corrupt`] for a row that cannot be decoded (and
/// for a record too large to store), and [`StoreError::Backend`] for the rest.
///
/// # Examples
///
/// ```
/// use session_sqlite::SqliteStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = std::env::temp_dir().join("session-sqlite-doc-error");
/// std::fs::create_dir_all(&dir)?;
/// // A directory is no database file.
/// let url = format!("sqlite://{}", dir.display());
/// let error = SqliteStore::connect(&url).await.err().ok_or("a directory cannot be opened")?;
/// assert_eq!(error.path(), Some(dir.as_path()));
/// assert!(error.is_unavailable());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The connection URL could not be understood.
    #[error("`{url}` is not a usable SQLite URL (expected `sqlite://FILE`, `sqlite:///ABS/FILE` or `sqlite::memory:`): {source}")]
    InvalidUrl {
        /// The URL as given, any password hidden
        /// ([`redact_url`](session_core::store::redact_url)).
        url: String,
        /// sqlx's parse error.
        #[source]
        source: sqlx::Error,
    },
    /// The database could not be opened or its schema could not be set up: a missing
    /// directory, a path that is a directory, a file that is not a database, a file
    /// locked by another process.
    #[error("could not open the session database {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database was set up by a newer version of this crate.
    #[error(
        "the session database {} has schema version {found}, newer than version {supported} that this build of session-sqlite knows; upgrade session-sqlite",
        path.display()
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A statement failed on an open database.
    #[error("the session database {} failed to {operation}: {source}", path.display())]
    Query {
        /// The database file.
        path: PathBuf,
        /// What was being done, such as `load a session`.
        operation: &'static str,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored row could not be decoded into a session record.
    #[error("a session record in {} has a corrupt `{column}` column: {source}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The column that failed to decode.
        column: &'static str,
        /// The decoding error.
        #[source]
        source: BoxError,
    },
    /// The database file was removed or replaced (its directory removed, another file
    /// moved in its place) while the store had it open. SQLite would go on writing to the
    /// unlinked file, and every session would vanish when the app restarts, so writes
    /// fail instead (unavailable: adapters answer 503; the operator has to act). Loads
    /// still read what the open file holds.
    #[error(
        "the session database {} was removed or replaced while the store had it open; \
         writes are refused rather than lost with the unlinked file: put the file back, or \
         restart the app to open a new one",
        path.display()
    )]
    FileRemoved {
        /// The database file, as configured.
        path: PathBuf,
    },
    /// A session record is larger than SQLite stores in one value (`SQLITE_TOOBIG`: 1 GB
    /// by default). Not an outage and not retryable: reported as
    /// [`StoreError::Corrupt`], a 500, since `StoreError` has no variant for a record that
    /// cannot be stored. Limit session sizes with `ServerSide::with_max_session_bytes`
    /// (64 KiB by default).
    #[error(
        "the session database {} could not {operation}: the record is larger than SQLite \
         stores; limit session sizes with `ServerSide::with_max_session_bytes`: {source}",
        path.display()
    )]
    TooLarge {
        /// The database file.
        path: PathBuf,
        /// What was being done, such as `save a session`.
        operation: &'static str,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// A session's data could not be encoded as JSON.
    #[error("a session for {} could not be encoded as JSON: {source}", path.display())]
    Encode {
        /// The database file.
        path: PathBuf,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

impl SqliteError {
    /// The database file the error is about (`:memory:` for an in-memory database), or
    /// `None` for a URL that could not be parsed.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::InvalidUrl { .. } => None,
            Self::Open { path, .. }
            | Self::SchemaTooNew { path, .. }
            | Self::Query { path, .. }
            | Self::Corrupt { path, .. }
            | Self::FileRemoved { path }
            | Self::TooLarge { path, .. }
            | Self::Encode { path, .. } => Some(path),
        }
    }

    /// Whether the store cannot serve now and the operator may have to act: the file is
    /// busy or locked, cannot be opened, was removed while open, the disk failed or is
    /// full, or no connection was free in time.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Open { source, .. } | Self::Query { source, .. } => is_transient(source),
            Self::FileRemoved { .. } => true,
            _ => false,
        }
    }
}

impl From<SqliteError> for StoreError {
    fn from(error: SqliteError) -> Self {
        // A record too large to store is this record's problem, not an outage (503).
        let too_large = match &error {
            SqliteError::TooLarge { .. } => true,
            SqliteError::Query { source, .. } => is_too_big(source),
            _ => false,
        };
        if too_large || matches!(error, SqliteError::Corrupt { .. }) {
            StoreError::Corrupt(Box::new(error))
        } else if error.is_unavailable() {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Backend(Box::new(error))
        }
    }
}

/// SQLite's primary result codes that mean "not now" rather than "never".
/// <https://www.sqlite.org/rescode.html>
const SQLITE_NOMEM: i32 = 7;
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_PROTOCOL: i32 = 15;
const SQLITE_TOOBIG: i32 = 18;

/// Whether `error` is one that retrying later may cure.
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            // sqlx reports extended codes; the low byte is the primary code.
            .is_some_and(|code| {
                matches!(
                    code & 0xff,
                    SQLITE_BUSY
                        | SQLITE_LOCKED
                        | SQLITE_NOMEM
                        | SQLITE_IOERR
                        | SQLITE_FULL
                        | SQLITE_CANTOPEN
                        | SQLITE_PROTOCOL
                )
            }),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// Whether `error` is SQLite's "database is busy/locked", which waiting can cure.
pub(crate) fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED)),
        _ => false,
    }
}

/// Whether `error` is SQLite's "string or blob too big": a value past `SQLITE_MAX_LENGTH`.
pub(crate) fn is_too_big(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_TOOBIG),
        _ => false,
    }
}
