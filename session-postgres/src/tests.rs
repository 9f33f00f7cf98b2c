//! What only the crate itself can observe: the cleanup task's lifetime and what it
//! deletes. Against the test server (see `tests/common/pg.rs`).

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/pg.rs"]
mod pg;

use std::time::Duration;

use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{Record, RecordStore, SessionId, StorageKey};

use crate::{PostgresStore, PostgresStoreOptions};

async fn store_with_cleanup(
    schema: &pg::TestSchema,
    interval: Option<Duration>,
    clock: &ManualClock,
) -> PostgresStore {
    PostgresStoreOptions::default()
        .with_schema(&schema.name)
        .with_max_connections(2)
        .with_cleanup_interval(interval)
        .with_cleanup_batch(2)
        .with_clock(clock.clone())
        .connect(schema.url())
        .await
        .expect("the test server accepts the store")
}

async fn wait_until_finished(task: &tokio::task::AbortHandle) -> bool {
    // Poll rather than assume how soon the runtime reaps an aborted task; 5 s at most.
    for _ in 0..500 {
        if task.is_finished() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[test]
fn connect_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let connect = PostgresStore::connect("postgres://postgres@127.0.0.1/test");
    assert_send(&connect);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_stops_when_the_last_clone_is_dropped() {
    let schema = pg::TestSchema::new().await;
    let clock = ManualClock::starting_now();
    let store = store_with_cleanup(&schema, Some(Duration::from_millis(10)), &clock).await;
    let task = store.cleanup_task().expect("cleanup is on");
    let clone = store.clone();
    drop(store);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!task.is_finished(), "a clone still holds the store");
    drop(clone);
    assert!(
        wait_until_finished(&task).await,
        "dropping the last clone stops the task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_stops_on_close_and_can_be_turned_off() {
    let schema = pg::TestSchema::new().await;
    let clock = ManualClock::starting_now();
    let store = store_with_cleanup(&schema, Some(Duration::from_millis(10)), &clock).await;
    let task = store.cleanup_task().expect("cleanup is on");
    store.close().await;
    assert!(wait_until_finished(&task).await, "close stops the task");

    let off = store_with_cleanup(&schema, None, &clock).await;
    assert!(off.cleanup_task().is_none());
}

/// The task deletes, in batches, what is expired at the store's clock (a manual one
/// here), and nothing that is live by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_deletes_what_the_store_clock_calls_expired() {
    let schema = pg::TestSchema::new().await;
    let clock = ManualClock::starting_now();
    let writer = store_with_cleanup(&schema, None, &clock).await;
    let now = clock.now();
    let short = Record::new(now, now.saturating_add(Duration::from_secs(60)));
    let long = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
    for record in [&short, &short, &short, &short, &short, &long] {
        let key = StorageKey::hashed(&SessionId::generate().unwrap());
        writer.create(&key, record, now).await.unwrap();
    }
    clock.advance(Duration::from_secs(120));
    // Batches of 2: five expired rows take three statements.
    let store = store_with_cleanup(&schema, Some(Duration::from_millis(10)), &clock).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>(&format!(
            "SELECT count(*) FROM {}",
            store.db().name.qualified()
        ))
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    for _ in 0..500 {
        if count().await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count().await, 1, "the live row stays, the expired ones go");
}

/// Listing a principal's sessions reads the principal index, never the whole table, both
/// as a custom plan (the first executions of a prepared statement) and as the generic
/// plan PostgreSQL may switch to after five: the partial index's `principal IS NOT NULL`
/// follows from `principal = $1` whatever `$1` is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_reads_the_principal_index() {
    use sqlx::Connection as _;

    let schema = pg::TestSchema::new().await;
    let clock = ManualClock::starting_now();
    let store = store_with_cleanup(&schema, None, &clock).await;
    let table = store.db().name.qualified();
    // 20,000 sessions, one in a hundred tied to a principal of its own.
    sqlx::query(&format!(
        "INSERT INTO {table}
            (id_hash, data, created_at, last_active, expires_at, permanent, version, principal)
         SELECT md5(g::text) || md5((-g)::text), '\\x7b7d'::bytea, 0, 0, 1000000 + g, false, 1,
                CASE WHEN g % 100 = 0 THEN 'user-' || g END
         FROM generate_series(1, 20000) AS g"
    ))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query(&format!("ANALYZE {table}"))
        .execute(store.pool())
        .await
        .unwrap();
    let index = format!("{}_principal", store.db().name.table);
    let explain = format!("EXPLAIN {}", store.db().sql.sessions_of);
    let mut conn = store.pool().acquire().await.unwrap();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query(&format!("SET LOCAL plan_cache_mode = {mode}"))
            .execute(&mut *tx)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(&explain)
            .bind("user-100")
            .bind(0_i64)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains(&format!("Index Scan using {index}"))
                || plan.contains(&format!("Bitmap Index Scan on {index}")),
            "{mode}: {plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{mode}: {plan}");
    }
}
