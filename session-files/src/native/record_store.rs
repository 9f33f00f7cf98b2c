//! The [`RecordStore`] contract on files: every write prepared in a temporary file, then
//! made conditional on the current file's header under the directory's lock, which also
//! covers the per-user index's markers (see the `index` module).

use std::sync::Arc;

use async_trait::async_trait;
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore, StorageKey, StoreError};

use super::format::{self, Head, STABLE_LEN};
use super::{file_name, is_hashed_name, FileStore, Shared};
use crate::cleanup::Swept;
use crate::FileStoreError;

/// How a conditional write ended, short of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Done,
    Collision,
    Conflict,
}

impl Written {
    pub(crate) fn into_result(self) -> Result<(), StoreError> {
        match self {
            Self::Done => Ok(()),
            Self::Collision => Err(StoreError::KeyCollision),
            Self::Conflict => Err(StoreError::Conflict),
        }
    }
}

/// How many expired files one hold of the lock removes, so writers get it in between.
pub(super) const SWEEP_BATCH: usize = 256;

impl FileStore {
    /// Runs `f` on a blocking thread with the shared directory.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> Result<T, FileStoreError> + Send + 'static,
    ) -> Result<T, FileStoreError> {
        let shared = Arc::clone(self.shared());
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(|source| FileStoreError::Task { source })?
    }
}

#[async_trait]
impl RecordStore for FileStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        let name = file_name(key);
        Ok(self.run(move |shared| shared.load(&name, now)).await?)
    }

    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (name, bytes) = (file_name(key), format::encode(record)?);
        let principal = record.principal().map(str::to_owned);
        self.run(move |shared| shared.create(&name, &bytes, principal.as_deref(), now))
            .await?
            .into_result()
    }

    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (name, bytes) = (file_name(key), format::encode(record)?);
        let principal = record.principal().map(str::to_owned);
        self.run(move |shared| {
            shared.save(&name, &bytes, principal.as_deref(), expected_version, now)
        })
        .await?
        .into_result()
    }

    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (old, new) = (file_name(old), file_name(new));
        let bytes = format::encode(record)?;
        let principal = record.principal().map(str::to_owned);
        self.run(move |shared| {
            shared.change_key(
                &old,
                &new,
                &bytes,
                principal.as_deref(),
                expected_version,
                now,
            )
        })
        .await?
        .into_result()
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        let name = file_name(key);
        Ok(self.run(move |shared| shared.delete(&name)).await?)
    }

    /// `last_active` is the current time, so it is also the instant liveness is judged at.
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let name = file_name(key);
        Ok(self
            .run(move |shared| shared.touch(&name, last_active, expires_at))
            .await?)
    }

    /// Removes every expired session file (and every undecodable one, counted in a log
    /// line); returns how many expired ones it removed.
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let swept = self.run(move |shared| shared.delete_expired(now)).await?;
        swept.log();
        Ok(swept.expired)
    }

    /// Kept natively: a marker file per tied session in the principal's bucket, changed
    /// under the directory's lock with the session file (see the crate docs).
    fn indexes_principals(&self) -> bool {
        true
    }

    /// Reads the principal's bucket and the session files it names; never the whole
    /// directory.
    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        let principal = principal.to_owned();
        let found = self
            .run(move |shared| shared.sessions_of(&principal, now))
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|(name, record)| Some((StorageKey::parse_hashed(&name)?, record)))
            .collect())
    }
}

impl Shared {
    pub(super) fn corrupt(&self, name: &str, source: crate::FormatError) -> FileStoreError {
        FileStoreError::Corrupt {
            path: self.dir.file(name),
            source,
        }
    }

    fn load(&self, name: &str, now: Timestamp) -> Result<Option<Record>, FileStoreError> {
        let Some(bytes) = self.dir.read(name)? else {
            return Ok(None);
        };
        match format::decode(&bytes) {
            Ok(Some((head, record))) => Ok(head.is_live(now).then_some(record)),
            Ok(None) => {
                let head = Head::parse(&bytes).map_err(|source| self.corrupt(name, source))?;
                let error = FileStoreError::NewerFormat {
                    path: self.dir.file(name),
                    found: head.format,
                    supported: format::FORMAT,
                };
                tracing::warn!(%error, "leaving a session file of a newer format alone");
                Ok(None)
            }
            Err(source) => Err(self.corrupt(name, source)),
        }
    }

