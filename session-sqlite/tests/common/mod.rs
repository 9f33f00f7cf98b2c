//! Shared helpers for the integration tests: temp databases and what is in them, and
//! requests driven through a `SessionManager` on a manual clock, as an adapter drives them.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

// The kit's request helpers; not every test file uses every one.
#[allow(unused_imports)]
pub use session_conformance::requests::{finish, increment, new_counter, open, read_value as read};
use session_core::adapter::SessionManager;
use session_core::clock::ManualClock;
use session_core::SessionConfig;
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
