//! The conformance kit against `PostgresStore` (layer 2) and `ServerSide<PostgresStore>`
//! (layer 1), each check in a schema of its own on the test server.

mod common;

use async_trait::async_trait;
use session_conformance::{BackendHarness, StoreHarness};
use session_core::store::ServerSide;
use session_postgres::{PostgresStore, PostgresStoreOptions};
use sqlx::Row as _;

use crate::common::TestSchema;

/// One schema per check, dropped with the harness at the end of the check.
struct PostgresHarness {
    schema: TestSchema,
}

impl PostgresHarness {
    /// Built inside the check's runtime by the kit's macros (`$harness` is evaluated
    /// there), so a blocking connect would stall it: the server check happens on first
    /// use instead.
    fn new() -> Self {
        Self {
            schema: std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(TestSchema::new())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        }
    }

    async fn open(&self) -> PostgresStore {
        // The real defaults, cleanup task included (its first run is a minute away), on a
        // smaller pool: every check of the suite shares one server.
        PostgresStoreOptions::default()
            .with_schema(&self.schema.name)
            .with_max_connections(5)
            .connect(self.schema.url())
            .await
            .expect("the test server accepts the store")
    }
}

#[async_trait]
impl StoreHarness for PostgresHarness {
    type Store = PostgresStore;

    async fn store(&self) -> PostgresStore {
        self.open().await
    }

    /// Every row of the table as text (the whole tuple, bytea as hex) and its key and
    /// data as they are.
    async fn dump(&self, store: &PostgresStore) -> Vec<u8> {
        let table = common::quoted_table(store);
        let rows = sqlx::query(&format!("SELECT t::text, id_hash, data FROM {table} t"))
            .fetch_all(store.pool())
            .await
            .expect("rows can be read");
        let mut bytes = Vec::new();
        for row in rows {
            for text in [row.get::<String, _>(0), row.get::<String, _>(1)] {
                bytes.extend_from_slice(text.as_bytes());
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(&row.get::<Vec<u8>, _>(2));
            bytes.push(b'\n');
        }
        bytes
    }
}

#[async_trait]
impl BackendHarness for PostgresHarness {
    type Backend = ServerSide<PostgresStore>;

    async fn backend(&self) -> Self::Backend {
        ServerSide::new(self.open().await)
    }

    /// Another store (its own pool and cleanup task) on the same table, as a second
    /// process would open it.
    async fn second_process(&self, _first: &Self::Backend) -> Self::Backend {
        ServerSide::new(self.open().await)
    }
}

mod record_store {
    use super::PostgresHarness;

    session_conformance::record_store_tests!(PostgresHarness::new());
}

mod backend {
    use super::PostgresHarness;

    session_conformance::backend_tests!(PostgresHarness::new());
}
