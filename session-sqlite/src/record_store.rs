//! The [`RecordStore`] contract in SQL: one statement per operation (two, in one
//! transaction, for a key change), every write conditional on the row being live.
//!
//! The per-user index is the `principal` column and its index: every statement that
//! writes `data` writes `principal` from the same record, and a row leaves the index
//! with the row (delete, key change, cleanup), so the index can never hold a key the
//! table does not, nor miss one it does.
//!
//! "Live" is judged against the `now` the caller hands in, bound as a parameter: never
//! SQLite's clock nor the system's, so a row past its deadline is absent to every
//! operation even before the cleanup task deletes it.

use async_trait::async_trait;
use serde_json::{Map, Value};
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore, StorageKey, StoreError};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Connection as _, Row as _, Sqlite};

use crate::store::Db;
use crate::{SqliteError, SqliteStore};

const LOAD: &str = "SELECT data, created_at, last_active, expires_at, permanent, version
    FROM session_records WHERE id_hash = ?1 AND expires_at > ?2";

/// A principal's live sessions: the columns of [`LOAD`], then the key. A range scan of
/// the `session_records_principal` index, never of the table.
pub(crate) const SESSIONS_OF: &str =
    "SELECT data, created_at, last_active, expires_at, permanent, version, id_hash
    FROM session_records WHERE principal = ?1 AND expires_at > ?2";

/// Inserts, or takes over an expired row under the same key; a live row makes it a no-op
/// (0 rows changed), which is the collision.
const CREATE: &str = "INSERT INTO session_records
        (id_hash, data, created_at, last_active, expires_at, permanent, version, principal)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9)
    ON CONFLICT (id_hash) DO UPDATE SET
        data = excluded.data, created_at = excluded.created_at,
        last_active = excluded.last_active, expires_at = excluded.expires_at,
        permanent = excluded.permanent, version = excluded.version,
        principal = excluded.principal
    WHERE session_records.expires_at <= ?8";

/// The compare-and-swap: 0 rows changed means another writer got there first, or the
/// row is gone or expired.
/// `principal` is rewritten with `data`: a save that unties the session (or ties it to
/// someone else) moves it in the index in the same statement.
const SAVE: &str = "UPDATE session_records SET
        data = ?2, created_at = ?3, last_active = ?4, expires_at = ?5, permanent = ?6,
        version = ?7, principal = ?10
    WHERE id_hash = ?1 AND version = ?8 AND expires_at > ?9";

/// The first half of a key change: the old row must be live at the expected version.
const TAKE_OLD: &str =
    "DELETE FROM session_records WHERE id_hash = ?1 AND version = ?2 AND expires_at > ?3";

const TOUCH: &str = "UPDATE session_records SET last_active = ?2, expires_at = ?3
    WHERE id_hash = ?1 AND expires_at > ?4";

const DELETE: &str = "DELETE FROM session_records WHERE id_hash = ?1";

/// One bounded batch, so cleanup never holds the write lock for long. Expired rows go
/// whatever their data holds; each deleted row says whether its data would have decoded
/// (a JSON object, as `decode` wants), so undecodable ones are counted in the log.
const DELETE_EXPIRED: &str = "DELETE FROM session_records WHERE id_hash IN
    (SELECT id_hash FROM session_records WHERE expires_at <= ?1 LIMIT ?2)
    RETURNING CASE WHEN json_valid(data) THEN json_type(data) = 'object' ELSE 0 END";

