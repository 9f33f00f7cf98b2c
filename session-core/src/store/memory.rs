//! An in-process server-side store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::{Record, RecordStore, StorageKey, StoreError};
use crate::backend::json_len;
use crate::clock::Timestamp;

/// The default capacity: enough for a busy single-process app, small enough that a flood
/// of anonymous sessions cannot exhaust memory.
const DEFAULT_CAPACITY: usize = 100_000;
/// The default byte budget: 64 MiB of session data, whatever the count.
const DEFAULT_BYTE_BUDGET: usize = 64 * 1024 * 1024;
/// What a record costs besides its data: the key, the timestamps, the map entry.
const RECORD_OVERHEAD: usize = 160;

/// The size a record is counted as against the byte budget.
fn entry_size(record: &Record) -> usize {
    json_len(&record.data) + RECORD_OVERHEAD
}

/// Sessions in this process's memory: fast, gone at restart, not shared between
/// processes. A real store (expiry honoured, compare-and-swap, hashed keys), for
/// single-process apps and tests.
///
/// Bounded twice: by the number of sessions (default 100,000) and by their size (default
/// 64 MiB, each record counted as its data's JSON length plus a fixed overhead). When a
/// record would pass either bound (a new one, or a saved one that grew), expired records
/// are purged first, then the other records closest to expiry are evicted (as a cache
/// would), so neither a flood of anonymous sessions nor a few huge ones can exhaust
/// memory. A single record larger than the whole
/// budget is refused with [`StoreError::Backend`]; `ServerSide`'s per-session limit
/// (64 KiB by default) refuses it long before, at `insert`.
///
/// # Examples
///
/// ```
/// use session_core::clock::Timestamp;
/// use session_core::store::{MemoryStore, RecordStore, SessionId, StorageKey};
/// use session_core::SessionConfig;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = MemoryStore::with_capacity(10_000).with_byte_budget(16 * 1024 * 1024);
/// let now = Timestamp::from_unix_millis(1_000);
/// let key = StorageKey::hashed(&SessionId::generate()?);
/// let record = SessionConfig::default().new_record(now);
/// store.create(&key, &record, now).await?;
/// assert_eq!(store.load(&key, now).await?, Some(record));
/// assert!(store.bytes() > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    records: HashMap<StorageKey, Entry>,
    /// The per-user index: each principal's keys, kept in step with `records` under the
    /// same lock.
    by_principal: HashMap<String, HashSet<StorageKey>>,
    capacity: usize,
    byte_budget: usize,
    bytes: usize,
    /// Live records evicted to make room, since the store was made.
    evicted: u64,
}

