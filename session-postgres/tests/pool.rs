//! Every connection of the pool held elsewhere: an operation fails within the acquire
//! timeout with an error that says so, rather than hanging; it works again once a
//! connection is free.

mod common;

use std::time::Duration;

use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_postgres::PostgresError;
use sqlx::Connection as _;

use crate::common::TestSchema;

/// Far beyond the acquire timeout: only a hang reaches it. (Not a timing assertion: a
/// slow machine passes, a store that waits forever fails instead of stalling the suite.)
const HANG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_a_clear_unavailable_error_not_a_hang() {
    let schema = TestSchema::new().await;
    let store = common::options(&schema)
        .with_max_connections(2)
        .with_acquire_timeout(Duration::from_millis(300))
        .connect(schema.url())
        .await
        .expect("the test server accepts the store");
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let key = StorageKey::hashed(&SessionId::generate().expect("random"));
    let record = Record::new(now, now.saturating_add(Duration::from_secs(60)));
    store.create(&key, &record, now).await.expect("create");

    // Both connections, held as a long transaction or a leak elsewhere in the app would.
    let first = store.pool().acquire().await.expect("a connection");
    let second = store.pool().acquire().await.expect("another connection");

    for attempt in ["load", "save"] {
        let result = tokio::time::timeout(HANG, async {
            match attempt {
                "load" => store.load(&key, now).await.map(drop),
                _ => store.save(&key, &record, 0, now).await,
            }
        })
        .await
        .expect("the store gives up after its acquire timeout");
        let Err(StoreError::Unavailable(source)) = result else {
            panic!("{attempt}: expected Unavailable, got {result:?}");
        };
        let error = source
            .downcast_ref::<PostgresError>()
            .expect("the source is the store's error");
        assert!(
            matches!(error, PostgresError::PoolExhausted { size: 2, .. }),
            "{attempt}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("all 2 connections") && message.contains("with_max_connections"),
            "the message says what happened and what to do: {message}"
        );
    }

    drop(first);
    let loaded = tokio::time::timeout(HANG, store.load(&key, now))
        .await
        .expect("no hang")
        .expect("a freed connection serves again");
    assert_eq!(loaded, Some(record));
    drop(second);
}

/// A read whose pooled connection the server ended (a restart, an administrator's
/// `pg_terminate_backend`) is tried once more on a fresh connection: the visitor never
/// sees the dead one. (Writes are never retried: one may have committed.) Each read runs
/// on a store of its own: after one failure, the pool checks idle connections before use,
/// and would find the next dead one before the read could.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_on_a_connection_the_server_ended_is_retried_on_a_fresh_one() {
    let schema = TestSchema::new().await;
    let mut admin = sqlx::PgConnection::connect(schema.url())
        .await
        .expect("an admin connection");
    let now = ManualClock::starting_now().now();
    let key = StorageKey::hashed(&SessionId::generate().expect("random"));
    let record = Record::new(now, now.saturating_add(Duration::from_secs(60)));

    let (store, app) = store_named(&schema).await;
    store.create(&key, &record, now).await.expect("create");
    end_connections(&mut admin, &app).await;
    let loaded = store.load(&key, now).await;
    assert_eq!(loaded.expect("the load is retried"), Some(record));

    let (store, app) = store_named(&schema).await;
    store
        .load(&key, now)
        .await
        .expect("a first read opens a connection");
    end_connections(&mut admin, &app).await;
    let listed = store.sessions_of("nobody", now).await;
    assert!(listed.expect("the listing is retried").is_empty());
}

/// A store in `schema` whose connections carry an `application_name` of their own.
async fn store_named(schema: &TestSchema) -> (session_postgres::PostgresStore, String) {
    let app = common::pg::unique_name("sp_ended");
    let store = common::options(schema)
        .connect(&format!("{}?application_name={app}", schema.url()))
        .await
        .expect("the test server accepts the store");
    (store, app)
}

/// Ends every connection named `app`; `pg_terminate_backend`'s timeout makes the server
/// answer only once each backend is gone (PostgreSQL 14+), so no polling is needed.
async fn end_connections(admin: &mut sqlx::PgConnection, app: &str) {
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid, 60000) FROM pg_stat_activity \
         WHERE application_name = $1",
    )
    .bind(app)
    .fetch_all(&mut *admin)
    .await
    .expect("terminate");
    assert!(!ended.is_empty(), "the store had connections to end");
    assert!(
        ended.iter().all(|&gone| gone),
        "every connection ended: {ended:?}"
    );
}
