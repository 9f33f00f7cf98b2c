//! [`FlaskSessionStore`]: Flask-Session's own Redis records, so a Flask app and a Rust
//! service share logins.

mod codec;
mod scripts;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::{AsyncCommands as _, Script};
use session_core::{
    KeyScheme, Record, RecordStore, ServerSide, SessionConfig, StorageKey, StoreError, Timestamp,
};

use self::scripts::{CHANGE_KEY, CREATE, DELETE_IF, SAVE};
use crate::conn::Redis;
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
/// the TTL; the last activity is taken as the deadline minus the store's window (the
/// [`SessionConfig`]'s lifetime, or its idle timeout if shorter). When the config has an
/// absolute timeout, the creation time is kept in the dict under `_rs_created` (Unix
/// milliseconds; Flask carries keys it does not know through its writes untouched), so
/// the timeout holds; without one, nothing but Flask-Session's own dict is stored and the
/// bytes match Flask-Session's exactly. Set Flask's `PERMANENT_SESSION_LIFETIME` to the
/// same window.
///
/// Values must be JSON-compatible (Python `bytes`, `datetime` or dicts with non-string
/// keys read as corrupt, which starts an anonymous session).
///
/// # Examples
///
/// ```
/// use session_core::{SessionBackend, SessionConfig, CookieUpdate};
/// use session_redis::FlaskSessionStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let config = SessionConfig::default();
/// let backend = FlaskSessionStore::connect("redis://127.0.0.1:6379", &config).await?.backend();
/// let session = backend.load(None, &config).await?;
/// session.insert("user_id", 42)?;
/// let CookieUpdate::Set { value: sid, .. } = backend.save(session.finish(), &config).await? else {
///     panic!("a new session sets a cookie");
/// };
/// // The cookie is the bare sid, as Flask-Session's, and the record is `session:<sid>`.
/// assert_eq!(sid.len(), 43);
/// let again = backend.load(Some(&sid), &config).await?;
/// assert_eq!(again.get::<u32>("user_id")?, Some(42));
/// again.destroy();
/// assert_eq!(backend.save(again.finish(), &config).await?, CookieUpdate::Remove);
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
    /// # Errors
    ///
    /// [`RedisError::HashedKeyInFlaskMode`] for a SHA-256 storage key: the store was
    /// called directly with a hashed key, which can never name a Flask-Session record.
    pub fn redis_key(&self, key: &StorageKey) -> Result<String, RedisError> {
        let key = key.as_str();
        // A 43-character token_urlsafe sid is never 64 hex digits; a hashed key always is.
        if key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(RedisError::HashedKeyInFlaskMode);
        }
        Ok(format!("{}{key}", self.prefix))
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, StoreError> {
        let created = self
            .keep_created
            .then(|| record.created_at.as_unix_millis());
        codec::encode(&record.data, record.permanent, created)
            .map_err(|error| StoreError::Backend(Box::new(error)))
    }

    async fn eval(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<i64, StoreError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
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
    async fn load(&self, key: &StorageKey) -> Result<Option<Record>, StoreError> {
        let redis_key = self.redis_key(key)?;
        let mut conn = self.redis.conn();
        let mut pipe = redis::pipe();
        pipe.atomic().get(&redis_key).pttl(&redis_key);
        let reply: redis::Value = self.redis.run(pipe.query_async(&mut conn)).await?;
        let (value, ttl): (Option<Vec<u8>>, i64) =
            redis::from_redis_value(&reply).map_err(DecodeError::Reply)?;
        let now = Timestamp::now();
        let (Some(bytes), Some(expires_at)) = (value, deadline(now, ttl, self.window)) else {
            return Ok(None);
        };
        let codec::Decoded {
            data,
            permanent,
            created,
        } = codec::decode(&bytes)?;
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

    async fn create(&self, key: &StorageKey, record: &Record) -> Result<(), StoreError> {
        let value = self.encode(record)?;
        let deadline = record.expires_at.as_unix_millis().to_string();
        match self
            .eval(
                &CREATE,
                &[&self.redis_key(key)?],
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
    ) -> Result<(), StoreError> {
        let value = self.encode(record)?;
        let expected = codec::fingerprint_hex(expected_version);
        let deadline = record.expires_at.as_unix_millis().to_string();
        let args: [&[u8]; 3] = [expected.as_bytes(), &value, deadline.as_bytes()];
        match self.eval(&SAVE, &[&self.redis_key(key)?], &args).await? {
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
    ) -> Result<(), StoreError> {
        let (old, new) = (self.redis_key(old)?, self.redis_key(new)?);
        let value = self.encode(record)?;
        let expected = codec::fingerprint_hex(expected_version);
        let deadline = record.expires_at.as_unix_millis().to_string();
        if !self.redis.is_cluster() {
            let args: [&[u8]; 3] = [expected.as_bytes(), &value, deadline.as_bytes()];
            return match self.eval(&CHANGE_KEY, &[&old, &new], &args).await? {
                1 => Ok(()),
                -1 => Err(StoreError::KeyCollision),
                _ => Err(StoreError::Conflict),
            };
        }
        // Across cluster slots: create the new key, then delete the old one if unchanged;
        // nobody else knows the new key until then (see `RedisStore`).
        if self
            .eval(&CREATE, &[&new], &[&value, deadline.as_bytes()])
            .await?
            == 0
        {
            return Err(StoreError::KeyCollision);
        }
        match self.eval(&DELETE_IF, &[&old], &[expected.as_bytes()]).await {
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
            .run(conn.del::<_, ()>(self.redis_key(key)?))
            .await?)
    }

    /// Moves the key's TTL to `expires_at`; `PEXPIREAT` never creates a missing key. The
    /// value (and so the version) is untouched; `last_active` is implied by the TTL.
    async fn touch(
        &self,
        key: &StorageKey,
        _last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.redis.conn();
        let request = conn.pexpire_at::<_, i64>(self.redis_key(key)?, expires_at.as_unix_millis());
        let _touched = self.redis.run(request).await?;
        Ok(())
    }

    /// Redis expires Flask-Session's keys by their TTL: always `Ok(0)`.
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::FlaskSessionCompat
    }
}

/// The deadline a key's `PTTL` reply implies: `None` for a missing (or expiring) key, the
/// window from now for a key without a TTL (not written by Flask-Session).
fn deadline(now: Timestamp, pttl: i64, window: Duration) -> Option<Timestamp> {
    match pttl {
        -1 => Some(now.saturating_add(window)),
        ttl if ttl > 0 => Some(Timestamp::from_unix_millis(
            now.as_unix_millis().saturating_add(ttl),
        )),
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
