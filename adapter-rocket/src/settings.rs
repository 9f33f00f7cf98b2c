//! [`SessionSettings`]: the `sessions` table of Rocket's configuration, and the secret
//! key rule.

use std::fmt;
use std::time::Duration;

use rocket::figment::{Figment, Profile};
use serde::Deserialize;
use session_core::{Key, KeyRing, Refresh, SameSite, SessionConfig};

use crate::LaunchError;

/// The purpose the id cookies' signing key is derived for, so the same secret can also
/// key a cookie backend without reusing key material.
const ID_COOKIE_PURPOSE: &str = "adapter-rocket: server-side session id cookie";

/// The session settings read from Rocket's figment (`Rocket.toml`, `ROCKET_SESSIONS`), as
/// [`SessionFairing::from_figment`](crate::SessionFairing::from_figment) and
/// [`SessionFairing::connect`](crate::SessionFairing::connect) use them.
///
/// Every setting is optional; what is left out keeps [`SessionConfig`]'s default.
///
/// ```toml
/// [default.sessions]
/// cookie_name = "session"       # default "session"
/// path = "/"                    # default "/"
/// # domain = "example.com"      # default: the request's host only
/// secure = true                 # default true; false only for plain http beyond localhost
/// http_only = true              # default true
/// same_site = "lax"             # "lax" (default), "strict" or "none"
/// idle_timeout = 1800           # seconds (fractions allowed); default none
/// absolute_timeout = 28800      # seconds; default none
/// lifetime = 2678400            # seconds; default 31 days
/// permanent = false             # new sessions outlive the browser (Max-Age = lifetime)
/// refresh = "rolling"           # "rolling" (default) or "on-change"
/// url = "sqlite://sessions.db"  # handed to `SessionFairing::connect`'s closure
///
/// [release.sessions]
/// # At least 32 bytes: `openssl rand -base64 48`. Prefer the environment:
/// #   ROCKET_SESSIONS='{secret_key="..."}'
/// # secret_key = "..."
/// # old_secret_keys = ["..."]   # still verify, no longer sign (key rotation)
/// ```
///
/// Unknown keys are refused, so a typo aborts launch instead of being ignored.
///
/// # Secret keys
///
/// With `secret_key` set, id cookies are signed with a key derived from it (a forged id is
/// refused before any store lookup) and [`SessionSettings::keys`] hands the key ring to
/// backends that need keys (cookie backends). Without it, id cookies are unsigned (ids
/// are 256 random bits, stored hashed) and [`SessionSettings::keys`] follows Rocket's own
/// `secret_key` rule: in the `debug` profile a random key with a warning (sessions end at
/// restart), in any other profile an error that aborts launch.
///
/// # Examples
///
/// ```
/// use adapter_rocket::SessionSettings;
/// use rocket::figment::Figment;
///
/// let figment = Figment::from(rocket::Config::debug_default())
///     .merge(("sessions.cookie_name", "sid"))
///     .merge(("sessions.idle_timeout", 1800));
/// let settings = SessionSettings::from_figment(&figment)?;
/// assert_eq!(settings.config().cookie_name(), "sid");
/// assert!(settings.keys().is_ok(), "debug: a random key");
///
/// let release = figment.clone().select("release");
/// assert!(SessionSettings::from_figment(&release)?.keys().is_err());
///
/// let typo = figment.merge(("sessions.cookie_nmae", "sid"));
/// assert!(SessionSettings::from_figment(&typo).is_err());
/// # Ok::<(), adapter_rocket::LaunchError>(())
/// ```
#[derive(Clone)]
pub struct SessionSettings {
    config: SessionConfig,
    url: Option<String>,
    keys: Option<KeyRing>,
    random_keys: Option<KeyRing>,
    profile: Profile,
}

