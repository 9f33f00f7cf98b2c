//! [`LaunchSettings`]: the `sessions` table of Rocket's configuration, read into
//! `session-core`'s [`SessionSettings`], with Rocket's secret-key rule.

use std::fmt;

use rocket::figment::{Figment, Profile};
use session_core::keys::{Key, KeyRing};
use session_core::{SessionConfig, SessionSettings};

use crate::LaunchError;

/// What [`SessionFairing::connect`](crate::SessionFairing::connect) hands its closure at
/// ignition: the `sessions` table of Rocket's figment (`Rocket.toml`, `ROCKET_SESSIONS`)
/// read into [`SessionSettings`], the same type an Axum app reads from `SESSION_*`
/// environment variables, so both frameworks configured alike share sessions.
///
/// ```toml
/// [default.sessions]
/// cookie_name = "session"       # default "session"
/// idle_timeout = 1800           # seconds (fractions allowed); default none
/// absolute_timeout = 28800      # seconds; default none
/// same_site = "lax"             # "lax" (default), "strict" or "none"
/// url = "sqlite://sessions.db"  # for `SessionFairing::connect`'s closure
///
/// [release.sessions]
/// # At least 32 bytes: `openssl rand -base64 48`. Prefer the environment:
/// #   ROCKET_SESSIONS='{secret_key="..."}'
/// # secret_key = "..."
/// # old_secret_keys = ["..."]   # still verify, no longer sign (key rotation)
/// ```
///
/// [`SessionSettings`] lists every key; unknown keys are refused, so a typo aborts launch
/// instead of being ignored.
///
/// # Secret keys
///
/// With `secret_key` set, the config carries the app's keys (id cookies are signed, a
/// cookie backend built from [`keys`](Self::keys) signs with the same secret). Without it
/// Rocket's own rule applies: in the `debug` profile a random key with a warning
/// (sessions end at restart); in any other profile [`keys`](Self::keys) is an error that
/// aborts launch, and server-side sessions use unsigned ids (256 random bits, stored
/// hashed).
///
/// # Examples
///
/// ```
/// use adapter_rocket::LaunchSettings;
/// use rocket::figment::Figment;
///
/// let figment = Figment::from(rocket::Config::debug_default())
///     .merge(("sessions.cookie_name", "sid"))
///     .merge(("sessions.idle_timeout", 1800));
/// let settings = LaunchSettings::from_figment(&figment)?;
/// assert_eq!(settings.config().cookie_name(), "sid");
/// assert!(settings.keys().is_ok(), "debug: a random key");
///
/// let release = figment.clone().select("release");
/// assert!(LaunchSettings::from_figment(&release)?.keys().is_err());
///
/// let typo = figment.merge(("sessions.cookie_nmae", "sid"));
/// assert!(LaunchSettings::from_figment(&typo).is_err());
/// # Ok::<(), adapter_rocket::LaunchError>(())
/// ```
#[derive(Clone)]
pub struct LaunchSettings {
    settings: SessionSettings,
    config: SessionConfig,
    keys: Option<KeyRing>,
    random: bool,
    profile: Profile,
}

impl LaunchSettings {
    /// The key of the table in Rocket's figment.
    pub const KEY: &'static str = "sessions";

    /// Reads the `sessions` table of `figment` (none: every default) for its selected
    /// profile.
    ///
    /// # Errors
    ///
    /// [`LaunchError::Figment`] for a malformed table or an unknown key,
    /// [`LaunchError::Settings`] for a value that cannot be used (a short secret, a zero
    /// duration), [`LaunchError::Key`] when a debug key cannot be drawn.
    pub fn from_figment(figment: &Figment) -> Result<Self, LaunchError> {
        let settings: SessionSettings = if figment.contains(Self::KEY) {
            figment
                .extract_inner(Self::KEY)
                .map_err(|error| LaunchError::Figment(Box::new(error)))?
        } else {
            SessionSettings::default()
        };
        let profile = figment.profile().clone();
        let (keys, random) = match settings.keys()? {
            Some(keys) => (Some(keys), false),
            None if profile == rocket::Config::DEBUG_PROFILE => {
                (Some(KeyRing::new(Key::generate()?)), true)
            }
            None => (None, false),
        };
        let mut config = settings.config()?;
        if let Some(keys) = &keys {
            config = config.with_keys(keys.clone());
        }
        Ok(Self {
            settings,
            config,
            keys,
            random,
            profile,
        })
    }

    /// The settings as read.
    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// The session configuration, with the app's keys (see "Secret keys").
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// `sessions.url`: where the store is, for the closure of
    /// [`SessionFairing::connect`](crate::SessionFairing::connect).
    pub fn url(&self) -> Option<&str> {
        self.settings.url()
    }

    /// The profile the settings were read for.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Whether `sessions.secret_key` is set.
    pub fn has_secret_key(&self) -> bool {
        self.settings.has_secret_key()
    }

    /// The app's key ring, for a backend that needs keys (a cookie backend): the same ring
    /// the config carries.
    ///
    /// # Errors
    ///
    /// [`LaunchError::SecretKeyRequired`] when `secret_key` is not set and the profile is
    /// not `debug` (in `debug`, a random key is returned with a warning that sessions end
    /// when the server restarts), as Rocket does for its own `secret_key`.
    pub fn keys(&self) -> Result<KeyRing, LaunchError> {
        match &self.keys {
            Some(keys) => {
                if self.random {
                    tracing::warn!(
                        "no `sessions.secret_key` configured: using a random key in the debug \
                         profile, so sessions end when the server restarts"
                    );
                }
                Ok(keys.clone())
            }
            None => Err(LaunchError::SecretKeyRequired {
                profile: self.profile.to_string(),
            }),
        }
    }
}

impl fmt::Debug for LaunchSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaunchSettings")
            .field("profile", &self.profile)
            .field("settings", &self.settings)
            .field("random_keys", &self.random)
            .finish_non_exhaustive()
    }
}
