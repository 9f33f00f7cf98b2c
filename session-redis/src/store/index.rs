//! The per-user index of [`RedisStore`]: one sorted set per principal, kept safe in a
//! Redis Cluster without cross-slot transactions.
//!
//! # Layout
//!
//! `<prefix>principal:{<hex SHA-256 of the principal's name>}` is a sorted set whose
//! members are the storage keys (as text) of the sessions tied to the principal, each
//! scored with a deadline at or after the record's `expires_at` (unix ms). The `{...}`
//! hash tag puts every key of one principal's index in one slot, so the scripts below
//! run in a cluster; the name is hashed so any principal name (spaces, braces, megabytes)
//! makes a well-formed key of fixed length. The set's own TTL is its highest score plus
//! [`GRACE`], so an index whose sessions all expired goes away by itself.
//!
//! The session record also keeps the principal's name in its hash field `principal`, so
//! `delete` and `change_key` learn which index to clean without decoding the data.
//!
//! # Order of writes
//!
//! A record and its index entry usually live in different slots (different nodes), so
//! no script can change both at once. The writes are ordered so that every live record
//! tied to a principal always has an entry in that principal's set, scored at or after
//! its deadline:
//!
//! - **Before** a write that ties a record (create, save, change_key to the new key), its
//!   entry is bumped: added, or its score raised to the record's deadline (never
//!   lowered), and the set's TTL pushed to match, in one script on the set.
//! - **After** a record is deleted (delete; change_key's old key), its entry is removed.
//!   An entry is only ever removed by whoever deleted its record, so a revoke racing a
//!   login cannot drop the login's entry: the login's record was not the one deleted.
//! - A save that re-ties a record to another principal (or unties it) leaves the old
//!   entry in place. Removing it would break the rule above: a later write could tie
//!   the record back to that principal, bump the entry, and lose it to this late removal.
//!   The stale entry is harmless (listing loads each record and keeps only those still
//!   tied to the principal) and goes when its score passes.
//! - `touch` moves the record's deadline first and bumps the entry right after (only the
//!   record knows its principal). Entries are removed only [`GRACE`] after their score,
//!   so a record touched just before its old deadline keeps its entry in between.
//!
//! Listing ([`RedisStore::sessions_of`](session_core::store::RecordStore::sessions_of))
//! drops the entries past their score (plus [`GRACE`]), reads the rest, then loads each
//! member's record concurrently and returns the live ones still tied to the principal:
//! entries may outnumber sessions, never the reverse.

use futures_util::{StreamExt as _, TryStreamExt as _};
use redis::AsyncCommands as _;
use redis::Script;
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore as _, StorageKey, StoreError};
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;
use std::time::Duration;
use tracing::{debug, warn};

use super::RedisStore;
use crate::error::is_wrong_type;
use crate::{DecodeError, RedisError};

/// How long an entry outlives its score. Covers the moment between a `touch` moving a
/// record's deadline and bumping its entry, and clocks of app servers and Redis that
/// disagree by less than this.
pub(crate) const GRACE: Duration = Duration::from_secs(60);

/// Scores are doubles: deadlines are capped where they are still exact integers (and far
/// past any real session, in the year 285,000), so `PEXPIREAT` always gets an integer.
const MAX_SCORE: i64 = (1 << 53) - 3_600_000;

/// How many members' records a listing loads at once.
const CONCURRENT_LOADS: usize = 16;

/// KEYS[1]: the index; ARGV[1] the member, ARGV[2] its record's deadline, ARGV[3] the
/// grace (ms). Raises the member's score to the deadline (adding it if absent; never
/// lowering it), then sets the set's TTL to its highest score plus the grace. (Redis 4
/// has no `ZADD GT`, hence the explicit compare.)
const BUMP: &str = r"
local current = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
local deadline = tonumber(ARGV[2])
if current == nil or current < deadline then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', tonumber(top[2]) + tonumber(ARGV[3])))
return 1
";

/// KEYS[1]: the index; ARGV[1] the cutoff (ms). Drops the members scored at or before it
/// (their records are past their deadlines) and returns the others.
const LIST: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
";

struct IndexScripts {
    bump: Script,
    list: Script,
}

static SCRIPTS: LazyLock<IndexScripts> = LazyLock::new(|| IndexScripts {
    bump: Script::new(BUMP),
    list: Script::new(LIST),
});

/// The principal a record hash names in its `principal` field, as the record scripts
/// reply it: `{status, tied (0/1), name}`.
pub(super) type Reply = (i64, i64, Vec<u8>);

