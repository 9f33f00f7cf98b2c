//! How [`Shared`]'s writes keep the per-user index (see the `index` module for the tree
//! and the crash argument), listings through it, and its cleanup.

use session_core::clock::Timestamp;
use session_core::store::Record;

use super::format::{self, Head};
use super::index::{bucket_of, Added};
use super::record_store::SWEEP_BATCH;
use super::Shared;
use crate::dir::Locked;
use crate::{Durability, FileStoreError};

/// The session file under a name, read whole under the lock: its header, and whom its
/// record is tied to.
pub(super) struct Current {
    /// `None` for a header that does not decode: garbage a write may replace.
    head: Option<Head>,
    /// `None` for an untied record, and for one that does not decode.
    pub(super) principal: Option<String>,
}

impl Current {
    /// Whether a create (or a change of key) must not replace it: it is live, or of a
    /// newer format nobody here may overwrite.
    pub(super) fn blocks_create(&self, now: Timestamp) -> bool {
        self.head
            .is_some_and(|head| head.is_live(now) || head.version().is_none())
    }

    /// Whether it is live at `now` with `expected` as its version.
    pub(super) fn holds(&self, expected: u64, now: Timestamp) -> bool {
        self.head
            .is_some_and(|head| head.is_live(now) && head.version() == Some(expected))
    }
}

/// What a listing makes of one marker.
enum Found {
    /// A live session tied to the principal.
    Tied(Record),
    /// Nothing to list, but the marker is right to be there: the session expired (the
    /// cleanup removes both), or its file cannot be read here.
    Skip,
    /// The marker leads nowhere: no file, or a record tied to someone else (or no one).
    Stale,
}

