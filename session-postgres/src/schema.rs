//! The table's name, its SQL, and the migrations that create it, run under an advisory
//! lock so processes starting at once on an empty database do not race.

use sqlx::{Connection as _, PgConnection, Row as _};

use crate::PostgresError;

/// The newest schema version this build knows.
pub(crate) const SCHEMA_VERSION: i32 = 2;

/// The first key of the two-key advisory lock every migration of this crate takes ("SESS"
/// in ASCII); the second is `hashtext` of the qualified table name, so stores of different
/// tables do not wait for each other.
const LOCK_CLASS: i32 = 0x5345_5353;

/// PostgreSQL truncates identifiers past 63 bytes (NAMEDATALEN - 1) without an error;
/// two long names could then name one table.
const MAX_IDENTIFIER: usize = 63;
/// The longest suffix the store appends to the table name (`_migrations`; the indexes'
/// `_expires_at` and `_principal` are shorter).
const LONGEST_SUFFIX: usize = "_migrations".len();

/// A schema or table name the caller chose, checked.
pub(crate) fn check_name(
    what: &'static str,
    name: &str,
    suffix_room: usize,
) -> Result<(), PostgresError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.contains('\0') {
        Some("it holds a NUL character")
    } else if name.len() + suffix_room > MAX_IDENTIFIER {
        Some(if suffix_room == 0 {
            "PostgreSQL names are at most 63 bytes"
        } else {
            "table names are at most 52 bytes, so that `_migrations`, `_expires_at` and `_principal` can be appended within PostgreSQL's 63"
        })
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PostgresError::InvalidName {
            what,
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// `name` as a quoted SQL identifier: any name is safe to splice into a statement.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where the sessions live: a schema and a table in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableName {
    pub(crate) schema: String,
    pub(crate) table: String,
}

impl TableName {
    pub(crate) fn new(schema: String, table: String) -> Result<Self, PostgresError> {
        check_name("schema", &schema, 0)?;
        check_name("table", &table, LONGEST_SUFFIX)?;
        Ok(Self { schema, table })
    }

    /// `"schema"."table"`, for statements.
    pub(crate) fn qualified(&self) -> String {
        format!("{}.{}", quote(&self.schema), quote(&self.table))
    }

    /// The ledger of applied migrations, next to the table.
    fn ledger(&self) -> String {
        format!(
            "{}.{}",
            quote(&self.schema),
            quote(&format!("{}_migrations", self.table))
        )
    }

    fn index(&self) -> String {
        quote(&format!("{}_expires_at", self.table))
    }

    /// The per-user index.
    fn principal_index(&self) -> String {
        quote(&format!("{}_principal", self.table))
    }

    /// `schema.table` for messages (unquoted: easier to read, and never parsed).
    pub(crate) fn display(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The schema versions, in order; entry `n` takes a table at version `n` to `n + 1`.
fn migrations(name: &TableName) -> Vec<Vec<String>> {
    let table = name.qualified();
    vec![
        vec![
            // One row per live (or not yet purged) session.
            // id_hash: the storage key, the lowercase hex SHA-256 of the session id (the raw
            //          id is never stored); text in the "C" collation, so comparisons are
            //          plain byte comparisons. Text rather than the 32 digest bytes, because a
            //          Flask-Session-compatible key scheme hands the store other text.
            // data:    the session's values as serde_json's bytes. bytea, not jsonb: jsonb
            //          re-sorts keys, drops duplicates and rewrites numbers, and the store
            //          never queries inside the data, so it would cost a parse on every write
            //          and a re-serialisation on every read for nothing. bytea hands back
            //          exactly the bytes that were saved, in the binary protocol, unescaped.
            // *_at:    unix milliseconds, as session-core's timestamps are: every expiry
            //          check compares against the `now` bound by the caller, never the
            //          server's clock, and a bigint round-trips a timestamp exactly.
            // version: the compare-and-swap counter (a u64's bits in a bigint).
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                id_hash     text COLLATE \"C\" NOT NULL PRIMARY KEY,
                data        bytea   NOT NULL,
                created_at  bigint  NOT NULL,
                last_active bigint  NOT NULL,
                expires_at  bigint  NOT NULL,
                permanent   boolean NOT NULL,
                version     bigint  NOT NULL
            )"
            ),
            // The expiry checks and the cleanup task range over this.
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {table} (expires_at)",
                name.index()
            ),
        ],
        vec![
            // The per-user index: the principal a session is tied to (the `name` under
            // `_principal` in its data), NULL when tied to nobody. Written by the statement
            // that writes `data`, so the two never disagree; "C" collation as for `id_hash`,
            // so a name matches byte for byte. Adding a nullable column without a default
            // rewrites nothing: it is a catalog change, quick even on a large table.
            // No backfill: before this version the store did not claim the index, and
            // session-core refuses to tie a session on a store that does not, so no older
            // row holds a principal.
            format!("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS principal text COLLATE \"C\""),
            // Listing a principal's live sessions (`principal = $1 AND expires_at > $2`) is
            // one range scan of this index. Partial: anonymous sessions, usually most rows,
            // cost it nothing. Built inside the migration's transaction (CONCURRENTLY cannot
            // be), which blocks writes to the table while it builds: on a large table,
            // expect a pause of the order of a scan of it at the first start of this version.
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {table} (principal, expires_at)
             WHERE principal IS NOT NULL",
                name.principal_index()
            ),
        ],
    ]
}