/// The principal in a record script's [`Reply`], if the record was tied.
pub(super) fn tied(reply: &Reply) -> Option<&[u8]> {
    (reply.1 == 1).then_some(reply.2.as_slice())
}

fn grace_ms() -> i64 {
    i64::try_from(GRACE.as_millis()).unwrap_or(i64::MAX)
}

impl RedisStore {
    /// The Redis key of `principal`'s index (see the module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use session_redis::RedisConfig;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = RedisConfig::new("redis://127.0.0.1:6379")
    ///     .with_prefix("doctest:index:")
    ///     .connect()
    ///     .await?;
    /// let key = store.principal_key("ada");
    /// assert!(key.starts_with("doctest:index:principal:{"));
    /// assert_eq!(key.len(), "doctest:index:principal:{}".len() + 64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn principal_key(&self, principal: &str) -> String {
        self.index_key(principal.as_bytes())
    }

    fn index_key(&self, principal: &[u8]) -> String {
        let digest = Sha256::digest(principal);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}principal:{{{hex}}}", self.prefix)
    }

    /// Adds `key` to `principal`'s index, or raises its score to `deadline`: done before
    /// the write that ties the record.
    pub(super) async fn bump(
        &self,
        principal: &[u8],
        key: &StorageKey,
        deadline: Timestamp,
    ) -> Result<(), StoreError> {
        let mut invocation = SCRIPTS.bump.key(self.index_key(principal));
        invocation
            .arg(key.as_str())
            .arg(deadline.as_unix_millis().clamp(0, MAX_SCORE))
            .arg(grace_ms());
        let mut conn = self.redis.conn();
        let _: i64 = self
            .redis
            .run(invocation.invoke_async(&mut conn))
            .await
            .map_err(index_error)?;
        Ok(())
    }

    /// Removes `key` from `principal`'s index: done after its record was deleted, by
    /// whoever deleted it. A failure is logged, not returned: the record is gone, so the
    /// entry is only a stale one that listing skips and its score ends.
    pub(super) async fn unlist(&self, principal: &[u8], key: &str) {
        let mut conn = self.redis.conn();
        let removed = self
            .redis
            .run(conn.zrem::<_, _, i64>(self.index_key(principal), key))
            .await;
        if let Err(error) = removed {
            warn!(%error, "could not remove a deleted session from its principal's index");
        }
    }

    /// What [`sessions_of`](session_core::store::RecordStore::sessions_of) does.
    pub(super) async fn indexed_sessions(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        let cutoff = now.as_unix_millis().saturating_sub(grace_ms());
        let mut invocation = SCRIPTS.list.key(self.principal_key(principal));
        invocation.arg(cutoff);
        let mut conn = self.redis.conn();
        let members: Vec<String> = self
            .redis
            .run(invocation.invoke_async(&mut conn))
            .await
            .map_err(index_error)?;
        // Each record lives in a slot of its own: one command each, several in flight.
        let loaded: Vec<Option<(StorageKey, Record)>> = futures_util::stream::iter(members)
            .map(|member| self.load_member(member, principal, now))
            .buffer_unordered(CONCURRENT_LOADS)
            .try_collect()
            .await?;
        Ok(loaded.into_iter().flatten().collect())
    }

    /// The live record of one index member, if it is still tied to `principal`.
    async fn load_member(
        &self,
        member: String,
        principal: &str,
        now: Timestamp,
    ) -> Result<Option<(StorageKey, Record)>, StoreError> {
        let Some(key) = StorageKey::parse_hashed(&member) else {
            debug!("skipping an index member that is not a storage key");
            return Ok(None);
        };
        match self.load(&key, now).await {
            Ok(Some(record)) if record.principal() == Some(principal) => Ok(Some((key, record))),
            Ok(_) => Ok(None),
            // A damaged record is tied to no one (its data does not decode); the next
            // request that meets it deletes it. One bad record must not hide the others
            // from "log out everywhere".
            Err(StoreError::Corrupt(error)) => {
                debug!(%error, "skipping a corrupt record named by a principal's index");
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

/// Another Redis type under an index key is damaged data of this namespace, like a
/// record of the wrong type: [`StoreError::Corrupt`].
fn index_error(error: RedisError) -> StoreError {
    match error {
        RedisError::Command { source, .. } if is_wrong_type(&source) => {
            DecodeError::Reply(source).into()
        }
        error => error.into(),
    }
}
