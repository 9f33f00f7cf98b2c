//! The schema and its versioned migrations, applied when a store connects.
//!
//! Hand-rolled rather than `sqlx::migrate!`: the migrator needs sqlx's proc-macro crate
//! and its own bookkeeping table with checksums, and SQLite's migrator takes no lock, so
//! two processes opening a new file at once could both try to apply the first migration.
//! Here the check-and-apply runs inside one `BEGIN IMMEDIATE` transaction, which SQLite
//! serialises across processes, and an up-to-date file costs two reads and no write lock.

use std::path::Path;

use session_core::clock::Timestamp;
use sqlx::{Connection as _, Executor as _, SqliteConnection};

use crate::store::Db;
use crate::SqliteError;

/// Every migration in order: (version, SQL). Append only; never edit a released one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../migrations/0001_create_session_records.sql"),
    ),
    (
        2,
        include_str!("../migrations/0002_index_sessions_by_principal.sql"),
    ),
];

/// The schema version this build writes and understands.
pub(crate) const LATEST: i64 = 2;

const LEDGER_EXISTS: &str =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'session_sqlite_migrations'";
const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS session_sqlite_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_at INTEGER NOT NULL
) STRICT";
const CURRENT_VERSION: &str = "SELECT COALESCE(max(version), 0) FROM session_sqlite_migrations";
const RECORD_VERSION: &str =
    "INSERT INTO session_sqlite_migrations (version, applied_at) VALUES (?1, ?2)";

/// Brings the database behind `db` up to [`LATEST`], recording `now` as the time each
/// migration was applied.
pub(crate) async fn migrate(db: &Db, now: Timestamp) -> Result<(), SqliteError> {
    let path: &Path = &db.path;
    let open_error = |source| SqliteError::Open {
        path: path.to_owned(),
        source,
    };
    let mut conn = db.writer.acquire().await.map_err(open_error)?;
    let found = current_version(&mut conn).await.map_err(open_error)?;
    if found == LATEST {
        return Ok(());
    }
    check_not_newer(found, path)?;

    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(open_error)?;
    tx.execute(CREATE_LEDGER).await.map_err(open_error)?;
    // Another process may have migrated between the first look and the lock.
    let found: i64 = sqlx::query_scalar(CURRENT_VERSION)
        .fetch_one(&mut *tx)
        .await
        .map_err(open_error)?;
    check_not_newer(found, path)?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > found) {
        // Through `Executor` rather than `RawSql::execute`, whose future rustc cannot
        // prove `Send` here (rust-lang/rust#100013).
        (&mut *tx)
            .execute(sqlx::raw_sql(sql))
            .await
            .map_err(open_error)?;
        sqlx::query(RECORD_VERSION)
            .bind(version)
            .bind(now.as_unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(open_error)?;
        tracing::info!(path = %path.display(), version, "migrated the session database");
    }
    tx.commit().await.map_err(open_error)
}

async fn current_version(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let ledger: i64 = sqlx::query_scalar(LEDGER_EXISTS)
        .fetch_one(&mut *conn)
        .await?;
    if ledger == 0 {
        return Ok(0);
    }
    sqlx::query_scalar(CURRENT_VERSION)
        .fetch_one(&mut *conn)
        .await
}

fn check_not_newer(found: i64, path: &Path) -> Result<(), SqliteError> {
    if found > LATEST {
        return Err(SqliteError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: LATEST,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_latest() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|(version, _)| *version).collect();
        assert_eq!(versions, (1..=LATEST).collect::<Vec<_>>());
    }
}
