//! [`ServerSide`]: turns any [`RecordStore`] into a [`SessionBackend`]: id issuing,
//! hashing at rest, strict mode, expiry on load, per-session serialisation and
//! compare-and-swap retries.

mod backoff;
mod group_commit;
mod id_cookie;
mod index;
mod locks;
mod save;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::{debug, warn};

use self::locks::{SessionLockGuard, SessionLocks};
use self::save::is_tombstone;
use super::{Record, RecordStore, SessionId, StorageKey, StoreError};
use crate::backend::{
    Capabilities, Context, CookieUpdate, IntoSessionBackend, Lifecycle, Loaded, Outcome,
    Revocation, Saved, SessionBackend, SizeLimit,
};
use crate::clock::Timestamp;
use crate::{LiveSession, SessionConfig, SessionError};

/// How many times a save is tried against concurrent writers before giving up. Inside one
/// process requests on a session are serialised, so conflicts only come from other
/// processes, and each retry re-reads their latest write.
const DEFAULT_MAX_ATTEMPTS: u32 = 32;
/// How many fresh ids are tried when a new id collides (which 256 random bits make a
/// sign of a broken random source, not bad luck).
const ID_ATTEMPTS: u32 = 3;
/// The default ceiling on a server-side session's JSON size: 64 KiB, sixteen times what a
/// browser keeps in a cookie session and far more than a login, a cart and flashes need,
/// yet small enough that anonymous writers cannot make one session a storage attack.
const DEFAULT_MAX_SESSION_BYTES: usize = 64 * 1024;

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
/// - **Empty sessions** are not stored, and a request that empties a stored one deletes
///   it and sends a removal cookie, as Flask-Session does.
/// - **Logins racing other requests**: the id a login renames is marked for
///   [`SessionConfig::superseded_window`]; a request still carrying it reads an empty
///   session, and its writes fail with [`SessionError::Superseded`] (409), never reaching
///   the new session and never replacing the login's cookie.
/// - **Size**: a write that would make the session's JSON larger than the limit (64 KiB
///   by default, [`with_max_session_bytes`](Self::with_max_session_bytes)) fails at
///   `insert` with [`SessionError::TooLarge`]. With that limit, what anonymous writers can
///   make a store hold is bounded by the limit times the sessions they can create: the
///   memory store caps both ([`MemoryStore`](super::MemoryStore)); SQLite, Redis and
///   PostgreSQL hold them until they expire (the idle timeout bounds that), so set an
///   idle timeout and, for Redis, a `maxmemory` policy.
/// - **Corrupt records** (undecodable) are deleted when met, logged and counted
///   ([`ServerSide::corrupt_records_discarded`]); the visitor starts a new session.
/// - **Concurrency**: requests on one session in this process are serialised from load to
///   save, so even a `get` then `insert` of one key loses nothing; a request queued on a
///   busy session starts from the record the one before it read or wrote, when that is
///   under 2 ms old, instead of loading it again. Across processes, saves are
///   compare-and-swap and a conflict replays this request's writes (including `update`
///   closures) on the latest record, after a short jittered pause (up to 16 ms) so
///   competing processes fall out of lockstep.
/// - **Group commit**: a write other requests wait for does not hold the session through
///   its round trip to the store. It is queued, and the next request builds on it at once;
///   the writes queued behind one in flight are stored together, in one compare-and-swap,
///   and each request answers its own committed value. A queued view is never stored over
///   changes it lacks, a failed group write makes each of its requests replay alone, and a
///   request that only read a view that is never stored fails with
///   [`SessionError::Conflict`] rather than answer with it. A session many requests write
///   at once is written once per round trip, not once per request.
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::store::{MemoryStore, ServerSide};
/// use session_core::SessionConfig;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let backend = ServerSide::new(MemoryStore::default()).with_max_session_bytes(Some(64 * 1024));
/// let manager = SessionManager::new(backend, SessionConfig::default())?;
///
/// let request = manager.request(None);
/// request.session().await?.insert("user", "ada")?;
/// let cookie = request.finish().await?.and_then(|plan| plan.cookie_value().map(str::to_owned));
///
/// let again = manager.request(cookie.as_deref());
/// assert_eq!(again.session().await?.get::<String>("user")?.as_deref(), Some("ada"));
/// // Strict mode: an id the server never issued is not adopted.
/// let forged = manager.request(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
/// assert!(forged.session().await?.is_empty());
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
    corrupt_discarded: AtomicU64,
}

