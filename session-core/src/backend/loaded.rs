//! What a backend hands over at load ([`Loaded`]) and gets back at save ([`Outcome`]).

use std::fmt;
use std::sync::Arc;

use super::{CookieUpdate, Lifecycle};
use crate::session::ChangeSet;
use crate::store::{Record, StorageKey};
use crate::SessionError;

/// A backend's check that a session still fits it, run on every write; a failing write is
/// undone and its error returned to the handler.
pub type SizeLimit = Arc<dyn Fn(&Record) -> Result<(), SessionError> + Send + Sync>;

/// A session as a backend loaded it, with the backend's own state for the save.
///
/// `S` is the backend's [`SessionBackend::State`](super::SessionBackend::State): whatever
/// `load` learnt that `save` needs (a storage key and a lock guard, the cookie's issue
/// time...), handed back typed in [`Outcome::state`].
///
/// # Examples
///
/// ```
/// use session_core::backend::{Lifecycle, Loaded};
/// use session_core::SessionConfig;
/// use session_core::clock::Timestamp;
///
/// let record = SessionConfig::default().new_record(Timestamp::from_unix_millis(0));
/// let loaded = Loaded::new_session(record, "state for save");
/// assert_eq!(loaded.lifecycle(), Lifecycle::New);
/// assert_eq!(*loaded.state(), "state for save");
/// ```
pub struct Loaded<S> {
    pub(crate) record: Record,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) size_limit: Option<SizeLimit>,
    pub(crate) storage_key: Option<StorageKey>,
    pub(crate) state: S,
}

impl<S> Loaded<S> {
    /// The stored session the cookie named.
    pub fn existing(record: Record, state: S) -> Self {
        Self {
            record,
            lifecycle: Lifecycle::Loaded,
            size_limit: None,
            storage_key: None,
            state,
        }
    }

    /// A new, empty session for a visitor without a valid cookie (`record` from
    /// [`SessionConfig::new_record`](crate::SessionConfig::new_record)).
    pub fn new_session(record: Record, state: S) -> Self {
        Self {
            record,
            lifecycle: Lifecycle::New,
            size_limit: None,
            storage_key: None,
            state,
        }
    }

    /// A session that a login renamed moments ago ([`Lifecycle::Superseded`]); `record`
    /// is an empty one ([`SessionConfig::new_record`](crate::SessionConfig::new_record)).
    pub fn superseded(record: Record, state: S) -> Self {
        Self {
            record,
            lifecycle: Lifecycle::Superseded,
            size_limit: None,
            storage_key: None,
            state,
        }
    }

    /// Sets the check every write must pass (a cookie's size limit, say).
    pub fn with_size_limit(mut self, limit: SizeLimit) -> Self {
        self.size_limit = Some(limit);
        self
    }

    /// Names the stored session this is, for the per-user index: the request that loaded
    /// it is the [`current`](crate::LiveSession::current) one in its principal's list.
    /// The key, not its handle: the handle is a digest, computed only when the handler
    /// asks for the list, not on every load.
    pub fn with_storage_key(mut self, key: StorageKey) -> Self {
        self.storage_key = Some(key);
        self
    }

    /// The loaded record.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// [`Lifecycle::New`], [`Lifecycle::Loaded`] or [`Lifecycle::Superseded`].
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    /// The backend's state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The same session with its state turned into another type (what erasing a backend
    /// does).
    pub fn map_state<T>(self, f: impl FnOnce(S) -> T) -> Loaded<T> {
        Loaded {
            record: self.record,
            lifecycle: self.lifecycle,
            size_limit: self.size_limit,
            storage_key: self.storage_key,
            state: f(self.state),
        }
    }
}

impl<S> fmt::Debug for Loaded<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("lifecycle", &self.lifecycle)
            .field("keys", &self.record.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What a backend's save did: the cookie to send, and the record the store now holds.
///
/// # Examples
///
/// ```
/// use session_core::backend::{CookieUpdate, Saved};
///
/// let saved = Saved::new(CookieUpdate::Remove);
/// assert!(saved.record.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Saved {
    /// What the response does with the cookie.
    pub cookie: CookieUpdate,
    /// The record as stored by this save, when it differs from the session the handler
    /// saw (a server-side save that replayed this request's writes on another process's
    /// newer record); `None` when the handler's own view is what was stored, or nothing
    /// is stored.
    pub record: Option<Record>,
    /// The storage key of the session under its new id, when the save gave it one
    /// (created or renamed it), for the per-user index.
    pub storage_key: Option<StorageKey>,
}

impl Saved {
    /// A save whose stored record is the handler's own view.
    pub fn new(cookie: CookieUpdate) -> Self {
        Self {
            cookie,
            record: None,
            storage_key: None,
        }
    }

    /// A save that stored the session under a new id, whose storage key is `key`.
    pub fn with_storage_key(mut self, key: StorageKey) -> Self {
        self.storage_key = Some(key);
        self
    }

    /// A save that stored `record`.
    pub fn with_record(mut self, record: Record) -> Self {
        self.record = Some(record);
        self
    }
}

impl From<CookieUpdate> for Saved {
    fn from(cookie: CookieUpdate) -> Self {
        Self::new(cookie)
    }
}

/// What one request did to its session, handed back to the backend that loaded it.
#[non_exhaustive]
pub struct Outcome<S> {
    /// The state the backend attached at load.
    pub state: S,
    /// Where the session stands: loaded, renamed, destroyed...
    pub lifecycle: Lifecycle,
    /// The loaded record with this request's changes applied (after a destroy: the writes
    /// made after it, on an empty record).
    pub record: Record,
    /// This request's writes, in order, for replay on fresher data after a conflict.
    pub changes: ChangeSet,
    /// Whether the handler read or wrote the session at all.
    pub accessed: bool,
}

impl<S> Outcome<S> {
    /// Whether anything must be written: data, permanence, a new id or a destruction.
    pub fn is_modified(&self) -> bool {
        !self.changes.is_empty() || self.lifecycle.is_modified()
    }

    /// The outcome without its state, and the state.
    pub fn split(self) -> (Outcome<()>, S) {
        let Self {
            state,
            lifecycle,
            record,
            changes,
            accessed,
        } = self;
        let outcome = Outcome {
            state: (),
            lifecycle,
            record,
            changes,
            accessed,
        };
        (outcome, state)
    }
}

impl Outcome<()> {
    /// The outcome carrying `state`.
    pub fn with_state<S>(self, state: S) -> Outcome<S> {
        Outcome {
            state,
            lifecycle: self.lifecycle,
            record: self.record,
            changes: self.changes,
            accessed: self.accessed,
        }
    }
}

impl<S> fmt::Debug for Outcome<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("lifecycle", &self.lifecycle)
            .field("changes", &self.changes)
            .field("accessed", &self.accessed)
            .finish_non_exhaustive()
    }
}
