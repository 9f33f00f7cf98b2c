//! Turns any [`RecordStore`] into a [`SessionBackend`]: id issuing, hashing at rest,
//! strict mode, expiry on load, per-session serialisation and compare-and-swap retries.

mod backoff;
mod id_cookie;
mod locks;

use std::sync::Arc;

use async_trait::async_trait;
use tracing::{debug, warn};

use self::locks::SessionLocks;
use crate::{
    Capabilities, ChangeSet, CookieUpdate, IntoSessionBackend, Outcome, Record, RecordStore,
    Session, SessionBackend, SessionConfig, SessionError, SessionId, SizeLimit, StorageKey,
    StoreError, Timestamp,
};

/// How many times a save is tried against concurrent writers before giving up. Inside one
/// process requests on a session are serialised, so conflicts only come from other
/// processes, and each retry re-reads their latest write.
const DEFAULT_MAX_ATTEMPTS: u32 = 32;
/// How many fresh ids are tried when a new id collides (which 256 random bits make a
/// sign of a broken random source, not bad luck).
const ID_ATTEMPTS: u32 = 3;
/// The default ceiling on a server-side session's JSON size.
const DEFAULT_MAX_SESSION_BYTES: usize = 1024 * 1024;

/// How a session id becomes a [`StorageKey`]; declared by each store through
/// [`RecordStore::key_scheme`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyScheme {
    /// SHA-256 of the id: what a store keeps is useless as a cookie. The default.
    #[default]
    Hashed,
    /// The raw id, as Flask-Session stores it (`session:<id>`). Use only to share sessions
    /// with a Flask-Session app: a dump of the store then holds live session cookies.
    FlaskSessionCompat,
}

/// A [`RecordStore`] made into a [`SessionBackend`].
///
/// - **Ids**: 256 bits from the OS random source; the store sees only their SHA-256.
/// - **Strict mode**: an id the store does not hold (never issued, expired, destroyed) is
///   never adopted; the visitor is anonymous and a write gets a brand-new id.
/// - **Expiry** is checked on every load against the stored deadline and the current
///   [`SessionConfig`]; unchanged sessions are touched per the refresh policy.
/// - **Concurrency**: requests on one session in this process are serialised from load to
///   save; across processes, saves are compare-and-swap and a conflict replays this
///   request's writes (including `update` closures) on the latest record, after a short
///   jittered pause (up to 16 ms, on Tokio's timer) so competing processes fall out of
///   lockstep.
///
/// # Examples
///
/// ```
/// use session_core::{CookieUpdate, MemoryStore, ServerSide, SessionBackend, SessionConfig};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let backend = ServerSide::new(MemoryStore::default());
/// let config = SessionConfig::default();
///
/// let session = backend.load(None, &config).await?;
/// session.insert("user", "ada")?;
/// let CookieUpdate::Set { value, .. } = backend.save(session.finish(), &config).await? else {
///     panic!("a new session sets a cookie");
/// };
///
/// let again = backend.load(Some(&value), &config).await?;
/// assert_eq!(again.get::<String>("user")?.as_deref(), Some("ada"));
/// // Strict mode: an id the server never issued is not adopted.
/// let forged = backend.load(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), &config).await?;
/// assert!(forged.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ServerSide<S> {
    store: Arc<S>,
    locks: SessionLocks,
    key_scheme: KeyScheme,
    max_session_bytes: Option<usize>,
    /// The check built once from `max_session_bytes` and shared by every session.
    size_limit: Option<SizeLimit>,
    max_attempts: u32,
}

