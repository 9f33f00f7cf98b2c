-- The per-user index: the principal a session is tied to (the `name` under `_principal`
-- in its data), NULL for a session tied to nobody. Written by the same statement that
-- writes `data`, so the column never disagrees with the data it was taken from.
-- No backfill: before this version the store did not claim the index, and session-core
-- refuses to tie a session to a principal on a store that does not, so no older row
-- holds one.
ALTER TABLE session_records ADD COLUMN principal TEXT;

-- Listing a principal's live sessions (`principal = ? AND expires_at > ?`) is one range
-- scan of this index. Partial: anonymous sessions, usually most rows, cost it nothing.
CREATE INDEX IF NOT EXISTS session_records_principal
    ON session_records (principal, expires_at) WHERE principal IS NOT NULL;
