//! [`FlaskSessionStore`]: Flask-Session's own Redis records, so a Flask app and a Rust
//! service share logins.

mod codec;
mod scripts;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::{AsyncCommands as _, Script};
use session_core::clock::Timestamp;
use session_core::store::{KeyScheme, Record, RecordStore, ServerSide, StorageKey, StoreError};
use session_core::SessionConfig;

use self::scripts::{CHANGE_KEY, CREATE, DELETE_IF, LOAD, SAVE, TOUCH};
use crate::conn::Redis;
use crate::error::ensure_storable;
use crate::{DecodeError, RedisConfig, RedisError, RedisStore};

/// Reads and writes Flask-Session's Redis records exactly, so a Flask app using
/// Flask-Session (0.8, `SESSION_TYPE = "redis"`) and a Rust service share sessions.
///
/// | | Flask-Session | here |
/// |---|---|---|
/// | key | `SESSION_KEY_PREFIX` + sid (`session:<sid>`) | the same: the prefix + the raw id |
/// | value | msgpack of the session dict, `_permanent` included | the same (JSON values also read) |
/// | expiry | `SET ... EX` = `PERMANENT_SESSION_LIFETIME`, every session | `PEXPIREAT` at the session's deadline |
/// | cookie | the bare sid (0.8 no longer signs) | the bare id: do not set keys on the [`SessionConfig`] |
///
/// **This mode stores raw session ids**, because Flask-Session does: anyone who can read
/// Redis can replay a cookie. Use it only to share sessions with a Flask app; otherwise
/// use [`RedisStore`], which keeps only hashes of ids.
///
/// **Versions**: Flask-Session keeps no version, so a record's version is a fingerprint of
/// its stored bytes (60 bits of their SHA-1), and compare-and-swap is a Lua script that
/// compares the fingerprint of what Redis holds (`redis.sha1hex`) with the expected one
/// before writing. Any write in between, Flask's included, is detected; Flask-Session's
/// own writes are blind `SET`s, so a Flask request can still overwrite a concurrent Rust
/// write, as it would another Flask request's.
///
/// **Timestamps**: Flask-Session keeps none, only the key's TTL. The deadline is read from
/// the key as an instant on Redis' clock (`PEXPIRETIME`: exactly what `PEXPIREAT` was
/// given; `TIME` + `PTTL` before Redis 7.0), and every operation judges it against the
/// `now` it is handed, so a record is absent from its deadline on even before Redis
/// expires the key. Last activity is taken as the deadline minus the store's window (the
/// [`SessionConfig`]'s lifetime, or its idle timeout if shorter). When the config has an
/// absolute timeout, the creation time is kept in the dict under `_rs_created` (Unix
/// milliseconds; Flask carries keys it does not know through its writes untouched), so
/// the timeout holds; without one, nothing but Flask-Session's own dict is stored and the
/// bytes match Flask-Session's exactly. Set Flask's `PERMANENT_SESSION_LIFETIME` to the
/// same window.
///
/// Values must be JSON-compatible to be read here: a record this store cannot decode (Python
/// `bytes`, `datetime`, dicts with non-string keys, or any other string under the prefix)
/// reads as absent and is left alone, as is a key of another Redis type: the Rust service
/// sees an anonymous visitor, and the Flask app keeps its session. It is never reported
/// `Corrupt` (which `ServerSide` answers by deleting): the namespace is shared with a Flask
/// app, and the sid that names a key comes from the client, so deleting what Rust cannot
/// read would let any visitor delete the app's keys and would lose Flask's sessions.
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::backend::CookieUpdate;
/// use session_core::SessionConfig;
/// use session_redis::FlaskSessionStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let config = SessionConfig::default();
/// let store = FlaskSessionStore::connect("redis://127.0.0.1:6379", &config).await?;
/// let manager = SessionManager::new(store, config)?;
///
/// let request = manager.request(None);
/// request.session().await?.insert("user_id", 42)?;
/// let plan = request.finish().await?.ok_or("the session was loaded")?;
/// // The cookie is the bare sid, as Flask-Session's, and the record is `session:<sid>`.
/// let sid = plan.cookie_value().ok_or("a new session sets a cookie")?.to_owned();
/// assert_eq!(sid.len(), 43);
///
/// let again = manager.request(Some(&sid));
/// let session = again.session().await?;
/// assert_eq!(session.get::<u32>("user_id")?, Some(42));
/// session.destroy();
/// let plan = again.finish().await?.ok_or("the session was loaded")?;
/// assert_eq!(plan.cookie, CookieUpdate::Remove);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FlaskSessionStore {
    redis: Redis,
    prefix: Arc<str>,
    window: Duration,
    /// Whether the creation time is stored, for an absolute timeout.
    keep_created: bool,
}

