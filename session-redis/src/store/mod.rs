//! [`RedisStore`]: session records as Redis hashes with native TTLs.

mod codec;
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
///   (JSON), `created_at`, `last_active`, `expires_at` and `permanent`.
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
    async fn write(
        &self,
        script: &redis::Script,
        keys: &[&str],
        record: &Record,
        expected_version: Option<u64>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let encoded =
            codec::encode(record).map_err(|error| StoreError::Backend(Box::new(error)))?;
        ensure_storable(encoded.data.len())?;
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
            .arg(encoded.permanent);
        let mut conn = self.redis.conn();
        Ok(self.redis.run(invocation.invoke_async(&mut conn)).await?)
    }

    /// A key change across cluster slots, in two steps that no other client can tell
    /// apart from one (see the type's docs).
    async fn change_key_across_slots(
        &self,
        old: &str,
        new: &str,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if self
            .write(&SCRIPTS.create, &[new], record, None, now)
            .await?
            == 0
        {
            return Err(StoreError::KeyCollision);
        }
        let deleted = self
            .write(
                &SCRIPTS.delete_if,
                &[old],
                record,
                Some(expected_version),
                now,
            )
            .await;
        match deleted {
            Ok(1) => Ok(()),
            other => {
                // Undo the first step; if even that fails, the orphan is unreachable (its id
                // was never sent) and expires with its TTL.
                let mut conn = self.redis.conn();
                let _: Result<(), _> = self.redis.run(conn.del::<_, ()>(new)).await;
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
        let fields: Vec<Option<Vec<u8>>> =
            redis::from_redis_value(&reply).map_err(DecodeError::Reply)?;
        let record = codec::decode(fields)?;
        // Redis drops the key at its deadline by its own clock; this catches the instant in
        // between, and a Redis clock that lags the caller's.
        Ok(record.filter(|record| !record.is_expired_at(now)))
    }

    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        match self
            .write(&SCRIPTS.create, &[&self.redis_key(key)], record, None, now)
            .await?
        {
            1 => Ok(()),
            _ => Err(StoreError::KeyCollision),
        }
    }

    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let redis_key = self.redis_key(key);
        match self
            .write(
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

    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (old, new) = (self.redis_key(old), self.redis_key(new));
        if self.redis.is_cluster() {
            return self
                .change_key_across_slots(&old, &new, record, expected_version, now)
                .await;
        }
        match self
            .write(
                &SCRIPTS.change_key,
                &[&old, &new],
                record,
                Some(expected_version),
                now,
            )
            .await?
        {
            1 => Ok(()),
            -1 => Err(StoreError::KeyCollision),
            _ => Err(StoreError::Conflict),
        }
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        let mut conn = self.redis.conn();
        Ok(self
            .redis
            .run(conn.del::<_, ()>(self.redis_key(key)))
            .await?)
    }

    /// `last_active` is the current time: the record must be live at it.
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
        let _touched: i64 = self.redis.run(invocation.invoke_async(&mut conn)).await?;
        Ok(())
    }

    /// Redis removes expired sessions by itself (each key's TTL is its deadline), so there
    /// is never anything left to delete: always `Ok(0)`. A record expired at `now` but
    /// not yet at Redis' clock is already absent to every other operation.
    async fn delete_expired(&self, _now: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
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
