//! The whole conformance kit against `RedisStore` on the real Redis at 127.0.0.1:6379.
//! Each store gets a fresh key prefix, deleted again when the test ends.

mod common;

use async_trait::async_trait;
use session_conformance::{BackendHarness, StoreHarness};
use session_core::clock::Timestamp;
use session_core::store::{ServerSide, StorageKey};
use session_redis::RedisStore;

use crate::common::{dump, store, unique_prefix, Cleanup, REDIS_URL};

#[derive(Default)]
struct RedisHarness {
    cleanup: Cleanup,
}

#[async_trait]
impl StoreHarness for RedisHarness {
    type Store = RedisStore;

    async fn store(&self) -> RedisStore {
        let prefix = unique_prefix("store");
        self.cleanup.track(&prefix);
        store(&prefix).await
    }

    async fn dump(&self, store: &RedisStore) -> Vec<u8> {
        dump(REDIS_URL, store.prefix())
    }

    fn expires_natively(&self) -> bool {
        true
    }

    async fn native_deadline(&self, store: &RedisStore, key: &StorageKey) -> Option<Timestamp> {
        common::native_deadline(&store.redis_key(key))
    }

    async fn broken_store(&self) -> Option<RedisStore> {
        let prefix = unique_prefix("broken");
        self.cleanup.track(&prefix);
        Some(common::broken_store(&prefix).await)
    }
}

#[derive(Default)]
struct RedisBackendHarness {
    cleanup: Cleanup,
}

#[async_trait]
impl BackendHarness for RedisBackendHarness {
    type Backend = ServerSide<RedisStore>;

    async fn backend(&self) -> Self::Backend {
        let prefix = unique_prefix("backend");
        self.cleanup.track(&prefix);
        ServerSide::new(store(&prefix).await)
    }

    /// A second connection on the same prefix, with its own per-session locks: what a
    /// second machine running the app has.
    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        ServerSide::new(store(first.store().prefix()).await)
    }
}

mod record_store {
    session_conformance::record_store_tests!(super::RedisHarness::default());
}

mod backend {
    session_conformance::backend_tests!(super::RedisBackendHarness::default());
}
