//! The adapter room: what both framework adapters share, so each is only translation.
//!
//! A [`SessionManager`] holds the backend (erased once, as a
//! [`BoxedBackend`]), the configuration and the clock. Per
//! request an adapter finds the cookie ([`SessionManager::find_cookie`]), opens a
//! [`LazySession`] (loaded on first use by the handler's extractor or guard), and after
//! the handler calls [`LazySession::finish`] and applies the [`ResponsePlan`]'s header
//! operations; a failure becomes an [`ErrorResponse`].
//!
//! # Examples
//!
//! What an adapter does around every request, by hand:
//!
//! ```
//! use session_core::adapter::SessionManager;
//! use session_core::store::MemoryStore;
//! use session_core::SessionConfig;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
//!
//! // First request: no cookie, a new session; logging in writes it.
//! let request = manager.request(manager.find_cookie([b"theme=dark".as_slice()]).as_deref());
//! let session = request.session().await?;
//! session.regenerate();
//! session.insert("username", "ada")?;
//! let plan = request.finish().await?.ok_or("the handler loaded the session")?;
//! let set_cookie = plan.set_cookie.ok_or("a login sets a cookie")?;
//! assert!(set_cookie.http_only() == Some(true) && set_cookie.secure() == Some(true));
//!
//! // Next request: the browser sends the cookie back.
//! let header = format!("session={}", set_cookie.value());
//! let request = manager.request(manager.find_cookie([header.as_bytes()]).as_deref());
//! assert_eq!(request.session().await?.get::<String>("username")?.as_deref(), Some("ada"));
//! // A request that only reads writes nothing.
//! assert_eq!(request.finish().await?.and_then(|plan| plan.set_cookie), None);
//!
//! // A request whose handler never asked for the session costs nothing.
//! assert!(manager.request(None).finish().await?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cookie_header;
mod failure;
mod lazy;
mod response;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use cookie::time::Duration as CookieDuration;
use cookie::Cookie;

pub use self::failure::{error_chain, ErrorResponse, LogLevel};
pub use self::lazy::LazySession;
pub use self::response::{HeaderOp, ResponsePlan};
use crate::backend::{
    BoxedBackend, Capabilities, Context, CookieUpdate, IntoSessionBackend, Revocation,
    SessionBackend,
};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::{ConfigError, LiveSession, SessionConfig, SessionError, SessionHandle};

