//! The directory's lock: one exclusive lock per session directory, held only around the
//! checks and renames that make a write conditional.
//!
//! # Why one lock for the directory, not one per session
//!
//! A lock file per session would outlive its session (removing a lock file another
//! process waits on lets two processes hold "the" lock), so the directory would fill with
//! lock files that need a cleanup of their own. One lock file has none of that, a key change
//! (two files) is atomic under it without lock ordering, and the cleanup cannot race a save
//! into resurrecting a file, and the per-user index's markers move with their session
//! files under it. Its cost is small because what runs under it is small: the new file is
//! written (and synced) *before* the lock is taken, so the lock covers reading the current
//! file (a few KiB: its header, and whom its record is tied to), at most a few empty
//! marker files and one `rename` (microseconds), never any encoding, and an `fsync` only
//! in one rare case under `Durability::SyncAll` (see `native::principals`). Loads take no
//! lock at all: a rename replaces a file atomically.
//!
//! # Why `fd-lock`
//!
//! `fd-lock` (`flock(2)` on Unix, `LockFileEx` on Windows, through `rustix`/`windows-sys`)
//! hands out the lock as a guard that releases it when dropped, on every path, unwinding
//! included. `fs4` reaches the same system calls, but its `lock`/`unlock` are calls to
//! pair by hand, and its method names are shadowed by std's own `File::lock` from Rust
//! 1.89 on, which is newer than this workspace's minimum (1.85); std's lock will replace
//! this crate once the minimum moves past it. A lock the kernel holds is released when its
//! process dies, `SIGKILL` included, so a crashed writer never wedges the directory.
//!
//! `flock` locks belong to an open file description, so two threads sharing one would
//! both "hold" it: a mutex serialises this process's threads, the file lock the processes.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Proof that the directory's lock is held: the functions that must run under it take one.
#[derive(Debug)]
pub(crate) struct Locked(());

/// The lock file of one session directory, opened once per store.
pub(crate) struct DirLock {
    path: PathBuf,
    file: Mutex<fd_lock::RwLock<File>>,
}

impl DirLock {
    /// Opens (creating, mode 0600) the lock file `path`.
    pub(crate) fn open(path: PathBuf) -> io::Result<Self> {
        let file = open_lock_file(&path)?;
        Ok(Self {
            path,
            file: Mutex::new(fd_lock::RwLock::new(file)),
        })
    }

    /// Runs `f` holding the lock: this process's mutex, then the file lock. Blocks; call
    /// from a blocking thread.
    ///
    /// When the lock file was removed or replaced meanwhile (someone cleaned the
    /// directory), a lock on the old file would exclude nobody: the file is opened again
    /// and locked anew.
    pub(crate) fn with<T, E: From<io::Error>>(
        &self,
        f: impl FnOnce(&Locked) -> Result<T, E>,
    ) -> Result<T, E> {
        // The guarded file has no invariant a panic could break: a poisoned mutex is fine.
        let mut slot = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..3 {
            let held = slot.write()?;
            if same_file(&held, &self.path)? {
                return f(&Locked(()));
            }
            drop(held);
            *slot = fd_lock::RwLock::new(open_lock_file(&self.path)?);
        }
        Err(io::Error::other(format!(
            "the lock file {} keeps being replaced",
            self.path.display()
        ))
        .into())
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Whether `path` still names the open `file`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt as _;
    let open = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(named) => Ok(open.dev() == named.dev() && open.ino() == named.ino()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Elsewhere an open file cannot be removed (Windows), so it is always the same file.
#[cfg(not(unix))]
fn same_file(_file: &File, _path: &Path) -> io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_lock_file_is_opened_again() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("lock");
        let lock = DirLock::open(path.clone())?;
        lock.with(|_| Ok::<_, io::Error>(()))?;
        std::fs::remove_file(&path)?;
        lock.with(|_| Ok::<_, io::Error>(()))?;
        assert!(path.exists(), "the lock file is back");
        Ok(())
    }

    #[test]
    fn a_lock_held_elsewhere_excludes() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("lock");
        let lock = DirLock::open(path.clone())?;
        // Another open file description, as another process would have.
        let mut other = fd_lock::RwLock::new(open_lock_file(&path)?);
        let held = other.write()?;
        let mut probe = fd_lock::RwLock::new(open_lock_file(&path)?);
        assert!(probe.try_write().is_err(), "the other holder excludes");
        drop(held);
        lock.with(|_| {
            assert!(probe.try_write().is_err(), "the store's lock excludes too");
            Ok::<_, io::Error>(())
        })?;
        Ok(())
    }
}
