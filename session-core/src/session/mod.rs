//! The handler's room: the [`Session`] a request handler reads and writes, typed
//! [`SessionKey`]s and [`Flash`] messages. Nothing here knows about cookies, stores or
//! frameworks; what a backend needs lives in [`backend`](crate::backend).

mod changes;
mod flash;
mod key;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use self::changes::ChangeSet;
use self::changes::{Change, UpdateFn, FLASHES_KEY};
pub use self::flash::Flash;
pub use self::key::SessionKey;
use crate::backend::{Lifecycle, SizeLimit};
use crate::clock::Timestamp;
use crate::store::Record;
use crate::SessionError;

const EPOCH: Timestamp = Timestamp::from_unix_millis(0);

/// The session of one request: a typed dictionary that follows the browser.
///
/// Cheap to clone (all clones share one session). Reads and writes are synchronous: the
/// session was loaded before the handler ran and is saved after it returns, once, and
/// only if something changed. Handlers get it from their framework's adapter
/// (`adapter_axum::Session`, `adapter_rocket::Session`, which dereference to this type).
///
/// # Examples
///
/// ```
/// use session_core::Session;
///
/// let session = Session::default();
/// session.insert("username", "ada")?;
/// assert_eq!(session.get::<String>("username")?, Some("ada".to_owned()));
///
/// // A read-modify-write that survives concurrent requests: after a conflict it runs again
/// // on the latest value instead of overwriting it.
/// let visits = session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
/// assert_eq!(visits, 1);
///
/// session.flash("Welcome back!")?;
/// assert_eq!(session.take_flashes()[0].message, "Welcome back!");
/// assert!(session.take_flashes().is_empty());
/// # Ok::<(), session_core::SessionError>(())
/// ```
#[derive(Clone)]
pub struct Session {
    state: Arc<Mutex<State>>,
}

struct State {
    record: Record,
    changes: ChangeSet,
    lifecycle: Lifecycle,
    accessed: bool,
    saved: bool,
    size_limit: Option<SizeLimit>,
}

/// A new, empty session that belongs to no request and no backend: for unit tests of code
/// that takes a session. It never expires and has no size limit.
impl Default for Session {
    fn default() -> Self {
        Self::from_loaded(
            Record::new(EPOCH, Timestamp::from_unix_millis(i64::MAX)),
            Lifecycle::New,
            None,
        )
    }
}

impl Session {
    // ---- reading ----