/// A backend, its configuration and the clock, with the steps an adapter runs around a
/// handler: find the cookie, load lazily, save, and turn the result into headers.
///
/// Cheap to clone (clones share one backend, and so one set of per-session locks).
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    backend: BoxedBackend,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl SessionManager {
    /// Checks `config` (and that the backend can work with it) and pairs it with
    /// `backend` (a [`SessionBackend`], a [`RecordStore`](crate::store::RecordStore) or a
    /// [`BoxedBackend`]), reading time from the system clock.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`SessionConfig::validate`] or of the backend's
    /// [`check`](SessionBackend::check).
    pub fn new(
        backend: impl IntoSessionBackend,
        config: SessionConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let backend = backend.into_boxed();
        backend.check(&config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                config,
                clock: Arc::new(SystemClock),
            }),
        })
    }

    /// Reads time from `clock` instead of the system clock (a
    /// [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        Arc::make_mut(&mut self.inner).clock = Arc::new(clock);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// What the backend can do.
    pub fn capabilities(&self) -> Capabilities {
        self.inner.backend.capabilities()
    }

    /// The current time on the manager's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The session cookie's value among a request's `Cookie` header values, given as raw
    /// bytes: a stray non-UTF-8 byte in another cookie does not hide it.
    pub fn find_cookie<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<String> {
        cookie_header::find(self.config().cookie_name(), cookie_headers)
    }

    /// A request's session, loaded on first use, for the session cookie value `cookie`.
    pub fn request(&self, cookie: Option<&str>) -> LazySession {
        LazySession::new(self.clone(), cookie.map(str::to_owned))
    }

    /// A request's session, loaded on first use, for the session cookie among the
    /// request's `Cookie` header values: [`find_cookie`](Self::find_cookie) then
    /// [`request`](Self::request), without copying the value in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use session_core::adapter::SessionManager;
    /// use session_core::store::MemoryStore;
    /// use session_core::SessionConfig;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
    /// let request = manager.request_with_headers([b"theme=dark; session=forged".as_slice()]);
    /// // A cookie the server never issued opens an empty session.
    /// assert!(request.session().await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_with_headers<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    ) -> LazySession {
        LazySession::new(self.clone(), self.find_cookie(cookie_headers))
    }

    /// The `Set-Cookie` for a cookie update sent at `now`, with every configured
    /// attribute; `None` for [`CookieUpdate::Unchanged`].
    pub fn set_cookie(&self, update: &CookieUpdate, now: Timestamp) -> Option<Cookie<'static>> {
        match update {
            CookieUpdate::Set { value, expires_at } => {
                Some(self.session_cookie(value.clone(), *expires_at, now))
            }
            CookieUpdate::Remove => Some(self.removal_cookie()),
            CookieUpdate::Unchanged => None,
        }
    }

    /// The session cookie sent at `now`: a browser-session cookie, or, with `expires_at`,
    /// a persistent one whose `Max-Age` (whole seconds from `now`, rounded down) and
    /// `Expires` end at that server-side deadline, so the browser never keeps a cookie the
    /// server has ended.
    pub fn session_cookie(
        &self,
        value: String,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Cookie<'static> {
        let config = self.config();
        let mut cookie = Cookie::build((config.cookie_name().to_owned(), value))
            .path(config.path().to_owned())
            .secure(config.secure())
            .http_only(config.http_only())
            .same_site(config.same_site());
        if let Some(domain) = config.domain() {
            cookie = cookie.domain(domain.to_owned());
        }
        if let Some(expires_at) = expires_at {
            let left = expires_at.duration_since(now);
            let max_age = CookieDuration::try_from(left).unwrap_or(CookieDuration::MAX);
            cookie = cookie
                .max_age(CookieDuration::seconds(max_age.whole_seconds()))
                .expires(expires_at.to_offset_date_time());
        }
        cookie.build()
    }

    /// A cookie that removes the session cookie: same name, path, domain and attributes,
    /// empty value, expired.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.session_cookie(String::new(), None, Timestamp::from_unix_millis(0));
        cookie.make_removal();
        cookie
    }

    // ---- the per-user index, for code outside a request (an admin page, a password
    // change) ----

    /// The live sessions of `principal`, most recently active first (none marked
    /// current: the manager is nobody's request). A request's own view, with its session
    /// marked, is [`Session::live_sessions`](crate::Session::live_sessions).
    ///
    /// # Errors
    ///
    /// [`SessionError::Unsupported`] when the backend keeps no per-user index
    /// ([`Capabilities::per_user_index`]); the store's error when it fails.
    pub async fn sessions_of(&self, principal: &str) -> Result<Vec<LiveSession>, SessionError> {
        let cx = Context::new(self.config(), self.now());
        let mut sessions = self.inner.backend.sessions_of(principal, cx).await?;
        sessions.sort_by_key(|session| std::cmp::Reverse(session.last_active));
        Ok(sessions)
    }

    /// Ends the sessions of `principal` named by `handles`, in every process sharing the
    /// store; returns how many were ended.
    ///
    /// # Errors
    ///
    /// As [`sessions_of`](Self::sessions_of).
    pub async fn revoke(
        &self,
        principal: &str,
        handles: &[SessionHandle],
    ) -> Result<u64, SessionError> {
        self.revoke_where(principal, Revocation::Handles(handles))
            .await
    }

    /// Ends every session of `principal` ("log out everywhere", a password change, an
    /// account locked by an administrator); returns how many were ended.
    ///
    /// # Errors
    ///
    /// As [`sessions_of`](Self::sessions_of).
    ///
    /// # Examples
    ///
    /// ```
    /// use session_core::adapter::SessionManager;
    /// use session_core::store::MemoryStore;
    /// use session_core::{Principal, SessionConfig};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
    /// let mut cookies = Vec::new();
    /// for _ in 0..2 {
    ///     let request = manager.request(None);
    ///     request.session().await?.set_principal(Principal::new("ada"))?;
    ///     let plan = request.finish().await?.ok_or("loaded")?;
    ///     cookies.push(plan.cookie_value().ok_or("a new session sets a cookie")?.to_owned());
    /// }
    /// assert_eq!(manager.revoke_all("ada").await?, 2);
    /// // Both browsers are anonymous from their next request on.
    /// for cookie in &cookies {
    ///     assert!(manager.request(Some(cookie)).session().await?.principal().is_none());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn revoke_all(&self, principal: &str) -> Result<u64, SessionError> {
        self.revoke_where(principal, Revocation::AllBut(None)).await
    }

    /// Ends the sessions of `principal` that `which` selects.
    pub(crate) async fn revoke_where(
        &self,
        principal: &str,
        which: Revocation<'_>,
    ) -> Result<u64, SessionError> {
        let cx = Context::new(self.config(), self.now());
        self.inner.backend.revoke(principal, which, cx).await
    }

    pub(crate) fn backend(&self) -> &BoxedBackend {
        &self.inner.backend
    }
}

impl fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("backend", &self.inner.backend)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
