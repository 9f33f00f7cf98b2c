//! [`ServerSide`]'s save path: create, compare-and-swap with replay, rename, the marker a
//! login leaves under the id it renamed, and the rolling refresh.

use tracing::{debug, warn};

use super::group_commit::{self, Joined, Place, Turn};
use super::locks::{SessionLockGuard, Snapshot};
use super::{backoff, KeyScheme, ServerSide, Stored, ID_ATTEMPTS};
use crate::backend::{ChangeSet, CookieUpdate, Lifecycle, Outcome, Saved};
use crate::clock::Timestamp;
use crate::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use crate::{SessionConfig, SessionError};

impl<S: RecordStore> ServerSide<S> {
    /// Stores `record` under a fresh id; an empty session is not stored (as Flask-Session
    /// does), so a visitor who only read a flash leaves nothing behind.
    pub(super) async fn create(
        &self,
        mut record: Record,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<Saved, SessionError> {
        if record.data.is_empty() {
            return Ok(Saved::new(CookieUpdate::Unchanged));
        }
        record.version = 1;
        record.last_active = now;
        record.expires_at = config.deadline(&record, now);
        // A collision of 256 random bits means a broken random source: after ID_ATTEMPTS
        // the store's error surfaces rather than a retry forever.
        let mut attempt = 1;
        loop {
            let id = SessionId::generate()?;
            let key = self.storage_key(&id);
            match self.store.create(&key, &record, now).await {
                Ok(()) => {
                    return Ok(Saved::new(Self::cookie_for(&id, &record, config))
                        .with_record(record)
                        .with_storage_key(key))
                }
                Err(StoreError::KeyCollision) if attempt < ID_ATTEMPTS => {
                    warn!("a freshly generated session id collided; drawing another");
                    attempt += 1;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// A brand-new session holding only this request's writes, for when the loaded one was
    /// destroyed (here or concurrently): the old id is never brought back.
    pub(super) async fn create_from_changes(
        &self,
        changes: &ChangeSet,
        config: &SessionConfig,
        now: Timestamp,
        loaded: bool,
    ) -> Result<Saved, SessionError> {
        let mut record = config.new_record(now);
        changes.apply_to(&mut record)?;
        if record.data.is_empty() && loaded {
            // Nothing to keep, and the browser still holds the dead id.
            return Ok(Saved::new(CookieUpdate::Remove));
        }
        self.create(record, config, now).await
    }

    /// Saves a loaded session, replaying its changes on the latest record after conflicts.
    /// A plain write others wait for (or built on a queued view) goes through the group
    /// commit; the rest is written here, one compare-and-swap at a time.
    pub(super) async fn save_existing(
        &self,
        stored: Stored,
        outcome: Outcome<()>,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<Saved, SessionError> {
        let Outcome {
            mut record,
            changes,
            lifecycle,
            ..
        } = outcome;
        let Stored {
            id,
            key,
            mut version,
            queued_in,
            lock,
            ..
        } = stored;
        let rename = lifecycle == Lifecycle::Renamed;
        stamp(&mut record, version, config, now);
        // Whether the session must be read again first: what this request built on is a
        // view that will never be stored, and a compare-and-swap against its version could
        // match an unrelated write.
        let mut reload = false;
        let plain = !rename && !record.data.is_empty();
        let mut lock = if plain && (queued_in.is_some() || lock.contended()) {
            match self
                .write_in_group(lock, &key, &record, queued_in, now)
                .await
            {
                Grouped::Stored => return Ok(Self::saved_in_place(&id, record, config)),
                Grouped::Failed(error) => return Err(error.into()),
                Grouped::Alone(lock) => {
                    reload = queued_in.is_some();
                    lock
                }
                Grouped::Replay => {
                    reload = true;
                    self.locks.lock(&key).await
                }
            }
        } else {
            if let Some(epoch) = queued_in {
                reload = !group_commit::stored(lock.session(), version, epoch).await;
            }
            lock
        };
        for attempt in 1..=self.max_attempts {
            if reload {
                match self.store.load(&key, now).await? {
                    Some(fresh) if !config.is_expired(&fresh, now) && !is_tombstone(&fresh) => {
                        version = fresh.version;
                        record = fresh;
                        changes.apply_to(&mut record)?;
                        stamp(&mut record, version, config, now);
                    }
                    Some(fresh) if is_tombstone(&fresh) => {
                        // A login in another process renamed the session meanwhile.
                        return Err(SessionError::Superseded);
                    }
                    _ => return self.create_from_changes(&changes, config, now, true).await,
                }
                reload = false;
            }
            let result = if rename {
                let new_id = SessionId::generate()?;
                let new_key = self.storage_key(&new_id);
                self.store
                    .change_key(&key, &new_key, &record, version, now)
                    .await
                    .map(|()| Some((new_id, new_key)))
            } else {
                self.store
                    .save(&key, &record, version, now)
                    .await
                    .map(|()| None)
            };
            match result {
                Ok(Some((new_id, new_key))) => {
                    self.leave_tombstone(&key, record.version, config, now)
                        .await;
                    let cookie = Self::cookie_for(&new_id, &record, config);
                    return Ok(Saved::new(cookie)
                        .with_record(record)
                        .with_storage_key(new_key));
                }
                Ok(None) if record.data.is_empty() => {
                    // The request emptied the session (its last flash shown, say): the
                    // compare-and-swap above proved nobody wrote meanwhile, so it goes.
                    self.store.delete(&key).await?;
                    return Ok(Saved::new(CookieUpdate::Remove).with_record(record));
                }
                Ok(None) => {
                    lock.hand_on_stored(record.clone(), now);
                    return Ok(Self::saved_in_place(&id, record, config));
                }
                Err(StoreError::KeyCollision) if rename => {
                    warn!("a regenerated session id collided; drawing another");
                }
                Err(StoreError::Conflict) => {
                    debug!(
                        attempt,
                        "session changed concurrently; replaying this request's writes"
                    );
                    backoff::pause(attempt).await;
                    reload = true;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(SessionError::Conflict {
            attempts: self.max_attempts,
        })
    }

    /// What a stored write answers: the record as this request wrote it, and a new cookie
    /// for a permanent session (its deadline moved).
    fn saved_in_place(id: &SessionId, record: Record, config: &SessionConfig) -> Saved {
        let cookie = if record.permanent {
            Self::cookie_for(id, &record, config)
        } else {
            CookieUpdate::Unchanged
        };
        Saved::new(cookie).with_record(record)
    }

    /// Queues `record` for a group write ([`group_commit`]): hands it on to the next
    /// request, lets that one in, and waits until the record is stored (writing it, and
    /// the views queued behind, when its turn comes).
    async fn write_in_group(
        &self,
        mut lock: SessionLockGuard,
        key: &StorageKey,
        record: &Record,
        queued_in: Option<u64>,
        now: Timestamp,
    ) -> Grouped {
        let Some(Joined { epoch, place }) = group_commit::join(lock.session(), record, queued_in)
        else {
            return Grouped::Alone(lock);
        };
        lock.hand_on(Snapshot {
            record: record.clone(),
            read_at: now,
            queued_in: Some(epoch),
        });
        // Kept until the turn comes, so the session's queue outlives the lock.
        let _session = lock.unlock();
        let (lease, batch) = match place {
            Place::Lead(lease) => (lease, None),
            Place::Wait(turn) => match turn.await {
                Ok(Turn::Stored) => return Grouped::Stored,
                Ok(Turn::Lead(lease, batch)) => (lease, Some(batch)),
                // Told to, or the queue was dropped with a cancelled leader.
                Ok(Turn::Replay) | Err(_) => return Grouped::Replay,
            },
        };
        let (newest, expected) = match &batch {
            Some(batch) => (&batch.record, batch.expected),
            None => (record, record.version.saturating_sub(1)),
        };
        let result = self.store.save(key, newest, expected, now).await;
        lease.finish(result.is_ok().then_some(newest.version));
        if let Some(batch) = batch {
            batch.answer(result.is_ok());
        }
        match result {
            Ok(()) => Grouped::Stored,
            Err(StoreError::Conflict) => Grouped::Replay,
            Err(error) => Grouped::Failed(error),
        }
    }

    /// Marks the key a login just renamed, for [`SessionConfig::superseded_window`], so
    /// requests still carrying the old id are told so instead of starting a new session.
    /// Flask-Session's records are left alone: a Flask app would read the marker as data.
    ///
    /// The marker carries `version`, the renamed record's new version: never one a request
    /// that loaded the old session expects, so such a request's compare-and-swap fails
    /// against the marker and finds it, instead of overwriting it.
    pub(super) async fn leave_tombstone(
        &self,
        old: &StorageKey,
        version: u64,
        config: &SessionConfig,
        now: Timestamp,
    ) {
        if self.key_scheme != KeyScheme::Hashed {
            return;
        }
        let mut tombstone = Record::new(now, now.saturating_add(config.superseded_window()));
        tombstone
            .data
            .insert(SUPERSEDED_KEY.to_owned(), serde_json::Value::Bool(true));
        tombstone.version = version;
        if let Err(error) = self.store.create(old, &tombstone, now).await {
            // Only the 409 for a racing write is lost; the login itself stands.
            debug!(%error, "could not mark a renamed session id");
        }
    }

    /// Pushes an unchanged session's expiry forward when the refresh policy says so.
    ///
    /// # Errors
    ///
    /// [`SessionError::Conflict`] when what this request read was a view queued for a
    /// group write that was never stored: the handler must not answer with it.
    pub(super) async fn refresh(
        &self,
        stored: &mut Stored,
        record: Record,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<CookieUpdate, SessionError> {
        if let Some(epoch) = stored.queued_in {
            if !group_commit::stored(stored.lock.session(), stored.version, epoch).await {
                debug!("a view this request read was never stored");
                return Err(SessionError::Conflict { attempts: 1 });
            }
        }
        if !config.refresh_due(&record, record.last_active, now) {
            // What this request read is still what the store holds.
            let read_at = stored.read_at;
            stored.lock.hand_on_stored(record, read_at);
            return Ok(CookieUpdate::Unchanged);
        }
        let expires_at = config.deadline(&record, now);
        if let Err(error) = self.store.touch(&stored.key, now, expires_at).await {
            // The request itself succeeded; the session just is not extended this time.
            warn!(%error, "could not refresh the session's expiry");
            return Ok(CookieUpdate::Unchanged);
        }
        Ok(if record.permanent {
            // The browser's cookie must follow the new deadline.
            let mut refreshed = record;
            refreshed.expires_at = expires_at;
            Self::cookie_for(&stored.id, &refreshed, config)
        } else {
            CookieUpdate::Unchanged
        })
    }
}

/// How a group write ended for one request.
enum Grouped {
    /// This request's view is stored.
    Stored,
    /// The view will not be stored: reload and replay this request's changes.
    Replay,
    /// The view could not join the queue: save it alone, still holding the lock.
    Alone(SessionLockGuard),
    /// The store failed.
    Failed(StoreError),
}

/// Sets what every write of `record` on top of `version` carries.
fn stamp(record: &mut Record, version: u64, config: &SessionConfig, now: Timestamp) {
    record.last_active = now;
    record.expires_at = config.deadline(record, now);
    record.version = version + 1;
}

/// The data key of the marker a login leaves under the id it renamed.
const SUPERSEDED_KEY: &str = "_superseded_by_login";

pub(super) fn is_tombstone(record: &Record) -> bool {
    record.data.contains_key(SUPERSEDED_KEY)
}
