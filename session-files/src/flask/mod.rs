//! [`FlaskSessionFileStore`]: Flask-Session's filesystem sessions, so a Flask app and a
//! Rust service on one machine share logins.

mod dict;
mod error;
mod layout;
mod pickle;
mod record_store;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use session_core::clock::Timestamp;
use session_core::store::{ServerSide, StorageKey};
use session_core::SessionConfig;

pub use self::error::FlaskFileError;
pub use self::layout::{FilenameDigest, FlaskSessionFormat};
use crate::cleanup::{Cleanup, Sweep, Swept};
use crate::dir::{Dir, TempNames};
use crate::{FileStoreError, FileStoreOptions};

/// cachelib's temporary files: `tempfile.mkstemp(suffix=".__wz_cache")`.
const TEMPS: TempNames = TempNames {
    prefix: "tmp",
    suffix: layout::CACHELIB_SUFFIX,
};

/// Reads and writes Flask-Session 0.8's filesystem sessions (`SESSION_TYPE =
/// "filesystem"`, cachelib's `FileSystemCache`) exactly, so a Flask app and a Rust service
/// on one machine share sessions.
///
/// | | Flask-Session 0.8 + cachelib | here |
/// |---|---|---|
/// | directory | `SESSION_FILE_DIR`, `./flask_session` by default | the same directory |
/// | file name | hex digest of `SESSION_KEY_PREFIX` + sid: SHA-256 (cachelib ≥ 0.16), MD5 before | the same ([`FlaskSessionFormat`]) |
/// | bytes 0–3 | expiry, native-endian `u32` Unix seconds (0: never) | the same, the session's deadline rounded up to the second |
/// | the rest | `pickle.dump(dict(session), f, 5)` | the same bytes CPython writes for the same dict |
/// | writes | `mkstemp(".__wz_cache")`, `os.replace`, mode 0600 | the same, plus the fsync of [`Durability`](crate::Durability) |
/// | count file | the digest of `__wz_cache_count`: the number of entries | kept right on every create and removal |
/// | cookie | the bare sid (0.8 no longer signs) | the bare id: do not set keys on the [`SessionConfig`] |
///
/// **Raw ids**: the store is handed the raw sid as its storage key
/// ([`KeyScheme::FlaskSessionCompat`](session_core::store::KeyScheme)), not the hash
/// [`FileStore`](crate::FileStore) gets, because Flask-Session names its files after the
/// sid; and the cookie is the bare sid, unsigned, as Flask-Session 0.8 sends it. At rest
/// the directory still holds no usable cookie: a file is named by a digest of the sid and
/// holds the session dict, not the sid. Use this mode only to share sessions with a Flask
/// app; otherwise use [`FileStore`](crate::FileStore).
///
/// # What the mode keeps of a Flask session
///
/// - `_permanent` is the permanent flag; `_flashes` are flashes both ways, written as
///   `(category, message)` tuples as Flask's `flash` does.
/// - Every key the Rust side does not change is written back as the file held it: tuples
///   stay tuples, bytes stay bytes, key order is kept. Values JSON cannot hold (bytes,
///   sets, integers past 64 bits) show on the Rust side as `{"$python": "<type>"}`.
/// - Values a pickle can only express as objects (a `datetime`, `Markup`, any class) are
///   refused, never executed: such a session reads as absent here (the visitor is
///   anonymous to Rust, a write starts a new session) and its file is left as it is for
///   Flask. [`read`](Self::read) says why a file is refused.
/// - Timestamps: Flask-Session keeps only the expiry header. Last activity is taken as
///   the expiry minus the store's window (the [`SessionConfig`]'s idle timeout, or its
///   lifetime if shorter): set Flask's `PERMANENT_SESSION_LIFETIME` to the same window.
///   With an absolute timeout the creation time is kept in the dict as `_rs_created`
///   (Unix ms), which Flask carries along untouched; without one, the bytes are exactly
///   Flask-Session's.
///
/// # What it cannot promise
///
/// - **No compare-and-swap against Flask.** Rust writes are compare-and-swap among
///   themselves, across processes too (the directory lock, and a fingerprint of the
///   pickle standing in for the version Flask-Session does not keep), and they notice any
///   write that came in between, Flask's included. But Flask-Session writes blindly: a
///   Flask request that loaded the session before a Rust write and saves after it (every
///   request does, with `SESSION_REFRESH_EACH_REQUEST`) overwrites it, as it would
///   another Flask request's.
/// - **No pruning of live sessions by Rust.** Past `SESSION_FILE_THRESHOLD` files,
///   cachelib itself removes expired and then the soonest-expiring sessions when Flask
///   writes; Rust only ever removes expired files, and keeps the count cachelib prunes by
///   right.
/// - **Seconds.** The header holds whole seconds; the Rust side rounds a deadline up, so
///   a session can outlive its deadline by under a second.
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::backend::CookieUpdate;
/// use session_core::SessionConfig;
/// use session_files::FlaskSessionFileStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let config = SessionConfig::default();
/// let store = FlaskSessionFileStore::open(dir.path().join("flask_session"), &config).await?;
/// let manager = SessionManager::new(store, config)?;
///
/// let request = manager.request(None);
/// request.session().await?.insert("user_id", 42)?;
/// let plan = request.finish().await?.ok_or("the session was loaded")?;
/// // The cookie is the bare sid, as Flask-Session's.
/// let sid = plan.cookie_value().ok_or("a new session sets a cookie")?.to_owned();
/// assert_eq!(sid.len(), 43);
///
/// let again = manager.request(Some(&sid));
/// let session = again.session().await?;
/// assert_eq!(session.get::<u32>("user_id")?, Some(42));
/// session.destroy();
/// let plan = again.finish().await?.ok_or("the session was loaded")?;
/// assert_eq!(plan.cookie, CookieUpdate::Remove);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FlaskSessionFileStore {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    cleanup: Option<Cleanup>,
}

