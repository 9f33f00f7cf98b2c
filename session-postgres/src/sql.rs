//! The statements of one table, written once when the store opens.
//!
//! Every write is conditional on the row being live at the `now` the caller binds (never
//! the server's clock), so a row past its deadline is absent before the cleanup task
//! deletes it.

use crate::schema::TableName;

/// The SQL of every operation, for one schema-qualified table.
pub(crate) struct Statements {
    pub(crate) load: String,
    /// A principal's live sessions: the columns of `load`, then the key. A range scan of
    /// the partial `NAME_principal` index, never of the table.
    pub(crate) sessions_of: String,
    /// Inserts, or takes over an expired row under the same key; a live row makes it a
    /// no-op (0 rows), which is the collision.
    pub(crate) create: String,
    /// `principal` is rewritten with `data`, so a save that unties the session (or ties
    /// it to someone else) moves its index entry in the same statement.
    ///
    /// The compare-and-swap: 0 rows means another writer got there first, or the row is
    /// gone or expired. Under READ COMMITTED a concurrent writer's update makes this one
    /// wait for its row lock, then re-check the `WHERE` on the committed row: the version
    /// no longer matches, and nothing is overwritten.
    pub(crate) save: String,
    /// The first half of a key change: the old row must be live at the expected version.
    pub(crate) take_old: String,
    pub(crate) touch: String,
    pub(crate) delete: String,
    /// One bounded batch. `SKIP LOCKED`: rows another process is deleting, or a request is
    /// saving, are left for the next batch instead of waited for.
    pub(crate) delete_expired: String,
}

impl Statements {
    pub(crate) fn new(name: &TableName) -> Self {
        let table = name.qualified();
        Self {
            load: format!(
                "SELECT data, created_at, last_active, expires_at, permanent, version
                 FROM {table} WHERE id_hash = $1 AND expires_at > $2"
            ),
            sessions_of: format!(
                "SELECT data, created_at, last_active, expires_at, permanent, version, id_hash
                 FROM {table} WHERE principal = $1 AND expires_at > $2"
            ),
            create: format!(
                "INSERT INTO {table} AS old
                    (id_hash, data, created_at, last_active, expires_at, permanent, version,
                     principal)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $9)
                 ON CONFLICT (id_hash) DO UPDATE SET
                    data = excluded.data, created_at = excluded.created_at,
                    last_active = excluded.last_active, expires_at = excluded.expires_at,
                    permanent = excluded.permanent, version = excluded.version,
                    principal = excluded.principal
                 WHERE old.expires_at <= $8"
            ),
            save: format!(
                "UPDATE {table} SET
                    data = $2, created_at = $3, last_active = $4, expires_at = $5,
                    permanent = $6, version = $7, principal = $10
                 WHERE id_hash = $1 AND version = $8 AND expires_at > $9"
            ),
            take_old: format!(
                "DELETE FROM {table} WHERE id_hash = $1 AND version = $2 AND expires_at > $3"
            ),
            touch: format!(
                "UPDATE {table} SET last_active = $2, expires_at = $3
                 WHERE id_hash = $1 AND expires_at > $4"
            ),
            delete: format!("DELETE FROM {table} WHERE id_hash = $1"),
            delete_expired: format!(
                "DELETE FROM {table} WHERE id_hash IN (
                    SELECT id_hash FROM {table} WHERE expires_at <= $1
                    LIMIT $2 FOR UPDATE SKIP LOCKED
                 )"
            ),
        }
    }
}
