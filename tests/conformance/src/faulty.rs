//! A store wrapper that fails on demand and counts its calls, to check that failures
//! surface as errors and that untouched requests do not reach the store.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use session_core::clock::Timestamp;
use session_core::store::{KeyScheme, Record, RecordStore, StorageKey, StoreError};

/// Wraps a store; while failing, calls fail with [`StoreError::Unavailable`] as a store
/// that lost its connection would. Loads and writes can fail separately, and both are
/// counted.
///
/// # Examples
///
/// ```
/// use session_conformance::FaultyStore;
/// use session_core::clock::{Clock, ManualClock};
/// use session_core::store::{MemoryStore, RecordStore, SessionId, StorageKey};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = FaultyStore::new(MemoryStore::default());
/// let clock = ManualClock::starting_now();
/// let key = StorageKey::hashed(&SessionId::generate()?);
/// store.set_fail_loads(true);
/// assert!(store.load(&key, clock.now()).await.is_err());
/// store.set_fail_loads(false);
/// assert_eq!(store.load(&key, clock.now()).await?, None);
/// assert_eq!((store.loads(), store.writes()), (2, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct FaultyStore<S> {
    inner: S,
    fail_loads: AtomicBool,
    fail_writes: AtomicBool,
    loads: AtomicUsize,
    writes: AtomicUsize,
}

impl<S: RecordStore> FaultyStore<S> {
    /// Wraps `inner`, initially working.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            fail_loads: AtomicBool::new(false),
            fail_writes: AtomicBool::new(false),
            loads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }

    /// Turns failure of every call on or off.
    pub fn set_failing(&self, failing: bool) {
        self.set_fail_loads(failing);
        self.set_fail_writes(failing);
    }

    /// Turns failure of `load` on or off.
    pub fn set_fail_loads(&self, failing: bool) {
        self.fail_loads.store(failing, Ordering::SeqCst);
    }

    /// Turns failure of every call that writes (create, save, change key, delete, touch,
    /// delete expired) on or off.
    pub fn set_fail_writes(&self, failing: bool) {
        self.fail_writes.store(failing, Ordering::SeqCst);
    }

    /// How many loads the store was asked for.
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    /// How many writes the store was asked for (`delete_expired` not counted: it is
    /// maintenance, not a request's write).
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn load_call(&self) -> Result<(), StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        check(&self.fail_loads, "loads")
    }

    fn write_call(&self) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        check(&self.fail_writes, "writes")
    }
}

fn check(failing: &AtomicBool, what: &str) -> Result<(), StoreError> {
    if failing.load(Ordering::SeqCst) {
        Err(StoreError::Unavailable(Box::new(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("FaultyStore: {what} are switched off"),
        ))))
    } else {
        Ok(())
    }
}

#[async_trait]
impl<S: RecordStore> RecordStore for FaultyStore<S> {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.load_call()?;
        self.inner.load(key, now).await
    }
    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_call()?;
        self.inner.create(key, record, now).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_call()?;
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
        self.write_call()?;
        self.inner
            .change_key(old, new, record, expected_version, now)
            .await
    }
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        self.write_call()?;
        self.inner.delete(key).await
    }
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_call()?;
        self.inner.touch(key, last_active, expires_at).await
    }
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        check(&self.fail_writes, "writes")?;
        self.inner.delete_expired(now).await
    }
    fn key_scheme(&self) -> KeyScheme {
        self.inner.key_scheme()
    }
}
