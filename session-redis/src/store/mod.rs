//! [`RedisStore`]: session records as Redis hashes with native TTLs.

mod codec;
mod index;
mod scripts;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use redis::AsyncCommands as _;
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore, StorageKey, StoreError};

use self::scripts::SCRIPTS;
use crate::conn::Redis;
use crate::error::{ensure_storable, is_wrong_type};
use crate::{DecodeError, RedisConfig, RedisError};

/// Server-side sessions in Redis, for apps that run on many machines.
///
/// - **Layout**: one hash per session under `<prefix>{<storage key>}` (the SHA-256 of the
///   id: a dump of Redis holds no usable cookie), with the fields `version`, `data`
///   (JSON), `created_at`, `last_active`, `expires_at` and `permanent`, plus
///   `principal` when the session is tied to one.
/// - **Per-user index**: a sorted set per principal,
///   `<prefix>principal:{<hex SHA-256 of the name>}` ([`principal_key`](Self::principal_key)),
///   whose members are the storage keys of its sessions scored by their deadlines. The
///   hash tag keeps one principal's index in one slot; its sessions live in others, so
///   the writes are ordered (entry before tying record, record deleted before entry)
///   rather than atomic, and listing loads and checks every record it names.
///   [`sessions_of`](RecordStore::sessions_of) therefore finds every live tied session,
///   single server or cluster. The argument in full is in `src/store/index.rs`.
/// - **Expiry**: the key's TTL is set with `PEXPIREAT` to the record's deadline on every
///   write and touch, so Redis drops expired sessions by itself;
///   [`delete_expired`](RecordStore::delete_expired) has nothing to do and returns 0.
///   Every operation also compares the stored deadline with the `now` it is handed (the
///   scripts take it as an argument), so a record is absent from its deadline on even
///   when Redis' clock lags the caller's and the TTL has not fired yet.
/// - **One round trip each**: `load` is one `HMGET`; create, compare-and-swap save,
///   atomic key change and touch are Lua scripts (`EVALSHA`).
/// - **Cluster**: the `{...}` hash tag keeps a session's keys in one slot. Two sessions'
///   keys usually live in different slots, so there a key change creates the new key,
///   then deletes the old one if its version still matches (rolling back otherwise); the
///   new key is unknown to everyone else until the old one is gone, so no client can
///   tell the two steps apart.
/// - **Failures**: connection failures and timeouts are
///   [`StoreError::Unavailable`] (adapters answer 503); the connection re-dials by itself.
///   A record that does not decode (a missing or garbled field, another Redis type under
///   the session's key) is [`StoreError::Corrupt`], which `ServerSide` deletes when met.
///
/// Cloning is cheap: clones share one multiplexed connection.
///
/// # Examples
///
/// ```
/// use session_core::clock::{Clock, SystemClock};
/// use session_core::store::{RecordStore, SessionId, StorageKey};
/// use session_core::SessionConfig;
/// use session_redis::RedisConfig;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = RedisConfig::new("redis://127.0.0.1:6379")
///     .with_prefix("doctest:store:")
///     .connect()
///     .await?;
/// let key = StorageKey::hashed(&SessionId::generate()?);
/// let now = SystemClock.now();
/// let mut record = SessionConfig::default().new_record(now);
/// record.data.insert("user".into(), "ada".into());
/// record.version = 1;
/// store.create(&key, &record, now).await?;
/// assert_eq!(store.load(&key, now).await?, Some(record.clone()));
/// // Past its deadline the record is gone, whatever Redis' own clock says.
/// assert_eq!(store.load(&key, record.expires_at).await?, None);
/// store.delete(&key).await?;
/// assert_eq!(store.load(&key, now).await?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    redis: Redis,
    prefix: Arc<str>,
}

