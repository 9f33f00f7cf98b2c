//! The backend room: what a session backend implements and uses.
//!
//! A backend turns a request's cookie value into a loaded session and a finished session
//! into the cookie to send. Client-side backends (`session-cookie`) implement
//! [`SessionBackend`] directly; server-side stores implement the smaller
//! [`RecordStore`](crate::store::RecordStore) and are wrapped in
//! [`ServerSide`](crate::store::ServerSide). Handlers never see any of this: the
//! [`SessionManager`](crate::adapter::SessionManager) builds the handler's
//! [`Session`](crate::Session) from a [`Loaded`] and hands the backend an [`Outcome`].
//!
//! | type | job |
//! |---|---|
//! | [`SessionBackend`] | `load`: cookie value in, [`Loaded`] out; `save`: [`Outcome`] in, [`Saved`] ([`CookieUpdate`]) out |
//! | [`Loaded`] / [`Outcome`] | the session and the backend's own typed [`SessionBackend::State`] |
//! | [`Lifecycle`] | new, loaded, renamed or destroyed |
//! | [`Context`] | the configuration and the current time, from the manager's clock |
//! | [`BoxedBackend`] | any backend behind one type, to choose a backend at run time |
//!
//! # Examples
//!
//! A backend that keeps nothing (every visitor is new), driven by a manager:
//!
//! ```
//! use session_core::adapter::SessionManager;
//! use session_core::backend::{
//!     Capabilities, Context, CookieUpdate, IntoSessionBackend, Loaded, Outcome, Saved,
//!     SessionBackend,
//! };
//! use session_core::{SessionConfig, SessionError};
//!
//! struct Forgetful;
//!
//! impl SessionBackend for Forgetful {
//!     type State = ();
//!
//!     async fn load(&self, _cookie: Option<&str>, cx: Context<'_>) -> Result<Loaded<()>, SessionError> {
//!         Ok(Loaded::new_session(cx.config().new_record(cx.now()), ()))
//!     }
//!
//!     async fn save(&self, _outcome: Outcome<()>, _cx: Context<'_>) -> Result<Saved, SessionError> {
//!         Ok(Saved::new(CookieUpdate::Unchanged))
//!     }
//!
//!     fn capabilities(&self) -> Capabilities {
//!         Capabilities::client_side(0)
//!     }
//! }
//!
//! // So managers and adapters take it as is.
//! impl IntoSessionBackend for Forgetful {
//!     type Backend = Self;
//!     fn into_backend(self) -> Self { self }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let manager = SessionManager::new(Forgetful, SessionConfig::default())?;
//! let request = manager.request(None);
//! request.session().await?.insert("user", "ada")?;
//! assert_eq!(request.finish().await?.and_then(|plan| plan.set_cookie), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod boxed;
mod lifecycle;
mod loaded;

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

pub use self::boxed::{BoxedBackend, BoxedState};
pub use self::lifecycle::Lifecycle;
pub use self::loaded::{Loaded, Outcome, Saved, SizeLimit};
use crate::clock::Timestamp;
use crate::session::index_unsupported;
pub use crate::session::ChangeSet;
use crate::store::Record;
use crate::{ConfigError, LiveSession, SessionConfig, SessionError, SessionHandle};

/// What a backend is handed on every call: the configuration, and the current time read
/// once from the manager's [`Clock`](crate::clock::Clock).
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    config: &'a SessionConfig,
    now: Timestamp,
}

impl<'a> Context<'a> {
    /// A context for one load or save.
    pub fn new(config: &'a SessionConfig, now: Timestamp) -> Self {
        Self { config, now }
    }

    /// The session configuration.
    pub fn config(&self) -> &'a SessionConfig {
        self.config
    }

    /// The current time: the only "now" a backend uses.
    pub fn now(&self) -> Timestamp {
        self.now
    }
}

