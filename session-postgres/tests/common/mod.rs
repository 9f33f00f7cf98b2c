//! Shared helpers for the integration tests: a schema per test on the test server, and
//! requests driven through a `SessionManager` on a manual clock, as an adapter drives them.
#![allow(dead_code, unreachable_pub)]

pub mod pg;

use session_core::adapter::{LazySession, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::clock::ManualClock;
use session_core::{Session, SessionConfig, SessionError};
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

/// A request carrying `cookie`, with its session loaded.
pub async fn open(
    manager: &SessionManager,
    cookie: Option<&str>,
) -> Result<(LazySession, Session), SessionError> {
    let request = manager.request(cookie);
    let session = request.session().await?;
    Ok((request, session))
}

/// Saves a request's session; the cookie the response would carry.
pub async fn finish(request: &LazySession) -> Result<CookieUpdate, SessionError> {
    Ok(request
        .finish()
        .await?
        .expect("a loaded session has a response plan")
        .cookie)
}

/// A new session holding `counter = 0`, saved; its cookie value.
pub async fn new_counter(manager: &SessionManager) -> String {
    let (request, session) = open(manager, None).await.expect("load");
    session.insert("counter", 0).expect("insert");
    match finish(&request).await.expect("save") {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("a new session sets a cookie, got {other:?}"),
    }
}

/// One request adding 1 to `counter`, as a `POST /counter` would; the new count.
pub async fn increment(manager: &SessionManager, cookie: &str) -> Result<u64, SessionError> {
    let (request, session) = open(manager, Some(cookie)).await?;
    assert!(!session.is_empty(), "the shared session must load");
    let value = session.update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    assert_eq!(finish(&request).await?, CookieUpdate::Unchanged);
    Ok(value)
}

/// The value of `key` in the session `cookie` names, read in a request of its own.
pub async fn read(
    manager: &SessionManager,
    cookie: &str,
    key: &str,
) -> Result<Option<serde_json::Value>, SessionError> {
    let (request, session) = open(manager, Some(cookie)).await?;
    let value = session.get(key)?;
    finish(&request).await?;
    Ok(value)
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