impl RedisStore {
    /// Connects to the Redis server at `url` with the defaults of [`RedisConfig::new`]
    /// (prefix `session:`, 2 s command timeout).
    ///
    /// # Errors
    ///
    /// As [`RedisConfig::connect`].
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        RedisConfig::new(url).connect().await
    }

    pub(crate) async fn from_config(config: RedisConfig) -> Result<Self, RedisError> {
        Ok(Self {
            redis: Redis::connect(&config).await?,
            prefix: config.prefix.into(),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of a session: the prefix and the storage key as a hash tag.
    pub fn redis_key(&self, key: &StorageKey) -> String {
        format!("{}{{{}}}", self.prefix, key.as_str())
    }

    /// Runs a write script on `keys` with the shared argument layout (see `scripts`);
    /// records are live while their deadline is after `now`.
    async fn write<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        record: &Record,
        expected_version: Option<u64>,
        now: Timestamp,
    ) -> Result<T, StoreError> {
        let encoded =
            codec::encode(record).map_err(|error| StoreError::Backend(Box::new(error)))?;
        ensure_storable(encoded.data.len())?;
        let principal = record.principal();
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        invocation
            .arg(now.as_unix_millis())
            .arg(expected_version.map(|v| v.to_string()).unwrap_or_default())
            .arg(encoded.version)
            .arg(encoded.data)
            .arg(encoded.created_at)
            .arg(encoded.last_active)
            .arg(encoded.expires_at)
            .arg(encoded.permanent)
            .arg(if principal.is_some() { "1" } else { "0" })
            .arg(principal.unwrap_or_default());
        let mut conn = self.redis.conn();
        Ok(self.redis.run(invocation.invoke_async(&mut conn)).await?)
    }

    /// Bumps the index entry of `key` when `record` is tied: before the write that ties it
    /// (see `index`).
    async fn bump_for(&self, key: &StorageKey, record: &Record) -> Result<(), StoreError> {
        match record.principal() {
            Some(principal) => {
                self.bump(principal.as_bytes(), key, record.expires_at)
                    .await
            }
            None => Ok(()),
        }
    }

    /// A key change across cluster slots, in two steps that no other client can tell
    /// apart from one (see the type's docs). Replies what the old key's delete replied.
    async fn change_key_across_slots(
        &self,
        old: &str,
        new: &str,
        new_key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<index::Reply, StoreError> {
        if self
            .write::<i64>(&SCRIPTS.create, &[new], record, None, now)
            .await?
            == 0
        {
            return Err(StoreError::KeyCollision);
        }
        let deleted = self
            .write::<index::Reply>(
                &SCRIPTS.delete_if,
                &[old],
                record,
                Some(expected_version),
                now,
            )
            .await;
        match deleted {
            Ok(reply) if reply.0 == 1 => Ok(reply),
            other => {
                // Undo the first step; if even that fails, the orphan is unreachable (its id
                // was never sent) and expires with its TTL.
                let mut conn = self.redis.conn();
                if self.redis.run(conn.del::<_, ()>(new)).await.is_ok() {
                    // This call deleted the new record, so it may drop its entry.
                    if let Some(principal) = record.principal() {
                        self.unlist(principal.as_bytes(), new_key.as_str()).await;
                    }
                }
                other.and(Err(StoreError::Conflict))
            }
        }
    }
}

#[async_trait]
impl RecordStore for RedisStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        let mut conn = self.redis.conn();
        let reply: redis::Value = match self
            .redis
            .run(conn.hget(self.redis_key(key), &codec::FIELDS[..]))
            .await
        {
            // Another Redis type at a hashed name: nobody can aim a cookie at one (the
            // name is the SHA-256 of an id), so it is no one else's data but a damaged
            // record of this namespace: `Corrupt`, which `ServerSide` deletes when met.
            Err(RedisError::Command { source, .. }) if is_wrong_type(&source) => {
                return Err(DecodeError::Reply(source).into())
            }
            reply => reply?,
        };
        // Owned: the replied bytes move into the fields instead of being copied.
        let fields: Vec<Option<Vec<u8>>> =
            redis::from_owned_redis_value(reply).map_err(DecodeError::Reply)?;
        let record = codec::decode(fields)?;
        // Redis drops the key at its deadline by its own clock; this catches the instant in
        // between, and a Redis clock that lags the caller's.
        Ok(record.filter(|record| !record.is_expired_at(now)))
    }

    /// A tied record is listed in its principal's index first, then stored.
    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.bump_for(key, record).await?;
        // On a collision the entry just made stays: the key's live record may be tied to
        // the same principal, and entries are only removed by whoever deletes a record.
        match self
            .write::<i64>(&SCRIPTS.create, &[&self.redis_key(key)], record, None, now)
            .await?
        {
            1 => Ok(()),
            _ => Err(StoreError::KeyCollision),
        }
    }

    /// A tied record is listed (its entry raised to the new deadline) first, then saved.
    /// A save that ties the record to another principal, or to none, leaves the old
    /// principal's entry until its deadline: listing skips it (see `index`).
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.bump_for(key, record).await?;
        let redis_key = self.redis_key(key);
        match self
            .write::<i64>(
                &SCRIPTS.save,
                &[&redis_key],
                record,
                Some(expected_version),
                now,
            )
            .await?
        {
            1 => Ok(()),
            _ => Err(StoreError::Conflict),
        }
    }

    /// The new key is listed first, the record moved, then the old key unlisted.
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.bump_for(new, record).await?;
        let (old_redis, new_redis) = (self.redis_key(old), self.redis_key(new));
        let reply = if self.redis.is_cluster() {
            self.change_key_across_slots(&old_redis, &new_redis, new, record, expected_version, now)
                .await?
        } else {
            self.write::<index::Reply>(
                &SCRIPTS.change_key,
                &[&old_redis, &new_redis],
                record,
                Some(expected_version),
                now,
            )
            .await?
        };
        match reply.0 {
            1 => {
                // This call deleted the old record, so it may drop the old entry.
                if let Some(principal) = index::tied(&reply) {
                    self.unlist(principal, old.as_str()).await;
                }
                Ok(())
            }
            -1 => Err(StoreError::KeyCollision),
            _ => {
                // Nothing was written under the new key, and no one else can write there:
                // it comes from an id only the caller holds. Its entry goes, as when the
                // cross-slot path undoes its first step.
                if let Some(principal) = record.principal() {
                    self.unlist(principal.as_bytes(), new.as_str()).await;
                }
                Err(StoreError::Conflict)
            }
        }
    }

    /// Deletes the record, then its entry in the index of the principal it named.
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        let mut conn = self.redis.conn();
        let reply: index::Reply = self
            .redis
            .run(
                SCRIPTS
                    .delete
                    .key(self.redis_key(key))
                    .invoke_async(&mut conn),
            )
            .await?;
        if let Some(principal) = index::tied(&reply) {
            self.unlist(principal, key.as_str()).await;
        }
        Ok(())
    }

    /// `last_active` is the current time: the record must be live at it. A tied record's
    /// entry is raised to the new deadline right after (see `index`).
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = last_active;
        let mut invocation = SCRIPTS.touch.key(self.redis_key(key));
        invocation
            .arg(now.as_unix_millis())
            .arg(last_active.as_unix_millis())
            .arg(expires_at.as_unix_millis());
        let mut conn = self.redis.conn();
        let reply: index::Reply = self.redis.run(invocation.invoke_async(&mut conn)).await?;
        if let Some(principal) = index::tied(&reply) {
            self.bump(principal, key, expires_at).await?;
        }
        Ok(())
    }

    /// Redis removes expired sessions by itself (each key's TTL is its deadline), so there
    /// is never anything left to delete: always `Ok(0)`. A record expired at `now` but
    /// not yet at Redis' clock is already absent to every other operation. Index entries
    /// go the same way: listing drops those past their deadline, and a principal's whole
    /// set expires after its last session (see `index`), so no scan is needed here.
    async fn delete_expired(&self, _now: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    /// Reads the principal's set, dropping entries past their deadline, then loads each
    /// listed record (concurrently: they live in other slots) and keeps the live ones
    /// still tied to `principal`.
    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        self.indexed_sessions(principal, now).await
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.redis.url())
            .field("prefix", &self.prefix)
            .field("cluster", &self.redis.is_cluster())
            .finish()
    }
}