/// What a framework adapter's manager drives: a request's cookie value in, a [`Loaded`]
/// session out; an [`Outcome`] in, the cookie to send out.
///
/// Client-side storage (a signed cookie) implements this directly; server-side stores
/// implement the smaller [`RecordStore`](crate::store::RecordStore) and are wrapped in
/// [`ServerSide`](crate::store::ServerSide), which does ids, hashing, expiry and retries.
/// Implementations write `async fn load` and `async fn save`.
pub trait SessionBackend: Send + Sync + 'static {
    /// What `load` learns that `save` needs, handed back typed in [`Outcome::state`].
    type State: Send + 'static;

    /// Loads the session named by the request's cookie value. A missing, malformed,
    /// forged, unknown or expired cookie gives a new session
    /// ([`Loaded::new_session`]), never an error.
    ///
    /// # Errors
    ///
    /// Only when the backend itself fails (a store that is down): never log the user out
    /// silently because of an outage.
    fn load(
        &self,
        cookie: Option<&str>,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<Loaded<Self::State>, SessionError>> + Send;

    /// Persists what the request did and says what cookie to send (and, when it differs
    /// from the handler's view, what was stored: [`Saved::record`]).
    ///
    /// # Errors
    ///
    /// When the store fails or concurrent writers could not be reconciled: the request's
    /// writes did not stick, and the client must learn that.
    fn save(
        &self,
        outcome: Outcome<Self::State>,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<Saved, SessionError>> + Send;

    /// What this backend can and cannot do, for the conformance kit and for users.
    fn capabilities(&self) -> Capabilities;

    /// The live sessions of `principal` (the per-user index), none of them marked
    /// current: the caller knows which one is its own.
    ///
    /// # Errors
    ///
    /// [`SessionError::Unsupported`] from a backend without the index (the default); the
    /// store's error when it fails.
    fn sessions_of(
        &self,
        principal: &str,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<Vec<LiveSession>, SessionError>> + Send {
        let _ = (principal, cx);
        async { Err(index_unsupported()) }
    }

    /// Ends the sessions of `principal` that `which` selects (handles of other
    /// principals' sessions end nothing); returns how many were ended.
    ///
    /// # Errors
    ///
    /// As [`sessions_of`](Self::sessions_of).
    fn revoke(
        &self,
        principal: &str,
        which: Revocation<'_>,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<u64, SessionError>> + Send {
        let _ = (principal, which, cx);
        async { Err(index_unsupported()) }
    }

    /// Checks that the backend can work with `config` (a cookie backend needs keys), when
    /// a manager is built, so a missing setting fails at start-up, not on a request.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] that names what is missing.
    fn check(&self, config: &SessionConfig) -> Result<(), ConfigError> {
        let _ = config;
        Ok(())
    }
}

impl<B: SessionBackend> SessionBackend for Arc<B> {
    type State = B::State;

    fn load(
        &self,
        cookie: Option<&str>,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<Loaded<Self::State>, SessionError>> + Send {
        (**self).load(cookie, cx)
    }

    fn save(
        &self,
        outcome: Outcome<Self::State>,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<Saved, SessionError>> + Send {
        (**self).save(outcome, cx)
    }

    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }

    fn sessions_of(
        &self,
        principal: &str,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<Vec<LiveSession>, SessionError>> + Send {
        (**self).sessions_of(principal, cx)
    }

    fn revoke(
        &self,
        principal: &str,
        which: Revocation<'_>,
        cx: Context<'_>,
    ) -> impl Future<Output = Result<u64, SessionError>> + Send {
        (**self).revoke(principal, which, cx)
    }

    fn check(&self, config: &SessionConfig) -> Result<(), ConfigError> {
        (**self).check(config)
    }
}

/// Which of a principal's sessions [`SessionBackend::revoke`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation<'a> {
    /// The sessions these handles name.
    Handles(&'a [SessionHandle]),
    /// Every session but the one named ("sign out other devices"); every one with `None`
    /// ("log out everywhere"). One listing, where handles would take two.
    AllBut(Option<&'a SessionHandle>),
}

impl Revocation<'_> {
    /// Whether the session named `handle` is to be ended.
    pub fn selects(&self, handle: &SessionHandle) -> bool {
        match self {
            Self::Handles(handles) => handles.contains(handle),
            Self::AllBut(kept) => *kept != Some(handle),
        }
    }
}

/// What the response must do with the session cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieUpdate {
    /// Send nothing: the browser's cookie is still right.
    Unchanged,
    /// Send a cookie with this value.
    Set {
        /// The cookie value.
        value: String,
        /// `None`: a browser-session cookie. `Some`: a persistent cookie kept until the
        /// session's server-side deadline (`Max-Age` and `Expires` say so), never longer.
        expires_at: Option<Timestamp>,
    },
    /// Send a removal cookie.
    Remove,
}

impl CookieUpdate {
    /// A cookie holding `value` for the session `record`: persistent until its deadline
    /// when the session is permanent, a browser-session cookie otherwise.
    pub fn set_for(value: String, record: &Record) -> Self {
        Self::Set {
            value,
            expires_at: record.permanent.then_some(record.expires_at),
        }
    }

    /// The value of a cookie to set, if any.
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::Set { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// What a backend can do by its nature. The conformance kit checks each claim both ways,
/// so a backend can neither skip a check nor claim what it cannot do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// A destroyed session is gone on the server: replaying its old cookie gives a new
    /// session. Client-side cookies cannot be revoked once issued.
    pub server_side_revocation: bool,
    /// Concurrent requests on one session never lose each other's writes. A client-side
    /// cookie is overwritten by whichever response the browser receives last.
    pub merges_concurrent_writes: bool,
    /// The largest session the backend can hold, in its own encoding.
    pub max_session_bytes: Option<usize>,
    /// Sessions can be tied to a principal, listed and ended by principal
    /// ([`Session::set_principal`](crate::Session::set_principal)).
    pub per_user_index: bool,
}

impl Capabilities {
    /// A server-side store: revocable, merging, limited to `max_session_bytes`; no
    /// per-user index unless [`with_per_user_index`](Self::with_per_user_index) says so.
    pub const fn server_side(max_session_bytes: Option<usize>) -> Self {
        Self {
            server_side_revocation: true,
            merges_concurrent_writes: true,
            max_session_bytes,
            per_user_index: false,
        }
    }

    /// A client-side cookie: not revocable, last write wins, limited to `max_cookie_bytes`.
    pub const fn client_side(max_cookie_bytes: usize) -> Self {
        Self {
            server_side_revocation: false,
            merges_concurrent_writes: false,
            max_session_bytes: Some(max_cookie_bytes),
            per_user_index: false,
        }
    }

    /// The same capabilities, with the per-user index or without.
    #[must_use]
    pub const fn with_per_user_index(mut self, per_user_index: bool) -> Self {
        self.per_user_index = per_user_index;
        self
    }
}

/// Anything a manager can serve sessions from: a [`SessionBackend`], or a
/// [`RecordStore`](crate::store::RecordStore), which is wrapped in
/// [`ServerSide`](crate::store::ServerSide) with its defaults.
///
/// Every `RecordStore` gets this for free. A type that implements [`SessionBackend`]
/// directly (a cookie backend) implements it too, as `type Backend = Self`; a blanket
/// impl for both kinds cannot exist, as a type could be both.
pub trait IntoSessionBackend {
    /// The backend this turns into.
    type Backend: SessionBackend;

    /// Turns `self` into a backend.
    fn into_backend(self) -> Self::Backend;

    /// Turns `self` into a [`BoxedBackend`], for code that picks a backend at run time.
    fn into_boxed(self) -> BoxedBackend
    where
        Self: Sized,
    {
        BoxedBackend::from_backend(self.into_backend())
    }
}

/// The length of `value` as compact JSON (what `serde_json::to_vec` would produce),
/// counted without building it: for backends that check sizes on every write.
///
/// A value that cannot be serialized counts what was written before the failure; session
/// data (JSON values under string keys) always serializes.
///
/// # Examples
///
/// ```
/// use serde_json::json;
///
/// let value = json!({"user": "ada", "n": [1, 2]});
/// assert_eq!(session_core::backend::json_len(&value), serde_json::to_vec(&value)?.len());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _partial = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigError, SessionConfig, SessionError};

    /// A backend that works only with keys, as the signed cookie backend does.
    struct NeedsKeys;

    impl SessionBackend for NeedsKeys {
        type State = ();

        async fn load(&self, _: Option<&str>, cx: Context<'_>) -> Result<Loaded<()>, SessionError> {
            Ok(Loaded::new_session(cx.config().new_record(cx.now()), ()))
        }

        async fn save(&self, _: Outcome<()>, _: Context<'_>) -> Result<Saved, SessionError> {
            Ok(Saved::new(CookieUpdate::Unchanged))
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::client_side(0)
        }

        fn check(&self, config: &SessionConfig) -> Result<(), ConfigError> {
            match config.keys() {
                Some(_) => Ok(()),
                None => Err(ConfigError::KeysDiffer {
                    backend: "needs-keys",
                }),
            }
        }
    }

    #[tokio::test]
    async fn boxed_backends_and_states_debug_without_contents() -> Result<(), SessionError> {
        let boxed = BoxedBackend::from_backend(NeedsKeys);
        assert_eq!(
            format!("{boxed:?}"),
            format!(
                "BoxedBackend {{ capabilities: {:?}, .. }}",
                NeedsKeys.capabilities()
            )
        );
        let config = SessionConfig::default();
        let now = crate::clock::Timestamp::from_unix_millis(0);
        let loaded = boxed.load(None, Context::new(&config, now)).await?;
        assert_eq!(format!("{:?}", loaded.state()), "BoxedState { .. }");
        Ok(())
    }

    #[test]
    fn loads_and_outcomes_debug_without_the_values() {
        let now = crate::clock::Timestamp::from_unix_millis(0);
        let mut record = SessionConfig::default().new_record(now);
        record
            .data
            .insert("user".to_owned(), serde_json::json!("secret-ada"));
        let loaded = Loaded::new_session(record.clone(), ());
        assert_eq!(
            format!("{loaded:?}"),
            "Loaded { lifecycle: New, keys: [\"user\"], .. }"
        );
        let outcome = Outcome {
            state: (),
            lifecycle: Lifecycle::Loaded,
            record,
            changes: ChangeSet::default(),
            accessed: true,
        };
        let debug = format!("{outcome:?}");
        assert!(
            debug.starts_with("Outcome { lifecycle: Loaded, changes: "),
            "{debug}"
        );
        assert!(debug.ends_with("accessed: true, .. }"), "{debug}");
        assert!(!debug.contains("secret-ada"), "{debug}");
    }

    #[test]
    fn a_shared_backend_checks_the_configuration_as_the_backend_does() {
        let boxed = BoxedBackend::from_backend(NeedsKeys);
        assert!(boxed.check(&SessionConfig::default()).is_err());
        let shared = Arc::new(NeedsKeys);
        let refused = <Arc<NeedsKeys> as SessionBackend>::check(&shared, &SessionConfig::default());
        assert_eq!(
            refused,
            Err(ConfigError::KeysDiffer {
                backend: "needs-keys"
            })
        );
    }
}