impl FlaskSessionStore {
    /// Connects to the Redis at `url` with Flask-Session's defaults (prefix `session:`)
    /// for sessions configured by `session`.
    ///
    /// # Errors
    ///
    /// As [`RedisConfig::connect`].
    pub async fn connect(url: &str, session: &SessionConfig) -> Result<Self, RedisError> {
        RedisConfig::new(url).connect_flask_session(session).await
    }

    /// The [`ServerSide`] backend over this store. The store declares
    /// [`KeyScheme::FlaskSessionCompat`] (the storage key is the raw sid), so
    /// `ServerSide::new(store)` is the same thing.
    pub fn backend(self) -> ServerSide<Self> {
        ServerSide::new(self)
    }

    /// The key prefix (Flask-Session's `SESSION_KEY_PREFIX`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of a session, `<prefix><sid>`.
    ///
    /// Flask-Session keys its records by the raw sid, and [`ServerSide`] hands this store
    /// raw sids (the store declares [`KeyScheme::FlaskSessionCompat`]), whatever they look
    /// like: a 64-hex-digit cookie is a sid like any other, naming a record or nothing. A
    /// hashed [`StorageKey`] handed to the store directly names `<prefix><64 hex digits>`,
    /// where no Flask-Session record is, and never a [`RedisStore`] record
    /// (`<prefix>{<hash>}`: a sid cannot hold `{`), so the two layouts cannot meet even
    /// under one prefix.
    pub fn redis_key(&self, key: &StorageKey) -> String {
        format!("{}{}", self.prefix, key.as_str())
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, StoreError> {
        let created = self
            .keep_created
            .then(|| record.created_at.as_unix_millis());
        let value = codec::encode(&record.data, record.permanent, created)
            .map_err(|error| StoreError::Backend(Box::new(error)))?;
        ensure_storable(value.len())?;
        Ok(value)
    }

    /// Runs `script` on `keys` with `now` as `ARGV[1]` and `args` after it.
    async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        keys: &[&str],
        now: Timestamp,
        args: &[&[u8]],
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        invocation.arg(now.as_unix_millis());
        for arg in args {
            invocation.arg(*arg);
        }
        let mut conn = self.redis.conn();
        Ok(self.redis.run(invocation.invoke_async(&mut conn)).await?)
    }
}

impl RedisConfig {
    /// Connects a [`FlaskSessionStore`] for sessions configured by `session` (its idle
    /// timeout, else its lifetime, is the window the store reconstructs last activity
    /// from). The prefix is Flask-Session's `SESSION_KEY_PREFIX`, `session:` by default.
    ///
    /// # Errors
    ///
    /// As [`RedisConfig::connect`].
    pub async fn connect_flask_session(
        self,
        session: &SessionConfig,
    ) -> Result<FlaskSessionStore, RedisError> {
        let window = session
            .idle_timeout()
            .map_or(session.lifetime(), |idle| idle.min(session.lifetime()));
        Ok(FlaskSessionStore {
            redis: Redis::connect(&self).await?,
            prefix: self.prefix.into(),
            window,
            keep_created: session.absolute_timeout().is_some(),
        })
    }
}

impl RedisStore {
    /// A backend that shares sessions with a Flask-Session app on the Redis at `url`:
    /// [`FlaskSessionStore::connect`] then [`FlaskSessionStore::backend`].
    ///
    /// # Errors
    ///
    /// As [`RedisConfig::connect`].
    pub async fn flask_session(
        url: &str,
        session: &SessionConfig,
    ) -> Result<ServerSide<FlaskSessionStore>, RedisError> {
        Ok(FlaskSessionStore::connect(url, session).await?.backend())
    }
}

