//! The [`RecordStore`] contract in SQL: one statement per operation (two, in one
//! transaction, for a key change), every write conditional on the row being live at the
//! `now` the caller hands in.
//!
//! The per-user index is the `principal` column and its partial index: every statement
//! that writes `data` writes `principal` from the same record, and an entry leaves with
//! its row (delete, key change, cleanup), so the index can never hold a key the table
//! does not, nor miss a tied row the table holds.

use async_trait::async_trait;
use serde_json::{Map, Value};
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore, StorageKey, StoreError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row as _};

use crate::error::is_connection_error;
use crate::store::Db;
use crate::{PostgresError, PostgresStore};

#[async_trait]
impl RecordStore for PostgresStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        const OP: &str = "load a session";
        let db = self.db();
        let fetch = || {
            sqlx::query(&db.sql.load)
                .bind(key.as_str())
                .bind(now.as_unix_millis())
                .fetch_optional(&db.pool)
        };
        let row = match fetch().await {
            // A load changes nothing, so it is safe to try once more on another
            // connection when this one turned out dead (a server restart): the failure
            // has marked the pool's idle connections for a check before use.
            Err(error) if is_connection_error(&error) && !is_pool_error(&error) => {
                db.health.failed();
                fetch().await
            }
            result => result,
        }
        .map_err(|error| db.query_error(OP, error))?;
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
        let principal = principal_of(db, record)?;
        let create = insert(&db.sql.create, key, &data, principal, record, now);
        if db.write("create a session", create).await? == 0 {
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
        let principal = principal_of(db, record)?;
        let save = sqlx::query(&db.sql.save)
            .bind(key.as_str())
            .bind(data.as_slice())
            .bind(record.created_at.as_unix_millis())
            .bind(record.last_active.as_unix_millis())
            .bind(record.expires_at.as_unix_millis())
            .bind(record.permanent)
            .bind(version_to_sql(record.version))
            .bind(version_to_sql(expected_version))
            .bind(now.as_unix_millis())
            .bind(principal);
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
        const OP: &str = "change a session's key";
        let db = self.db();
        let error = |error| db.query_error(OP, error);
        let data = encode_data(db, record)?;
        let principal = principal_of(db, record)?;
        let mut tx = db.pool.begin().await.map_err(error)?;
        let taken = sqlx::query(&db.sql.take_old)
            .bind(old.as_str())
            .bind(version_to_sql(expected_version))
            .bind(now.as_unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(error)?
            .rows_affected();
        if taken == 0 {
            // Dropping the transaction rolls it back, though nothing was changed.
            return Err(StoreError::Conflict);
        }
        let inserted = insert(&db.sql.create, new, &data, principal, record, now)
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
        let db = self.db();
        let delete = sqlx::query(&db.sql.delete).bind(key.as_str());
        db.write("delete a session", delete).await?;
        Ok(())
    }

    /// `last_active` is the current time, so it is also the instant liveness is judged at.
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let now = last_active;
        let touch = sqlx::query(&db.sql.touch)
            .bind(key.as_str())
            .bind(last_active.as_unix_millis())
            .bind(expires_at.as_unix_millis())
            .bind(now.as_unix_millis());
        db.write("refresh a session's expiry", touch).await?;
        Ok(())
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let deleted = self.db().delete_expired(now, self.cleanup_batch()).await?;
        if deleted > 0 {
            tracing::debug!(deleted, "deleted expired sessions");
        }
        Ok(deleted)
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        const OP: &str = "list a principal's sessions";
        let db = self.db();
        if unstorable(principal).is_some() {
            // No write stores such a name, so no session is tied to it.
            return Ok(Vec::new());
        }
        let fetch = || {
            sqlx::query(&db.sql.sessions_of)
                .bind(principal)
                .bind(now.as_unix_millis())
                .fetch_all(&db.pool)
        };
        let rows = match fetch().await {
            // Read-only, so as safe to try once more on a fresh connection as a load.
            Err(error) if is_connection_error(&error) && !is_pool_error(&error) => {
                db.health.failed();
                fetch().await
            }
            result => result,
        }
        .map_err(|error| db.query_error(OP, error))?;
        // An undecodable row is left out (and logged) rather than failing the listing:
        // no cookie can resume it (a load answers `Corrupt`, and `ServerSide` deletes
        // it), so leaving it out lets no session escape "log out everywhere", while an
        // error would deny the principal the list until the row expires.
        let mut sessions = Vec::with_capacity(rows.len());
        for row in &rows {
            match decode_key(db, row, 6).and_then(|key| Ok((key, decode(db, row)?))) {
                Ok(session) => sessions.push(session),
                Err(error) => {
                    tracing::warn!(%error, "left an undecodable session out of a listing");
                }
            }
        }
        Ok(sessions)
    }
}

/// Whether `error` is the pool's own (no connection free, pool closed): trying again at
/// once would only wait again.
fn is_pool_error(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
}

