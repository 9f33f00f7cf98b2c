//! How sessions are named, scoped and expired.

use std::num::NonZeroUsize;
use std::time::Duration;

pub use cookie::SameSite;

use crate::clock::Timestamp;
use crate::keys::{purpose, KeyRing};
use crate::store::Record;

/// Flask's `PERMANENT_SESSION_LIFETIME` default: 31 days.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(31 * 24 * 60 * 60);

/// How long a renamed id is known as renamed: longer than any request racing a login.
const DEFAULT_SUPERSEDED_WINDOW: Duration = Duration::from_secs(60);

/// When an unchanged session's expiry is pushed forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Refresh {
    /// Every request that reads the session counts as activity. The stored expiry (or, for
    /// cookie backends, the cookie) is refreshed at most once per quarter of the idle
    /// window, so reads stay cheap while a session in use never idles out.
    #[default]
    Rolling,
    /// Only requests that change the session push its expiry forward.
    OnChange,
}

/// Cookie attributes and expiry policy, shared by every backend and adapter.
///
/// Defaults follow OWASP: cookie `session`, `Path=/`, `Secure`, `HttpOnly`,
/// `SameSite=Lax`; server-side expiry after a 31-day rolling lifetime (Flask's
/// `PERMANENT_SESSION_LIFETIME`), no idle or absolute timeout until set; browser-session
/// cookies unless sessions are made permanent.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::SessionConfig;
///
/// let config = SessionConfig::default()
///     .with_idle_timeout(Duration::from_secs(30 * 60))
///     .with_absolute_timeout(Duration::from_secs(8 * 60 * 60));
/// config.validate()?;
/// assert_eq!(config.cookie_name(), "session");
///
/// let broken = SessionConfig::default().with_idle_timeout(Duration::ZERO);
/// assert!(broken.validate().is_err());
/// # Ok::<(), session_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    cookie_name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    idle_timeout: Option<Duration>,
    absolute_timeout: Option<Duration>,
    lifetime: Duration,
    permanent_by_default: bool,
    refresh: Refresh,
    keys: Option<AppKeys>,
    superseded_window: Duration,
    max_sessions_per_principal: Option<NonZeroUsize>,
}

/// The app's key ring and the subkeys derived from it once, not on every request.
#[derive(Clone, Debug)]
struct AppKeys {
    ring: KeyRing,
    id_cookie: KeyRing,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            cookie_name: "session".to_owned(),
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            idle_timeout: None,
            absolute_timeout: None,
            lifetime: DEFAULT_LIFETIME,
            permanent_by_default: false,
            refresh: Refresh::Rolling,
            keys: None,
            superseded_window: DEFAULT_SUPERSEDED_WINDOW,
            max_sessions_per_principal: None,
        }
    }
}

impl SessionConfig {
    /// Sets the cookie name (default `session`).
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Sets the cookie path (default `/`); it must start with `/`.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the cookie domain (default: none, the request's host only).
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets the `Secure` attribute (default on). Turn it off only for plain-HTTP
    /// development beyond localhost.
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets the `HttpOnly` attribute (default on).
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets the `SameSite` attribute (default `Lax`).
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Ends a session after this long without a request that reads or writes it.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Ends a session this long after it was created, however active it is.
    pub fn with_absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = Some(timeout);
        self
    }

    /// Sets how long a session lives past its last activity at most (default 31 days),
    /// and the `Max-Age` of permanent sessions' cookies.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Makes new sessions permanent (a cookie with `Max-Age` = lifetime) or browser-session
    /// cookies (the default), as Flask's `session.permanent`.
    pub fn with_permanent(mut self, permanent: bool) -> Self {
        self.permanent_by_default = permanent;
        self
    }

    /// Sets how long a renamed id is remembered as renamed (default 60 s; see
    /// [`superseded_window`](Self::superseded_window)).
    pub fn with_superseded_window(mut self, window: Duration) -> Self {
        self.superseded_window = window;
        self
    }

    /// Caps how many live sessions one principal may hold ("at most N devices"): the save
    /// that ties a session to its principal
    /// ([`Session::set_principal`](crate::Session::set_principal)) ends the principal's
    /// least recently active sessions beyond `max`. Default: no cap. Needs a backend with
    /// the per-user index.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use session_core::SessionConfig;
    ///
    /// let config = SessionConfig::default().with_max_sessions_per_principal(NonZeroUsize::new(3));
    /// assert_eq!(config.max_sessions_per_principal(), NonZeroUsize::new(3));
    /// ```
    pub fn with_max_sessions_per_principal(mut self, max: Option<NonZeroUsize>) -> Self {
        self.max_sessions_per_principal = max;
        self
    }