/// Creates or upgrades the table in one transaction under the crate's advisory lock, so
/// concurrent starts serialise here instead of failing on each other's `CREATE`s.
///
/// DDL runs only when the ledger is behind, so an app whose role may not create schemas
/// or tables runs on a table its migrations (or an operator) created earlier.
///
/// The schema is `schema`, or the connection's current one: `current_schema()`, or when
/// the `search_path` names only schemas that do not exist yet, the first of them (created
/// here).
pub(crate) async fn migrate(
    conn: &mut PgConnection,
    schema: Option<String>,
    table: String,
    target: &str,
    now_millis: i64,
) -> Result<TableName, PostgresError> {
    let connect_error = |source| PostgresError::Connect {
        target: target.to_owned(),
        source,
    };
    let mut tx = conn.begin().await.map_err(connect_error)?;
    let schema = match schema {
        Some(schema) => schema,
        None => {
            let row = sqlx::query("SELECT current_schema(), current_setting('search_path')")
                .fetch_one(&mut *tx)
                .await
                .map_err(connect_error)?;
            let current: Option<String> = row.try_get(0).map_err(connect_error)?;
            let path: String = row.try_get(1).map_err(connect_error)?;
            current
                .or_else(|| crate::options::first_schema(&path))
                .unwrap_or_else(|| "public".to_owned())
        }
    };
    let name = TableName::new(schema, table)?;
    let error = |source| PostgresError::Migrate {
        target: target.to_owned(),
        table: name.display(),
        source,
    };
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(LOCK_CLASS)
        .bind(name.qualified())
        .execute(&mut *tx)
        .await
        .map_err(error)?;
    let ledger_exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name.ledger())
        .fetch_one(&mut *tx)
        .await
        .map_err(error)?;
    let current: i32 = if ledger_exists {
        sqlx::query_scalar(&format!(
            "SELECT coalesce(max(version), 0) FROM {}",
            name.ledger()
        ))
        .fetch_one(&mut *tx)
        .await
        .map_err(error)?
    } else {
        0
    };
    if current > SCHEMA_VERSION {
        return Err(PostgresError::SchemaTooNew {
            target: target.to_owned(),
            table: name.display(),
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    if current == SCHEMA_VERSION {
        // Nothing to do; dropping the transaction rolls back and releases the lock.
        return Ok(name);
    }
    let schema_exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(&name.schema)
            .fetch_one(&mut *tx)
            .await
            .map_err(error)?;
    if !schema_exists {
        let create = format!("CREATE SCHEMA {}", quote(&name.schema));
        sqlx::query(&create)
            .execute(&mut *tx)
            .await
            .map_err(error)?;
    }
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {} (
            version    integer NOT NULL PRIMARY KEY,
            applied_at bigint  NOT NULL
        )",
        name.ledger()
    );
    sqlx::query(&create)
        .execute(&mut *tx)
        .await
        .map_err(error)?;
    let from = usize::try_from(current).unwrap_or(0);
    for (version, statements) in (1..).zip(migrations(&name)).skip(from) {
        for statement in statements {
            sqlx::query(&statement)
                .execute(&mut *tx)
                .await
                .map_err(error)?;
        }
        sqlx::query(&format!(
            "INSERT INTO {} (version, applied_at) VALUES ($1, $2)",
            name.ledger()
        ))
        .bind(version)
        .bind(now_millis)
        .execute(&mut *tx)
        .await
        .map_err(error)?;
    }
    tx.commit().await.map_err(error)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_whatever_they_hold() {
        assert_eq!(quote("sessions"), "\"sessions\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            quote("x\"; DROP TABLE y; --"),
            "\"x\"\"; DROP TABLE y; --\""
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(TableName::new("public".into(), "session_records".into()).is_ok());
        assert!(TableName::new(String::new(), "t".into()).is_err());
        assert!(TableName::new("s".into(), String::new()).is_err());
        assert!(TableName::new("s".into(), "a\0b".into()).is_err());
        assert!(TableName::new("s".repeat(63), "t".into()).is_ok());
        assert!(TableName::new("s".repeat(64), "t".into()).is_err());
        assert!(TableName::new("s".into(), "t".repeat(52)).is_ok());
        assert!(TableName::new("s".into(), "t".repeat(53)).is_err());
    }

    #[test]
    fn one_migration_per_schema_version() {
        let name = TableName::new("s".into(), "t".into()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(migrations(&name).len(), SCHEMA_VERSION as usize);
    }
}
