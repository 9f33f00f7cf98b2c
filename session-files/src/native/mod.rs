//! [`FileStore`]: one file per session in a directory, in this crate's own format.

mod format;
mod index;
mod principals;
mod record_store;

pub(crate) use self::record_store::Written;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use session_core::clock::Timestamp;
#[cfg(doc)]
use session_core::store::RecordStore;
use session_core::store::StorageKey;
use sha2::{Digest as _, Sha256};

use self::index::Index;
use crate::cleanup::{Cleanup, Sweep, Swept};
use crate::dir::{Dir, TempNames};
use crate::{FileStoreError, FileStoreOptions};

/// The lock file of a native session directory.
pub(crate) const LOCK_NAME: &str = ".session-files.lock";
/// Temporary files: `.tmp-<random>.tmp`, never mistaken for a session file.
const TEMPS: TempNames = TempNames {
    prefix: ".tmp-",
    suffix: ".tmp",
};

/// Server-side sessions as one file per session in a directory.
///
/// - **Files**: `<dir>/<storage key>`, the storage key being the SHA-256 of the session
///   id (64 hex digits): the directory holds no usable cookie. Each file is a 28-byte
///   header (magic, format version, expiry, version, body length) and the JSON of the
///   whole record; see the [crate docs](crate) for the layout. Mode 0600 in a directory
///   created 0700.
/// - **Writes** go to a temporary file in the same directory, synced per the
///   [`Durability`](crate::Durability), then renamed over the session's file: readers
///   never see half a file, and a writer killed at any point leaves the old file or the
///   new one.
/// - **Compare-and-swap** holds across processes: one exclusive lock on the directory
///   (a `flock` on `<dir>/.session-files.lock`) covers checking the current file and the
///   rename, so two processes sharing the directory never lose each other's writes. The
///   new file is written before the lock is taken: the lock is held for microseconds.
///   Loads take no lock.
/// - **Per-user index**: [`indexes_principals`](RecordStore::indexes_principals) is true.
///   A session tied to a principal has an empty marker file
///   `<dir>/.principals/<SHA-256 of the principal's name>/<storage key>`, added before
///   and removed after the session file's rename, under the same lock: no tied session is
///   ever missing from it, even after a crash. [`sessions_of`](RecordStore::sessions_of)
///   reads that one bucket and the files it names.
/// - **Expiry** is judged on every call against the `now` it is handed; a background task
///   removes expired files (every 60 s by default) with their index markers, and
///   temporary files abandoned by crashed writers.
/// - **Corrupt files** (a truncated or foreign file under a session's name) are
///   `StoreError::Corrupt`, which `ServerSide` answers by removing the file and starting a
///   new session.
///
/// Cheap to clone: clones share the directory and the cleanup task, which stops when the
/// last clone is dropped or [`close`](Self::close) is called.
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::SessionConfig;
/// use session_files::FileStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = FileStore::open(dir.path().join("sessions")).await?; // created 0700
/// let manager = SessionManager::new(store, SessionConfig::default())?;
///
/// let request = manager.request(None);
/// request.session().await?.insert("username", "ada")?;
/// let plan = request.finish().await?.ok_or("the session was loaded")?;
/// let cookie = plan.cookie_value().ok_or("a new session sets a cookie")?;
///
/// let again = manager.request(Some(cookie));
/// assert_eq!(again.session().await?.get::<String>("username")?.as_deref(), Some("ada"));
/// // One file, named by the hash of the id: never the id itself.
/// let files: Vec<_> = std::fs::read_dir(dir.path().join("sessions"))?
///     .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
///     .filter(|name| !name.starts_with('.'))
///     .collect();
/// assert_eq!(files.len(), 1);
/// assert!(!files[0].contains(cookie));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    cleanup: Option<Cleanup>,
}

/// What the requests and the cleanup task share.
pub(crate) struct Shared {
    pub(crate) dir: Dir,
    /// The per-user index, in the directory's `.principals` tree.
    index: Index,
}

impl FileStore {
    /// Opens (creating it, mode 0700, if missing) the session directory `dir` with the
    /// default [`FileStoreOptions`].
    ///
    /// # Errors
    ///
    /// See [`FileStoreOptions::open`].
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self, FileStoreError> {
        FileStoreOptions::default().open(dir).await
    }

    /// Settings to change before opening; [`FileStoreOptions::default`] in short.
    pub fn options() -> FileStoreOptions {
        FileStoreOptions::default()
    }

    pub(crate) async fn open_with(
        path: &Path,
        options: FileStoreOptions,
    ) -> Result<Self, FileStoreError> {
        let path = path.to_owned();
        let durability = options.durability;
        let dir =
            tokio::task::spawn_blocking(move || Dir::open(&path, LOCK_NAME, durability, TEMPS))
                .await
                .map_err(|source| FileStoreError::Task { source })??;
        let index = Index::new(&dir);
        let shared = Arc::new(Shared { dir, index });
        let cleanup = options.cleanup_interval.map(|interval| {
            Cleanup::spawn(
                Arc::clone(&shared) as Arc<dyn Sweep>,
                interval,
                Arc::clone(&options.clock),
            )
        });
        Ok(Self {
            inner: Arc::new(Inner { shared, cleanup }),
        })
    }

    /// The session directory.
    pub fn dir(&self) -> &Path {
        self.inner.shared.dir.path()
    }

    /// The file that holds the session under `key`: `<dir>/<key>` for the 64-hex-digit
    /// keys `ServerSide` derives; any other key (only a store misused with raw ids makes
    /// one) is hashed with SHA-256 first, so no raw id ever becomes a file name.
    pub fn file_for(&self, key: &StorageKey) -> std::path::PathBuf {
        self.inner.shared.dir.file(&file_name(key))
    }

    /// Stops the cleanup task. The store keeps working; call
    /// [`delete_expired`](session_core::store::RecordStore::delete_expired) yourself from
    /// now on.
    pub fn close(&self) {
        if let Some(cleanup) = &self.inner.cleanup {
            cleanup.stop();
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    #[cfg(test)]
    pub(crate) fn cleanup_task(&self) -> Option<tokio::task::AbortHandle> {
        self.inner.cleanup.as_ref().map(Cleanup::abort_handle)
    }
}

/// The file name of `key` (see [`FileStore::file_for`]).
pub(crate) fn file_name(key: &StorageKey) -> String {
    let text = key.as_str();
    if is_hashed_name(text) {
        return text.to_owned();
    }
    hex(&Sha256::digest(text.as_bytes()))
}

/// Whether `name` is a session file's name: 64 lowercase hex digits.
pub(crate) fn is_hashed_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

impl Sweep for Shared {
    fn sweep(&self, now: Timestamp) -> Result<Swept, FileStoreError> {
        self.delete_expired(now)
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir())
            .field("cleanup", &self.inner.cleanup.is_some())
            .finish_non_exhaustive()
    }
}
