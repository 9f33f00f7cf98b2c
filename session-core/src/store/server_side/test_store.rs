//! A [`MemoryStore`] with hooks, for `ServerSide`'s tests: counted loads that may fail,
//! key collisions on demand, and saves that wait at a gate the test opens.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use async_trait::async_trait;
use tokio::sync::Semaphore;

use crate::clock::Timestamp;
use crate::store::{MemoryStore, Record, RecordStore, StorageKey, StoreError};

/// Loads are counted and call `hook` first (it may fail them with the error it returns);
/// the next `colliding` creates or key changes report a key collision; with a gate, every
/// save is counted, then waits for a permit the test adds.
pub(super) struct Hooked<F> {
    pub(super) inner: MemoryStore,
    hook: F,
    pub(super) collide: AtomicU32,
    pub(super) loads: AtomicU64,
    pub(super) saves: AtomicU64,
    pub(super) gate: Option<Semaphore>,
}

impl<F> Hooked<F> {
    pub(super) fn on(inner: MemoryStore, hook: F) -> Self {
        Self {
            inner,
            hook,
            collide: AtomicU32::new(0),
            loads: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            gate: None,
        }
    }

    /// The next `times` creates or key changes report a key collision.
    pub(super) fn colliding(self, times: u32) -> Self {
        self.collide.store(times, Ordering::SeqCst);
        self
    }

    /// Saves wait for a permit of the gate, which starts closed.
    pub(super) fn gated(mut self) -> Self {
        self.gate = Some(Semaphore::new(0));
        self
    }

    /// Lets `permits` waiting or future saves through.
    pub(super) fn open_gate(&self, permits: usize) {
        if let Some(gate) = &self.gate {
            gate.add_permits(permits);
        }
    }

    fn collides(&self) -> Result<(), StoreError> {
        let collide = self.collide.load(Ordering::SeqCst);
        if collide > 0 {
            self.collide.store(collide - 1, Ordering::SeqCst);
            return Err(StoreError::KeyCollision);
        }
        Ok(())
    }
}

#[async_trait]
impl<F: Fn() -> Option<StoreError> + Send + Sync + 'static> RecordStore for Hooked<F> {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        match (self.hook)() {
            Some(error) => Err(error),
            None => self.inner.load(key, now).await,
        }
    }
    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.collides()?;
        self.inner.create(key, record, now).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let permit = gate
                .acquire()
                .await
                .map_err(|error| StoreError::Backend(Box::new(error)))?;
            permit.forget();
        }
        self.inner.save(key, record, expected_version, now).await
    }
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.collides()?;
        self.inner
            .change_key(old, new, record, expected_version, now)
            .await
    }
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn touch(
        &self,
        key: &StorageKey,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.touch(key, now, expires_at).await
    }
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.inner.delete_expired(now).await
    }
}
