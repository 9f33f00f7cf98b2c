//! The [`RecordStore`] contract on cachelib's files. Versions are fingerprints of the
//! pickle (Flask-Session keeps none); every write is prepared in a temporary file and made
//! conditional on the current file under the directory's lock; the count file follows
//! every file created or removed.

use async_trait::async_trait;
use session_core::clock::Timestamp;
use session_core::store::{KeyScheme, Record, RecordStore, StorageKey, StoreError};
use sha2::{Digest as _, Sha256};

use super::layout::{count_file, expiry, header_for, read_count};
use super::{dict, pickle, FlaskSessionFileStore, Shared};
use crate::cleanup::Swept;
use crate::dir::Locked;
use crate::native::Written;
use crate::{FileStoreError, FlaskFileError};

/// How many expired files one hold of the lock removes.
const SWEEP_BATCH: usize = 256;

#[async_trait]
impl RecordStore for FlaskSessionFileStore {
    /// A file this store cannot read (see [`FlaskFileError`]) is absent here and left as
    /// it is: it is the Flask app's, and the sid naming it comes from the client, so
    /// reporting it corrupt (which `ServerSide` answers by deleting) would let any visitor
    /// delete Flask's sessions.
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        match self.read(key, now).await {
            Err(FileStoreError::Unreadable { path, source }) => {
                tracing::warn!(path = %path.display(), error = %source, "leaving a Flask-Session file this store cannot read alone");
                Ok(None)
            }
            other => Ok(other?),
        }
    }

    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let name = self.name(key);
        let file = self.inner.shared.file(None, record)?;
        self.run(move |shared| shared.create(&name, &file, now))
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
        let name = self.name(key);
        let record = record.clone();
        self.run(move |shared| shared.save(&name, None, &record, expected_version, now))
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
        let (old, new) = (self.name(old), self.name(new));
        let record = record.clone();
        self.run(move |shared| shared.save(&old, Some(&new), &record, expected_version, now))
            .await?
            .into_result()
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        let name = self.name(key);
        Ok(self.run(move |shared| shared.delete(&name)).await?)
    }

    /// Rewrites the expiry header of a live file, pickle untouched (so the version too).
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let name = self.name(key);
        Ok(self
            .run(move |shared| shared.touch(&name, last_active, expires_at))
            .await?)
    }

    /// Removes the session files expired at `now` (never a live one), keeping the count
    /// file right.
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let swept = self.run(move |shared| shared.delete_expired(now)).await?;
        swept.log();
        Ok(swept.expired)
    }

    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::FlaskSessionCompat
    }
}

impl FlaskSessionFileStore {
    fn name(&self, key: &StorageKey) -> String {
        self.inner.shared.format.session_name(key.as_str())
    }
}

/// A stand-in for the version Flask-Session does not keep: the top 60 bits of the SHA-256
/// of the pickle (the expiry header left out, so a touch keeps it). Any write of other
/// data, Flask's included, changes it; 60 bits stay clear of overflow when the caller adds 1.
fn fingerprint(pickle: &[u8]) -> u64 {
    let digest = Sha256::digest(pickle);
    let mut top = [0_u8; 8];
    top.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(top) >> 4
}

/// Whether a file whose first bytes are `head` is live at `now` (0: never expires).
fn is_live(head: &[u8], now: Timestamp) -> bool {
    match expiry(head) {
        Some(0) => true,
        Some(secs) => now.as_unix_millis() < i64::from(secs) * 1000,
        None => false,
    }
}

impl Shared {
    fn unreadable(&self, name: &str, source: FlaskFileError) -> FileStoreError {
        FileStoreError::Unreadable {
            path: self.dir.file(name),
            source,
        }
    }

    /// The whole file for `record`, merged into `stored`.
    fn file(
        &self,
        stored: Option<&pickle::SessionDict>,
        record: &Record,
    ) -> Result<Vec<u8>, FileStoreError> {
        let created = self
            .keep_created
            .then(|| record.created_at.as_unix_millis());
        let pickled =
            dict::write(stored, record, created).map_err(|error| FileStoreError::Encode {
                source: Box::new(error),
            })?;
        let mut file = header_for(record.expires_at.as_unix_millis()).to_vec();
        file.extend_from_slice(&pickled);
        Ok(file)
    }

    pub(super) fn load(
        &self,
        name: &str,
        now: Timestamp,
    ) -> Result<Option<Record>, FileStoreError> {
        let Some(bytes) = self.dir.read(name)? else {
            return Ok(None);
        };
        let secs = expiry(&bytes)
            .ok_or_else(|| self.unreadable(name, FlaskFileError::NoHeader { len: bytes.len() }))?;
        let expires_at = match secs {
            0 => now.saturating_add(self.window),
            secs => Timestamp::from_unix_millis(i64::from(secs) * 1000),
        };
        if expires_at <= now {
            return Ok(None);
        }
        let pickled = &bytes[4..];
        let stored = pickle::decode(pickled).map_err(|source| self.unreadable(name, source))?;
        let decoded = dict::read(&stored);
        let window = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let since_window =
            Timestamp::from_unix_millis(expires_at.as_unix_millis().saturating_sub(window));
        // An absolute timeout can pull the deadline in below last activity + window, so
        // the reconstructed activity is never put before the recorded creation.
        let created_at = decoded.created.map(Timestamp::from_unix_millis);
        let last_active = since_window
            .max(created_at.unwrap_or(since_window))
            .min(now);
        Ok(Some(Record {
            data: decoded.data,
            created_at: created_at.unwrap_or(last_active).min(last_active),
            last_active,
            expires_at,
            permanent: decoded.permanent,
            version: fingerprint(pickled),
        }))
    }

