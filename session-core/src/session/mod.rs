//! The handler's room: the [`Session`] a request handler reads and writes, typed
//! [`SessionKey`]s and [`Flash`] messages. Nothing here knows about cookies, stores or
//! frameworks; what a backend needs lives in [`backend`](crate::backend).

mod changes;
mod flash;
mod index;
mod key;
mod principal;
mod saving;

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use self::changes::ChangeSet;
pub(crate) use self::changes::REMEMBER_KEY;
use self::changes::{Change, UpdateFn, FLASHES_KEY};

pub use self::flash::Flash;
pub use self::key::SessionKey;
pub(crate) use self::principal::{index_unsupported, PRINCIPAL_KEY};
pub use self::principal::{InvalidSessionHandle, LiveSession, Principal, SessionHandle};
pub(crate) use self::saving::Host;
#[cfg(test)]
use self::saving::Taken;
use crate::backend::{Lifecycle, SizeLimit};
use crate::clock::Timestamp;
use crate::store::{Record, StorageKey};
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
///
/// Saving is the adapter's job, not the handler's: the backend's machinery is not reachable
/// from here.
///
/// ```compile_fail
/// let session = session_core::Session::default();
/// let outcome = session.finish(); // no such method on the handler's session
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
    /// The request this session belongs to, for [`Session::commit`] and the per-user
    /// index; weak, because the request holds the session.
    host: Option<Weak<dyn Host>>,
    /// The storage key of the stored session this is, if it is stored; its public handle
    /// is derived when the per-user index asks for it.
    key: Option<StorageKey>,
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
    /// [`SessionError::WrongType`] when the stored value is not a `T`.
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
    /// [`SessionError::WrongType`] when the stored value is not a `T`; the value then stays.
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
    /// the one computed now; a re-run at save time may store a later one: to answer with
    /// the value that was stored, use [`Session::update_committed`].
    ///
    /// `f` is `'static` because it may run again after the handler returned: move what it
    /// needs from the request into it.
    ///
    /// ```
    /// # let session = session_core::Session::default();
    /// let item = String::from("tea"); // from the request
    /// let cart = session.update("cart", move |cart: Option<Vec<String>>| {
    ///     let mut cart = cart.unwrap_or_default();
    ///     cart.push(item.clone());
    ///     cart
    /// })?;
    /// assert_eq!(cart, ["tea"]);
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionError::WrongType`] when the stored value is not a `T`;
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

    /// [`update`](Self::update), then [`commit`](Self::commit), and the value that was
    /// stored: what another process's concurrent writes made of this request's update.
    /// Two concurrent requests never both answer the same count, even across processes.
    ///
    /// # Errors
    ///
    /// As [`update`](Self::update) and [`commit`](Self::commit).
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let session = session_core::Session::default();
    /// let n = session.update_committed("counter", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), session_core::SessionError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn update_committed<T, F>(
        &self,
        key: impl Into<String>,
        f: F,
    ) -> Result<T, SessionError>
    where
        T: Serialize + DeserializeOwned + 'static,
        F: Fn(Option<T>) -> T + Send + Sync + 'static,
    {
        let key = key.into();
        let computed = self.update(key.clone(), f)?;
        self.commit().await?;
        Ok(self.get(&key)?.unwrap_or(computed))
    }

    /// Saves the session now, before the handler returns. Afterwards reads show exactly
    /// what was stored (this request's writes replayed on whatever other requests, in any
    /// process, stored meanwhile), and writes are refused with
    /// [`SessionError::AlreadySaved`]. The response still gets the cookie the save called
    /// for.
    ///
    /// Cost: none in store work (the one save the request would have made at its end
    /// happens here instead), and a server-side session's per-request lock is released
    /// earlier. A session that belongs to no request ([`Session::default`]) has nothing to
    /// save to and stays as it is.
    ///
    /// # Errors
    ///
    /// As the save at the end of a request: a store that is down, a session too large, a
    /// write on a session a login just replaced ([`SessionError::Superseded`]).
    pub async fn commit(&self) -> Result<(), SessionError> {
        match self.host() {
            Some(host) => host.commit().await,
            None => Ok(()),
        }
    }

    /// Remembers this browser: the session becomes permanent (a persistent cookie) and
    /// its idle window is `idle` instead of the configured idle timeout, still capped by
    /// the absolute timeout and the lifetime. Call it at login, when the user ticks
    /// "remember me".
    ///
    /// Kept in the session under `_remember_for` (milliseconds), beside Flask's own
    /// underscore keys, so every backend stores it.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] when the session would no longer fit its backend.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let session = session_core::Session::default();
    /// session.remember_for(Duration::from_secs(30 * 24 * 60 * 60))?;
    /// assert!(session.is_permanent());
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    pub fn remember_for(&self, idle: Duration) -> Result<(), SessionError> {
        let millis = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        self.write(Change::SetPermanent(true))?;
        self.write(Change::Insert(REMEMBER_KEY.to_owned(), Value::from(millis)))
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
    ///
    /// After the session was saved ([`commit`](Self::commit)) there is nothing left to
    /// rename: the call is logged as a mistake and does nothing.
    pub fn regenerate(&self) {
        let mut state = self.lock();
        if state.saved {
            tracing::warn!("regenerate() on a session already saved this request: ignored");
            return;
        }
        state.accessed = true;
        state.lifecycle = state.lifecycle.regenerated();
    }

    /// Ends the session: at the end of the request it is deleted from the server and the
    /// browser gets a removal cookie. Values written after this start a new session with a
    /// new id (so "logged out" can be flashed).
    ///
    /// On a session a login replaced moments ago ([`SessionError::Superseded`]), nothing
    /// happens: ending it would remove the cookie of the login that replaced it.
    ///
    /// After the session was saved ([`commit`](Self::commit)) it can no longer be ended
    /// this request: the call is logged as a mistake and does nothing.
    pub fn destroy(&self) {
        let mut state = self.lock();
        if state.saved {
            tracing::warn!("destroy() on a session already saved this request: ignored");
            return;
        }
        state.accessed = true;
        if state.lifecycle == Lifecycle::Superseded {
            return;
        }
        state.lifecycle = Lifecycle::Destroyed;
        state.changes = ChangeSet::default();
        state.record.data.clear();
    }
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
    T::deserialize(value).map_err(|source| SessionError::WrongType {
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