impl Shared {
    /// The file under `name`, read whole under the lock (so its record's principal is
    /// known), or `None` when there is none.
    pub(super) fn current(
        &self,
        _: &Locked,
        name: &str,
    ) -> Result<Option<Current>, FileStoreError> {
        let bytes = match self.dir.read(name) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
            // Not a file this store wrote: garbage, as a header that does not decode.
            Err(FileStoreError::TooLarge { .. }) => {
                return Ok(Some(Current {
                    head: None,
                    principal: None,
                }))
            }
            Err(error) => return Err(error),
        };
        let principal = match format::decode(&bytes) {
            Ok(Some((_, record))) => record.principal().map(str::to_owned),
            _ => None,
        };
        Ok(Some(Current {
            head: Head::parse(&bytes).ok(),
            principal,
        }))
    }

    /// Before the lock, under [`Durability::SyncAll`] only: the marker of the record about
    /// to be written under `name`, made durable, so the rename cannot reach the disk ahead
    /// of it and the `fsync` is not paid under the lock. Whether it made a new marker (to
    /// take back should the write be refused: see [`abandon`](Self::abandon)).
    pub(super) fn pre_mark(
        &self,
        principal: Option<&str>,
        name: &str,
    ) -> Result<bool, FileStoreError> {
        let Some(principal) = principal else {
            return Ok(false);
        };
        if self.dir.durability() != Durability::SyncAll {
            return Ok(false);
        }
        let bucket = bucket_of(principal);
        match self.index.add(&self.dir, &bucket, name)? {
            Added::Existing => Ok(false),
            Added::Created { new_dirs } => {
                self.index.sync(&self.dir, &bucket, new_dirs)?;
                Ok(true)
            }
        }
    }

    /// Under the lock, before the rename that writes a record tied to `principal` under
    /// `name`: its marker. Usually there already (an earlier write, or
    /// [`pre_mark`](Self::pre_mark)); one made here is synced here under
    /// [`Durability::SyncAll`] (only when a cleanup, a listing or a refused write took a
    /// pre-made one meanwhile: rare).
    pub(super) fn mark(
        &self,
        _: &Locked,
        principal: Option<&str>,
        name: &str,
    ) -> Result<(), FileStoreError> {
        let Some(principal) = principal else {
            return Ok(());
        };
        let bucket = bucket_of(principal);
        if let Added::Created { new_dirs } = self.index.add(&self.dir, &bucket, name)? {
            if self.dir.durability() == Durability::SyncAll {
                self.index.sync(&self.dir, &bucket, new_dirs)?;
            }
        }
        Ok(())
    }

    /// Under the lock, after the record tied to `old` under `name` was replaced by one tied
    /// to `new` (or removed: `new` is `None`): the old marker, unless it is also the new.
    pub(super) fn unmark(
        &self,
        locked: &Locked,
        old: Option<&str>,
        new: Option<&str>,
        name: &str,
    ) -> Result<(), FileStoreError> {
        match old {
            Some(old) if Some(old) != new => {
                self.index.remove(locked, &bucket_of(old), name).map(drop)
            }
            _ => Ok(()),
        }
    }

    /// Under the lock, after a write under `name` was refused: takes back the marker
    /// [`pre_mark`](Self::pre_mark) made for it, unless the file there is tied to the same
    /// principal (another writer's record, which needs it).
    pub(super) fn abandon(
        &self,
        locked: &Locked,
        premarked: bool,
        principal: Option<&str>,
        name: &str,
    ) -> Result<(), FileStoreError> {
        let Some(principal) = principal.filter(|_| premarked) else {
            return Ok(());
        };
        let current = self.current(locked, name)?;
        if current.and_then(|current| current.principal).as_deref() != Some(principal) {
            self.index.remove(locked, &bucket_of(principal), name)?;
        }
        Ok(())
    }

    /// The live sessions tied to `principal` at `now`, by file name: the principal's
    /// bucket and the files it names, nothing else.
    ///
    /// Read without the lock first, as loads are. A marker that leads nowhere means a
    /// write was moving the principal's sessions meanwhile (a change of key adds the new
    /// marker, renames, then removes the old file and marker; an unlocked reader can see
    /// the old marker alone and then miss the file), or a crash left it: then the bucket
    /// is read again under the lock, a consistent view, and such markers are removed.
    pub(super) fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(String, Record)>, FileStoreError> {
        let bucket = bucket_of(principal);
        let mut found = Vec::new();
        let mut stale = false;
        for name in self.index.markers(&self.dir, &bucket)? {
            match self.find(&name, principal, now)? {
                Found::Tied(record) => found.push((name, record)),
                Found::Skip => {}
                Found::Stale => stale = true,
            }
        }
        if !stale {
            return Ok(found);
        }
        self.dir.locked(|locked| {
            let mut found = Vec::new();
            for name in self.index.markers(&self.dir, &bucket)? {
                match self.find(&name, principal, now)? {
                    Found::Tied(record) => found.push((name, record)),
                    Found::Skip => {}
                    Found::Stale => {
                        self.index.remove(locked, &bucket, &name)?;
                    }
                }
            }
            Ok(found)
        })
    }

    fn find(&self, name: &str, principal: &str, now: Timestamp) -> Result<Found, FileStoreError> {
        let bytes = match self.dir.read(name) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(Found::Stale),
            Err(error @ FileStoreError::TooLarge { .. }) => {
                tracing::warn!(%error, "a listing skips a session file it cannot read");
                return Ok(Found::Skip);
            }
            Err(error) => return Err(error),
        };
        match format::decode(&bytes) {
            Ok(Some((head, record))) => Ok(if record.principal() != Some(principal) {
                Found::Stale
            } else if head.is_live(now) {
                Found::Tied(record)
            } else {
                Found::Skip
            }),
            // A newer build's file: it keeps its marker; this build cannot list it.
            Ok(None) => Ok(Found::Skip),
            Err(source) => {
                // A load answers it as corrupt (and `ServerSide` removes it), the cleanup
                // removes it; neither is a listing's job.
                let error = self.corrupt(name, source);
                tracing::warn!(%error, "a listing skips an undecodable session file");
                Ok(Found::Skip)
            }
        }
    }

    /// The cleanup's part: removes the markers whose session file is gone (expired and
    /// removed, or left by a crash), and the buckets left empty; how many markers.
    pub(super) fn sweep_index(&self) -> Result<u64, FileStoreError> {
        let mut removed = 0;
        for bucket in self.index.buckets(&self.dir)? {
            let markers = self.index.markers(&self.dir, &bucket)?;
            let mut gone = Vec::new();
            for name in &markers {
                if !self.dir.contains(name)? {
                    gone.push(name.as_str());
                }
            }
            for batch in gone.chunks(SWEEP_BATCH) {
                self.dir.locked(|locked| {
                    for name in batch {
                        // Judged again under the lock: a create may have just renamed its
                        // file into place.
                        if !self.dir.contains(name)? && self.index.remove(locked, &bucket, name)? {
                            removed += 1;
                        }
                    }
                    Ok(())
                })?;
            }
            if gone.len() == markers.len() {
                self.dir.locked(|locked| {
                    self.index.remove_if_empty(locked, &bucket);
                    Ok(())
                })?;
            }
        }
        Ok(removed)
    }
}
