//! How a store opens its directory: durability, cleanup schedule, clock.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use session_core::clock::{Clock, SystemClock};

use crate::{FileStore, FileStoreError};

const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(60);

/// When a write reaches the disk. Every write goes to a temporary file in the session
/// directory that is renamed over the session's file, so a reader sees the old file or
/// the new one, never a mix, and a crash of the app (even `SIGKILL`) never leaves a torn
/// file; durability decides what a power loss or kernel crash can do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// No `fsync`: the fastest. After a power loss, a file written in the last seconds may
    /// be empty or missing (an empty file reads as corrupt, and the visitor starts a new
    /// session).
    Buffered,
    /// `fsync` the temporary file before the rename (the default): after a power loss
    /// every session file is whole, in its old or its new version; the last writes may be
    /// lost. The same promise as the SQLite store's default (`synchronous=NORMAL`).
    #[default]
    SyncFile,
    /// Also `fsync` the directory after each rename or removal: a write that was
    /// acknowledged survives a power loss. One more `fsync` per write, and one more when a
    /// write adds a per-user index marker ([`FileStore`]: a login, a change of key): the
    /// marker's directory is synced before the session file is renamed, so even a power
    /// loss cannot keep a tied session and lose its marker, whatever the file system
    /// orders. (Process crashes never can, under any setting.)
    SyncAll,
}

/// Settings for [`FileStore`] (and for
/// [`FlaskSessionFileStore`](crate::FlaskSessionFileStore)), with the defaults
/// [`FileStore::open`] uses.
///
/// | setting | default |
/// |---|---|
/// | [`durability`](Self::with_durability) | [`Durability::SyncFile`] |
/// | [`cleanup_interval`](Self::with_cleanup_interval) | 60 s |
/// | [`clock`](Self::with_clock) | [`SystemClock`]: what the cleanup task calls "now" |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_files::{Durability, FileStoreOptions};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = FileStoreOptions::default()
///     .with_durability(Durability::SyncAll)
///     .with_cleanup_interval(Some(Duration::from_secs(300)))
///     .open(dir.path().join("sessions"))
///     .await?;
/// assert!(store.dir().ends_with("sessions"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FileStoreOptions {
    pub(crate) durability: Durability,
    pub(crate) cleanup_interval: Option<Duration>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for FileStoreOptions {
    fn default() -> Self {
        Self {
            durability: Durability::default(),
            cleanup_interval: Some(DEFAULT_CLEANUP_INTERVAL),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for FileStoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStoreOptions")
            .field("durability", &self.durability)
            .field("cleanup_interval", &self.cleanup_interval)
            .finish_non_exhaustive()
    }
}

impl FileStoreOptions {
    /// When writes reach the disk; [`Durability::SyncFile`] by default.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// How often the background task removes expired session files; `None` turns it off
    /// (call [`RecordStore::delete_expired`](session_core::store::RecordStore::delete_expired)
    /// yourself then). The first run is one interval after opening.
    pub fn with_cleanup_interval(mut self, interval: Option<Duration>) -> Self {
        self.cleanup_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// The clock the cleanup task reads: it removes the files expired at this clock's
    /// "now". Requests never read it (each store call is handed its own `now`); give the
    /// store the clock the manager reads (a
    /// [`ManualClock`](session_core::clock::ManualClock) in tests), so the cleanup never
    /// removes a session the manager still counts as live.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Opens (creating it, mode 0700, if missing) the session directory `dir`.
    ///
    /// Must be called within a Tokio runtime (the cleanup task runs on it).
    ///
    /// # Errors
    ///
    /// [`FileStoreError::Directory`] when the directory cannot be created or opened, or
    /// `dir` is not a directory.
    pub async fn open(self, dir: impl AsRef<Path>) -> Result<FileStore, FileStoreError> {
        FileStore::open_with(dir.as_ref(), self).await
    }
}
