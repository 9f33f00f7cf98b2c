//! What the manager does with a handler's session: build it from a backend's load, take
//! what the request did, save it early at the handler's request. Crate-private, so a
//! handler cannot reach any of it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::changes::Change;
use super::{ChangeSet, LiveSession, Session, SessionHandle, State};
use crate::backend::Revocation;
use crate::backend::{Lifecycle, SizeLimit};
use crate::store::{Record, StorageKey};
use crate::SessionError;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a session reaches through its request's slot in the manager: an early save, and
/// the backend's per-user index.
pub(crate) trait Host: Send + Sync {
    fn commit(&self) -> BoxFuture<'_, Result<(), SessionError>>;

    /// Whether the backend keeps the per-user index.
    fn indexes_principals(&self) -> bool;

    fn sessions_of<'a>(
        &'a self,
        principal: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LiveSession>, SessionError>>;

    fn revoke<'a>(
        &'a self,
        principal: &'a str,
        which: Revocation<'a>,
    ) -> BoxFuture<'a, Result<u64, SessionError>>;
}

/// What the manager takes from a finished request's session.
pub(crate) struct Taken {
    pub(crate) record: Record,
    pub(crate) changes: ChangeSet,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) accessed: bool,
}

impl Session {
    pub(crate) fn from_loaded(
        record: Record,
        lifecycle: Lifecycle,
        size_limit: Option<SizeLimit>,
    ) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                record,
                changes: ChangeSet::default(),
                lifecycle,
                accessed: false,
                saved: false,
                size_limit,
                host: None,
                key: None,
            })),
        }
    }

    /// Ties the session to the request that will save it (for [`Session::commit`] and the
    /// per-user index); `key` names the stored session the request loaded, if any.
    pub(crate) fn attach(&self, host: Weak<dyn Host>, key: Option<StorageKey>) {
        let mut state = self.lock();
        state.host = Some(host);
        state.key = key;
    }

    /// The request's host, while the request lives.
    pub(super) fn host(&self) -> Option<Arc<dyn Host>> {
        self.lock().host.as_ref().and_then(Weak::upgrade)
    }

    /// Takes what the request did, once; later writes through clones of this handle fail
    /// with [`SessionError::AlreadySaved`], while reads still see the data.
    pub(crate) fn take(&self) -> Taken {
        let mut state = self.lock();
        state.saved = true;
        Taken {
            record: state.record.clone(),
            changes: std::mem::take(&mut state.changes),
            lifecycle: state.lifecycle,
            accessed: state.accessed,
        }
    }

    /// After a save: reads show `record`, what the store now holds.
    pub(crate) fn show_stored(&self, record: Record) {
        self.lock().record = record;
    }

    /// After a save: the stored session's key, when the save gave it a new id (`None`
    /// after a removal).
    pub(crate) fn show_key(&self, key: Option<StorageKey>) {
        self.lock().key = key;
    }

    /// The public handle of the stored session this is, if it is stored.
    pub(super) fn current_handle(&self) -> Option<SessionHandle> {
        self.lock().key.as_ref().map(SessionHandle::for_key)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another handler holding the lock leaves the data consistent (every
        // write is applied or undone before the lock is released), so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write(&self, change: Change) -> Result<(), SessionError> {
        self.apply(change, true)
    }

    /// Applies a change that only removes data. It skips the size check: a session that is
    /// already over a backend's limit (sent by an older version, say) must still be able to
    /// shrink. A saved session ignores it, as it ignores reads.
    pub(super) fn shrink(&self, change: Change) {
        let _already_saved = self.apply(change, false);
    }

    pub(super) fn apply(&self, change: Change, check_size: bool) -> Result<(), SessionError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        if state.saved {
            return Err(SessionError::AlreadySaved);
        }
        if state.lifecycle == Lifecycle::Superseded {
            return Err(SessionError::Superseded);
        }
        state.accessed = true;
        let undo = change.apply(&mut state.record)?;
        if let Some(limit) = state.size_limit.as_ref().filter(|_| check_size) {
            if let Err(error) = limit(&state.record) {
                undo.revert(&mut state.record);
                return Err(error);
            }
        }
        state.changes.push(change);
        Ok(())
    }
}