    /// Writes the record tied to `principal` under `name`, unless a live file (or one of a
    /// newer format) is there. The current file is read whole under the lock: a replaced
    /// (expired) record takes its marker with it.
    fn create(
        &self,
        name: &str,
        bytes: &[u8],
        principal: Option<&str>,
        now: Timestamp,
    ) -> Result<Written, FileStoreError> {
        let premarked = self.pre_mark(principal, name)?;
        let prepared = self.dir.prepare(bytes)?;
        let written = self.dir.locked(|locked| {
            let current = self.current(locked, name)?;
            if current.as_ref().is_some_and(|c| c.blocks_create(now)) {
                self.abandon(locked, premarked, principal, name)?;
                return Ok(Written::Collision);
            }
            // Marker first, rename second, old marker last: see the `index` module.
            self.mark(locked, principal, name)?;
            prepared.commit(&self.dir, locked, name)?;
            let old = current.and_then(|current| current.principal);
            self.unmark(locked, old.as_deref(), principal, name)?;
            Ok(Written::Done)
        })?;
        self.dir.sync()?;
        Ok(written)
    }

    /// Replaces the record under `name` if it is live at version `expected`, moving its
    /// marker when the save ties, unties or reties it.
    fn save(
        &self,
        name: &str,
        bytes: &[u8],
        principal: Option<&str>,
        expected: u64,
        now: Timestamp,
    ) -> Result<Written, FileStoreError> {
        let premarked = self.pre_mark(principal, name)?;
        let prepared = self.dir.prepare(bytes)?;
        let written = self.dir.locked(|locked| {
            let Some(current) = self
                .current(locked, name)?
                .filter(|current| current.holds(expected, now))
            else {
                self.abandon(locked, premarked, principal, name)?;
                return Ok(Written::Conflict);
            };
            self.mark(locked, principal, name)?;
            prepared.commit(&self.dir, locked, name)?;
            self.unmark(locked, current.principal.as_deref(), principal, name)?;
            Ok(Written::Done)
        })?;
        self.dir.sync()?;
        Ok(written)
    }

    /// The new file (and its marker) are in place before the old ones are removed: a crash
    /// in between leaves a stale copy of the pre-rename session under the old name (which
    /// expires, and is still indexed, so "log out everywhere" ends it too), never a session
    /// lost.
    fn change_key(
        &self,
        old: &str,
        new: &str,
        bytes: &[u8],
        principal: Option<&str>,
        expected: u64,
        now: Timestamp,
    ) -> Result<Written, FileStoreError> {
        let premarked = self.pre_mark(principal, new)?;
        let prepared = self.dir.prepare(bytes)?;
        let written = self.dir.locked(|locked| {
            let Some(from) = self
                .current(locked, old)?
                .filter(|current| current.holds(expected, now))
            else {
                self.abandon(locked, premarked, principal, new)?;
                return Ok(Written::Conflict);
            };
            let replaced = self.current(locked, new)?;
            if replaced.as_ref().is_some_and(|c| c.blocks_create(now)) {
                self.abandon(locked, premarked, principal, new)?;
                return Ok(Written::Collision);
            }
            self.mark(locked, principal, new)?;
            prepared.commit(&self.dir, locked, new)?;
            let replaced = replaced.and_then(|current| current.principal);
            self.unmark(locked, replaced.as_deref(), principal, new)?;
            self.dir.remove(locked, old)?;
            self.unmark(locked, from.principal.as_deref(), None, old)?;
            Ok(Written::Done)
        })?;
        self.dir.sync()?;
        Ok(written)
    }

    /// Removes the file, then its marker (read from the file under the lock).
    fn delete(&self, name: &str) -> Result<(), FileStoreError> {
        let removed = self.dir.locked(|locked| {
            let principal = self
                .current(locked, name)?
                .and_then(|current| current.principal);
            let removed = self.dir.remove(locked, name)?;
            self.unmark(locked, principal.as_deref(), None, name)?;
            Ok(removed)
        })?;
        if removed {
            self.dir.sync()?;
        }
        Ok(())
    }

