//! The store handle: its connections, its cleanup task, and how it is closed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::ops::DerefMut;

use sqlx::SqliteConnection;

use crate::cleanup::Cleanup;
use crate::conns::Conns;
use crate::error::is_too_big;
use crate::file_watch::FileWatch;
use crate::{SqliteError, SqliteStoreOptions};

/// Server-side sessions in one SQLite file.
///
/// Cheap to clone: clones share the connections and the cleanup task, which stops when the last
/// clone is dropped or [`close`](Self::close) is called. Several processes may open the
/// same file: every write is a compare-and-swap on the row's version, so none of them
/// loses another's update.
///
/// See the [crate docs](crate) for the schema and an example.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    cleanup: Option<Cleanup>,
    cleanup_batch: u32,
}

/// The connections and the file they open: everything a query needs.
#[derive(Clone)]
pub(crate) struct Db {
    /// Serves loads; several connections, since WAL readers run in parallel.
    pub(crate) reader: Arc<Conns>,
    /// Serves writes; one connection, since SQLite admits one writer at a time, and
    /// queueing on its lock is cheaper than spinning in SQLite's busy handler.
    pub(crate) writer: Arc<Conns>,
    /// The database file, for error messages.
    pub(crate) path: Arc<Path>,
    /// Notices the file being removed while open (`None` in memory).
    pub(crate) file: Option<Arc<FileWatch>>,
}

impl Db {
    pub(crate) fn query_error(&self, operation: &'static str, source: sqlx::Error) -> SqliteError {
        let path = PathBuf::from(&*self.path);
        if is_too_big(&source) {
            return SqliteError::TooLarge {
                path,
                operation,
                source,
            };
        }
        SqliteError::Query {
            path,
            operation,
            source,
        }
    }

    /// Fails when the path no longer names the file the store opened, so no write lands
    /// in an unlinked file.
    pub(crate) fn check_file(&self) -> Result<(), SqliteError> {
        self.file.as_deref().map_or(Ok(()), FileWatch::check)
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` with the default
    /// [`SqliteStoreOptions`] and migrates its schema.
    ///
    /// `url` is `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or
    /// `sqlite::memory:`.
    ///
    /// # Errors
    ///
    /// See [`SqliteStoreOptions::connect`].
    pub async fn connect(url: &str) -> Result<Self, SqliteError> {
        SqliteStoreOptions::default().connect(url).await
    }

    /// Settings to change before connecting; [`SqliteStoreOptions::default`] in short.
    pub fn options() -> SqliteStoreOptions {
        SqliteStoreOptions::default()
    }

    pub(crate) fn new(db: Db, options: &SqliteStoreOptions) -> Self {
        let cleanup = options.cleanup_interval.map(|interval| {
            Cleanup::spawn(
                db.clone(),
                interval,
                options.cleanup_batch,
                Arc::clone(&options.clock),
            )
        });
        Self {
            inner: Arc::new(Inner {
                db,
                cleanup,
                cleanup_batch: options.cleanup_batch,
            }),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn cleanup_batch(&self) -> u32 {
        self.inner.cleanup_batch
    }

    /// The database file (`:memory:` for an in-memory database).
    pub fn path(&self) -> &Path {
        &self.inner.db.path
    }

    /// The write connection, for maintenance of your own: an integrity check, a backup,
    /// a look at the rows. Session writes wait while you hold it; rows written through it
    /// bypass the store's checks.
    ///
    /// # Errors
    ///
    /// [`SqliteError::Query`] when the store is closed or the connection is busy past
    /// the acquire timeout.
    pub async fn acquire_writer(
        &self,
    ) -> Result<impl DerefMut<Target = SqliteConnection> + '_, SqliteError> {
        let db = &self.inner.db;
        db.writer
            .acquire()
            .await
            .map_err(|error| db.query_error("lend its write connection", error))
    }

    /// Stops the cleanup task and closes every connection, waiting for queries in flight.
    /// Every clone of this store fails with [`StoreError::Unavailable`](session_core::store::StoreError::Unavailable) afterwards.
    pub async fn close(&self) {
        if let Some(cleanup) = &self.inner.cleanup {
            cleanup.stop();
        }
        self.inner.db.reader.close().await;
        self.inner.db.writer.close().await;
    }

    #[cfg(test)]
    pub(crate) fn cleanup_task(&self) -> Option<tokio::task::AbortHandle> {
        self.inner.cleanup.as_ref().map(Cleanup::abort_handle)
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.db.path)
            .field("cleanup", &self.inner.cleanup.is_some())
            .finish_non_exhaustive()
    }
}