    /// Adds `delta` to cachelib's count of entries. The count only steers cachelib's
    /// pruning and cachelib recounts the directory when it starts: a failure is logged,
    /// not made the request's.
    fn count(&self, locked: &Locked, delta: i64) {
        if delta == 0 || !self.format.keeps_count_file() {
            return;
        }
        let name = self.format.count_name();
        let result = self.dir.read(&name).and_then(|current| {
            let count = read_count(current.as_deref()) + delta;
            self.dir
                .prepare_unsynced(&count_file(count))?
                .commit(&self.dir, locked, &name)
        });
        if let Err(error) = result {
            tracing::warn!(%error, "could not update Flask-Session's count file");
        }
    }

    fn create(&self, name: &str, file: &[u8], now: Timestamp) -> Result<Written, FileStoreError> {
        let prepared = self.dir.prepare(file)?;
        let written = self.dir.locked(|locked| {
            let existed = match self.dir.read_head(name, 4)? {
                Some(head) if is_live(&head, now) => return Ok(Written::Collision),
                Some(_) => true,
                None => false,
            };
            prepared.commit(&self.dir, locked, name)?;
            if !existed {
                self.count(locked, 1);
            }
            Ok(Written::Done)
        })?;
        self.dir.sync()?;
        Ok(written)
    }

    /// A compare-and-swap save of `record` over `name`, or, with `to`, a move to `to`.
    /// The record is merged into the stored dict the expected version names: the same
    /// pickle is required under the lock, so the merge is the one committed.
    fn save(
        &self,
        name: &str,
        to: Option<&str>,
        record: &Record,
        expected: u64,
        now: Timestamp,
    ) -> Result<Written, FileStoreError> {
        let Some(current) = self.dir.read(name)? else {
            return Ok(Written::Conflict);
        };
        if !is_live(&current, now) || fingerprint(&current[4..]) != expected {
            return Ok(Written::Conflict);
        }
        let Ok(stored) = pickle::decode(&current[4..]) else {
            return Ok(Written::Conflict);
        };
        let prepared = self.dir.prepare(&self.file(Some(&stored), record)?)?;
        let written = self.dir.locked(|locked| {
            let now_there = self.dir.read(name)?;
            let unchanged = now_there
                .as_deref()
                .is_some_and(|file| is_live(file, now) && file.get(4..) == current.get(4..));
            if !unchanged {
                return Ok(Written::Conflict);
            }
            let Some(to) = to else {
                prepared.commit(&self.dir, locked, name)?;
                return Ok(Written::Done);
            };
            let existed = match self.dir.read_head(to, 4)? {
                Some(head) if is_live(&head, now) => return Ok(Written::Collision),
                Some(_) => true,
                None => false,
            };
            prepared.commit(&self.dir, locked, to)?;
            let removed = self.dir.remove(locked, name)?;
            self.count(locked, i64::from(!existed) - i64::from(removed));
            Ok(Written::Done)
        })?;
        self.dir.sync()?;
        Ok(written)
    }

    fn delete(&self, name: &str) -> Result<(), FileStoreError> {
        let removed = self.dir.locked(|locked| {
            let removed = self.dir.remove(locked, name)?;
            if removed {
                self.count(locked, -1);
            }
            Ok(removed)
        })?;
        if removed {
            self.dir.sync()?;
        }
        Ok(())
    }

    fn touch(
        &self,
        name: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), FileStoreError> {
        self.dir.rewrite_if_unchanged(name, |current| {
            if !is_live(current, now) {
                return Ok(None);
            }
            let mut file = header_for(expires_at.as_unix_millis()).to_vec();
            file.extend_from_slice(&current[4..]);
            Ok(Some(file))
        })
    }

    pub(super) fn delete_expired(&self, now: Timestamp) -> Result<Swept, FileStoreError> {
        let expired =
            |head: &[u8]| expiry(head).is_some_and(|secs| secs != 0 && !is_live(head, now));
        let mut candidates = Vec::new();
        for name in self.dir.list(|name| self.format.is_entry_name(name))? {
            if self
                .dir
                .read_head(&name, 4)?
                .is_some_and(|head| expired(&head))
            {
                candidates.push(name);
            }
        }
        let mut swept = Swept::default();
        for batch in candidates.chunks(SWEEP_BATCH) {
            self.dir.locked(|locked| {
                let mut removed = 0;
                for name in batch {
                    // Judged again under the lock: a save may have renewed it meanwhile.
                    if self
                        .dir
                        .read_head(name, 4)?
                        .is_some_and(|head| expired(&head))
                        && self.dir.remove(locked, name)?
                    {
                        removed += 1;
                    }
                }
                self.count(locked, -removed);
                swept.expired += removed.unsigned_abs();
                Ok(())
            })?;
        }
        swept.temps = self.dir.remove_stale_temps(now)?;
        if swept.removed_any() {
            self.dir.sync()?;
        }
        Ok(swept)
    }
}
