//! What can go wrong with a session directory, and how it maps onto [`StoreError`].

use std::io;
use std::path::{Path, PathBuf};

use session_core::store::StoreError;

/// A failure of a session directory, naming the directory or file and keeping the cause.
///
/// [`FileStore::open`](crate::FileStore::open) returns it directly; the
/// [`RecordStore`](session_core::store::RecordStore) methods box it into a [`StoreError`]:
/// [`StoreError::Unavailable`] when retrying later may help or the operator must act (an
/// I/O error, a full disk, the directory removed while the store runs),
/// [`StoreError::Corrupt`] for a file that cannot be decoded (and for a record too large to
/// store), [`StoreError::Backend`] for the rest.
///
/// # Examples
///
/// ```
/// use session_files::FileStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let file = dir.path().join("not-a-directory");
/// std::fs::write(&file, b"")?;
/// let error = FileStore::open(&file).await.err().ok_or("a file is no directory")?;
/// assert_eq!(error.path(), Some(file.as_path()));
/// assert!(error.is_unavailable());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileStoreError {
    /// The session directory could not be created or opened, or is not a directory.
    #[error("could not open the session directory {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The session directory was removed while the store had it open. Writes would have
    /// nowhere to go, and recreating it silently would hide the mistake: every operation
    /// fails (unavailable: adapters answer 503) until the directory is back.
    #[error(
        "the session directory {} was removed while the store was using it; put it back \
         or restart the app",
        path.display()
    )]
    DirectoryMissing {
        /// The directory.
        path: PathBuf,
    },
    /// Reading, writing, renaming, removing or locking a file failed.
    #[error("could not {operation} {}: {source}", path.display())]
    Io {
        /// The file (or directory) the operation was on.
        path: PathBuf,
        /// What was being done, such as `write a session file`.
        operation: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A session file of this store's own format could not be decoded: reported as
    /// [`StoreError::Corrupt`], which `ServerSide` answers by deleting the file.
    #[error("the session file {} is corrupt: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: FormatError,
    },
    /// A session file was written by a newer version of this crate (a rollback after an
    /// upgrade). It is left alone: read as absent, never overwritten by a save, and
    /// removed only once expired.
    #[error(
        "the session file {} has format version {found}, newer than version {supported} that \
         this build of session-files knows",
        path.display()
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// The format version found.
        found: u16,
        /// The newest format version this build knows.
        supported: u16,
    },
    /// A Flask-Session file could not be read: its header is short, its pickle is
    /// malformed, or it constructs objects (a `datetime`, `Markup`), which are refused and
    /// never executed. The store itself treats such a file as absent and leaves it as it is
    /// (it belongs to the Flask app); this error is what
    /// [`FlaskSessionFileStore::read`](crate::FlaskSessionFileStore::read) reports.
    #[cfg(feature = "flask-session")]
    #[error("the Flask-Session file {} cannot be read here: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::FlaskFileError,
    },
    /// A record is larger than a session file may be. Not an outage and not retryable:
    /// reported as [`StoreError::Corrupt`] (a 500); limit session sizes with
    /// `ServerSide::with_max_session_bytes` (64 KiB by default).
    #[error(
        "a session file would be {size} bytes, over the {limit}-byte limit of session-files; \
         limit session sizes with `ServerSide::with_max_session_bytes`"
    )]
    TooLarge {
        /// The encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A session could not be encoded.
    #[error("a session could not be encoded: {source}")]
    Encode {
        /// The encoder's error.
        #[source]
        source: session_core::store::BoxError,
    },
    /// The blocking task that does a store's file I/O panicked or was cancelled (the
    /// runtime shutting down).
    #[error("the file task of the session store failed: {source}")]
    Task {
        /// Tokio's error.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl FileStoreError {
    /// The file or directory the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Directory { path, .. }
            | Self::DirectoryMissing { path }
            | Self::Io { path, .. }
            | Self::Corrupt { path, .. }
            | Self::NewerFormat { path, .. } => Some(path),
            #[cfg(feature = "flask-session")]
            Self::Unreadable { path, .. } => Some(path),
            Self::TooLarge { .. } | Self::Encode { .. } | Self::Task { .. } => None,
        }
    }

    /// Whether the store cannot serve now and the operator may have to act: the directory
    /// is missing or unusable, the disk failed or is full.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Directory { .. } | Self::DirectoryMissing { .. } | Self::Io { .. }
        )
    }

    pub(crate) fn io(path: &Path, operation: &'static str, source: io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            operation,
            source,
        }
    }
}

impl From<FileStoreError> for StoreError {
    fn from(error: FileStoreError) -> Self {
        match error {
            FileStoreError::Corrupt { .. } | FileStoreError::TooLarge { .. } => {
                StoreError::Corrupt(Box::new(error))
            }
            error if error.is_unavailable() => StoreError::Unavailable(Box::new(error)),
            error => StoreError::Backend(Box::new(error)),
        }
    }
}

/// What is wrong with a session file of this crate's own format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file is shorter than its header says it must be.
    #[error("the file is {len} bytes, shorter than the {needed} its header needs")]
    Truncated {
        /// The file's length.
        len: usize,
        /// The length the header calls for.
        needed: usize,
    },
    /// The file does not start with the format's magic bytes: not a session file.
    #[error("the file does not start with the session file magic bytes")]
    BadMagic,
    /// The file is longer than its header says.
    #[error("the file has {extra} bytes after the record its header announces")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The body is not the JSON of a session record.
    #[error("the body is not a session record: {0}")]
    Json(#[source] serde_json::Error),
    /// The header and the body disagree.
    #[error("the header's `{0}` differs from the record's")]
    HeaderMismatch(&'static str),
}
