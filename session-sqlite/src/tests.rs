//! The cleanup task's lifetime, which only the crate itself can observe.

use std::time::Duration;

use crate::SqliteStoreOptions;

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

#[tokio::test]
async fn cleanup_stops_when_the_last_clone_is_dropped() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .connect("sqlite::memory:")
        .await?;
    let task = store.cleanup_task().ok_or("cleanup is on")?;
    let clone = store.clone();
    drop(store);
    // Let the runtime run anything a wrong abort would have scheduled.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!task.is_finished(), "a clone still holds the store");
    drop(clone);
    assert!(
        wait_until_finished(&task).await,
        "dropping the last clone stops the task"
    );
    Ok(())
}

#[tokio::test]
async fn cleanup_stops_on_close_and_can_be_turned_off() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .connect("sqlite::memory:")
        .await?;
    let task = store.cleanup_task().ok_or("cleanup is on")?;
    store.close().await;
    assert!(wait_until_finished(&task).await, "close stops the task");

    let off = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .connect("sqlite::memory:")
        .await?;
    assert!(off.cleanup_task().is_none());
    Ok(())
}

#[test]
fn connect_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let connect = crate::SqliteStore::connect("sqlite::memory:");
    assert_send(&connect);
}

/// The cleanup deletes expired rows whatever they hold and counts the undecodable ones
/// for its log, across batches.
#[tokio::test]
async fn cleanup_counts_the_undecodable_rows_it_deletes() -> Result<(), Box<dyn std::error::Error>>
{
    use session_core::clock::{Clock as _, ManualClock};

    let clock = ManualClock::starting_now();
    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .connect("sqlite::memory:")
        .await?;
    let expired = clock.now().as_unix_millis();
    for (key, data) in [
        ("a", "{}"),
        ("b", "{not json"),
        ("c", r#"{"user":"ada"}"#),
        ("d", "[1]"),
        ("e", ""),
    ] {
        sqlx::query(
            "INSERT INTO session_records
                (id_hash, data, created_at, last_active, expires_at, permanent, version)
             VALUES (?1, ?2, 0, 0, ?3, 0, 1)",
        )
        .bind(key)
        .bind(data)
        .bind(expired)
        .execute(&mut *store.acquire_writer().await?)
        .await?;
    }
    let swept = store.db().delete_expired(clock.now(), 2).await?;
    assert_eq!(
        swept,
        crate::record_store::Swept {
            deleted: 5,
            undecodable: 3
        }
    );
    Ok(())
}

/// `SQLITE_TOOBIG` becomes the typed `TooLarge`, which is not an outage.
#[tokio::test]
async fn too_big_values_are_typed() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .connect("sqlite::memory:")
        .await?;
    let Err(source) = sqlx::query("SELECT zeroblob(2000000000)")
        .fetch_one(&mut *store.acquire_writer().await?)
        .await
    else {
        return Err("zeroblob past the limit must fail".into());
    };
    let error = store.db().query_error("save a session", source);
    assert!(
        matches!(error, crate::SqliteError::TooLarge { .. }),
        "{error:?}"
    );
    assert!(!error.is_unavailable());
    assert!(matches!(
        session_core::store::StoreError::from(error),
        session_core::store::StoreError::Corrupt(_)
    ));
    Ok(())
}

/// Listing a principal's sessions is a search of the principal index, never a scan of the
/// table, even when most rows are anonymous and the planner has statistics.
#[tokio::test]
async fn listing_searches_the_principal_index() -> Result<(), Box<dyn std::error::Error>> {
    use sqlx::Row as _;

    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .connect("sqlite::memory:")
        .await?;
    let mut conn = store.acquire_writer().await?;
    for n in 0..200 {
        let principal = (n % 20 == 0).then(|| format!("user-{n}"));
        sqlx::query(
            "INSERT INTO session_records
                (id_hash, data, created_at, last_active, expires_at, permanent, version, principal)
             VALUES (?1, '{}', 0, 0, ?2, 0, 1, ?3)",
        )
        .bind(format!("{n:064x}"))
        .bind(1_000_000 + n)
        .bind(principal)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    // EXPLAIN QUERY PLAN rows are (id, parent, notused, detail).
    let plan: Vec<String> = sqlx::query(&format!(
        "EXPLAIN QUERY PLAN {}",
        crate::record_store::SESSIONS_OF
    ))
    .bind("user-0")
    .bind(0_i64)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get::<String, _>(3))
    .collect::<Result<_, _>>()?;
    assert_eq!(
        plan,
        ["SEARCH session_records USING INDEX session_records_principal (principal=? AND expires_at>?)"],
    );
    Ok(())
}
