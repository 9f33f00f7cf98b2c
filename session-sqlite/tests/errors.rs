//! Files that are not databases, cannot be opened or are locked, rows that do not
//! decode, a closed store: typed errors naming the file, never a panic, never an
//! anonymous session in place of an outage.

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_sqlite::{SqliteError, SqliteStore, SqliteStoreOptions};
use sqlx::Connection as _;

fn key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

fn live_record(now: Timestamp) -> Record {
    let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
    record.version = 1;
    record
}

/// A new session holding `user = ada`, saved; its cookie value.
async fn new_session(manager: &session_core::adapter::SessionManager) -> String {
    let (request, session) = common::open(manager, None).await.expect("load");
    session.insert("user", "ada").expect("insert");
    match common::finish(&request).await.expect("save") {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("a new session sets a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_of_garbage_is_an_open_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("garbage.db");
    let garbage: Vec<u8> = (0..16_384_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &garbage).expect("write garbage");

    let error = SqliteStore::connect(&common::url(&path))
        .await
        .expect_err("garbage is not a database");
    assert!(matches!(error, SqliteError::Open { .. }), "got {error:?}");
    assert_eq!(error.path(), Some(path.as_path()));
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message names the file: {message}"
    );
    assert!(
        message.contains("not a database"),
        "the message gives the cause: {message}"
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the cause is kept as the source"
    );
    assert_eq!(
        std::fs::read(&path).expect("read back"),
        garbage,
        "the file is left as it was"
    );
}

/// `chmod 000` does not stop root, and tests may run as root, so unopenable paths are
/// made of directories instead: a directory where the file should be, a file where a
/// directory should be, a directory that does not exist.
#[tokio::test]
async fn paths_that_cannot_be_a_database_are_open_errors() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let a_directory = dir.path().join("a-directory");
    std::fs::create_dir(&a_directory).expect("mkdir");
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, b"plain").expect("write");
    let paths = [
        a_directory.clone(),
        a_file.join("sessions.db"),
        dir.path().join("missing-dir").join("sessions.db"),
    ];
    for path in paths {
        let error = SqliteStore::connect(&common::url(&path))
            .await
            .expect_err("cannot be opened");
        assert!(
            matches!(error, SqliteError::Open { .. }),
            "{}: got {error:?}",
            path.display()
        );
        assert_eq!(error.path(), Some(path.as_path()));
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        assert!(
            error.is_unavailable(),
            "an unopenable file is an outage, not a bug: {error}"
        );
    }
}

#[tokio::test]
async fn a_malformed_url_is_an_invalid_url_error() {
    let error = SqliteStore::connect("sqlite://x.db?mode=sideways")
        .await
        .expect_err("bad mode");
    assert!(
        matches!(error, SqliteError::InvalidUrl { .. }),
        "got {error:?}"
    );
    assert_eq!(error.path(), None);
}

/// Another process holds the file in exclusive locking mode: connecting waits out the
/// busy timeout and fails with a typed, retryable error.
#[tokio::test]
async fn a_file_locked_by_another_connection_is_unavailable() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("locked.db");
    let url = common::url(&path);
    SqliteStore::connect(&url)
        .await
        .expect("create")
        .close()
        .await;

    let mut locker = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("raw connection");
    sqlx::raw_sql("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; DELETE FROM session_records;")
        .execute(&mut locker)
        .await
        .expect("take the lock");

    let error = SqliteStoreOptions::default()
        .with_busy_timeout(Duration::from_millis(200))
        .connect(&url)
        .await
        .expect_err("the file is locked");
    assert!(
        error.is_unavailable(),
        "a locked file is retryable: {error:?}"
    );
    assert_eq!(error.path(), Some(path.as_path()));
    assert!(
        error.to_string().contains("locked"),
        "the message gives the cause: {error}"
    );
    locker.close().await.expect("release");

    let store = SqliteStore::connect(&url)
        .await
        .expect("opens once released");
    let now = ManualClock::starting_now().now();
    assert_eq!(store.load(&key(), now).await.expect("load"), None);
}