#[async_trait]
impl RecordStore for FlaskSessionStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        let redis_key = self.redis_key(key);
        // A key of another Redis type reads as absent (see `LOAD`), and so does a string
        // this store cannot decode: the namespace is Flask's too (see the type's docs).
        let reply: redis::Value = self.eval(&LOAD, &[&redis_key], now, &[]).await?;
        let reply: Option<(Vec<u8>, i64)> =
            redis::from_owned_redis_value(reply).map_err(DecodeError::Reply)?;
        let Some((bytes, at)) = reply else {
            return Ok(None);
        };
        let Some(expires_at) = deadline(now, at, self.window) else {
            return Ok(None);
        };
        if expires_at <= now {
            // Redis has not expired the key yet (its clock may lag ours): still gone.
            return Ok(None);
        }
        let codec::Decoded {
            data,
            permanent,
            created,
        } = match codec::decode(&bytes) {
            Ok(decoded) => decoded,
            Err(error) => {
                tracing::warn!(%error, "leaving a Flask-Session record this store cannot read alone");
                return Ok(None);
            }
        };
        let window = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let since_window =
            Timestamp::from_unix_millis(expires_at.as_unix_millis().saturating_sub(window));
        // An absolute timeout can pull the deadline in below last activity + window, so
        // the reconstructed activity is never put before the recorded creation.
        let created_at = created.map(Timestamp::from_unix_millis);
        let last_active = since_window
            .max(created_at.unwrap_or(since_window))
            .min(now);
        Ok(Some(Record {
            data,
            created_at: created_at.unwrap_or(last_active).min(last_active),
            last_active,
            expires_at,
            permanent,
            version: codec::fingerprint(&bytes),
        }))
    }

    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let value = self.encode(record)?;
        let deadline = record.expires_at.as_unix_millis().to_string();
        match self
            .eval(
                &CREATE,
                &[&self.redis_key(key)],
                now,
                &[&value, deadline.as_bytes()],
            )
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
        let value = self.encode(record)?;
        let expected = codec::fingerprint_hex(expected_version);
        let deadline = record.expires_at.as_unix_millis().to_string();
        let args: [&[u8]; 3] = [expected.as_bytes(), &value, deadline.as_bytes()];
        match self
            .eval(&SAVE, &[&self.redis_key(key)], now, &args)
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
        let value = self.encode(record)?;
        let expected = codec::fingerprint_hex(expected_version);
        let deadline = record.expires_at.as_unix_millis().to_string();
        if !self.redis.is_cluster() {
            let args: [&[u8]; 3] = [expected.as_bytes(), &value, deadline.as_bytes()];
            return match self.eval(&CHANGE_KEY, &[&old, &new], now, &args).await? {
                1 => Ok(()),
                -1 => Err(StoreError::KeyCollision),
                _ => Err(StoreError::Conflict),
            };
        }
        // Across cluster slots: create the new key, then delete the old one if unchanged;
        // nobody else knows the new key until then (see `RedisStore`).
        if self
            .eval::<i64>(&CREATE, &[&new], now, &[&value, deadline.as_bytes()])
            .await?
            == 0
        {
            return Err(StoreError::KeyCollision);
        }
        match self
            .eval::<i64>(&DELETE_IF, &[&old], now, &[expected.as_bytes()])
            .await
        {
            Ok(1) => Ok(()),
            other => {
                let mut conn = self.redis.conn();
                let _: Result<(), _> = self.redis.run(conn.del::<_, ()>(&new)).await;
                other.and(Err(StoreError::Conflict))
            }
        }
    }

    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        let mut conn = self.redis.conn();
        Ok(self
            .redis
            .run(conn.del::<_, ()>(self.redis_key(key)))
            .await?)
    }

    /// Moves the TTL of a record live at `last_active` (the current time) to `expires_at`;
    /// never creates a missing key. The value (and so the version) is untouched;
    /// `last_active` is implied by the TTL.
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = last_active;
        let deadline = expires_at.as_unix_millis().to_string();
        let _touched: i64 = self
            .eval(&TOUCH, &[&self.redis_key(key)], now, &[deadline.as_bytes()])
            .await?;
        Ok(())
    }

    /// Redis expires Flask-Session's keys by their TTL: always `Ok(0)`.
    async fn delete_expired(&self, _now: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::FlaskSessionCompat
    }
}

/// The deadline the `LOAD` script's reply implies: the instant itself (unix ms on Redis'
/// clock), the window from `now` for a key without a TTL (`-1`: not written by
/// Flask-Session), `None` for a key already gone.
fn deadline(now: Timestamp, at: i64, window: Duration) -> Option<Timestamp> {
    match at {
        -1 => Some(now.saturating_add(window)),
        at if at >= 0 => Some(Timestamp::from_unix_millis(at)),
        _ => None,
    }
}

impl fmt::Debug for FlaskSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlaskSessionStore")
            .field("url", &self.redis.url())
            .field("prefix", &self.prefix)
            .field("window", &self.window)
            .finish()
    }
}
