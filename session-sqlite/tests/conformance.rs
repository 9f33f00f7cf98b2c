//! The conformance kit against `SqliteStore` (layer 2) and `ServerSide<SqliteStore>`
//! (layer 1), on real database files.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use session_conformance::{BackendHarness, StoreHarness};
use session_core::store::ServerSide;
use session_sqlite::{SqliteStore, SqliteStoreOptions};

/// Each store gets its own file in one temp dir that lives as long as the harness.
struct SqliteHarness {
    dir: tempfile::TempDir,
    files: AtomicUsize,
}

impl SqliteHarness {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
            files: AtomicUsize::new(0),
        }
    }

    async fn open(&self) -> SqliteStore {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("sessions-{n}.db"));
        // The real defaults, cleanup task included (its first run is a minute away).
        SqliteStoreOptions::default()
            .connect(&common::url(&path))
            .await
            .expect("a new database opens")
    }
}

#[async_trait]
impl StoreHarness for SqliteHarness {
    type Store = SqliteStore;

    async fn store(&self) -> SqliteStore {
        self.open().await
    }

    async fn dump(&self, store: &SqliteStore) -> Vec<u8> {
        common::dump(store).await
    }

    /// A store on a real file whose pools are closed: every call meets
    /// `sqlx::Error::PoolClosed` from the store's own connections.
    async fn broken_store(&self) -> Option<SqliteStore> {
        let store = self.open().await;
        store.close().await;
        Some(store)
    }
}

#[async_trait]
impl BackendHarness for SqliteHarness {
    type Backend = ServerSide<SqliteStore>;

    async fn backend(&self) -> Self::Backend {
        ServerSide::new(self.open().await)
    }

    /// Another store (its own pools and cleanup task) on the same file, as a second
    /// process would open it.
    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        let url = common::url(first.store().path());
        ServerSide::new(
            SqliteStore::connect(&url)
                .await
                .expect("the file opens twice"),
        )
    }
}

mod record_store {
    use super::SqliteHarness;

    session_conformance::record_store_tests!(SqliteHarness::new());
}

mod backend {
    use super::SqliteHarness;

    session_conformance::backend_tests!(SqliteHarness::new());
}

/// The same kit against an in-memory database (shared-cache connections, no WAL).
mod memory {
    use async_trait::async_trait;
    use session_conformance::StoreHarness;
    use session_sqlite::SqliteStore;

    struct MemoryHarness;

    #[async_trait]
    impl StoreHarness for MemoryHarness {
        type Store = SqliteStore;

        async fn store(&self) -> SqliteStore {
            SqliteStore::connect("sqlite::memory:")
                .await
                .expect("memory opens")
        }

        async fn dump(&self, store: &SqliteStore) -> Vec<u8> {
            super::common::dump(store).await
        }
    }

    session_conformance::record_store_tests!(MemoryHarness);
}
