//! Shared helpers for the integration tests: temp databases and what is in them, and
//! requests driven through a `SessionManager` on a manual clock, as an adapter drives them.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use session_core::adapter::{LazySession, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::clock::ManualClock;
use session_core::{Session, SessionConfig, SessionError};
use session_sqlite::{SqliteStore, SqliteStoreOptions};
use sqlx::Row as _;

/// A URL for `path`, absolute form.
pub fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A fresh database file in a new temp dir (kept alive by the returned guard).
pub async fn temp_store(options: SqliteStoreOptions) -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("sessions.db");
    let store = options
        .connect(&url(&path))
        .await
        .expect("a new database opens");
    (dir, path, store)
}

/// A manager serving `store` with the default configuration, reading time from `clock`.
pub fn manager(store: SqliteStore, clock: &ManualClock) -> SessionManager {
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

/// One request adding 1 to `counter`, as a `POST /counter` would; the new count. The
/// session keeps its id, so the response sets no cookie.
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

/// The main file and its WAL as bytes, then every row's key and data.
pub async fn dump(store: &SqliteStore) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let mut file = store.path().as_os_str().to_owned();
        file.push(suffix);
        if let Ok(content) = std::fs::read(&file) {
            bytes.extend_from_slice(&content);
        }
    }
    let rows = sqlx::query("SELECT id_hash, data FROM session_records")
        .fetch_all(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("rows can be read");
    for row in rows {
        let key: String = row.get(0);
        let data: String = row.get(1);
        bytes.extend_from_slice(key.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(data.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

/// How many rows the table holds, expired ones included until they are deleted.
pub async fn row_count(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM session_records")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("count")
}
