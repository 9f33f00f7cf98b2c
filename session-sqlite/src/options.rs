//! How a [`SqliteStore`] opens its database: pragmas, pool sizes, cleanup schedule.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::clock::{Clock, SystemClock};
use session_core::store::redact_url;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use crate::conns::Conns;
use crate::error::is_busy;
use crate::file_watch::FileWatch;
use crate::store::Db;
use crate::{schema, SqliteError, SqliteStore};

const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_CLEANUP_BATCH: u32 = 1000;
/// How long to wait between tries when another process holds the lock needed to switch a
/// new file to WAL, which SQLite's busy timeout does not cover.
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Settings for [`SqliteStore`], with the defaults [`SqliteStore::connect`] uses.
///
/// | setting | default |
/// |---|---|
/// | journal | WAL: readers never block the writer, nor the writer readers |
/// | [`durable_commits`](Self::with_durable_commits) | off: `synchronous=NORMAL` |
/// | [`busy_timeout`](Self::with_busy_timeout) | 5 s |
/// | [`max_readers`](Self::with_max_readers) | 2 × CPU cores, between 2 and 16, opened as needed; plus one writer connection |
/// | [`cleanup_interval`](Self::with_cleanup_interval) | 60 s |
/// | [`cleanup_batch`](Self::with_cleanup_batch) | 1000 rows per statement |
/// | [`clock`](Self::with_clock) | [`SystemClock`]: what the cleanup task calls "now" |
///
/// # Durability
///
/// With `synchronous=NORMAL` in WAL mode a commit is written to the WAL but not synced:
/// an application crash (even `SIGKILL`) loses nothing that was acknowledged, and the
/// file is never corrupted, but a power loss or kernel crash can drop the last
/// transactions before the next checkpoint. For sessions that is a user logged out or a
/// counter one step back; [`with_durable_commits(true)`](Self::with_durable_commits)
/// syncs every commit (`synchronous=FULL`) at the cost of an `fsync` per write.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_sqlite::SqliteStoreOptions;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = SqliteStoreOptions::default()
///     .with_busy_timeout(Duration::from_secs(2))
///     .with_cleanup_interval(Some(Duration::from_secs(300)))
///     .connect("sqlite::memory:")
///     .await?;
/// assert_eq!(store.path().to_str(), Some(":memory:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SqliteStoreOptions {
    busy_timeout: Duration,
    max_readers: Option<usize>,
    durable_commits: bool,
    pub(crate) cleanup_interval: Option<Duration>,
    pub(crate) cleanup_batch: u32,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        Self {
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_readers: None,
            durable_commits: false,
            cleanup_interval: Some(DEFAULT_CLEANUP_INTERVAL),
            cleanup_batch: DEFAULT_CLEANUP_BATCH,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for SqliteStoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStoreOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("max_readers", &self.max_readers)
            .field("durable_commits", &self.durable_commits)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("cleanup_batch", &self.cleanup_batch)
            .finish_non_exhaustive()
    }
}

impl SqliteStoreOptions {
    /// How long a statement waits for another connection or process to release the
    /// database before failing with [`StoreError::Unavailable`](session_core::store::StoreError::Unavailable).
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many connections serve loads (at least 1). Writes always go through one
    /// connection, since SQLite admits one writer at a time anyway.
    pub fn with_max_readers(mut self, readers: usize) -> Self {
        self.max_readers = Some(readers.max(1));
        self
    }

    /// Whether every commit is synced to disk (`synchronous=FULL`) so a power loss cannot
    /// drop it; off by default (`synchronous=NORMAL`, see the type's docs).
    pub fn with_durable_commits(mut self, durable: bool) -> Self {
        self.durable_commits = durable;
        self
    }

