//! Every connection of the pool held elsewhere: an operation fails within the acquire
//! timeout with an error that says so, rather than hanging; it works again once a
//! connection is free.

mod common;

use std::time::Duration;

use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_postgres::PostgresError;

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
