//! Shared helpers for the integration tests: a schema per test on the test server, and
//! requests driven through a `SessionManager` on a manual clock, as an adapter drives them.
#![allow(dead_code, unreachable_pub)]

pub mod pg;

// The kit's request helpers; not every test file uses every one.
#[allow(unused_imports)]
pub use session_conformance::requests::{finish, increment, new_counter, open, read_value as read};
use session_core::adapter::SessionManager;
use session_core::clock::ManualClock;
use session_core::SessionConfig;
use session_postgres::{PostgresStore, PostgresStoreOptions};

pub use self::pg::TestSchema;

/// Options for a store in `schema`: a small pool (many tests share one server), the
/// cleanup task off unless a test turns it on.
pub fn options(schema: &TestSchema) -> PostgresStoreOptions {
    PostgresStoreOptions::default()
        .with_schema(&schema.name)
        .with_max_connections(4)
        .with_cleanup_interval(None)
}

/// A store in a new schema (kept alive by the returned guard).
pub async fn temp_store() -> (TestSchema, PostgresStore) {
    let schema = TestSchema::new().await;
    let store = options(&schema)
        .connect(schema.url())
        .await
        .expect("the test server accepts the store");
    (schema, store)
}

/// A manager serving `store` with the default configuration, reading time from `clock`.
pub fn manager(store: PostgresStore, clock: &ManualClock) -> SessionManager {
    SessionManager::new(store, SessionConfig::default())
        .expect("the default configuration is valid")
        .with_clock(clock.clone())
}

/// How many rows the store's table holds, expired ones included until they are deleted.
pub async fn row_count(store: &PostgresStore) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted_table(store)))
        .fetch_one(store.pool())
        .await
        .expect("count")
}

/// The store's table as SQL: `"schema"."table"`.
pub fn quoted_table(store: &PostgresStore) -> String {
    let schema = store.schema();
    let table = store
        .table()
        .strip_prefix(&format!("{schema}."))
        .expect("table() is schema.table")
        .to_owned();
    format!(
        "\"{}\".\"{}\"",
        schema.replace('"', "\"\""),
        table.replace('"', "\"\"")
    )
}
