//! [`ServerSide`]'s per-user index: list a principal's sessions, end some of them, and
//! keep a principal within its cap. The store keeps the index; this layer names sessions
//! by handle (never by id or storage key) and judges expiry with the current settings.

use tracing::{debug, warn};

use super::save::is_tombstone;
use super::ServerSide;
use crate::backend::Revocation;
use crate::clock::Timestamp;
use crate::store::{Record, RecordStore, StorageKey, StoreError};
use crate::{LiveSession, SessionConfig, SessionError, SessionHandle};

impl<S: RecordStore> ServerSide<S> {
    /// The principal's sessions that are live under `config` at `now`, with their keys.
    pub(super) async fn indexed(
        &self,
        principal: &str,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, SessionError> {
        let found = self
            .store
            .sessions_of(principal, now)
            .await
            .map_err(|error| match error {
                StoreError::Unsupported(_) => crate::session::index_unsupported(),
                error => error.into(),
            })?;
        Ok(found
            .into_iter()
            .filter(|(_, record)| {
                // The store indexes by what it stored; the settings may have tightened
                // since, and a record may have been retied: trust only what holds now.
                record.principal() == Some(principal)
                    && !is_tombstone(record)
                    && !config.is_expired(record, now)
            })
            .collect())
    }

    pub(super) async fn live_sessions(
        &self,
        principal: &str,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<Vec<LiveSession>, SessionError> {
        let sessions = self.indexed(principal, config, now).await?;
        Ok(sessions
            .iter()
            .map(|(key, record)| LiveSession::new(key, record))
            .collect())
    }

    /// Deletes the principal's sessions `which` selects; returns how many.
    pub(super) async fn revoke_selected(
        &self,
        principal: &str,
        which: Revocation<'_>,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Result<u64, SessionError> {
        let mut ended = 0;
        for (key, _) in self.indexed(principal, config, now).await? {
            if which.selects(&SessionHandle::for_key(&key)) {
                self.store.delete(&key).await?;
                ended += 1;
            }
        }
        debug!(ended, "revoked sessions of a principal");
        Ok(ended)
    }

    /// After a save that tied a session to `principal`: ends the principal's least
    /// recently active sessions beyond the configured cap.
    ///
    /// Every process orders sessions the same way (last active, then created, then
    /// handle), so logins racing on one principal agree on whom to evict and the newest
    /// survive. A failure is logged, not returned: the login itself stands.
    pub(super) async fn enforce_cap(
        &self,
        principal: &str,
        config: &SessionConfig,
        now: Timestamp,
    ) {
        let Some(max) = config.max_sessions_per_principal() else {
            return;
        };
        let mut sessions = match self.indexed(principal, config, now).await {
            Ok(sessions) => sessions,
            Err(error) => {
                warn!(%error, "could not list a principal's sessions to enforce the cap");
                return;
            }
        };
        let Some(excess) = sessions.len().checked_sub(max.get()).filter(|&n| n > 0) else {
            return;
        };
        sessions.sort_by_cached_key(|(key, record)| {
            (
                record.last_active,
                record.created_at,
                SessionHandle::for_key(key),
            )
        });
        for (key, _) in sessions.iter().take(excess) {
            if let Err(error) = self.store.delete(key).await {
                warn!(%error, "could not end a session beyond the principal's cap");
            }
        }
        debug!(
            evicted = excess,
            "a login ended sessions beyond the principal's cap"
        );
    }
}
