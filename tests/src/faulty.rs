//! A store wrapper that fails on demand, to check that failures surface as errors.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use session_core::{Record, RecordStore, StorageKey, StoreError, Timestamp};

/// Wraps a store; while [`FaultyStore::set_failing`] is on, every call fails with
/// [`StoreError::Unavailable`] as a store that lost its connection would.
pub struct FaultyStore<S> {
    inner: S,
    failing: AtomicBool,
}

impl<S: RecordStore> FaultyStore<S> {
    /// Wraps `inner`, initially working.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            failing: AtomicBool::new(false),
        }
    }

    /// Turns failure on or off.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(Box::new(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "injected by FaultyStore",
            ))))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl<S: RecordStore> RecordStore for FaultyStore<S> {
    async fn load(&self, key: &StorageKey) -> Result<Option<Record>, StoreError> {
        self.check()?;
        self.inner.load(key).await
    }
    async fn create(&self, key: &StorageKey, record: &Record) -> Result<(), StoreError> {
        self.check()?;
        self.inner.create(key, record).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.save(key, record, expected_version).await
    }
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner
            .change_key(old, new, record, expected_version)
            .await
    }
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch(key, last_active, expires_at).await
    }
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_expired().await
    }
}
