//! What `connect` leaves in the file, what the cleanup task takes out of it, and rows
//! past their deadline being absent before it does.

mod common;

use std::time::Duration;

use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_sqlite::{SqliteError, SqliteStore, SqliteStoreOptions};

use crate::common::row_count;

fn key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

fn record_expiring_in(now: Timestamp, duration: Duration) -> Record {
    let mut record = Record::new(now, now.saturating_add(duration));
    record.version = 1;
    record
}

async fn scalar_text(store: &SqliteStore, sql: &'static str) -> String {
    sqlx::query_scalar(sql)
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect(sql)
}

#[tokio::test]
async fn connect_creates_a_wal_file_with_the_schema() {
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    assert!(path.is_file(), "the file is created");
    assert_eq!(scalar_text(&store, "PRAGMA journal_mode").await, "wal");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("pragma");
    assert_eq!(synchronous, 1, "synchronous=NORMAL");
    let table = scalar_text(
        &store,
        "SELECT sql FROM sqlite_master WHERE name = 'session_records'",
    )
    .await;
    assert!(
        table.contains("WITHOUT ROWID") && table.contains("id_hash"),
        "{table}"
    );
    let index = scalar_text(
        &store,
        "SELECT sql FROM sqlite_master WHERE name = 'session_records_expires_at'",
    )
    .await;
    assert!(index.contains("expires_at"), "{index}");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM session_sqlite_migrations")
        .fetch_all(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("ledger");
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn durable_commits_use_synchronous_full() {
    let (_dir, _path, store) =
        common::temp_store(SqliteStoreOptions::default().with_durable_commits(true)).await;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("pragma");
    assert_eq!(synchronous, 2, "synchronous=FULL");
}

#[tokio::test]
async fn reconnecting_keeps_data_and_migrates_once() {
    let now = ManualClock::starting_now().now();
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let key = key();
    let record = record_expiring_in(now, Duration::from_secs(3600));
    store.create(&key, &record, now).await.expect("create");
    store.close().await;

    let store = SqliteStore::connect(&common::url(&path))
        .await
        .expect("reopen");
    assert_eq!(store.load(&key, now).await.expect("load"), Some(record));
    let ledger: i64 = sqlx::query_scalar("SELECT count(*) FROM session_sqlite_migrations")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("ledger");
    assert_eq!(ledger, 2, "an up-to-date file is not migrated again");
}

#[tokio::test]
async fn a_file_from_a_newer_version_is_refused() {
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    sqlx::query("INSERT INTO session_sqlite_migrations (version, applied_at) VALUES (99, 0)")
        .execute(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("pretend a newer version migrated");
    store.close().await;

    let error = SqliteStore::connect(&common::url(&path))
        .await
        .expect_err("too new");
    assert!(
        matches!(
            error,
            SqliteError::SchemaTooNew {
                found: 99,
                supported: 2,
                ..
            }
        ),
        "got {error:?}"
    );
    assert_eq!(error.path(), Some(path.as_path()));
}

#[tokio::test]
async fn memory_databases_work_and_are_private_to_their_store() {
    let first = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("memory");
    let second = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("memory");
    let now = ManualClock::starting_now().now();
    let key = key();
    let record = record_expiring_in(now, Duration::from_secs(3600));
    first.create(&key, &record, now).await.expect("create");
    assert_eq!(first.load(&key, now).await.expect("load"), Some(record));
    assert_eq!(
        second.load(&key, now).await.expect("load"),
        None,
        "each memory store is its own database"
    );
}

#[tokio::test]
async fn connect_with_takes_sqlx_options() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("options.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let store = SqliteStore::options()
        .connect_with(options)
        .await
        .expect("connect_with");
    assert_eq!(store.path(), path.as_path());
    assert!(
        path.is_file(),
        "create-if-missing is applied on top of the given options"
    );
    assert_eq!(scalar_text(&store, "PRAGMA journal_mode").await, "wal");
    let now = ManualClock::starting_now().now();
    let key = key();
    store
        .create(&key, &record_expiring_in(now, Duration::from_secs(60)), now)
        .await
        .expect("create");
    assert!(store.load(&key, now).await.expect("load").is_some());
}

#[tokio::test]
async fn delete_expired_counts_across_batches() {
    let clock = ManualClock::starting_now();
    let options = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .with_cleanup_batch(2);
    let (_dir, _path, store) = common::temp_store(options).await;
    let now = clock.now();
    for _ in 0..5 {
        store
            .create(
                &key(),
                &record_expiring_in(now, Duration::from_secs(60)),
                now,
            )
            .await
            .expect("create");
    }
    let live = key();
    store
        .create(
            &live,
            &record_expiring_in(now, Duration::from_secs(3600)),
            now,
        )
        .await
        .expect("create");
    assert_eq!(
        store
            .delete_expired(clock.now())
            .await
            .expect("delete_expired"),
        0,
        "nothing has expired yet"
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        store
            .delete_expired(clock.now())
            .await
            .expect("delete_expired"),
        5
    );
    assert_eq!(row_count(&store).await, 1);
    assert!(store
        .load(&live, clock.now())
        .await
        .expect("load")
        .is_some());
}

/// The task has no request to take the time from: it reads the store's clock, here the
/// same manual clock the test moves, so it deletes exactly what that clock says is over.
#[tokio::test]
async fn the_cleanup_task_deletes_expired_rows_by_itself() {
    let clock = ManualClock::starting_now();
    let options = SqliteStoreOptions::default()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .with_cleanup_batch(3)
        .with_clock(clock.clone());
    let (_dir, _path, store) = common::temp_store(options).await;
    let now = clock.now();
    for _ in 0..7 {
        store
            .create(
                &key(),
                &record_expiring_in(now, Duration::from_secs(60)),
                now,
            )
            .await
            .expect("create");
    }
    let live = key();
    store
        .create(
            &live,
            &record_expiring_in(now, Duration::from_secs(3600)),
            now,
        )
        .await
        .expect("create");
    clock.advance(Duration::from_secs(60));
    // Wait for the task's runs, not for time to pass: the clock already has. Bounded.
    let mut remaining = i64::MAX;
    for _ in 0..1000 {
        remaining = row_count(&store).await;
        if remaining == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        remaining, 1,
        "the task must delete the 7 expired rows and keep the live one"
    );
    assert!(store
        .load(&live, clock.now())
        .await
        .expect("load")
        .is_some());
}

/// The cleanup task has not run (it is off), yet a row at or past its deadline is absent
/// to every operation at the `now` it is handed, while the row is still in the file.
#[tokio::test]
async fn rows_past_their_deadline_are_absent_before_cleanup() {
    let clock = ManualClock::starting_now();
    let options = SqliteStoreOptions::default().with_cleanup_interval(None);
    let (_dir, _path, store) = common::temp_store(options).await;
    let (old, new) = (key(), key());
    let record = record_expiring_in(clock.now(), Duration::from_secs(60));
    store
        .create(&old, &record, clock.now())
        .await
        .expect("create");

    clock.advance(Duration::from_secs(60)); // exactly at the deadline: over
    let now = clock.now();
    assert_eq!(store.load(&old, now).await.expect("load"), None);
    let mut next = record.clone();
    next.version = 2;
    assert!(matches!(
        store.save(&old, &next, 1, now).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.change_key(&old, &new, &next, 1, now).await,
        Err(StoreError::Conflict)
    ));
    store
        .touch(&old, now, now.saturating_add(Duration::from_secs(3600)))
        .await
        .expect("touch");
    assert_eq!(
        store.load(&old, now).await.expect("load"),
        None,
        "touch does not revive an expired row"
    );
    assert_eq!(
        row_count(&store).await,
        1,
        "the expired row is still stored"
    );

    // Earlier on the same clock the row was live, and it is untouched.
    let before = Timestamp::from_unix_millis(now.as_unix_millis() - 1);
    assert_eq!(
        store.load(&old, before).await.expect("load"),
        Some(record.clone())
    );

    // An expired row does not block a create under its key: it is taken over.
    let fresh = record_expiring_in(now, Duration::from_secs(60));
    store
        .create(&old, &fresh, now)
        .await
        .expect("create over the expired row");
    assert_eq!(store.load(&old, now).await.expect("load"), Some(fresh));
    assert_eq!(row_count(&store).await, 1);
}
