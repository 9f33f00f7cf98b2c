//! What a store author implements so the kit can make and inspect their store.

use async_trait::async_trait;
use session_core::backend::SessionBackend;
use session_core::clock::Timestamp;
use session_core::store::{MemoryStore, RecordStore, ServerSide, StorageKey};
use session_core::SessionConfig;

/// Makes fresh instances of a [`RecordStore`] for the [`record_store`](crate::record_store)
/// checks.
#[async_trait]
pub trait StoreHarness: Send + Sync + 'static {
    /// The store under test.
    type Store: RecordStore;

    /// A fresh, empty store, or an isolated namespace of a shared server (a new temp file,
    /// a unique key prefix), so checks can count what they stored.
    async fn store(&self) -> Self::Store;

    /// Everything the store keeps, as bytes (file contents, every key and value), for the
    /// check that no raw session id is ever stored.
    async fn dump(&self, store: &Self::Store) -> Vec<u8>;

    /// Whether the store drops expired records by itself (Redis TTLs), so its
    /// `delete_expired` has nothing to do and reports 0. Such a store must still treat a
    /// record whose `expires_at` is at or before the `now` it is handed as absent: the
    /// checks move a [`ManualClock`](session_core::clock::ManualClock), not the server's
    /// clock.
    ///
    /// The claim is checked, not believed: where it is made, the checks ask
    /// [`native_deadline`](Self::native_deadline) for the deadline the store itself holds
    /// and require it to be the record's `expires_at`.
    fn expires_natively(&self) -> bool {
        false
    }

    /// The deadline the store itself will drop `key` at, read from the store's own
    /// bookkeeping (Redis: `PEXPIRETIME` of the key), or `None` when it holds none. Only
    /// asked when [`expires_natively`](Self::expires_natively) claims native expiry; the
    /// default ("no native deadline") then fails the checks.
    async fn native_deadline(&self, store: &Self::Store, key: &StorageKey) -> Option<Timestamp> {
        let _ = (store, key);
        None
    }

    /// A store of this kind that is really broken (its database file unreadable, its pool
    /// closed, its server gone), for the check that an outage surfaces as an error. `None`
    /// (the default) when the harness cannot break one; the check then only runs its
    /// [`FaultyStore`](crate::FaultyStore) half.
    async fn broken_store(&self) -> Option<Self::Store> {
        None
    }
}

/// Makes instances of a [`SessionBackend`] for the [`backend`](crate::backend) checks.
#[async_trait]
pub trait BackendHarness: Send + Sync + 'static {
    /// The backend under test.
    type Backend: SessionBackend;

    /// A fresh backend.
    async fn backend(&self) -> Self::Backend;

    /// Another instance sharing `first`'s storage (and keys), as a second process of the
    /// same app would have.
    async fn second_process(&self, first: &Self::Backend) -> Self::Backend;

    /// The configuration the checks start from; checks adjust timeouts themselves. It must
    /// pass the backend's [`check`](SessionBackend::check) (a cookie backend given keys of
    /// its own refuses a configuration with other keys).
    fn config(&self) -> SessionConfig {
        SessionConfig::default()
    }

    /// Whether the backend's storage drops sessions by itself at their deadline (Redis
    /// TTLs). Checked, not believed: where claimed, the checks compare
    /// [`native_deadline`](Self::native_deadline) with the session's deadline.
    fn expires_natively(&self) -> bool {
        false
    }

    /// The deadline the backend's storage itself holds for the session `cookie` names
    /// (Redis: `PEXPIRETIME` of its key), or `None` when it holds none. Only asked when
    /// [`expires_natively`](Self::expires_natively) is claimed.
    async fn native_deadline(&self, backend: &Self::Backend, cookie: &str) -> Option<Timestamp> {
        let _ = (backend, cookie);
        None
    }
}

/// The kit's harness for [`MemoryStore`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryHarness;

#[async_trait]
impl StoreHarness for MemoryHarness {
    type Store = MemoryStore;

    async fn store(&self) -> MemoryStore {
        MemoryStore::default()
    }

    async fn dump(&self, store: &MemoryStore) -> Vec<u8> {
        // A memory store keeps only its keys and records; the keys are where an id could leak.
        format!("{:?}", store.keys()).into_bytes()
    }
}

/// The kit's harness for `ServerSide<MemoryStore>`; a "second process" shares the
/// store but not the per-process locks, as two processes sharing a database would.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryBackendHarness;

#[async_trait]
impl BackendHarness for MemoryBackendHarness {
    type Backend = ServerSide<MemoryStore>;

    async fn backend(&self) -> Self::Backend {
        ServerSide::new(MemoryStore::default())
    }

    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        ServerSide::from_arc(first.store().clone())
    }
}