    /// The value under `key` as a `T`, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`SessionError::Value`] when the stored value is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let mut state = self.lock();
        state.accessed = true;
        state
            .record
            .data
            .get(key)
            .map(|value| from_value(key, value))
            .transpose()
    }

    /// Whether there is a value under `key`.
    pub fn contains(&self, key: &str) -> bool {
        let mut state = self.lock();
        state.accessed = true;
        state.record.data.contains_key(key)
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut state = self.lock();
        state.accessed = true;
        state.record.data.keys().cloned().collect()
    }

    /// Whether the session holds no values.
    pub fn is_empty(&self) -> bool {
        let mut state = self.lock();
        state.accessed = true;
        state.record.data.is_empty()
    }

    /// Whether the session outlives the browser (a cookie with `Max-Age`).
    pub fn is_permanent(&self) -> bool {
        self.lock().record.permanent
    }

    // ---- writing ----

    /// Stores `value` under `key`, replacing what was there.
    ///
    /// # Errors
    ///
    /// [`SessionError::Value`] when `value` cannot be serialized to JSON;
    /// [`SessionError::TooLarge`] when the session would no longer fit its backend (the
    /// session is left as it was).
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = to_value(&key, value)?;
        self.write(Change::Insert(key, value))
    }

    /// Removes the value under `key`; returns whether there was one.
    pub fn remove(&self, key: &str) -> bool {
        let present = self.contains(key);
        if present {
            self.shrink(Change::Remove(key.to_owned()));
        }
        present
    }

    /// Removes the value under `key` and returns it as a `T`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Value`] when the stored value is not a `T`; the value then stays.
    pub fn pop<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let value = self.get::<T>(key)?;
        if value.is_some() {
            self.remove(key);
        }
        Ok(value)
    }

    /// Removes every value. The session id stays; use [`Session::destroy`] at logout.
    pub fn clear(&self) {
        if !self.is_empty() {
            self.shrink(Change::Clear);
        }
    }

    /// Replaces the value under `key` with `f(old)` and returns the new value.
    ///
    /// Unlike a `get` followed by an `insert`, an update is never lost: the closure is kept,
    /// and if another request saved the session after this one loaded it, the closure runs
    /// again on the latest value before this request's save. `f` must therefore be a pure
    /// function of its input, and must not use the session itself. The returned value is
    /// the one computed now; a re-run at save time may store a later one.
    ///
    /// # Errors
    ///
    /// [`SessionError::Value`] when the stored value is not a `T`;
    /// [`SessionError::TooLarge`] when the result would not fit the backend.
    pub fn update<T, F>(&self, key: impl Into<String>, f: F) -> Result<T, SessionError>
    where
        T: Serialize + DeserializeOwned + 'static,
        F: Fn(Option<T>) -> T + Send + Sync + 'static,
    {
        let key = key.into();
        let key_in_closure = key.clone();
        let update: UpdateFn = Arc::new(move |old: Option<&Value>| {
            let old = old
                .map(|value| from_value::<T>(&key_in_closure, value))
                .transpose()?;
            to_value(&key_in_closure, f(old))
        });
        self.write(Change::Update(key.clone(), update))?;
        let state = self.lock();
        let new = state.record.data.get(&key).unwrap_or(&Value::Null);
        from_value(&key, new)
    }

    /// Makes the session outlive the browser (or not), as Flask's `session.permanent`.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] when the cookie would no longer fit.
    pub fn set_permanent(&self, permanent: bool) -> Result<(), SessionError> {
        if self.is_permanent() == permanent {
            return Ok(());
        }
        self.write(Change::SetPermanent(permanent))
    }

    /// Adds a flash message in the default category `"message"`.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] when the session would no longer fit its backend.
    pub fn flash(&self, message: impl Into<String>) -> Result<(), SessionError> {
        self.flash_with("message", message)
    }

    /// Adds a flash message in `category` (Flask's `flash(message, category)`).
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] when the session would no longer fit its backend.
    pub fn flash_with(
        &self,
        category: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<(), SessionError> {
        let flash = Flash {
            category: category.into(),
            message: message.into(),
        };
        self.write(Change::PushFlash(flash.to_value()))
    }

    /// Returns the pending flash messages and removes them, so each is shown once. Takes
    /// nothing (and writes nothing) when there are none.
    pub fn take_flashes(&self) -> Vec<Flash> {
        let stored = {
            let mut state = self.lock();
            state.accessed = true;
            match state.record.data.get(FLASHES_KEY) {
                Some(Value::Array(stored)) => stored.clone(),
                _ => return Vec::new(),
            }
        };
        self.shrink(Change::DrainFlashes(stored.len()));
        stored.iter().filter_map(Flash::from_value).collect()
    }

    // ---- lifecycle ----

    /// Gives the session a new id at the next save, keeping its data. Call it when the
    /// user logs in or gains privileges, so an id planted before login is worthless
    /// (session fixation).
    pub fn regenerate(&self) {
        let mut state = self.lock();
        state.accessed = true;
        state.lifecycle = state.lifecycle.regenerated();
    }

    /// Ends the session: at the end of the request it is deleted from the server and the
    /// browser gets a removal cookie. Values written after this start a new session with a
    /// new id (so "logged out" can be flashed).
    pub fn destroy(&self) {
        let mut state = self.lock();
        state.accessed = true;
        state.lifecycle = Lifecycle::Destroyed;
        state.changes = ChangeSet::default();
        state.record.data.clear();
    }

    // ---- for the manager (crate-private: handlers cannot reach these) ----

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
            })),
        }
    }

    /// Takes what the request did, once; later writes through clones of this handle fail
    /// with [`SessionError::AlreadySaved`].
    pub(crate) fn take(&self) -> Taken {
        let mut state = self.lock();
        state.saved = true;
        Taken {
            record: std::mem::replace(&mut state.record, Record::new(EPOCH, EPOCH)),
            changes: std::mem::take(&mut state.changes),
            lifecycle: state.lifecycle,
            accessed: state.accessed,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another handler holding the lock leaves the data consistent (every
        // write is applied or undone before the lock is released), so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, change: Change) -> Result<(), SessionError> {
        self.apply(change, true)
    }

    /// Applies a change that only removes data. It skips the size check: a session that is
    /// already over a backend's limit (sent by an older version, say) must still be able to
    /// shrink. A saved session ignores it, as it ignores reads.
    fn shrink(&self, change: Change) {
        let _already_saved = self.apply(change, false);
    }

    fn apply(&self, change: Change, check_size: bool) -> Result<(), SessionError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        if state.saved {
            return Err(SessionError::AlreadySaved);
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

/// What the manager takes from a finished request's session.
pub(crate) struct Taken {
    pub(crate) record: Record,
    pub(crate) changes: ChangeSet,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) accessed: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Session")
            .field("keys", &state.record.data.keys().collect::<Vec<_>>())
            .field("changes", &state.changes)
            .field("lifecycle", &state.lifecycle)
            .finish_non_exhaustive()
    }
}

fn from_value<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T, SessionError> {
    T::deserialize(value).map_err(|source| SessionError::Value {
        key: key.to_owned(),
        source,
    })
}

fn to_value<T: Serialize>(key: &str, value: T) -> Result<Value, SessionError> {
    serde_json::to_value(value).map_err(|source| SessionError::Value {
        key: key.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