    /// How often the background task deletes expired rows; `None` turns it off (call
    /// [`RecordStore::delete_expired`](session_core::store::RecordStore::delete_expired)
    /// yourself then). The first run is one interval after connecting; each run deletes
    /// what is expired at the [`clock`](Self::with_clock)'s "now".
    pub fn with_cleanup_interval(mut self, interval: Option<Duration>) -> Self {
        self.cleanup_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// How many expired rows one `DELETE` removes (at least 1), so cleanup never holds
    /// the write lock for long.
    pub fn with_cleanup_batch(mut self, rows: u32) -> Self {
        self.cleanup_batch = rows.max(1);
        self
    }

    /// The clock for what the store does on its own, with no request to take the time
    /// from: the cleanup task deletes the rows expired at this clock's "now", and the
    /// schema ledger records when a migration ran. [`SystemClock`] by default.
    ///
    /// Requests never read it: every [`RecordStore`](session_core::store::RecordStore)
    /// call is handed its own `now` by the
    /// [`SessionManager`](session_core::adapter::SessionManager). Give the store the clock
    /// the manager reads (a [`ManualClock`](session_core::clock::ManualClock) in tests), so
    /// the cleanup never deletes a session the manager still counts as live.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Opens (creating if missing) the database at `url` and migrates its schema.
    ///
    /// `url` is `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or
    /// `sqlite::memory:` (a private in-memory database per store).
    ///
    /// # Errors
    ///
    /// [`SqliteError::InvalidUrl`] for a malformed URL; [`SqliteError::Open`] when the file
    /// cannot be created or opened, is not a database, or stays locked by another process
    /// past the busy timeout; [`SqliteError::SchemaTooNew`] for a file from a newer
    /// version of this crate.
    pub async fn connect(self, url: &str) -> Result<SqliteStore, SqliteError> {
        let options =
            SqliteConnectOptions::from_str(url).map_err(|source| SqliteError::InvalidUrl {
                url: redact_url(url),
                source,
            })?;
        let memory = is_memory(url);
        self.open(options, memory).await
    }

    /// Opens the database `options` name (for settings a URL cannot carry: a VFS, an
    /// encryption key pragma...) and migrates its schema. This store's settings are
    /// applied on top: create if missing, WAL, `synchronous`, busy timeout.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect), apart from URL parsing.
    pub async fn connect_with(
        self,
        options: SqliteConnectOptions,
    ) -> Result<SqliteStore, SqliteError> {
        // sqlx names the database of a parsed `:memory:` URL `file:sqlx-in-memory-N`.
        let filename = options.get_filename().to_string_lossy();
        let memory = filename == ":memory:" || filename.starts_with("file:sqlx-in-memory-");
        self.open(options, memory).await
    }

    async fn open(
        self,
        options: SqliteConnectOptions,
        memory: bool,
    ) -> Result<SqliteStore, SqliteError> {
        let options = options
            .create_if_missing(true)
            .busy_timeout(self.busy_timeout)
            .synchronous(if self.durable_commits {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            });
        let db = if memory {
            self.open_memory(options).await?
        } else {
            self.open_file(options).await?
        };
        schema::migrate(&db, self.clock.now()).await?;
        Ok(SqliteStore::new(db, &self))
    }

    async fn open_file(&self, options: SqliteConnectOptions) -> Result<Db, SqliteError> {
        let path: Arc<Path> = Arc::from(options.get_filename());
        let open_error = |source| SqliteError::Open {
            path: PathBuf::from(&*path),
            source,
        };
        // WAL is a property of the file, so only the writer sets it; readers find it.
        let writer_options = options.clone().journal_mode(SqliteJournalMode::Wal);
        let writer = self
            .open_retrying(writer_options, 1)
            .await
            .map_err(open_error)?;
        // The writer's connection created the file if it was missing: watch it from now.
        let file = FileWatch::new(&path).map(Arc::new);
        let reader = self
            .open_retrying(options, self.readers())
            .await
            .map_err(open_error)?;
        Ok(Db {
            reader: Arc::new(reader),
            writer: Arc::new(writer),
            path,
            file,
        })
    }

    /// A named in-memory database in SQLite's shared cache, so the writer and the
    /// readers see one database (plain connections to `:memory:` would each have their
    /// own). It lives while a connection to it is open: the writer's stays open until
    /// [`SqliteStore::close`].
    async fn open_memory(&self, options: SqliteConnectOptions) -> Result<Db, SqliteError> {
        static NEXT_MEMORY_DB: AtomicUsize = AtomicUsize::new(0);
        let path: Arc<Path> = Arc::from(Path::new(":memory:"));
        let options = if options.get_filename() == Path::new(":memory:") {
            let n = NEXT_MEMORY_DB.fetch_add(1, Ordering::Relaxed);
            options.filename(format!("file:session-sqlite-memory-{n}"))
        } else {
            options
        };
        let options = options.in_memory(true).shared_cache(true);
        let open_error = |source| SqliteError::Open {
            path: PathBuf::from(&*path),
            source,
        };
        let writer = Conns::open(options.clone(), 1, self.acquire_timeout())
            .await
            .map_err(open_error)?;
        let reader = Conns::open(options, self.readers(), self.acquire_timeout())
            .await
            .map_err(open_error)?;
        Ok(Db {
            reader: Arc::new(reader),
            writer: Arc::new(writer),
            path,
            file: None,
        })
    }

    /// Opens connections, retrying while another process holds a lock SQLite's busy
    /// handler does not wait for (switching a new file to WAL), for up to the busy timeout.
    async fn open_retrying(
        &self,
        options: SqliteConnectOptions,
        slots: usize,
    ) -> Result<Conns, sqlx::Error> {
        let started = Instant::now();
        loop {
            match Conns::open(options.clone(), slots, self.acquire_timeout()).await {
                Err(error) if is_busy(&error) && started.elapsed() < self.busy_timeout => {
                    tokio::time::sleep(OPEN_RETRY_PAUSE).await;
                }
                result => return result,
            }
        }
    }

    /// A caller waits for a free connection about as long as a statement waits for a lock.
    fn acquire_timeout(&self) -> Duration {
        self.busy_timeout
            .saturating_mul(2)
            .max(Duration::from_secs(1))
    }

    fn readers(&self) -> usize {
        self.max_readers.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (cores * 2).clamp(2, 16)
        })
    }
}

/// Whether `url` names an in-memory database (`sqlite::memory:`, `sqlite://:memory:`,
/// `?mode=memory`).
fn is_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_memory("sqlite::memory:"));
        assert!(is_memory("sqlite://:memory:"));
        assert!(is_memory("sqlite://shared?mode=memory&cache=shared"));
        assert!(!is_memory("sqlite://memory.db"));
        assert!(!is_memory("sqlite:///tmp/x.db?mode=rwc"));
    }
}
