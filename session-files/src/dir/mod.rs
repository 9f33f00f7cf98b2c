//! A session directory: its files, the temporary files new versions are written to, and
//! its lock. Everything here blocks; the stores call it from `spawn_blocking`.

mod lock;

use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use session_core::clock::Timestamp;

use self::lock::DirLock;
pub(crate) use self::lock::Locked;
use crate::{Durability, FileStoreError};

/// The largest file a store reads or writes: far past any session (`ServerSide` limits
/// them to 64 KiB by default), small enough that a stray huge file cannot exhaust memory.
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// How many times [`Dir::rewrite_if_unchanged`] re-reads a file that changed under it
/// before leaving it be.
const REWRITE_ATTEMPTS: usize = 3;

/// How old an abandoned temporary file must be before the cleanup removes it. A writer
/// holds its temporary file for milliseconds; an hour-old one belongs to a crashed one.
const TEMP_GRACE_MILLIS: i64 = 60 * 60 * 1000;

/// How temporary files are named: `<prefix><random><suffix>`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TempNames {
    pub(crate) prefix: &'static str,
    pub(crate) suffix: &'static str,
}

impl TempNames {
    pub(crate) fn matches(self, name: &str) -> bool {
        name.len() > self.prefix.len() + self.suffix.len()
            && name.starts_with(self.prefix)
            && name.ends_with(self.suffix)
    }
}

/// An open session directory.
pub(crate) struct Dir {
    path: PathBuf,
    lock: DirLock,
    durability: Durability,
    temp: TempNames,
}

