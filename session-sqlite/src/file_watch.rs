//! Noticing that the database file was removed (or replaced) while the store has it open.
//!
//! SQLite keeps writing to an open file after its path is unlinked: every commit
//! succeeds, and every session vanishes when the app restarts, without a word. So before
//! each write the store compares the (device, inode) of the file it opened with what the
//! path names now. Measured on ext4: a `stat` costs 0.87 µs, a save about 48 µs
//! (`latency/save` in `benches/sqlite.rs`), so the check adds under 2% and runs on every
//! write rather than on a timer that would let a second of writes fall into the unlinked
//! file. Loads are not checked: they read what the open file holds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::SqliteError;

/// The identity of the opened database file, and whether its loss was reported.
pub(crate) struct FileWatch {
    /// The path as given, for errors (what the operator configured).
    shown: PathBuf,
    /// The same path made absolute when the store opened it, so a later change of the
    /// process' working directory cannot make a relative path name another file.
    absolute: PathBuf,
    identity: (u64, u64),
    reported: AtomicBool,
}

impl FileWatch {
    /// Watches the file `path` names now (just after opening it); `None` when it cannot be
    /// looked at, or on platforms without inode numbers, where nothing is checked.
    pub(crate) fn new(path: &Path) -> Option<Self> {
        let absolute = std::fs::canonicalize(path).ok()?;
        let identity = identity(&absolute).ok()??;
        Some(Self {
            shown: path.to_owned(),
            absolute,
            identity,
            reported: AtomicBool::new(false),
        })
    }

    /// Fails with [`SqliteError::FileRemoved`] when the path no longer names the opened
    /// file (removed, its directory removed, or replaced by another file); logs that
    /// once, and once more if the file comes back.
    pub(crate) fn check(&self) -> Result<(), SqliteError> {
        let now = match identity(&self.absolute) {
            Ok(now) => now,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                None
            }
            // Cannot tell (a permission or I/O error on the directory): let SQLite try.
            Err(_) => return Ok(()),
        };
        if now == Some(self.identity) {
            if self.reported.swap(false, Ordering::Relaxed) {
                tracing::info!(path = %self.shown.display(), "the session database file is back; session writes resume");
            }
            return Ok(());
        }
        let error = SqliteError::FileRemoved {
            path: self.shown.clone(),
        };
        if !self.reported.swap(true, Ordering::Relaxed) {
            tracing::error!(%error, "session writes fail until the app is restarted");
        }
        Err(error)
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    use std::os::unix::fs::MetadataExt as _;
    let metadata = std::fs::metadata(path)?;
    Ok(Some((metadata.dev(), metadata.ino())))
}

/// Elsewhere an open file usually cannot be removed at all (Windows), and there is no
/// portable file identity: nothing is checked.
#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    std::fs::metadata(path).map(|_| None)
}