    /// Sets when unchanged sessions have their expiry refreshed (default rolling).
    pub fn with_refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// Sets the app's keys: the ring's signing key signs, every key verifies (rotation).
    ///
    /// Server-side sessions sign their id cookies with the
    /// [`purpose::ID_COOKIE`] subkey, so a forged id is refused before any store lookup.
    /// The cookie backend (`session-cookie`'s `CookieBackend`) signs with its own subkeys
    /// of the same ring and refuses a config whose keys differ from its own, so keys are
    /// never silently ignored. The one exception is the Flask-compatible cookie backend,
    /// which signs exactly as Flask does, with Flask's `SECRET_KEY` as given.
    pub fn with_keys(mut self, keys: KeyRing) -> Self {
        self.keys = Some(AppKeys {
            id_cookie: keys.derive(purpose::ID_COOKIE),
            ring: keys,
        });
        self
    }

    /// Checks that the settings make sense together.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first setting that does not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name_ok = !self.cookie_name.is_empty()
            && self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if !name_ok {
            return Err(ConfigError::CookieName(self.cookie_name.clone()));
        }
        if !self.path.starts_with('/') || self.path.contains(';') {
            return Err(ConfigError::Path(self.path.clone()));
        }
        for (setting, value) in [
            ("idle timeout", self.idle_timeout),
            ("absolute timeout", self.absolute_timeout),
            ("lifetime", Some(self.lifetime)),
        ] {
            if value.is_some_and(|d| d.as_millis() == 0) {
                return Err(ConfigError::ZeroDuration(setting));
            }
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::SameSiteNoneWithoutSecure);
        }
        Ok(())
    }

    /// The cookie name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The cookie path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The cookie domain, if set.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Whether cookies carry `Secure`.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Whether cookies carry `HttpOnly`.
    pub fn http_only(&self) -> bool {
        self.http_only
    }

    /// The `SameSite` attribute.
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }

    /// The idle timeout, if set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The absolute timeout, if set.
    pub fn absolute_timeout(&self) -> Option<Duration> {
        self.absolute_timeout
    }

    /// The permanent-session lifetime.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Whether new sessions start permanent.
    pub fn permanent_by_default(&self) -> bool {
        self.permanent_by_default
    }

    /// The refresh policy.
    pub fn refresh(&self) -> Refresh {
        self.refresh
    }

    /// The app's keys, if set.
    pub fn keys(&self) -> Option<&KeyRing> {
        self.keys.as_ref().map(|keys| &keys.ring)
    }

    /// The subkeys that sign server-side id cookies ([`purpose::ID_COOKIE`]), if keys are
    /// set.
    pub fn id_cookie_keys(&self) -> Option<&KeyRing> {
        self.keys.as_ref().map(|keys| &keys.id_cookie)
    }

    /// The server-side deadline of a session created at `created_at` and last active at
    /// `last_active`: the earliest of lifetime, idle and absolute timeout. For a stored
    /// session use [`deadline`](Self::deadline), which honours "remember me".
    pub fn expires_at(&self, created_at: Timestamp, last_active: Timestamp) -> Timestamp {
        self.deadline_with(created_at, last_active, self.idle_timeout)
    }

    /// The server-side deadline of `record` if it was last active at `last_active`: the
    /// earliest of lifetime, idle window and absolute timeout, where the idle window is
    /// the record's own when it is remembered
    /// ([`Session::remember_for`](crate::Session::remember_for)).
    pub fn deadline(&self, record: &Record, last_active: Timestamp) -> Timestamp {
        let idle = record.remember_for().or(self.idle_timeout);
        self.deadline_with(record.created_at, last_active, idle)
    }

    fn deadline_with(
        &self,
        created_at: Timestamp,
        last_active: Timestamp,
        idle: Option<Duration>,
    ) -> Timestamp {
        let mut deadline = last_active.saturating_add(self.lifetime);
        if let Some(idle) = idle {
            deadline = deadline.min(last_active.saturating_add(idle));
        }
        if let Some(absolute) = self.absolute_timeout {
            deadline = deadline.min(created_at.saturating_add(absolute));
        }
        deadline
    }

    /// Whether `record` is over any limit at `now`, judged by today's settings as well as
    /// the deadline stored with it (settings may have been tightened since it was saved).
    pub fn is_expired(&self, record: &Record, now: Timestamp) -> bool {
        record.is_expired_at(now) || now >= self.deadline(record, record.last_active)
    }

    /// Whether an unchanged `record`, last active at `last_active`, should have its expiry
    /// refreshed at `now`: under [`Refresh::Rolling`], once a quarter of the shortest
    /// sliding window (its idle window, else the lifetime) has passed.
    pub fn refresh_due(&self, record: &Record, last_active: Timestamp, now: Timestamp) -> bool {
        if self.refresh != Refresh::Rolling {
            return false;
        }
        let window = record
            .remember_for()
            .or(self.idle_timeout)
            .map_or(self.lifetime, |idle| idle.min(self.lifetime));
        now.duration_since(last_active) >= window / 4
    }

    /// How long a session id that a login renamed stays known as renamed, so a request of
    /// the same browser still carrying it (racing the login) is refused with
    /// [`SessionError::Superseded`](crate::SessionError::Superseded) instead of starting
    /// a new session whose cookie would log the user out. Default 60 s.
    pub fn superseded_window(&self) -> Duration {
        self.superseded_window
    }

    /// How many live sessions one principal may hold, if capped.
    pub fn max_sessions_per_principal(&self) -> Option<NonZeroUsize> {
        self.max_sessions_per_principal
    }

    /// A fresh, empty record for a session starting at `now`.
    pub fn new_record(&self, now: Timestamp) -> Record {
        let mut record = Record::new(now, self.expires_at(now, now));
        record.permanent = self.permanent_by_default;
        record
    }
}

