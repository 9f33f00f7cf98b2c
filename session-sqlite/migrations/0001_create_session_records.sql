-- One row per live (or not yet purged) session.
-- id_hash: the store key, the lowercase hex SHA-256 of the session id; the raw id is
--          never stored.
-- data:    the session's values as a JSON object.
-- *_at:    unix milliseconds.
-- WITHOUT ROWID keeps each row inside the primary-key b-tree: a load is one b-tree
-- descent instead of a key-index lookup followed by a table lookup.
CREATE TABLE IF NOT EXISTS session_records (
    id_hash     TEXT    NOT NULL PRIMARY KEY,
    data        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    last_active INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    permanent   INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The cleanup task and the expiry checks range over this.
CREATE INDEX IF NOT EXISTS session_records_expires_at ON session_records (expires_at);
