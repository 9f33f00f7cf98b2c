//! Findings of a red-team pass: undecodable rows are deleted when met (by a load or by
//! the cleanup), and a database file removed while the store runs fails writes loudly
//! instead of letting them land in an unlinked file that vanishes at restart.

mod common;

use std::sync::Arc;
use std::time::Duration;

use session_core::adapter::SessionManager;
use session_core::backend::BoxedBackend;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, ServerSide, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;
use session_sqlite::{SqliteError, SqliteStore, SqliteStoreOptions};

fn key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

fn record(now: Timestamp, life: Duration) -> Record {
    let mut record = Record::new(now, now.saturating_add(life));
    record.data.insert("user".into(), "ada".into());
    record.version = 1;
    record
}

async fn plant(store: &SqliteStore, key: &str, data: &str, expires_at: Timestamp) {
    sqlx::query(
        "INSERT INTO session_records
            (id_hash, data, created_at, last_active, expires_at, permanent, version)
         VALUES (?1, ?2, 0, 0, ?3, 0, 1)",
    )
    .bind(key)
    .bind(data)
    .bind(expires_at.as_unix_millis())
    .execute(&mut *store.acquire_writer().await.expect("the write connection"))
    .await
    .expect("plant a row");
}

async fn row_exists(store: &SqliteStore, key: &str) -> bool {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM session_records WHERE id_hash = ?1")
        .bind(key)
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("count");
    n > 0
}

/// Every undecodable shape a row can take (the table is STRICT, so only `data` can be
/// wrong) is `Corrupt`; met by a request, the row is deleted and counted, and the visitor
/// gets a new session without an error.
#[tokio::test]
async fn undecodable_rows_are_deleted_when_met_and_counted() {
    let clock = ManualClock::starting_now();
    let (_dir, _path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let backend = Arc::new(ServerSide::new(store.clone()));
    let manager = SessionManager::new(
        BoxedBackend::from_backend(Arc::clone(&backend)),
        SessionConfig::default(),
    )
    .expect("valid")
    .with_clock(clock.clone());
    let live = clock.now().saturating_add(Duration::from_secs(3600));

    let shapes = ["{not json", "[1, 2]", "\"text\"", "null", "42", ""];
    for (n, data) in shapes.iter().enumerate() {
        let id = SessionId::generate().expect("random");
        let key = StorageKey::hashed(&id);
        plant(&store, key.as_str(), data, live).await;
        let error = store.load(&key, clock.now()).await.expect_err(data);
        assert!(
            matches!(error, StoreError::Corrupt(_)),
            "{data:?}: expected Corrupt, got {error:?}"
        );
        let (_request, session) = common::open(&manager, Some(id.as_str()))
            .await
            .unwrap_or_else(|error| panic!("{data:?}: a corrupt row is no error: {error}"));
        assert!(session.is_empty(), "{data:?}");
        assert!(
            !row_exists(&store, key.as_str()).await,
            "{data:?}: the row is gone"
        );
        assert_eq!(backend.corrupt_records_discarded(), n as u64 + 1);
    }
}

/// The cleanup deletes expired rows whatever their data holds: an undecodable one is
/// never left behind because it cannot be read.
#[tokio::test]
async fn cleanup_deletes_expired_undecodable_rows() {
    let clock = ManualClock::starting_now();
    let (_dir, _path, store) = common::temp_store(
        SqliteStoreOptions::default()
            .with_cleanup_interval(None)
            .with_clock(clock.clone()),
    )
    .await;
    let soon = clock.now().saturating_add(Duration::from_secs(60));
    let later = clock.now().saturating_add(Duration::from_secs(3600));
    plant(&store, "bad-json", "{not json", soon).await;
    plant(&store, "not-object", "[1]", soon).await;
    plant(&store, "good", "{}", soon).await;
    plant(&store, "live-bad", "{not json", later).await;
    clock.advance(Duration::from_secs(61));
    assert_eq!(store.delete_expired(clock.now()).await.expect("cleanup"), 3);
    for gone in ["bad-json", "not-object", "good"] {
        assert!(!row_exists(&store, gone).await, "{gone}");
    }
    assert!(row_exists(&store, "live-bad").await, "not expired yet");
}

/// Red-team finding: deleting the database file (or its directory) while the store runs
/// left it writing to an unlinked file, and every session vanished at the next restart
/// without a word. Writes now fail with a typed, unavailable error naming the path.
#[tokio::test]
async fn a_removed_database_file_fails_writes_naming_the_path() {
    for remove_dir in [false, true] {
        let clock = ManualClock::starting_now();
        let (dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
        let now = clock.now();
        let life = Duration::from_secs(3600);
        let first = key();
        store
            .create(&first, &record(now, life), now)
            .await
            .expect("the file is there");

        if remove_dir {
            std::fs::remove_dir_all(dir.path()).expect("remove the directory");
        } else {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.as_os_str().to_owned();
                file.push(suffix);
                let _ = std::fs::remove_file(&file);
            }
        }

        let error = store
            .create(&key(), &record(now, life), now)
            .await
            .expect_err("the file is gone: the write must not land in an unlinked file");
        assert_removed(&error, &path);
        let error = store
            .save(&first, &record(now, life), 1, now)
            .await
            .expect_err("every write fails");
        assert_removed(&error, &path);
        // Through a manager: 503, not a session that silently disappears later.
        let manager = common::manager(store.clone(), &clock);
        let (request, session) = common::open(&manager, None).await.expect("load");
        session.insert("user", "ada").expect("insert");
        let error = request.finish().await.expect_err("the save fails");
        assert_eq!(error.http_status(), 503, "{error}");
        drop(dir);
    }
}

fn assert_removed(error: &StoreError, path: &std::path::Path) {
    let StoreError::Unavailable(source) = error else {
        panic!("expected Unavailable, got {error:?}");
    };
    let source = source
        .downcast_ref::<SqliteError>()
        .expect("the source is our SqliteError");
    assert!(
        matches!(source, SqliteError::FileRemoved { .. }),
        "got {source:?}"
    );
    let message = source.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "names the file: {message}"
    );
    assert_eq!(source.path(), Some(path));
}

/// A record past SQLite's limit on one value (`SQLITE_TOOBIG`, 1 GB by default: only
/// reachable with `ServerSide::with_max_session_bytes(None)`) was a backend error, which
/// adapters answer with 503 "store unavailable". It is this record's problem: `Corrupt`
/// (a 500). `zeroblob` past the limit yields the very error without allocating a gigabyte.
#[tokio::test]
async fn a_value_too_big_for_sqlite_is_not_an_outage() {
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let Err(source) = sqlx::query("SELECT zeroblob(2000000000)")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
    else {
        panic!("zeroblob past SQLITE_MAX_LENGTH must fail");
    };
    let error = SqliteError::Query {
        path,
        operation: "save a session",
        source,
    };
    assert!(!error.is_unavailable(), "{error}");
    let error = StoreError::from(error);
    assert!(
        matches!(error, StoreError::Corrupt(_)),
        "expected Corrupt (500), got {error:?}"
    );
}

/// The one place the store prints a URL, an unusable one, hides what could be a password.
#[tokio::test]
async fn invalid_urls_are_printed_without_passwords() {
    for url in [
        "sqlite://user:hun/ter2@host/x.db?mode=sideways",
        "sqlite:///tmp/x.db?mode=sideways&password=hunter2",
    ] {
        let error = SqliteStore::connect(url).await.expect_err("bad mode");
        assert!(matches!(error, SqliteError::InvalidUrl { .. }), "{error:?}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("ter2"), "{shown}");
    }
}