/// A [`SessionConfig`] setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The cookie name is empty or has characters a cookie name cannot hold.
    #[error("cookie name {0:?} is not a valid cookie name (use letters, digits, `-` or `_`)")]
    CookieName(String),
    /// The cookie path does not start with `/`.
    #[error("cookie path {0:?} must start with `/`")]
    Path(String),
    /// A timeout or lifetime of zero would end every session at once.
    #[error("the {0} must be longer than zero")]
    ZeroDuration(&'static str),
    /// Browsers reject `SameSite=None` cookies that are not `Secure`.
    #[error("`SameSite=None` requires the `Secure` attribute")]
    SameSiteNoneWithoutSecure,
    /// A backend that signs with its own keys was given a configuration with other keys:
    /// one of the two would be silently ignored.
    #[error(
        "the {backend} backend was built with other keys than `SessionConfig::with_keys`; \
         build both from the same `KeyRing` (or `SessionSettings`)"
    )]
    KeysDiffer {
        /// The backend that noticed.
        backend: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let config = SessionConfig::default();
        assert_eq!(config.cookie_name(), "session");
        assert_eq!(config.path(), "/");
        assert_eq!(config.domain(), None);
        assert!(config.secure() && config.http_only());
        assert_eq!(config.same_site(), SameSite::Lax);
        assert_eq!(
            (config.idle_timeout(), config.absolute_timeout()),
            (None, None)
        );
        // Flask's PERMANENT_SESSION_LIFETIME: 31 days.
        assert_eq!(config.lifetime(), Duration::from_secs(2_678_400));
        assert!(!config.permanent_by_default());
        assert_eq!(config.superseded_window(), Duration::from_secs(60));
        assert_eq!(config.max_sessions_per_principal(), None);
        assert_eq!(config.refresh(), Refresh::Rolling);
        assert!(config.keys().is_none() && config.id_cookie_keys().is_none());
    }

    #[test]
    fn every_setter_is_read_back() {
        let config = SessionConfig::default()
            .with_cookie_name("sid")
            .with_path("/app")
            .with_domain("example.com")
            .with_secure(false)
            .with_http_only(false)
            .with_same_site(SameSite::Strict)
            .with_idle_timeout(MINUTE)
            .with_absolute_timeout(2 * MINUTE)
            .with_lifetime(3 * MINUTE)
            .with_permanent(true)
            .with_superseded_window(4 * MINUTE)
            .with_max_sessions_per_principal(NonZeroUsize::new(5))
            .with_refresh(Refresh::OnChange);
        assert_eq!(config.cookie_name(), "sid");
        assert_eq!(config.path(), "/app");
        assert_eq!(config.domain(), Some("example.com"));
        assert!(!config.secure() && !config.http_only());
        assert_eq!(config.same_site(), SameSite::Strict);
        assert_eq!(config.idle_timeout(), Some(MINUTE));
        assert_eq!(config.absolute_timeout(), Some(2 * MINUTE));
        assert_eq!(config.lifetime(), 3 * MINUTE);
        assert!(config.permanent_by_default());
        assert_eq!(config.superseded_window(), 4 * MINUTE);
        assert_eq!(config.max_sessions_per_principal(), NonZeroUsize::new(5));
        assert_eq!(config.refresh(), Refresh::OnChange);
    }

    #[test]
    fn validation_names_the_bad_setting() {
        let cases = [
            (
                SessionConfig::default().with_path("admin"),
                "must start with `/`",
            ),
            (
                SessionConfig::default().with_cookie_name("a b"),
                "not a valid cookie name",
            ),
            (
                SessionConfig::default().with_absolute_timeout(Duration::ZERO),
                "absolute timeout",
            ),
            (
                SessionConfig::default()
                    .with_same_site(SameSite::None)
                    .with_secure(false),
                "requires the `Secure`",
            ),
        ];
        for (config, expected) in cases {
            let message = config
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains(expected),
                "{message:?} should contain {expected:?}"
            );
        }
        assert_eq!(SessionConfig::default().validate(), Ok(()));
    }

    #[test]
    fn deadline_is_the_earliest_limit() {
        let created = Timestamp::from_unix_millis(0);
        let active = created.saturating_add(10 * MINUTE);
        let config = SessionConfig::default()
            .with_idle_timeout(30 * MINUTE)
            .with_absolute_timeout(20 * MINUTE);
        assert_eq!(
            config.expires_at(created, active),
            created.saturating_add(20 * MINUTE)
        );
        let idle_only = SessionConfig::default().with_idle_timeout(30 * MINUTE);
        assert_eq!(
            idle_only.expires_at(created, active),
            active.saturating_add(30 * MINUTE)
        );
    }

    #[test]
    fn remembered_sessions_get_their_own_idle_window_under_the_absolute_cap() {
        let created = Timestamp::from_unix_millis(0);
        let config = SessionConfig::default()
            .with_idle_timeout(MINUTE)
            .with_absolute_timeout(120 * MINUTE);
        let mut record = config.new_record(created);
        assert_eq!(
            config.deadline(&record, created),
            created.saturating_add(MINUTE)
        );
        record.data.insert(
            crate::session::REMEMBER_KEY.to_owned(),
            serde_json::Value::from(24 * 60 * 60 * 1000_u64),
        );
        record.expires_at = config.deadline(&record, created);
        assert_eq!(
            config.deadline(&record, created),
            created.saturating_add(120 * MINUTE),
            "a day's idle window, capped by the two-hour absolute timeout"
        );
        assert!(!config.is_expired(&record, created.saturating_add(2 * MINUTE)));
        // Refreshed once a quarter of its own (one-day) window, not of the idle timeout.
        assert!(!config.refresh_due(&record, created, created.saturating_add(30 * MINUTE)));
        assert!(config.refresh_due(&record, created, created.saturating_add(360 * MINUTE)));
    }

    #[test]
    fn tightened_settings_expire_old_records() {
        let created = Timestamp::from_unix_millis(0);
        let record = SessionConfig::default().new_record(created);
        let now = created.saturating_add(5 * MINUTE);
        assert!(!SessionConfig::default().is_expired(&record, now));
        let strict = SessionConfig::default().with_idle_timeout(MINUTE);
        assert!(strict.is_expired(&record, now));
    }

    #[test]
    fn rolling_refresh_happens_once_a_quarter_window() {
        let config = SessionConfig::default().with_idle_timeout(4 * MINUTE);
        let start = Timestamp::from_unix_millis(0);
        let record = config.new_record(start);
        assert!(!config.refresh_due(
            &record,
            start,
            start.saturating_add(MINUTE - Duration::from_millis(1))
        ));
        assert!(config.refresh_due(&record, start, start.saturating_add(MINUTE)));
        let on_change = config.with_refresh(Refresh::OnChange);
        assert!(!on_change.refresh_due(&record, start, start.saturating_add(10 * MINUTE)));
    }
}