impl<S: RecordStore> ServerSide<S> {
    /// Wraps `store` with the defaults: hashed keys, a 1 MiB session limit, 32 attempts.
    pub fn new(store: S) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Wraps a store that is shared with other code (a maintenance task, say).
    pub fn from_arc(store: Arc<S>) -> Self {
        Self {
            key_scheme: store.key_scheme(),
            store,
            locks: SessionLocks::default(),
            max_session_bytes: Some(DEFAULT_MAX_SESSION_BYTES),
            size_limit: Some(json_size_limit(DEFAULT_MAX_SESSION_BYTES)),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Sets the largest session (as JSON) a write may produce; `None` for no limit.
    pub fn with_max_session_bytes(mut self, limit: Option<usize>) -> Self {
        self.max_session_bytes = limit;
        self.size_limit = limit.map(json_size_limit);
        self
    }

    /// Sets how many times a save is tried against concurrent writers (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wrapped store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The storage key of a loaded session: the one `load` derived and attached as the
    /// session's origin, so the id is hashed once per request; derived again otherwise.
    fn loaded_key(&self, outcome: &Outcome, id: &SessionId) -> StorageKey {
        outcome
            .origin
            .as_ref()
            .and_then(|origin| origin.downcast_ref::<StorageKey>())
            .cloned()
            .unwrap_or_else(|| self.storage_key(id))
    }

    fn storage_key(&self, id: &SessionId) -> StorageKey {
        match self.key_scheme {
            KeyScheme::Hashed => StorageKey::hashed(id),
            KeyScheme::FlaskSessionCompat => StorageKey::raw_for_flask_session_compat(id),
        }
    }

    fn prepare(&self, session: Session) -> Session {
        match &self.size_limit {
            None => session,
            Some(limit) => session.with_size_limit(Arc::clone(limit)),
        }
    }

    fn cookie_for(&self, id: &SessionId, record: &Record, config: &SessionConfig) -> CookieUpdate {
        CookieUpdate::Set {
            value: id_cookie::encode(id, config.cookie_name(), config.keys()),
            persistent: record.permanent,
        }
    }

    /// Stores `record` under a fresh id.
    async fn create(
        &self,
        mut record: Record,
        config: &SessionConfig,
    ) -> Result<CookieUpdate, SessionError> {
        record.version = 1;
        for attempt in 1..=ID_ATTEMPTS {
            let id = SessionId::generate()?;
            match self.store.create(&self.storage_key(&id), &record).await {
                Ok(()) => return Ok(self.cookie_for(&id, &record, config)),
                Err(StoreError::KeyCollision) if attempt < ID_ATTEMPTS => {
                    warn!("a freshly generated session id collided; drawing another");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(SessionError::Conflict {
            attempts: ID_ATTEMPTS,
        })
    }

    /// A brand-new session holding only this request's writes, for when the loaded one was
    /// destroyed (here or concurrently): the old id is never brought back.
    async fn create_from_changes(
        &self,
        changes: &ChangeSet,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<CookieUpdate, SessionError> {
        let mut record = config.new_record(now);
        changes.apply_to(&mut record)?;
        self.create(record, config).await
    }

    /// Saves a loaded session, replaying its changes on the latest record after conflicts.
    async fn save_existing(
        &self,
        id: SessionId,
        key: StorageKey,
        mut version: u64,
        outcome: Outcome,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<CookieUpdate, SessionError> {
        let Outcome {
            mut record,
            changes: outcome_changes,
            regenerate,
            ..
        } = outcome;
        for attempt in 1..=self.max_attempts {
            record.last_active = now;
            record.expires_at = config.expires_at(record.created_at, now);
            record.version = version + 1;
            let result = if regenerate {
                let new_id = SessionId::generate()?;
                self.store
                    .change_key(&key, &self.storage_key(&new_id), &record, version)
                    .await
                    .map(|()| Some(new_id))
            } else {
                self.store.save(&key, &record, version).await.map(|()| None)
            };
            match result {
                Ok(Some(new_id)) => return Ok(self.cookie_for(&new_id, &record, config)),
                Ok(None) if record.permanent => return Ok(self.cookie_for(&id, &record, config)),
                Ok(None) => return Ok(CookieUpdate::Unchanged),
                Err(StoreError::KeyCollision) if regenerate => {
                    warn!("a regenerated session id collided; drawing another");
                }
                Err(StoreError::Conflict) => {
                    debug!(
                        attempt,
                        "session changed concurrently; replaying this request's writes"
                    );
                    backoff::pause(attempt).await;
                    match self.store.load(&key).await? {
                        Some(fresh) if !config.is_expired(&fresh, now) => {
                            version = fresh.version;
                            record = fresh;
                            outcome_changes.apply_to(&mut record)?;
                        }
                        _ => {
                            return self
                                .create_from_changes(&outcome_changes, config, now)
                                .await
                        }
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(SessionError::Conflict {
            attempts: self.max_attempts,
        })
    }

    /// Pushes an unchanged session's expiry forward when the refresh policy says so.
    async fn refresh(
        &self,
        id: &SessionId,
        key: &StorageKey,
        record: &Record,
        config: &SessionConfig,
        now: Timestamp,
    ) -> CookieUpdate {
        if !config.refresh_due(record.last_active, now) {
            return CookieUpdate::Unchanged;
        }
        let expires_at = config.expires_at(record.created_at, now);
        if let Err(error) = self.store.touch(key, now, expires_at).await {
            // The request itself succeeded; the session just is not extended this time.
            warn!(%error, "could not refresh the session's expiry");
            return CookieUpdate::Unchanged;
        }
        if record.permanent {
            self.cookie_for(id, record, config)
        } else {
            CookieUpdate::Unchanged
        }
    }
}

#[async_trait]
impl<S: RecordStore> SessionBackend for ServerSide<S> {
    async fn load(
        &self,
        cookie: Option<&str>,
        config: &SessionConfig,
    ) -> Result<Session, SessionError> {
        let now = Timestamp::now();
        let anonymous = || self.prepare(Session::anonymous(config.new_record(now)));
        let Some(id) =
            cookie.and_then(|value| id_cookie::decode(value, config.cookie_name(), config.keys()))
        else {
            if cookie.is_some() {
                debug!("ignoring a malformed or forged session cookie");
            }
            return Ok(anonymous());
        };
        let key = self.storage_key(&id);
        let guard = self.locks.lock(&key).await;
        match self.store.load(&key).await {
            Ok(Some(record)) if !config.is_expired(&record, now) => Ok(self
                .prepare(Session::loaded(Some(id), record))
                .with_origin(Arc::new(key))
                .hold(Box::new(guard))),
            Ok(Some(_)) => {
                debug!("session expired");
                if let Err(error) = self.store.delete(&key).await {
                    warn!(%error, "could not delete an expired session");
                }
                Ok(anonymous())
            }
            Ok(None) => {
                debug!("unknown session id; starting an anonymous session (strict mode)");
                Ok(anonymous())
            }
            Err(StoreError::Corrupt(error)) => {
                warn!(%error, "discarding a corrupt session record");
                Ok(anonymous())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn save(
        &self,
        outcome: Outcome,
        config: &SessionConfig,
    ) -> Result<CookieUpdate, SessionError> {
        let now = Timestamp::now();
        let key = outcome.id.as_ref().map(|id| self.loaded_key(&outcome, id));
        if outcome.destroyed {
            if let Some(key) = &key {
                self.store.delete(key).await?;
            }
            if outcome.changes.is_empty() {
                return Ok(CookieUpdate::Remove);
            }
            return self
                .create_from_changes(&outcome.changes, config, now)
                .await;
        }
        match (outcome.id.clone(), key, outcome.loaded_version) {
            (Some(id), Some(key), Some(version)) if outcome.is_modified() => {
                self.save_existing(id, key, version, outcome, config, now)
                    .await
            }
            (Some(id), Some(key), Some(_)) => {
                Ok(self.refresh(&id, &key, &outcome.record, config, now).await)
            }
            _ if !outcome.changes.is_empty() => {
                let mut record = outcome.record;
                record.last_active = now;
                record.expires_at = config.expires_at(record.created_at, now);
                self.create(record, config).await
            }
            // A new session that only asked for regeneration has nothing to store yet.
            _ => Ok(CookieUpdate::Unchanged),
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::server_side(self.max_session_bytes)
    }
}

impl<S: RecordStore> IntoSessionBackend for ServerSide<S> {
    type Backend = Self;

    fn into_backend(self) -> Self {
        self
    }
}

/// The check that a session's data stays within `limit` bytes of JSON.
fn json_size_limit(limit: usize) -> SizeLimit {
    Arc::new(move |record: &Record| {
        let size = crate::json_len(&record.data);
        if size > limit {
            Err(SessionError::TooLarge {
                size,
                limit,
                backend: "server-side",
                advice: "store less in the session, or raise the limit with `ServerSide::with_max_session_bytes`",
            })
        } else {
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests;
