//! The request/response glue every framework adapter shares.

use std::sync::Arc;

use cookie::time::Duration as CookieDuration;
use cookie::Cookie;

use crate::{
    Capabilities, ConfigError, CookieUpdate, IntoSessionBackend, Session, SessionBackend,
    SessionConfig, SessionError,
};

/// A backend and its configuration, with the steps an adapter runs around a handler:
/// find the cookie, load, save, and turn the result into response headers.
///
/// Adapters (`adapter-axum`, `adapter-rocket`) hold one of these; both frameworks get
/// identical cookies, headers and error handling from it.
///
/// # Examples
///
/// ```
/// use session_core::{MemoryStore, SessionConfig, SessionManager};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
///
/// let session = manager.load(manager.find_cookie(["theme=dark"]).as_deref()).await?;
/// session.insert("user", "ada")?;
/// let response = manager.save(&session).await?;
/// let set_cookie = response.set_cookie.expect("a new session sets a cookie");
/// assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
/// assert!(response.vary_cookie && response.no_store);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Box<dyn SessionBackend>,
    config: SessionConfig,
}

impl SessionManager {
    /// Checks `config` and pairs it with `backend` (a [`SessionBackend`] or any
    /// [`RecordStore`](crate::RecordStore)).
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`SessionConfig::validate`].
    pub fn new(
        backend: impl IntoSessionBackend,
        config: SessionConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend: Box::new(backend.into_backend()),
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// What the backend can do.
    pub fn capabilities(&self) -> Capabilities {
        self.inner.backend.capabilities()
    }

    /// The session cookie's value among a request's `Cookie` header values, if present.
    pub fn find_cookie<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        let name = self.config().cookie_name();
        cookie_headers
            .into_iter()
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_owned())
    }

    /// Loads the session for a cookie value (see [`SessionBackend::load`]). Load once per
    /// request and save it: a server-side session holds its per-session lock until then.
    ///
    /// # Errors
    ///
    /// When the backend fails; [`SessionError::is_unavailable`] says whether to answer 503.
    pub async fn load(&self, cookie: Option<&str>) -> Result<Session, SessionError> {
        self.inner.backend.load(cookie, self.config()).await
    }

    /// Saves a finished request's session and says which headers to add to the response.
    ///
    /// # Errors
    ///
    /// When the session could not be saved: the response must not claim success.
    pub async fn save(&self, session: &Session) -> Result<SessionResponse, SessionError> {
        let outcome = session.finish();
        let vary_cookie = outcome.accessed;
        let update = self.inner.backend.save(outcome, self.config()).await?;
        let set_cookie = match update {
            CookieUpdate::Unchanged => None,
            CookieUpdate::Set { value, persistent } => Some(self.session_cookie(value, persistent)),
            CookieUpdate::Remove => Some(self.removal_cookie()),
        }
        .map(|cookie| cookie.encoded().to_string());
        Ok(SessionResponse {
            no_store: set_cookie.is_some(),
            set_cookie,
            vary_cookie,
        })
    }

    /// The session cookie with every configured attribute.
    pub fn session_cookie(&self, value: String, persistent: bool) -> Cookie<'static> {
        let config = self.config();
        let mut cookie = Cookie::build((config.cookie_name().to_owned(), value))
            .path(config.path().to_owned())
            .secure(config.secure())
            .http_only(config.http_only())
            .same_site(config.same_site());
        if let Some(domain) = config.domain() {
            cookie = cookie.domain(domain.to_owned());
        }
        if persistent {
            let lifetime =
                CookieDuration::try_from(config.lifetime()).unwrap_or(CookieDuration::MAX);
            cookie = cookie
                .max_age(lifetime)
                .expires(cookie::time::OffsetDateTime::now_utc().saturating_add(lifetime));
        }
        cookie.build()
    }

    /// A cookie that removes the session cookie: same name, path, domain and attributes,
    /// empty value, expired.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.session_cookie(String::new(), false);
        cookie.make_removal();
        cookie
    }
}

/// The headers a response needs after its session was saved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionResponse {
    /// A `Set-Cookie` value, when the cookie must change.
    pub set_cookie: Option<String>,
    /// Whether the response depends on the session, so caches must key on `Cookie`.
    pub vary_cookie: bool,
    /// Whether the response carries a session cookie and must not be cached
    /// (`Cache-Control: no-store`).
    pub no_store: bool,
}

impl SessionResponse {
    /// The headers to add, as `(name, value)` pairs, for adapters to copy into their
    /// framework's response type.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let set_cookie = self
            .set_cookie
            .as_deref()
            .map(|value| ("set-cookie", value));
        let vary = self.vary_cookie.then_some(("vary", "Cookie"));
        let no_store = self.no_store.then_some(("cache-control", "no-store"));
        set_cookie.into_iter().chain(vary).chain(no_store)
    }
}