impl Db {
    /// Runs one writing statement; returns the rows it changed. Never retried: a write
    /// whose connection broke may have committed, and a second try could apply it twice.
    async fn write<'q>(
        &self,
        operation: &'static str,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Result<u64, PostgresError> {
        Ok(query
            .execute(&self.pool)
            .await
            .map_err(|error| self.query_error(operation, error))?
            .rows_affected())
    }

    /// Deletes every row expired at `now`, `batch` rows per statement, each batch its own
    /// transaction; returns how many.
    pub(crate) async fn delete_expired(
        &self,
        now: Timestamp,
        batch: u32,
    ) -> Result<u64, PostgresError> {
        let mut total = 0;
        loop {
            let deleted = sqlx::query(&self.sql.delete_expired)
                .bind(now.as_unix_millis())
                .bind(i64::from(batch))
                .execute(&self.pool)
                .await
                .map_err(|error| self.query_error("delete expired sessions", error))?
                .rows_affected();
            total += deleted;
            if deleted < u64::from(batch) {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// The create statement with its arguments bound; a row expired at `now` counts as absent.
fn insert<'q>(
    sql: &'q str,
    key: &'q StorageKey,
    data: &'q [u8],
    principal: Option<&'q str>,
    record: &Record,
    now: Timestamp,
) -> Query<'q, Postgres, PgArguments> {
    sqlx::query(sql)
        .bind(key.as_str())
        .bind(data)
        .bind(record.created_at.as_unix_millis())
        .bind(record.last_active.as_unix_millis())
        .bind(record.expires_at.as_unix_millis())
        .bind(record.permanent)
        .bind(version_to_sql(record.version))
        .bind(now.as_unix_millis())
        .bind(principal)
}

/// The record's principal, for the `principal` column; refused (before anything is
/// written) when the column or its index cannot hold it, since the server would fail
/// the statement with a message that does not say why.
fn principal_of<'r>(db: &Db, record: &'r Record) -> Result<Option<&'r str>, PostgresError> {
    let Some(name) = record.principal() else {
        return Ok(None);
    };
    match unstorable(name) {
        Some(reason) => Err(PostgresError::InvalidPrincipal {
            target: db.target.to_string(),
            reason,
        }),
        None => Ok(Some(name)),
    }
}

/// Why the `principal` column cannot hold `name`, if it cannot.
fn unstorable(name: &str) -> Option<&'static str> {
    if name.contains('\0') {
        Some("holds a NUL character, which PostgreSQL text cannot store")
    } else if name.len() > PostgresStore::MAX_PRINCIPAL_BYTES {
        Some("is longer than `PostgresStore::MAX_PRINCIPAL_BYTES`, more than an index entry holds")
    } else {
        None
    }
}

fn encode_data(db: &Db, record: &Record) -> Result<Vec<u8>, PostgresError> {
    serde_json::to_vec(&record.data).map_err(|source| PostgresError::Encode {
        target: db.target.to_string(),
        source,
    })
}

/// A row of the load statement as a record; any column that does not decode makes it
/// corrupt.
fn decode(db: &Db, row: &PgRow) -> Result<Record, PostgresError> {
    // By index, in the order of the load statement.
    let int = |index: usize, column: &'static str| {
        row.try_get::<i64, _>(index)
            .map_err(|error| db.corrupt(column, error.into()))
    };
    let bytes: &[u8] = row
        .try_get(0)
        .map_err(|error| db.corrupt("data", error.into()))?;
    let data: Map<String, Value> =
        serde_json::from_slice(bytes).map_err(|error| db.corrupt("data", error.into()))?;
    Ok(Record {
        data,
        created_at: Timestamp::from_unix_millis(int(1, "created_at")?),
        last_active: Timestamp::from_unix_millis(int(2, "last_active")?),
        expires_at: Timestamp::from_unix_millis(int(3, "expires_at")?),
        permanent: row
            .try_get::<bool, _>(4)
            .map_err(|error| db.corrupt("permanent", error.into()))?,
        version: version_from_sql(int(5, "version")?),
    })
}

/// The `id_hash` at `index` of a row as the key it was stored under; anything but the
/// 64 lowercase hex digits this store writes makes the row corrupt.
fn decode_key(db: &Db, row: &PgRow, index: usize) -> Result<StorageKey, PostgresError> {
    let text: &str = row
        .try_get(index)
        .map_err(|error| db.corrupt("id_hash", error.into()))?;
    StorageKey::parse_hashed(text)
        .ok_or_else(|| db.corrupt("id_hash", "not a hashed storage key".into()))
}

/// Versions are `u64` and PostgreSQL's bigints `i64`: the bits are stored as they are, so
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
    fn versions_round_trip_through_bigints() {
        for version in [0, 1, u64::from(u32::MAX), i64::MAX as u64, u64::MAX] {
            assert_eq!(version_from_sql(version_to_sql(version)), version);
        }
    }
}