#[async_trait]
impl RecordStore for SqliteStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        const OP: &str = "load a session";
        let db = self.db();
        let mut conn = db
            .reader
            .acquire()
            .await
            .map_err(|error| db.query_error(OP, error))?;
        let result = sqlx::query(LOAD)
            .bind(key.as_str())
            .bind(now.as_unix_millis())
            .fetch_optional(&mut *conn)
            .await;
        conn.check(&result).await;
        drop(conn);
        let row = result.map_err(|error| db.query_error(OP, error))?;
        Ok(row.map(|row| decode(db, &row)).transpose()?)
    }

    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let data = encode_data(db, record)?;
        if db
            .write("create a session", insert(key, &data, record, now))
            .await?
            == 0
        {
            return Err(StoreError::KeyCollision);
        }
        Ok(())
    }

    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let data = encode_data(db, record)?;
        let save = {
            sqlx::query(SAVE)
                .bind(key.as_str())
                .bind(data.as_str())
                .bind(record.created_at.as_unix_millis())
                .bind(record.last_active.as_unix_millis())
                .bind(record.expires_at.as_unix_millis())
                .bind(record.permanent)
                .bind(version_to_sql(record.version))
                .bind(version_to_sql(expected_version))
                .bind(now.as_unix_millis())
                .bind(record.principal())
        };
        if db.write("save a session", save).await? == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let error = |error| db.query_error("change a session's key", error);
        let data = encode_data(db, record)?;
        let mut conn = db.writer.acquire().await.map_err(error)?;
        db.check_file()?;
        // IMMEDIATE takes the write lock up front: a deferred transaction that read first
        // could find another process committed meanwhile and fail with SQLITE_BUSY.
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(error)?;
        let taken = sqlx::query(TAKE_OLD)
            .bind(old.as_str())
            .bind(version_to_sql(expected_version))
            .bind(now.as_unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(error)?
            .rows_affected();
        if taken == 0 {
            drop(tx); // rolls back, though nothing was changed
            drop(conn);
            return Err(StoreError::Conflict);
        }
        let inserted = insert(new, &data, record, now)
            .execute(&mut *tx)
            .await
            .map_err(error)?
            .rows_affected();
        if inserted == 0 {
            // Returning before commit rolls back, so the old row comes back.
            return Err(StoreError::KeyCollision);
        }
        tx.commit().await.map_err(error)?;
        Ok(())
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        let delete = sqlx::query(DELETE).bind(key.as_str());
        self.db().write("delete a session", delete).await?;
        Ok(())
    }

    /// `last_active` is the current time, so it is also the instant liveness is judged at.
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = last_active;
        let touch = {
            sqlx::query(TOUCH)
                .bind(key.as_str())
                .bind(last_active.as_unix_millis())
                .bind(expires_at.as_unix_millis())
                .bind(now.as_unix_millis())
        };
        self.db().write("refresh a session's expiry", touch).await?;
        Ok(())
    }

    /// Deletes every expired row, undecodable ones included (they are counted in a log
    /// line).
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let swept = self.db().delete_expired(now, self.cleanup_batch()).await?;
        swept.log();
        Ok(swept.deleted)
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    /// Rows come from the reader connections: a listing runs in parallel with writes and
    /// sees the last committed state, which is what "log out everywhere" acts on.
    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        const OP: &str = "list a principal's sessions";
        let db = self.db();
        let mut conn = db
            .reader
            .acquire()
            .await
            .map_err(|error| db.query_error(OP, error))?;
        let result = sqlx::query(SESSIONS_OF)
            .bind(principal)
            .bind(now.as_unix_millis())
            .fetch_all(&mut *conn)
            .await;
        conn.check(&result).await;
        drop(conn);
        let rows = result.map_err(|error| db.query_error(OP, error))?;
        // An undecodable row is left out (and logged) rather than failing the listing:
        // no cookie can resume it (a load answers `Corrupt`, and `ServerSide` deletes
        // it), so leaving it out lets no session escape "log out everywhere", while an
        // error would deny the principal the list until the row expires.
        let mut sessions = Vec::with_capacity(rows.len());
        for row in &rows {
            match decode_key(db, row, 6).and_then(|key| Ok((key, decode(db, row)?))) {
                Ok(session) => sessions.push(session),
                Err(error) => {
                    tracing::warn!(%error, "left an undecodable session out of a listing")
                }
            }
        }
        Ok(sessions)
    }
}

/// What one sweep of expired rows deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    /// Every row deleted.
    pub(crate) deleted: u64,
    /// How many of them held data that does not decode.
    pub(crate) undecodable: u64,
}

impl Swept {
    pub(crate) fn log(self) {
        match self {
            Self { deleted: 0, .. } => {}
            Self {
                deleted,
                undecodable: 0,
            } => tracing::debug!(deleted, "deleted expired sessions"),
            Self {
                deleted,
                undecodable,
            } => tracing::warn!(
                deleted,
                undecodable,
                "deleted expired sessions, some of them undecodable"
            ),
        }
    }
}