/// A writer in another connection holds the write lock past the busy timeout: a save
/// fails as unavailable, loads still work (WAL readers do not wait for writers), and
/// `ServerSide` reports the failed save instead of dropping it.
#[tokio::test]
async fn a_held_write_lock_makes_saves_unavailable_not_lost() {
    let clock = ManualClock::starting_now();
    let (_dir, path, store) = common::temp_store(
        SqliteStoreOptions::default().with_busy_timeout(Duration::from_millis(200)),
    )
    .await;
    let manager = common::manager(store.clone(), &clock);
    let cookie = new_session(&manager).await;

    let mut locker = sqlx::SqliteConnection::connect(&common::url(&path))
        .await
        .expect("raw connection");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut locker)
        .await
        .expect("take the write lock");

    let (request, session) = common::open(&manager, Some(&cookie))
        .await
        .expect("reads do not wait for the writer");
    assert_eq!(
        session.get::<String>("user").expect("user").as_deref(),
        Some("ada")
    );
    session.insert("user", "grace").expect("insert");
    let error = request.finish().await.expect_err("the write lock is held");
    assert!(error.is_unavailable(), "got {error:?}");
    let store_error = store
        .save(&key(), &live_record(clock.now()), 1, clock.now())
        .await
        .expect_err("locked");
    let StoreError::Unavailable(source) = &store_error else {
        panic!("a busy database is Unavailable, got {store_error:?}");
    };
    let source = source
        .downcast_ref::<SqliteError>()
        .expect("the source is our SqliteError");
    assert_eq!(source.path(), Some(path.as_path()));

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("release");
    assert_eq!(
        common::read(&manager, &cookie, "user").await.expect("load"),
        Some(json!("ada")),
        "the failed save left no trace"
    );
}

/// A closed store is an outage: `ServerSide::load` fails (the adapter answers 503) rather
/// than handing out an anonymous session that would log the user out. (Another process
/// cannot lock readers out of an open WAL file: SQLite refuses it an exclusive lock while
/// the store's connections hold theirs, so closing is how the test takes the store away.)
#[tokio::test]
async fn a_closed_store_fails_loads_instead_of_logging_users_out() {
    let clock = ManualClock::starting_now();
    let (_dir, _path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let manager = common::manager(store.clone(), &clock);
    let cookie = new_session(&manager).await;

    store.close().await;
    let error = manager
        .request(Some(&cookie))
        .session()
        .await
        .expect_err("the store is closed");
    assert!(error.is_unavailable(), "got {error:?}");
    assert!(matches!(
        store.load(&key(), clock.now()).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// A row whose data is not a JSON object is `Corrupt`; `ServerSide` then starts afresh.
#[tokio::test]
async fn a_row_that_does_not_decode_is_corrupt() {
    let clock = ManualClock::starting_now();
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let manager = common::manager(store.clone(), &clock);
    let cookie = new_session(&manager).await;
    // No keys are configured, so the cookie is the bare id.
    let key = StorageKey::hashed(&SessionId::parse(&cookie).expect("an id"));
    sqlx::query("UPDATE session_records SET data = '[1, 2' WHERE id_hash = ?1")
        .bind(key.as_str())
        .execute(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("corrupt the row");

    let error = store
        .load(&key, clock.now())
        .await
        .expect_err("the row is corrupt");
    let StoreError::Corrupt(source) = &error else {
        panic!("an undecodable row is Corrupt, got {error:?}");
    };
    let source = source
        .downcast_ref::<SqliteError>()
        .expect("our SqliteError");
    assert!(
        matches!(source, SqliteError::Corrupt { column: "data", .. }),
        "got {source:?}"
    );
    assert_eq!(source.path(), Some(path.as_path()));

    let (_request, session) = common::open(&manager, Some(&cookie))
        .await
        .expect("a corrupt record is discarded, not an outage");
    assert!(session.is_empty(), "an anonymous session in its place");
}