impl Dir {
    /// Opens `path`, creating it (and its parents) with mode 0700 when missing, and its
    /// lock file `lock_name` inside it.
    pub(crate) fn open(
        path: &Path,
        lock_name: &str,
        durability: Durability,
        temp: TempNames,
    ) -> Result<Self, FileStoreError> {
        let error = |source| FileStoreError::Directory {
            path: path.to_owned(),
            source,
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder.create(path).map_err(error)?;
        if !fs::metadata(path).map_err(error)?.is_dir() {
            return Err(error(io::Error::other("not a directory")));
        }
        let lock = DirLock::open(path.join(lock_name)).map_err(error)?;
        Ok(Self {
            path: path.to_owned(),
            lock,
            durability,
            temp,
        })
    }

    /// The directory, as given.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// When writes reach the disk.
    pub(crate) fn durability(&self) -> Durability {
        self.durability
    }

    /// The path of the file `name` in the directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The whole file `name`, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`FileStoreError::DirectoryMissing`] when the file is missing because the directory
    /// is; I/O errors; [`FileStoreError::TooLarge`] past [`MAX_FILE_BYTES`].
    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, FileStoreError> {
        self.read_up_to(name, MAX_FILE_BYTES, true)
    }

    /// The first `len` bytes of the file `name` (fewer if it is shorter), or `None`.
    pub(crate) fn read_head(
        &self,
        name: &str,
        len: usize,
    ) -> Result<Option<Vec<u8>>, FileStoreError> {
        self.read_up_to(name, len, false)
    }

    fn read_up_to(
        &self,
        name: &str,
        limit: usize,
        whole: bool,
    ) -> Result<Option<Vec<u8>>, FileStoreError> {
        let path = self.file(name);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                self.check_exists()?;
                return Ok(None);
            }
            Err(error) => return Err(FileStoreError::io(&path, "open a session file", error)),
        };
        let mut bytes = Vec::new();
        let cap = if whole { limit + 1 } else { limit };
        file.take(cap as u64)
            .read_to_end(&mut bytes)
            .map_err(|error| FileStoreError::io(&path, "read a session file", error))?;
        if whole && bytes.len() > limit {
            return Err(FileStoreError::TooLarge {
                size: bytes.len(),
                limit,
            });
        }
        Ok(Some(bytes))
    }

    /// Whether there is a file `name` in the directory.
    pub(crate) fn contains(&self, name: &str) -> Result<bool, FileStoreError> {
        let path = self.file(name);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                self.check_exists()?;
                Ok(false)
            }
            Err(error) => Err(FileStoreError::io(&path, "look for a session file", error)),
        }
    }

    /// Fails with [`FileStoreError::DirectoryMissing`] when the directory is gone.
    pub(crate) fn check_exists(&self) -> Result<(), FileStoreError> {
        match fs::metadata(&self.path) {
            Ok(metadata) if metadata.is_dir() => Ok(()),
            Ok(_) => Err(FileStoreError::DirectoryMissing {
                path: self.path.clone(),
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Err(FileStoreError::DirectoryMissing {
                    path: self.path.clone(),
                })
            }
            Err(error) => Err(FileStoreError::io(
                &self.path,
                "look at the session directory",
                error,
            )),
        }
    }

    /// Writes `bytes` to a new temporary file (mode 0600) in the directory, synced per the
    /// durability setting; [`Prepared::commit`] renames it into place under the lock.
    pub(crate) fn prepare(&self, bytes: &[u8]) -> Result<Prepared, FileStoreError> {
        self.prepare_with(bytes, self.durability != Durability::Buffered)
    }

    /// As [`prepare`](Self::prepare), never synced: for bookkeeping files whose loss is
    /// harmless (Flask-Session's count).
    pub(crate) fn prepare_unsynced(&self, bytes: &[u8]) -> Result<Prepared, FileStoreError> {
        self.prepare_with(bytes, false)
    }

    fn prepare_with(&self, bytes: &[u8], sync: bool) -> Result<Prepared, FileStoreError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(FileStoreError::TooLarge {
                size: bytes.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        let error = |error| self.write_error(error);
        let mut temp = tempfile::Builder::new()
            .prefix(self.temp.prefix)
            .suffix(self.temp.suffix)
            .rand_bytes(10)
            .tempfile_in(&self.path)
            .map_err(error)?;
        temp.write_all(bytes).map_err(error)?;
        if sync {
            temp.as_file().sync_data().map_err(error)?;
        }
        Ok(Prepared { temp })
    }

    fn write_error(&self, error: io::Error) -> FileStoreError {
        if error.kind() == io::ErrorKind::NotFound && self.check_exists().is_err() {
            return FileStoreError::DirectoryMissing {
                path: self.path.clone(),
            };
        }
        FileStoreError::io(&self.path, "write a session file in", error)
    }

    /// Runs `f` under the directory's lock.
    pub(crate) fn locked<T>(
        &self,
        f: impl FnOnce(&Locked) -> Result<T, FileStoreError>,
    ) -> Result<T, FileStoreError> {
        self.lock
            .with(|locked| f(locked).map_err(LockOr::Store))
            .map_err(|error| match error {
                LockOr::Lock(error) => match self.check_exists() {
                    Err(missing) => missing,
                    Ok(()) => FileStoreError::io(&self.path, "lock the session directory", error),
                },
                LockOr::Store(error) => error,
            })
    }

    /// Replaces the file `name` with what `rewrite` makes of its current bytes, unless
    /// another write replaced it in between (compared under the lock); re-reads and tries
    /// again up to [`REWRITE_ATTEMPTS`] times, then leaves a file that keeps changing to
    /// its writers. `rewrite` answers `None` to leave the file as it is (gone, expired,
    /// unreadable). For refreshes (a touch), which may be skipped but never undo a write.
    pub(crate) fn rewrite_if_unchanged(
        &self,
        name: &str,
        rewrite: impl Fn(&[u8]) -> Result<Option<Vec<u8>>, FileStoreError>,
    ) -> Result<(), FileStoreError> {
        for _ in 0..REWRITE_ATTEMPTS {
            let Some(current) = self.read(name)? else {
                return Ok(());
            };
            let Some(bytes) = rewrite(&current)? else {
                return Ok(());
            };
            let prepared = self.prepare(&bytes)?;
            let done = self.locked(|locked| {
                if self.read(name)?.as_deref() != Some(current.as_slice()) {
                    return Ok(false);
                }
                prepared.commit(self, locked, name)?;
                Ok(true)
            })?;
            if done {
                return self.sync();
            }
        }
        Ok(())
    }

    /// Removes the file `name`; whether there was one.
    pub(crate) fn remove(&self, _: &Locked, name: &str) -> Result<bool, FileStoreError> {
        let path = self.file(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(FileStoreError::io(&path, "remove a session file", error)),
        }
    }

    /// Syncs the directory itself when the durability setting asks for it, so renames and
    /// removals survive a power loss.
    pub(crate) fn sync(&self) -> Result<(), FileStoreError> {
        if self.durability != Durability::SyncAll {
            return Ok(());
        }
        sync_dir(&self.path)
            .map_err(|error| FileStoreError::io(&self.path, "sync the session directory", error))
    }

    /// The names of the files in the directory that `keep` accepts.
    pub(crate) fn list(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, FileStoreError> {
        let entries = fs::read_dir(&self.path).map_err(|error| {
            if error.kind() == io::ErrorKind::NotFound {
                FileStoreError::DirectoryMissing {
                    path: self.path.clone(),
                }
            } else {
                FileStoreError::io(&self.path, "list the session directory", error)
            }
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| {
                FileStoreError::io(&self.path, "list the session directory", error)
            })?;
            if let Some(name) = entry.file_name().to_str() {
                if keep(name) {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(names)
    }

    /// Removes temporary files abandoned by writers that crashed (older than an hour at
    /// `now`); how many.
    pub(crate) fn remove_stale_temps(&self, now: Timestamp) -> Result<u64, FileStoreError> {
        let temp = self.temp;
        let mut removed = 0;
        for name in self.list(|name| temp.matches(name))? {
            let path = self.file(&name);
            let Ok(modified) = fs::metadata(&path).and_then(|metadata| metadata.modified()) else {
                continue;
            };
            let modified = modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |since| {
                    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
                });
            if modified.saturating_add(TEMP_GRACE_MILLIS) < now.as_unix_millis()
                && fs::remove_file(&path).is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The lock's own failure, or the closure's.
enum LockOr {
    Lock(io::Error),
    Store(FileStoreError),
}

impl From<io::Error> for LockOr {
    fn from(error: io::Error) -> Self {
        Self::Lock(error)
    }
}

/// A new version of a file, written to a temporary file; removed if never committed.
pub(crate) struct Prepared {
    temp: tempfile::NamedTempFile,
}

impl Prepared {
    /// Renames the temporary file over `name`, under the lock.
    pub(crate) fn commit(self, dir: &Dir, _: &Locked, name: &str) -> Result<(), FileStoreError> {
        let path = dir.file(name);
        self.temp
            .persist(&path)
            .map(drop)
            .map_err(|error| FileStoreError::io(&path, "rename a session file into", error.error))
    }
}

/// Syncs the directory `path` itself, so the entries made or removed in it survive a power
/// loss.
#[cfg(unix)]
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Directories cannot be opened as files elsewhere (Windows); NTFS journals renames.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}