    /// Rewrites a live file with a new expiry, if no write came in between; a file that
    /// keeps changing is left to the writers (the touch is only a refresh).
    fn touch(
        &self,
        name: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), FileStoreError> {
        self.dir.rewrite_if_unchanged(name, |current| {
            // Corrupt or newer files are not refreshed; a load deals with them.
            let Ok(Some((head, mut record))) = format::decode(current) else {
                return Ok(None);
            };
            if !head.is_live(now) {
                return Ok(None);
            }
            record.last_active = now;
            record.expires_at = expires_at;
            Ok(Some(format::encode(&record)?))
        })
    }

    /// Removes the session files expired at `now` and the ones whose header does not
    /// decode (a name of 64 hex digits is this store's, and a file is only ever renamed into
    /// place whole, so such a file is garbage, not a write in progress), then the index
    /// markers whose file is gone, plus abandoned temporary files.
    pub(crate) fn delete_expired(&self, now: Timestamp) -> Result<Swept, FileStoreError> {
        let mut candidates = Vec::new();
        for name in self.dir.list(is_hashed_name)? {
            let Some(head) = self.dir.read_head(&name, STABLE_LEN)? else {
                continue;
            };
            if judge(&head, now) != Judged::Live {
                candidates.push(name);
            }
        }
        let mut swept = Swept::default();
        for batch in candidates.chunks(SWEEP_BATCH) {
            self.dir.locked(|locked| {
                for name in batch {
                    // Judged again under the lock: a save may have renewed it meanwhile.
                    let Some(head) = self.dir.read_head(name, STABLE_LEN)? else {
                        continue;
                    };
                    let expired = match judge(&head, now) {
                        Judged::Live => continue,
                        Judged::Expired => true,
                        Judged::Undecodable => false,
                    };
                    if self.dir.remove(locked, name)? {
                        if expired {
                            swept.expired += 1;
                        } else {
                            swept.undecodable += 1;
                        }
                    }
                }
                Ok(())
            })?;
        }
        swept.markers = self.sweep_index()?;
        swept.temps = self.dir.remove_stale_temps(now)?;
        if swept.removed_any() {
            self.dir.sync()?;
        }
        Ok(swept)
    }
}

/// What the sweep makes of a session file's header at `now`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Judged {
    Live,
    Expired,
    Undecodable,
}

/// One rule for both of the sweep's looks at a file (the listing, and again under the
/// lock, where a save may have renewed it meanwhile): expired from its deadline on.
fn judge(head: &[u8], now: Timestamp) -> Judged {
    match Head::stable_expiry(head) {
        Ok(expires_at) if now < expires_at => Judged::Live,
        Ok(_) => Judged::Expired,
        Err(_) => Judged::Undecodable,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use session_core::store::SessionId;

    use super::*;

    /// The sweep's report (what the cleanup task logs) counts each kind of file it removed: a
    /// garbage file under a session name is counted undecodable, an expired session expired.
    #[tokio::test]
    async fn the_sweep_counts_what_it_removed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = FileStore::options()
            .with_cleanup_interval(None)
            .open(dir.path())
            .await?;
        let now = Timestamp::from_unix_millis(1_000_000);
        let key = StorageKey::hashed(&SessionId::generate()?);
        let record = Record::new(now, now.saturating_add(Duration::from_secs(60)));
        store.create(&key, &record, now).await?;
        let garbage = dir.path().join("ab".repeat(32));
        std::fs::write(&garbage, b"not a session file")?;

        let later = now.saturating_add(Duration::from_secs(60));
        let swept = store
            .run(move |shared| shared.delete_expired(later))
            .await?;
        assert_eq!((swept.expired, swept.undecodable), (1, 1), "{swept:?}");
        assert!(!garbage.exists());
        let again = store
            .run(move |shared| shared.delete_expired(later))
            .await?;
        assert_eq!(again, Swept::default(), "nothing is left");
        Ok(())
    }
}