/// The table as written; `None` keeps the default.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Raw {
    cookie_name: Option<String>,
    path: Option<String>,
    domain: Option<String>,
    secure: Option<bool>,
    http_only: Option<bool>,
    same_site: Option<SameSiteSetting>,
    idle_timeout: Option<f64>,
    absolute_timeout: Option<f64>,
    lifetime: Option<f64>,
    permanent: Option<bool>,
    refresh: Option<RefreshSetting>,
    url: Option<String>,
    secret_key: Option<String>,
    old_secret_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SameSiteSetting {
    #[serde(alias = "Lax")]
    Lax,
    #[serde(alias = "Strict")]
    Strict,
    #[serde(alias = "None")]
    None,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RefreshSetting {
    Rolling,
    #[serde(alias = "on_change")]
    OnChange,
}

impl SessionSettings {
    /// The key of the table in Rocket's figment.
    pub const KEY: &'static str = "sessions";

    /// Reads the `sessions` table of `figment` (none: every default) for its selected
    /// profile.
    ///
    /// # Errors
    ///
    /// [`LaunchError::Settings`] for a malformed table or an unknown key,
    /// [`LaunchError::Duration`] for a duration that is not a positive number of seconds,
    /// [`LaunchError::Key`] for a secret key shorter than 32 bytes, [`LaunchError::Config`]
    /// for settings that cannot work together.
    pub fn from_figment(figment: &Figment) -> Result<Self, LaunchError> {
        let raw: Raw = if figment.contains(Self::KEY) {
            figment
                .extract_inner(Self::KEY)
                .map_err(|error| LaunchError::Settings(Box::new(error)))?
        } else {
            Raw::default()
        };
        let profile = figment.profile().clone();
        let keys = match &raw.secret_key {
            None => None,
            Some(secret) => {
                let mut ring = KeyRing::new(Key::try_from_secret(secret)?);
                for old in &raw.old_secret_keys {
                    ring = ring.with_verifying(Key::try_from_secret(old)?);
                }
                Some(ring)
            }
        };
        let random_keys = match keys {
            None if profile == rocket::Config::DEBUG_PROFILE => {
                Some(KeyRing::new(Key::generate()?))
            }
            _ => None,
        };
        let config = raw.config(keys.as_ref())?;
        config.validate()?;
        Ok(Self {
            config,
            url: raw.url,
            keys,
            random_keys,
            profile,
        })
    }

    /// The session configuration: cookie attributes, timeouts and, with a `secret_key`,
    /// id cookies signed with a key derived from it.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// `sessions.url`: where the store is, for the closure of
    /// [`SessionFairing::connect`](crate::SessionFairing::connect).
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The profile the settings were read for.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Whether `sessions.secret_key` is set.
    pub fn has_secret_key(&self) -> bool {
        self.keys.is_some()
    }

    /// The key ring for a backend that needs keys (a cookie backend): `secret_key`
    /// signing, `old_secret_keys` verifying. Backends derive their own subkeys from it.
    ///
    /// # Errors
    ///
    /// [`LaunchError::SecretKeyRequired`] when `secret_key` is not set and the profile is
    /// not `debug` (in `debug`, a random key is returned with a warning that sessions end
    /// when the server restarts), as Rocket does for its own `secret_key`.
    pub fn keys(&self) -> Result<KeyRing, LaunchError> {
        if let Some(keys) = &self.keys {
            return Ok(keys.clone());
        }
        match &self.random_keys {
            Some(random) => {
                tracing::warn!(
                    "no `sessions.secret_key` configured: using a random key in the debug \
                     profile, so sessions end when the server restarts"
                );
                Ok(random.clone())
            }
            None => Err(LaunchError::SecretKeyRequired {
                profile: self.profile.to_string(),
            }),
        }
    }
}

impl Raw {
    fn config(&self, keys: Option<&KeyRing>) -> Result<SessionConfig, LaunchError> {
        let mut config = SessionConfig::default();
        if let Some(name) = &self.cookie_name {
            config = config.with_cookie_name(name.clone());
        }
        if let Some(path) = &self.path {
            config = config.with_path(path.clone());
        }
        if let Some(domain) = &self.domain {
            config = config.with_domain(domain.clone());
        }
        if let Some(secure) = self.secure {
            config = config.with_secure(secure);
        }
        if let Some(http_only) = self.http_only {
            config = config.with_http_only(http_only);
        }
        if let Some(same_site) = &self.same_site {
            config = config.with_same_site(match same_site {
                SameSiteSetting::Lax => SameSite::Lax,
                SameSiteSetting::Strict => SameSite::Strict,
                SameSiteSetting::None => SameSite::None,
            });
        }
        if let Some(idle) = seconds("idle_timeout", self.idle_timeout)? {
            config = config.with_idle_timeout(idle);
        }
        if let Some(absolute) = seconds("absolute_timeout", self.absolute_timeout)? {
            config = config.with_absolute_timeout(absolute);
        }
        if let Some(lifetime) = seconds("lifetime", self.lifetime)? {
            config = config.with_lifetime(lifetime);
        }
        if let Some(permanent) = self.permanent {
            config = config.with_permanent(permanent);
        }
        if let Some(refresh) = &self.refresh {
            config = config.with_refresh(match refresh {
                RefreshSetting::Rolling => Refresh::Rolling,
                RefreshSetting::OnChange => Refresh::OnChange,
            });
        }
        if let Some(keys) = keys {
            config = config.with_keys(keys.derive(ID_COOKIE_PURPOSE));
        }
        Ok(config)
    }
}

/// A setting in seconds as a [`Duration`], refusing zero, negative and non-finite values.
fn seconds(setting: &'static str, value: Option<f64>) -> Result<Option<Duration>, LaunchError> {
    match value.map(Duration::try_from_secs_f64) {
        None => Ok(None),
        Some(Ok(duration)) if !duration.is_zero() => Ok(Some(duration)),
        Some(_) => Err(LaunchError::Duration {
            setting,
            value: value.unwrap_or_default(),
        }),
    }
}

impl fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password and the keys are secret: say only whether they are set.
        f.debug_struct("SessionSettings")
            .field("profile", &self.profile)
            .field("config", &self.config)
            .field("url", &self.url.as_ref().map(|_| "REDACTED"))
            .field("secret_key", &self.keys.as_ref().map(|_| "REDACTED"))
            .finish()
    }
}