impl Db {
    /// Runs one writing statement on the writer connection; returns the rows it changed.
    async fn write<'q>(
        &self,
        operation: &'static str,
        query: Query<'q, Sqlite, SqliteArguments<'q>>,
    ) -> Result<u64, SqliteError> {
        let error = |error| self.query_error(operation, error);
        let mut conn = self.writer.acquire().await.map_err(error)?;
        self.check_file()?;
        let result = query.execute(&mut *conn).await;
        conn.check(&result).await;
        Ok(result.map_err(error)?.rows_affected())
    }

    /// Deletes every row expired at `now`, `batch` rows per statement, and counts them
    /// and the undecodable ones among them. Each batch commits on its own, so other
    /// writers get the lock in between.
    pub(crate) async fn delete_expired(
        &self,
        now: Timestamp,
        batch: u32,
    ) -> Result<Swept, SqliteError> {
        const OP: &str = "delete expired sessions";
        let now = now.as_unix_millis();
        let mut total = Swept::default();
        loop {
            let mut conn = self
                .writer
                .acquire()
                .await
                .map_err(|error| self.query_error(OP, error))?;
            self.check_file()?;
            let result = sqlx::query_scalar::<_, bool>(DELETE_EXPIRED)
                .bind(now)
                .bind(i64::from(batch))
                .fetch_all(&mut *conn)
                .await;
            conn.check(&result).await;
            drop(conn);
            let decodable = result.map_err(|error| self.query_error(OP, error))?;
            let deleted = decodable.len() as u64;
            total.deleted += deleted;
            total.undecodable += decodable.iter().filter(|ok| !**ok).count() as u64;
            if deleted < u64::from(batch) {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// [`CREATE`] with its arguments bound; a row expired at `now` counts as absent.
fn insert<'q>(
    key: &'q StorageKey,
    data: &'q str,
    record: &'q Record,
    now: Timestamp,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    sqlx::query(CREATE)
        .bind(key.as_str())
        .bind(data)
        .bind(record.created_at.as_unix_millis())
        .bind(record.last_active.as_unix_millis())
        .bind(record.expires_at.as_unix_millis())
        .bind(record.permanent)
        .bind(version_to_sql(record.version))
        .bind(now.as_unix_millis())
        .bind(record.principal())
}

fn encode_data(db: &Db, record: &Record) -> Result<String, SqliteError> {
    serde_json::to_string(&record.data).map_err(|source| SqliteError::Encode {
        path: db.path.to_path_buf(),
        source,
    })
}

/// A row of [`LOAD`] as a record; any column that does not decode makes it corrupt.
fn decode(db: &Db, row: &SqliteRow) -> Result<Record, SqliteError> {
    let corrupt = |column: &'static str, source: Box<dyn std::error::Error + Send + Sync>| {
        SqliteError::Corrupt {
            path: db.path.to_path_buf(),
            column,
            source,
        }
    };
    // By index, in the order of LOAD: cheaper than looking names up on every load.
    let int = |index: usize, column: &'static str| {
        row.try_get::<i64, _>(index)
            .map_err(|error| corrupt(column, error.into()))
    };
    let text: &str = row
        .try_get(0)
        .map_err(|error| corrupt("data", error.into()))?;
    let data: Map<String, Value> =
        serde_json::from_str(text).map_err(|error| corrupt("data", error.into()))?;
    Ok(Record {
        data,
        created_at: Timestamp::from_unix_millis(int(1, "created_at")?),
        last_active: Timestamp::from_unix_millis(int(2, "last_active")?),
        expires_at: Timestamp::from_unix_millis(int(3, "expires_at")?),
        permanent: int(4, "permanent")? != 0,
        version: version_from_sql(int(5, "version")?),
    })
}

/// The `id_hash` at `index` of a row as the key it was stored under; anything but the
/// 64 lowercase hex digits this store writes makes the row corrupt.
fn decode_key(db: &Db, row: &SqliteRow, index: usize) -> Result<StorageKey, SqliteError> {
    let corrupt = |source: Box<dyn std::error::Error + Send + Sync>| SqliteError::Corrupt {
        path: db.path.to_path_buf(),
        column: "id_hash",
        source,
    };
    let text: &str = row.try_get(index).map_err(|error| corrupt(error.into()))?;
    StorageKey::parse_hashed(text).ok_or_else(|| corrupt("not a hashed storage key".into()))
}

/// Versions are `u64` and SQLite integers `i64`: the bits are stored as they are, so
/// every version round-trips and equality (all compare-and-swap needs) is preserved.
fn version_to_sql(version: u64) -> i64 {
    i64::from_ne_bytes(version.to_ne_bytes())
}

fn version_from_sql(version: i64) -> u64 {
    u64::from_ne_bytes(version.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_through_sql_integers() {
        for version in [0, 1, u64::from(u32::MAX), i64::MAX as u64, u64::MAX] {
            assert_eq!(version_from_sql(version_to_sql(version)), version);
        }
    }
}