/// What the requests and the cleanup task share.
pub(crate) struct Shared {
    dir: Dir,
    format: FlaskSessionFormat,
    /// The idle window last activity is reconstructed from.
    window: Duration,
    /// Whether the creation time is kept (`_rs_created`), for an absolute timeout.
    keep_created: bool,
}

impl FlaskSessionFileStore {
    /// Opens Flask-Session's directory `dir` (creating it, mode 0700, if missing) with
    /// Flask-Session's defaults ([`FlaskSessionFormat::default`]) and the default
    /// [`FileStoreOptions`], for sessions configured by `session`.
    ///
    /// # Errors
    ///
    /// See [`FileStoreOptions::open_flask_session`].
    pub async fn open(
        dir: impl AsRef<Path>,
        session: &SessionConfig,
    ) -> Result<Self, FileStoreError> {
        FileStoreOptions::default()
            .open_flask_session(dir, session, FlaskSessionFormat::default())
            .await
    }

    /// The [`ServerSide`] backend over this store; the store declares
    /// [`KeyScheme::FlaskSessionCompat`](session_core::store::KeyScheme) (the storage key
    /// is the raw sid), so `ServerSide::new(store)` is the same thing.
    pub fn backend(self) -> ServerSide<Self> {
        ServerSide::new(self)
    }

    /// The session directory.
    pub fn dir(&self) -> &Path {
        self.inner.shared.dir.path()
    }

    /// The file layout.
    pub fn format(&self) -> &FlaskSessionFormat {
        &self.inner.shared.format
    }

    /// The file of the session whose sid is `key` (the hex digest of the key prefix and
    /// the sid).
    pub fn file_for(&self, key: &StorageKey) -> PathBuf {
        let shared = &self.inner.shared;
        shared.dir.file(&shared.format.session_name(key.as_str()))
    }

    /// The session under `key` as [`load`](session_core::store::RecordStore::load) reads
    /// it, but a file the store cannot read is an error saying why
    /// ([`FileStoreError::Unreadable`] with a [`FlaskFileError`]) instead of an absent
    /// session.
    ///
    /// # Errors
    ///
    /// As `load`, and [`FileStoreError::Unreadable`].
    pub async fn read(
        &self,
        key: &StorageKey,
        now: Timestamp,
    ) -> Result<Option<session_core::store::Record>, FileStoreError> {
        let name = self.inner.shared.format.session_name(key.as_str());
        self.run(move |shared| shared.load(&name, now)).await
    }

    /// Stops the cleanup task.
    pub fn close(&self) {
        if let Some(cleanup) = &self.inner.cleanup {
            cleanup.stop();
        }
    }

    /// Runs `f` on a blocking thread with the shared directory.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> Result<T, FileStoreError> + Send + 'static,
    ) -> Result<T, FileStoreError> {
        let shared = Arc::clone(&self.inner.shared);
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(|source| FileStoreError::Task { source })?
    }
}

impl FileStoreOptions {
    /// Opens Flask-Session's directory `dir` (creating it, mode 0700, if missing) laid out
    /// as `format` says, for sessions configured by `session` (its idle timeout, else its
    /// lifetime, is the window last activity is reconstructed from; with an absolute
    /// timeout the creation time is kept).
    ///
    /// # Errors
    ///
    /// [`FileStoreError::Directory`] when the directory cannot be created or opened.
    pub async fn open_flask_session(
        self,
        dir: impl AsRef<Path>,
        session: &SessionConfig,
        format: FlaskSessionFormat,
    ) -> Result<FlaskSessionFileStore, FileStoreError> {
        let path = dir.as_ref().to_owned();
        let durability = self.durability;
        let dir = tokio::task::spawn_blocking(move || {
            Dir::open(&path, layout::LOCK_NAME, durability, TEMPS)
        })
        .await
        .map_err(|source| FileStoreError::Task { source })??;
        let window = session
            .idle_timeout()
            .map_or(session.lifetime(), |idle| idle.min(session.lifetime()));
        let shared = Arc::new(Shared {
            dir,
            format,
            window,
            keep_created: session.absolute_timeout().is_some(),
        });
        let cleanup = self.cleanup_interval.map(|interval| {
            Cleanup::spawn(
                Arc::clone(&shared) as Arc<dyn Sweep>,
                interval,
                Arc::clone(&self.clock),
            )
        });
        Ok(FlaskSessionFileStore {
            inner: Arc::new(Inner { shared, cleanup }),
        })
    }
}

impl Sweep for Shared {
    fn sweep(&self, now: Timestamp) -> Result<Swept, FileStoreError> {
        self.delete_expired(now)
    }
}

impl fmt::Debug for FlaskSessionFileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.inner.shared;
        f.debug_struct("FlaskSessionFileStore")
            .field("dir", &shared.dir.path())
            .field("format", &shared.format)
            .field("window", &shared.window)
            .finish_non_exhaustive()
    }
}