/// What [`ServerSide`] carries from load to save: the loaded session's id, its storage
/// key (hashed once per request), the version a compare-and-swap save expects, and the
/// per-session lock, held until the save.
pub struct ServerSideState {
    stored: Option<Stored>,
}

struct Stored {
    id: SessionId,
    key: StorageKey,
    version: u64,
    /// When what this request loaded was read from the store.
    read_at: Timestamp,
    /// `Some(epoch)` when what this request loaded is a view the request before it queued
    /// for a group write ([`group_commit`]), not stored yet.
    queued_in: Option<u64>,
    lock: SessionLockGuard,
}

impl fmt::Debug for ServerSideState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id is a live credential: say only whether there is one.
        f.debug_struct("ServerSideState")
            .field("stored", &self.stored.is_some())
            .field("version", &self.stored.as_ref().map(|s| s.version))
            .finish()
    }
}

impl<S: RecordStore> ServerSide<S> {
    /// Wraps `store` with the defaults: hashed keys, a 64 KiB session limit, 32 attempts.
    pub fn new(store: S) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Wraps a store that is shared with other code (a maintenance task, say). The store
    /// is called directly, not through the `Arc` forwarder.
    pub fn from_arc(store: Arc<S>) -> Self {
        Self {
            key_scheme: store.key_scheme(),
            store,
            locks: SessionLocks::default(),
            max_session_bytes: Some(DEFAULT_MAX_SESSION_BYTES),
            size_limit: Some(json_size_limit(DEFAULT_MAX_SESSION_BYTES)),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            corrupt_discarded: AtomicU64::new(0),
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

    /// How many corrupt records this backend met and deleted since it was built.
    pub fn corrupt_records_discarded(&self) -> u64 {
        self.corrupt_discarded.load(Ordering::Relaxed)
    }

    fn storage_key(&self, id: &SessionId) -> StorageKey {
        match self.key_scheme {
            KeyScheme::Hashed => StorageKey::hashed(id),
            KeyScheme::FlaskSessionCompat => StorageKey::raw_for_flask_session_compat(id),
        }
    }

    fn loaded(&self, loaded: Loaded<ServerSideState>) -> Loaded<ServerSideState> {
        match &self.size_limit {
            None => loaded,
            Some(limit) => loaded.with_size_limit(Arc::clone(limit)),
        }
    }

    pub(super) fn cookie_for(
        id: &SessionId,
        record: &Record,
        config: &SessionConfig,
    ) -> CookieUpdate {
        let value = id_cookie::encode(id, config.cookie_name(), config.id_cookie_keys());
        CookieUpdate::set_for(value, record)
    }
}

impl<S: RecordStore> SessionBackend for ServerSide<S> {
    type State = ServerSideState;

    async fn load(
        &self,
        cookie: Option<&str>,
        cx: Context<'_>,
    ) -> Result<Loaded<ServerSideState>, SessionError> {
        let (config, now) = (cx.config(), cx.now());
        let nothing = || ServerSideState { stored: None };
        let new_session = || self.loaded(Loaded::new_session(config.new_record(now), nothing()));
        let Some(id) = cookie.and_then(|value| {
            id_cookie::decode(value, config.cookie_name(), config.id_cookie_keys())
        }) else {
            if cookie.is_some() {
                debug!("ignoring a malformed or forged session cookie");
            }
            return Ok(new_session());
        };
        let key = self.storage_key(&id);
        let mut lock = self.locks.lock(&key).await;
        let (loaded, read_at, queued_in) = match lock.take_recent(now) {
            Some(snapshot) => (
                Ok(Some(snapshot.record)),
                snapshot.read_at,
                snapshot.queued_in,
            ),
            None => (self.store.load(&key, now).await, now, None),
        };
        match loaded {
            Ok(Some(record)) if is_tombstone(&record) => {
                debug!("the session id was renamed by a login moments ago");
                Ok(Loaded::superseded(config.new_record(now), nothing()))
            }
            Ok(Some(record)) if !config.is_expired(&record, now) => {
                let version = record.version;
                let stored = Stored {
                    id,
                    key,
                    version,
                    read_at,
                    queued_in,
                    lock,
                };
                let key = stored.key.clone();
                let state = ServerSideState {
                    stored: Some(stored),
                };
                Ok(self.loaded(Loaded::existing(record, state).with_storage_key(key)))
            }
            Ok(Some(_)) => {
                debug!("session expired");
                if let Err(error) = self.store.delete(&key).await {
                    warn!(%error, "could not delete an expired session");
                }
                Ok(new_session())
            }
            Ok(None) => {
                debug!("unknown session id; starting a new session (strict mode)");
                Ok(new_session())
            }
            Err(StoreError::Corrupt(error)) => {
                // It can never be read again: delete it rather than meet it on every load.
                let discarded = self.corrupt_discarded.fetch_add(1, Ordering::Relaxed) + 1;
                warn!(%error, discarded, "deleting a corrupt session record");
                if let Err(error) = self.store.delete(&key).await {
                    warn!(%error, "could not delete a corrupt session record");
                }
                Ok(new_session())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn save(
        &self,
        outcome: Outcome<ServerSideState>,
        cx: Context<'_>,
    ) -> Result<Saved, SessionError> {
        let (config, now) = (cx.config(), cx.now());
        let (outcome, ServerSideState { stored }) = outcome.split();
        let tied = outcome
            .changes
            .ties_principal()
            .then(|| outcome.record.principal().map(str::to_owned))
            .flatten();
        let saved = self.save_outcome(outcome, stored, config, now).await?;
        if let Some(principal) =
            tied.filter(|_| saved.storage_key.is_some() || saved.record.is_some())
        {
            self.enforce_cap(&principal, config, now).await;
        }
        Ok(saved)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::server_side(self.max_session_bytes)
            .with_per_user_index(self.store.indexes_principals())
    }

    async fn sessions_of(
        &self,
        principal: &str,
        cx: Context<'_>,
    ) -> Result<Vec<LiveSession>, SessionError> {
        self.live_sessions(principal, cx.config(), cx.now()).await
    }

    async fn revoke(
        &self,
        principal: &str,
        which: Revocation<'_>,
        cx: Context<'_>,
    ) -> Result<u64, SessionError> {
        self.revoke_selected(principal, which, cx.config(), cx.now())
            .await
    }
}

impl<S: RecordStore> ServerSide<S> {
    /// What [`SessionBackend::save`] does, before the per-principal cap.
    async fn save_outcome(
        &self,
        outcome: Outcome<()>,
        stored: Option<Stored>,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<Saved, SessionError> {
        match (outcome.lifecycle, stored) {
            (Lifecycle::Superseded, _) => Ok(Saved::new(CookieUpdate::Unchanged)),
            (Lifecycle::Destroyed, stored) => {
                if let Some(stored) = &stored {
                    // No group write may land after the delete and bring the session back.
                    group_commit::settled(stored.lock.session()).await;
                    self.store.delete(&stored.key).await?;
                }
                if outcome.changes.is_empty() {
                    return Ok(Saved::new(CookieUpdate::Remove));
                }
                self.create_from_changes(&outcome.changes, config, now, stored.is_some())
                    .await
            }
            (_, Some(stored)) if outcome.is_modified() => {
                self.save_existing(stored, outcome, config, now).await
            }
            (_, Some(mut stored)) => Ok(Saved::new(
                self.refresh(&mut stored, outcome.record, config, now)
                    .await?,
            )),
            (_, None) if !outcome.changes.is_empty() => {
                self.create(outcome.record, config, now).await
            }
            // A new session that only asked for regeneration has nothing to store yet.
            (_, None) => Ok(Saved::new(CookieUpdate::Unchanged)),
        }
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
        let size = crate::backend::json_len(&record.data);
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
mod group_tests;
#[cfg(test)]
mod test_store;
#[cfg(test)]
mod tests;