struct Entry {
    record: Record,
    size: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl MemoryStore {
    /// A store holding at most `capacity` sessions (at least 1), within the default byte
    /// budget.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                records: HashMap::new(),
                by_principal: HashMap::new(),
                capacity: capacity.max(1),
                byte_budget: DEFAULT_BYTE_BUDGET,
                bytes: 0,
                evicted: 0,
            })),
        }
    }

    /// Bounds the sessions' total size to `bytes` (default 64 MiB).
    pub fn with_byte_budget(self, bytes: usize) -> Self {
        self.lock().byte_budget = bytes;
        self
    }

    /// How many records the store holds, expired ones included until they are purged.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether the store holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The size the store counts its records as, against its byte budget.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// How many live sessions were evicted to make room since the store was made (expired
    /// ones purged are not counted): above zero, the capacity or the byte budget is too
    /// small for the traffic, and users were logged out early.
    pub fn evicted(&self) -> u64 {
        self.lock().evicted
    }

    /// Every stored key, for inspection (the conformance kit checks no raw id is among
    /// them).
    pub fn keys(&self) -> Vec<StorageKey> {
        self.lock().records.keys().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every operation leaves the map consistent before releasing the lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn live(&self, key: &StorageKey, now: Timestamp) -> Option<&Record> {
        self.records
            .get(key)
            .map(|entry| &entry.record)
            .filter(|r| !r.is_expired_at(now))
    }

    /// Stores `record` under `key` in place of what `key` and `replacing` held, making
    /// room for it first. A record larger than the whole budget is refused before anything
    /// is removed.
    fn put(
        &mut self,
        key: &StorageKey,
        record: &Record,
        replacing: Option<&StorageKey>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let size = entry_size(record);
        if size > self.byte_budget {
            return Err(StoreError::Backend(
                format!(
                    "a {size}-byte session is larger than the memory store's whole \
                     {}-byte budget",
                    self.byte_budget
                )
                .into(),
            ));
        }
        if let Some(old) = replacing {
            self.remove(old);
        }
        self.remove(key);
        // A save that grows a session makes room as a new one does, or a few sessions
        // growing in place could pass the budget.
        self.make_room(size, now);
        self.insert(key.clone(), record, size);
        Ok(())
    }

    fn insert(&mut self, key: StorageKey, record: &Record, size: usize) {
        self.bytes += size;
        if let Some(principal) = record.principal() {
            self.by_principal
                .entry(principal.to_owned())
                .or_default()
                .insert(key.clone());
        }
        self.records.insert(
            key,
            Entry {
                record: record.clone(),
                size,
            },
        );
    }

    fn remove(&mut self, key: &StorageKey) -> Option<Record> {
        let entry = self.records.remove(key)?;
        self.bytes -= entry.size;
        if let Some(principal) = entry.record.principal() {
            if let Some(keys) = self.by_principal.get_mut(principal) {
                keys.remove(key);
                if keys.is_empty() {
                    self.by_principal.remove(principal);
                }
            }
        }
        Some(entry.record)
    }

    fn purge_expired(&mut self, now: Timestamp) -> u64 {
        let expired: Vec<StorageKey> = self
            .records
            .iter()
            .filter(|(_, entry)| entry.record.is_expired_at(now))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &expired {
            self.remove(key);
        }
        expired.len() as u64
    }

    /// Makes room for a record of `incoming` bytes (at most the whole budget): expired
    /// records first, then the ones closest to expiry.
    fn make_room(&mut self, incoming: usize, now: Timestamp) {
        if !self.is_full_for(incoming) {
            return;
        }
        self.purge_expired(now);
        let mut evicted = 0_u64;
        while self.is_full_for(incoming) {
            let soonest = self
                .records
                .iter()
                .min_by_key(|(_, entry)| entry.record.expires_at)
                .map(|(key, _)| key.clone());
            let Some(key) = soonest else { break };
            self.remove(&key);
            evicted += 1;
        }
        self.evicted += evicted;
        if evicted > 0 {
            tracing::warn!(
                capacity = self.capacity,
                byte_budget = self.byte_budget,
                evicted,
                "memory session store is full; evicted the sessions closest to expiry"
            );
        }
    }

    /// Whether one more record of `incoming` bytes would pass the capacity or the budget.
    fn is_full_for(&self, incoming: usize) -> bool {
        self.records.len() >= self.capacity || self.bytes + incoming > self.byte_budget
    }
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        let mut inner = self.lock();
        match inner.records.get(key) {
            Some(entry) if !entry.record.is_expired_at(now) => Ok(Some(entry.record.clone())),
            Some(_) => {
                // Met after its deadline: nobody can use it again, so free the memory now.
                inner.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.live(key, now).is_some() {
            return Err(StoreError::KeyCollision);
        }
        inner.put(key, record, None, now)
    }

    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.live(key, now) {
            Some(stored) if stored.version == expected_version => inner.put(key, record, None, now),
            _ => Err(StoreError::Conflict),
        }
    }

    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner
            .live(old, now)
            .is_none_or(|r| r.version != expected_version)
        {
            return Err(StoreError::Conflict);
        }
        if inner.live(new, now).is_some() {
            return Err(StoreError::KeyCollision);
        }
        inner.put(new, record, Some(old), now)
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = last_active;
        if let Some(entry) = self
            .lock()
            .records
            .get_mut(key)
            .filter(|entry| !entry.record.is_expired_at(now))
        {
            entry.record.last_active = last_active;
            entry.record.expires_at = expires_at;
        }
        Ok(())
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self.lock().purge_expired(now))
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        let inner = self.lock();
        let keys = inner.by_principal.get(principal).into_iter().flatten();
        Ok(keys
            .filter_map(|key| Some((key.clone(), inner.live(key, now)?.clone())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::{RandomSourceError, SessionId};
    use crate::SessionConfig;

    fn key() -> Result<StorageKey, RandomSourceError> {
        Ok(StorageKey::hashed(&SessionId::generate()?))
    }

    #[tokio::test]
    async fn full_store_evicts_the_session_closest_to_expiry(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = MemoryStore::with_capacity(2);
        let now = Timestamp::from_unix_millis(1_000);
        let config = SessionConfig::default();
        let (soon, late, newest) = (key()?, key()?, key()?);
        let mut record = config.new_record(now);
        record.expires_at = now.saturating_add(Duration::from_secs(60));
        store.create(&soon, &record, now).await?;
        record.expires_at = now.saturating_add(Duration::from_secs(600));
        store.create(&late, &record, now).await?;
        store.create(&newest, &record, now).await?;
        assert_eq!((store.len(), store.evicted()), (2, 1));
        assert!(store.load(&soon, now).await?.is_none());
        assert!(store.load(&late, now).await?.is_some());
        assert!(store.load(&newest, now).await?.is_some());
        Ok(())
    }

    #[tokio::test]
    async fn the_counts_follow_each_record_in_and_out() -> Result<(), Box<dyn std::error::Error>> {
        let store = MemoryStore::default();
        let now = Timestamp::from_unix_millis(1_000);
        assert!(store.is_empty());
        assert_eq!((store.len(), store.bytes()), (0, 0));

        let key = key()?;
        let mut record = SessionConfig::default().new_record(now);
        record.data.insert("note".into(), "x".repeat(100).into());
        store.create(&key, &record, now).await?;
        let one = entry_size(&record);
        assert!(!store.is_empty());
        assert_eq!((store.len(), store.bytes()), (1, one));

        // A save replaces the record's size, it does not add to it.
        let loaded = record.version;
        record.data.insert("note".into(), "x".repeat(1_000).into());
        record.version += 1;
        store.save(&key, &record, loaded, now).await?;
        assert_eq!((store.len(), store.bytes()), (1, one + 900));

        store.delete(&key).await?;
        assert!(store.is_empty());
        assert_eq!(store.bytes(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn records_filling_the_budget_exactly_are_kept_and_one_byte_more_is_refused(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let now = Timestamp::from_unix_millis(1_000);
        let mut record = SessionConfig::default().new_record(now);
        record.data.insert("note".into(), "x".repeat(1_000).into());
        let store = MemoryStore::default().with_byte_budget(2 * entry_size(&record));
        store.create(&key()?, &record, now).await?;
        store.create(&key()?, &record, now).await?;
        assert_eq!((store.len(), store.evicted()), (2, 0), "two fit exactly");
        assert_eq!(store.bytes(), 2 * entry_size(&record));

        let whole = MemoryStore::default().with_byte_budget(entry_size(&record));
        whole.create(&key()?, &record, now).await?;
        record.data.insert("note".into(), "x".repeat(1_001).into());
        let refused = whole.create(&key()?, &record, now).await;
        let refused_cleanly = matches!(refused, Err(StoreError::Backend(_)));
        assert!(refused_cleanly, "{refused:?}");
        let kept = (whole.len(), whole.evicted());
        assert_eq!(
            kept,
            (1, 0),
            "nothing is evicted for a record that cannot fit"
        );
        Ok(())
    }

    #[tokio::test]
    async fn sessions_growing_in_place_stay_within_the_budget(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let now = Timestamp::from_unix_millis(1_000);
        let mut record = SessionConfig::default().new_record(now);
        record.data.insert("note".into(), "x".repeat(1_000).into());
        let budget = 3 * entry_size(&record);
        let store = MemoryStore::default().with_byte_budget(budget);
        let (soon, later, growing) = (key()?, key()?, key()?);
        for (key, minutes) in [(&soon, 1), (&later, 2), (&growing, 3)] {
            record.expires_at = now.saturating_add(Duration::from_secs(60 * minutes));
            store.create(key, &record, now).await?;
        }

        let mut grown = record.clone();
        grown.data.insert("note".into(), "x".repeat(1_500).into());
        grown.version += 1;
        store.save(&growing, &grown, record.version, now).await?;
        assert!(
            store.bytes() <= budget,
            "{} bytes over {budget}",
            store.bytes()
        );
        assert_eq!(store.load(&growing, now).await?, Some(grown.clone()));
        assert_eq!(
            store.load(&soon, now).await?,
            None,
            "closest to expiry: evicted"
        );
        assert_eq!(store.evicted(), 1);
        assert!(store.load(&later, now).await?.is_some());

        // Grown past the whole budget: refused, and the stored session is kept.
        let mut whale = grown.clone();
        whale.data.insert("note".into(), "x".repeat(budget).into());
        whale.version += 1;
        let refused = store.save(&growing, &whale, grown.version, now).await;
        assert!(
            matches!(refused, Err(StoreError::Backend(_))),
            "{refused:?}"
        );
        assert_eq!(store.load(&growing, now).await?, Some(grown));
        Ok(())
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_memory_whatever_the_count(
    ) -> Result<(), Box<dyn std::error::Error>> {
        // The attack seen on the demo, scaled down 16 times: 300 sessions of 64 KiB
        // against a 512 KiB budget (1 MiB sessions and 8 MiB in production terms).
        const BLOB: usize = 64 * 1024;
        const BUDGET: usize = 8 * BLOB;
        let store = MemoryStore::with_capacity(100_000).with_byte_budget(BUDGET);
        let now = Timestamp::from_unix_millis(1_000);
        let mut record = SessionConfig::default().new_record(now);
        record.data.insert("blob".into(), "x".repeat(BLOB).into());
        for _ in 0..300 {
            store.create(&key()?, &record, now).await?;
            assert!(store.bytes() <= BUDGET, "{} bytes", store.bytes());
        }
        assert_eq!(store.len(), 7, "as many as fit the budget");
        assert_eq!(store.evicted(), 300 - 7);

        let mut whale = record.clone();
        whale
            .data
            .insert("blob".into(), "x".repeat(BUDGET + 1).into());
        assert!(matches!(
            store.create(&key()?, &whale, now).await,
            Err(StoreError::Backend(_))
        ));

        // Bytes are given back as records leave.
        for key in store.keys() {
            store.delete(&key).await?;
        }
        assert_eq!(store.bytes(), 0);
        Ok(())
    }
}
