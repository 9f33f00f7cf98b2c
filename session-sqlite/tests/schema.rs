//! What `connect` leaves in the file, and what the cleanup task takes out of it.

mod common;

use std::time::Duration;

use session_core::{Record, RecordStore, SessionId, StorageKey, Timestamp};
use session_sqlite::{SqliteError, SqliteStore, SqliteStoreOptions};

fn key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

fn record_expiring_in(duration: Duration) -> Record {
    let now = Timestamp::now();
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

async fn row_count(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM session_records")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("count")
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
    assert_eq!(versions, [1]);
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
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let key = key();
    let record = record_expiring_in(Duration::from_secs(3600));
    store.create(&key, &record).await.expect("create");
    store.close().await;

    let store = SqliteStore::connect(&common::url(&path))
        .await
        .expect("reopen");
    assert_eq!(store.load(&key).await.expect("load"), Some(record));
    let ledger: i64 = sqlx::query_scalar("SELECT count(*) FROM session_sqlite_migrations")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("ledger");
    assert_eq!(ledger, 1, "an up-to-date file is not migrated again");
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
                supported: 1,
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
    let key = key();
    let record = record_expiring_in(Duration::from_secs(3600));
    first.create(&key, &record).await.expect("create");
    assert_eq!(first.load(&key).await.expect("load"), Some(record));
    assert_eq!(
        second.load(&key).await.expect("load"),
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
    let key = key();
    store
        .create(&key, &record_expiring_in(Duration::from_secs(60)))
        .await
        .expect("create");
    assert!(store.load(&key).await.expect("load").is_some());
}

#[tokio::test]
async fn delete_expired_counts_across_batches() {
    let options = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .with_cleanup_batch(2);
    let (_dir, _path, store) = common::temp_store(options).await;
    for _ in 0..5 {
        store
            .create(&key(), &record_expiring_in(Duration::from_millis(50)))
            .await
            .expect("create");
    }
    let live = key();
    store
        .create(&live, &record_expiring_in(Duration::from_secs(3600)))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.delete_expired().await.expect("delete_expired"), 5);
    assert_eq!(row_count(&store).await, 1);
    assert!(store.load(&live).await.expect("load").is_some());
}

#[tokio::test]
async fn the_cleanup_task_deletes_expired_rows_by_itself() {
    let options = SqliteStoreOptions::default()
        .with_cleanup_interval(Some(Duration::from_millis(50)))
        .with_cleanup_batch(3);
    let (_dir, _path, store) = common::temp_store(options).await;
    for _ in 0..7 {
        store
            .create(&key(), &record_expiring_in(Duration::from_millis(20)))
            .await
            .expect("create");
    }
    let live = key();
    store
        .create(&live, &record_expiring_in(Duration::from_secs(3600)))
        .await
        .expect("create");
    // Poll rather than assume a schedule; give up after 10 s.
    let mut remaining = i64::MAX;
    for _ in 0..200 {
        remaining = row_count(&store).await;
        if remaining == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        remaining, 1,
        "the task must delete the 7 expired rows and keep the live one"
    );
    assert!(store.load(&live).await.expect("load").is_some());
}
