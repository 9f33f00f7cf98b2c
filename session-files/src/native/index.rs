//! The per-user index on disk: `<dir>/.principals/<bucket>/<storage key>`, one empty marker
//! file per session tied to a principal, in the principal's bucket.
//!
//! A bucket is named by the SHA-256 of the principal's name (64 hex digits): any name
//! becomes a valid file name, and the tree does not spell out who is logged in. Listing a
//! principal reads its bucket and the session files it names, never the whole directory.
//!
//! Markers change only under the directory's lock, with the session file they mark: a
//! write adds the new principal's marker *before* renaming the session file into place and
//! removes the old principal's marker *after*, and a delete removes the session file
//! before its marker. A crash at any point leaves at worst a marker that leads nowhere
//! (a listing skips it and removes it; so does the cleanup), never a tied session missing
//! from its principal's bucket. The one write outside the lock is a marker made ahead of
//! time under [`Durability::SyncAll`](crate::Durability::SyncAll), so its `fsync` is not
//! paid under the lock; it only adds, and the write checks it again under the lock.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{hex, is_hashed_name};
use crate::dir::{sync_dir, Dir, Locked};
use crate::FileStoreError;

/// The index's directory, inside the session directory. The leading dot keeps it out of
/// the session files (named by 64 hex digits).
pub(crate) const INDEX_DIR: &str = ".principals";

/// A principal's bucket: the hex SHA-256 of its name.
pub(crate) fn bucket_of(principal: &str) -> String {
    hex(&Sha256::digest(principal.as_bytes()))
}

/// What [`Index::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Added {
    /// The marker was there already.
    Existing,
    /// A new marker, and whether its bucket (or the index directory) was created for it.
    Created { new_dirs: bool },
}

/// The `.principals` tree of one session directory.
pub(crate) struct Index {
    root: PathBuf,
}

impl Index {
    pub(crate) fn new(dir: &Dir) -> Self {
        Self {
            root: dir.file(INDEX_DIR),
        }
    }

    fn bucket(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// Adds the marker `name` to `bucket` (mode 0600), creating the bucket and the index
    /// directory (mode 0700) when missing, but never the session directory itself: a
    /// removed session directory stays an error.
    pub(crate) fn add(&self, dir: &Dir, bucket: &str, name: &str) -> Result<Added, FileStoreError> {
        let path = self.bucket(bucket).join(name);
        let mut new_dirs = false;
        // The index directory, the bucket and the marker may all be missing: three rounds,
        // and one more should the cleanup remove the (empty) bucket in between.
        for _ in 0..4 {
            match create_marker(&path) {
                Ok(()) => return Ok(Added::Created { new_dirs }),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    return Ok(Added::Existing)
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(FileStoreError::io(&path, "add an index marker", error)),
            }
            new_dirs = true;
            match create_dir(&self.bucket(bucket)) {
                Ok(()) => continue,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(FileStoreError::io(
                        &path,
                        "create an index bucket for",
                        error,
                    ))
                }
            }
            if let Err(error) = create_dir(&self.root) {
                if error.kind() == io::ErrorKind::NotFound {
                    dir.check_exists()?;
                }
                return Err(FileStoreError::io(
                    &self.root,
                    "create the index directory",
                    error,
                ));
            }
        }
        Err(FileStoreError::io(
            &path,
            "add an index marker",
            io::Error::other("its bucket keeps disappearing"),
        ))
    }

    /// Removes the marker `name` from `bucket`; whether there was one.
    pub(crate) fn remove(
        &self,
        _: &Locked,
        bucket: &str,
        name: &str,
    ) -> Result<bool, FileStoreError> {
        let path = self.bucket(bucket).join(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(FileStoreError::io(&path, "remove an index marker", error)),
        }
    }

    /// Removes `bucket` if it is empty (the cleanup's job: writers never remove buckets).
    pub(crate) fn remove_if_empty(&self, _: &Locked, bucket: &str) {
        // Not empty (a marker added meanwhile) or already gone: both fine.
        let _ = fs::remove_dir(self.bucket(bucket));
    }

    /// The markers in `bucket` that name session files; none when it does not exist.
    pub(crate) fn markers(&self, dir: &Dir, bucket: &str) -> Result<Vec<String>, FileStoreError> {
        names_in(dir, &self.bucket(bucket), "list an index bucket").map(|names| {
            names
                .into_iter()
                .filter(|name| is_hashed_name(name))
                .collect()
        })
    }

    /// Every bucket, for the cleanup.
    pub(crate) fn buckets(&self, dir: &Dir) -> Result<Vec<String>, FileStoreError> {
        names_in(dir, &self.root, "list the index directory").map(|names| {
            names
                .into_iter()
                .filter(|name| is_hashed_name(name))
                .collect()
        })
    }

    /// Makes a new marker in `bucket` survive a power loss: syncs the bucket, and when it
    /// or the index directory was just created, their parents too.
    pub(crate) fn sync(
        &self,
        dir: &Dir,
        bucket: &str,
        new_dirs: bool,
    ) -> Result<(), FileStoreError> {
        let mut paths = vec![self.bucket(bucket)];
        if new_dirs {
            paths.push(self.root.clone());
            paths.push(dir.path().to_owned());
        }
        for path in paths {
            sync_dir(&path).map_err(|error| FileStoreError::io(&path, "sync the index", error))?;
        }
        Ok(())
    }
}

fn create_marker(path: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// Creates the directory `path` (mode 0700); one that exists already is fine.
fn create_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    match builder.create(path) {
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        result => result,
    }
}

/// The names in the directory `path`; none when it does not exist (but an error when the
/// session directory itself is gone).
fn names_in(
    dir: &Dir,
    path: &Path,
    operation: &'static str,
) -> Result<Vec<String>, FileStoreError> {
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            dir.check_exists()?;
            return Ok(Vec::new());
        }
        Err(error) => return Err(FileStoreError::io(path, operation, error)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| FileStoreError::io(path, operation, error))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}
