//! An in-process server-side store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::{Record, RecordStore, StorageKey, StoreError};
use crate::clock::Timestamp;

/// The default capacity: enough for a busy single-process app, small enough that a flood
/// of anonymous sessions cannot exhaust memory.
const DEFAULT_CAPACITY: usize = 100_000;

/// Sessions in this process's memory: fast, gone at restart, not shared between
/// processes. A real store (expiry honoured, compare-and-swap, hashed keys), for
/// single-process apps and tests.
///
/// Bounded: when full, expired records are purged first, then the record closest to
/// expiry is evicted to make room (as a cache would), so memory stays bounded under a
/// flood of new sessions.
///
/// # Examples
///
/// ```
/// use session_core::clock::Timestamp;
/// use session_core::store::{MemoryStore, RecordStore, SessionId, StorageKey};
/// use session_core::SessionConfig;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = MemoryStore::with_capacity(10_000);
/// let now = Timestamp::from_unix_millis(1_000);
/// let key = StorageKey::hashed(&SessionId::generate()?);
/// let record = SessionConfig::default().new_record(now);
/// store.create(&key, &record, now).await?;
/// assert_eq!(store.load(&key, now).await?, Some(record));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    records: HashMap<StorageKey, Record>,
    capacity: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl MemoryStore {
    /// A store holding at most `capacity` sessions (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                records: HashMap::new(),
                capacity: capacity.max(1),
            })),
        }
    }

    /// How many records the store holds, expired ones included until they are purged.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether the store holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        self.records.get(key).filter(|r| !r.is_expired_at(now))
    }

    fn make_room(&mut self, now: Timestamp) {
        if self.records.len() < self.capacity {
            return;
        }
        self.records.retain(|_, r| !r.is_expired_at(now));
        if self.records.len() < self.capacity {
            return;
        }
        let soonest = self
            .records
            .iter()
            .min_by_key(|(_, r)| r.expires_at)
            .map(|(k, _)| k.clone());
        if let Some(key) = soonest {
            tracing::warn!(
                capacity = self.capacity,
                "memory session store is full; evicting the session closest to expiry"
            );
            self.records.remove(&key);
        }
    }
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        let mut inner = self.lock();
        match inner.records.get(key) {
            Some(record) if !record.is_expired_at(now) => Ok(Some(record.clone())),
            Some(_) => {
                // Met after its deadline: nobody can use it again, so free the memory now.
                inner.records.remove(key);
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
        inner.make_room(now);
        inner.records.insert(key.clone(), record.clone());
        Ok(())
    }

    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.records.get_mut(key) {
            Some(stored) if stored.version == expected_version && !stored.is_expired_at(now) => {
                *stored = record.clone();
                Ok(())
            }
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
        inner.records.remove(old);
        inner.records.insert(new.clone(), record.clone());
        Ok(())
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        self.lock().records.remove(key);
        Ok(())
    }

    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = last_active;
        if let Some(stored) = self
            .lock()
            .records
            .get_mut(key)
            .filter(|r| !r.is_expired_at(now))
        {
            stored.last_active = last_active;
            stored.expires_at = expires_at;
        }
        Ok(())
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let before = inner.records.len();
        inner.records.retain(|_, r| !r.is_expired_at(now));
        Ok((before - inner.records.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
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
        record.expires_at = now.saturating_add(std::time::Duration::from_secs(60));
        store.create(&soon, &record, now).await?;
        record.expires_at = now.saturating_add(std::time::Duration::from_secs(600));
        store.create(&late, &record, now).await?;
        store.create(&newest, &record, now).await?;
        assert_eq!(store.len(), 2);
        assert!(store.load(&soon, now).await?.is_none());
        assert!(store.load(&late, now).await?.is_some());
        assert!(store.load(&newest, now).await?.is_some());
        Ok(())
    }
}
