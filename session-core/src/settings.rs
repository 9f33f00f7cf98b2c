//! [`SessionSettings`]: one secret and every option, from environment variables, serde or
//! Rocket's figment, turned into a [`SessionConfig`] and the app's [`KeyRing`].

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::keys::{Key, KeyError, KeyRing};
use crate::{ConfigError, Refresh, SameSite, SessionConfig};

/// The prefix of the environment variables [`SessionSettings::from_env`] reads.
pub const ENV_PREFIX: &str = "SESSION_";

/// Every setting's name, as a serde field and (upper-cased, after [`ENV_PREFIX`]) as an
/// environment variable.
const FIELDS: [&str; 14] = [
    "cookie_name",
    "path",
    "domain",
    "secure",
    "http_only",
    "same_site",
    "idle_timeout",
    "absolute_timeout",
    "lifetime",
    "permanent",
    "refresh",
    "url",
    "secret_key",
    "old_secret_keys",
];

/// Session settings as an operator writes them: the same type for every framework and
/// every source, so an Axum service and a Rocket service configured alike share sessions.
///
/// Every setting is optional; what is left out keeps [`SessionConfig`]'s default.
///
/// | setting | env var | meaning |
/// |---|---|---|
/// | `cookie_name` | `SESSION_COOKIE_NAME` | default `session` |
/// | `path`, `domain` | `SESSION_PATH`, `SESSION_DOMAIN` | cookie scope |
/// | `secure`, `http_only` | `SESSION_SECURE`, `SESSION_HTTP_ONLY` | `true`/`false`, default `true` |
/// | `same_site` | `SESSION_SAME_SITE` | `lax` (default), `strict`, `none` |
/// | `idle_timeout`, `absolute_timeout`, `lifetime` | `SESSION_IDLE_TIMEOUT`, ... | seconds (fractions allowed) |
/// | `permanent` | `SESSION_PERMANENT` | new sessions outlive the browser |
/// | `refresh` | `SESSION_REFRESH` | `rolling` (default) or `on-change` |
/// | `url` | `SESSION_URL` | where the store is, for the app's own use |
/// | `secret_key` | `SESSION_SECRET_KEY` | at least 32 bytes: `openssl rand -base64 48` |
/// | `old_secret_keys` | `SESSION_OLD_SECRET_KEYS` | still verify, no longer sign (comma-separated in the environment) |
///
/// The secret becomes the app's [`KeyRing`]; every key the workspace uses is derived from
/// it under a label of [`keys::purpose`](crate::keys::purpose), so one secret is all an
/// app configures. A secret shorter than 32 bytes, the empty string included (what an
/// unset variable in a compose file gives), is refused with a message that says how to
/// make one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::SessionSettings;
///
/// let settings = SessionSettings::from_vars([
///     ("SESSION_IDLE_TIMEOUT", "1800"),
///     ("SESSION_SAME_SITE", "strict"),
///     ("SESSION_SECRET_KEY", "0123456789abcdef0123456789abcdef-and-more"),
///     ("HOME", "/root"),
/// ])?;
/// let config = settings.config()?;
/// assert_eq!(config.idle_timeout(), Some(Duration::from_secs(1800)));
/// assert!(config.keys().is_some(), "the secret keys the config");
///
/// let short = SessionSettings::from_vars([("SESSION_SECRET_KEY", "")])?;
/// assert!(short.config().unwrap_err().to_string().contains("openssl rand"));
///
/// // The same settings from any serde format (Rocket's figment, a TOML file...):
/// let from_json: SessionSettings = serde_json::from_str(r#"{"idle_timeout": 1800}"#)?;
/// assert_eq!(from_json.config()?.idle_timeout(), Some(Duration::from_secs(1800)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    cookie_name: Option<String>,
    path: Option<String>,
    domain: Option<String>,
    #[serde(deserialize_with = "lenient::bool")]
    secure: Option<bool>,
    #[serde(deserialize_with = "lenient::bool")]
    http_only: Option<bool>,
    same_site: Option<SameSiteSetting>,
    #[serde(deserialize_with = "lenient::seconds")]
    idle_timeout: Option<f64>,
    #[serde(deserialize_with = "lenient::seconds")]
    absolute_timeout: Option<f64>,
    #[serde(deserialize_with = "lenient::seconds")]
    lifetime: Option<f64>,
    #[serde(deserialize_with = "lenient::bool")]
    permanent: Option<bool>,
    refresh: Option<RefreshSetting>,
    url: Option<String>,
    secret_key: Option<String>,
    #[serde(deserialize_with = "lenient::list")]
    old_secret_keys: Vec<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SameSiteSetting {
    #[serde(alias = "Lax")]
    Lax,
    #[serde(alias = "Strict")]
    Strict,
    #[serde(alias = "None")]
    None,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RefreshSetting {
    Rolling,
    #[serde(alias = "on_change")]
    OnChange,
}

impl SessionSettings {
    /// The settings from the process's `SESSION_*` environment variables. Other
    /// `SESSION_*` variables (an app's own `SESSION_BACKEND`, say) are left alone.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Invalid`] when a variable's value has the wrong shape.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_vars(std::env::vars())
    }

    /// The settings from `(name, value)` pairs shaped like environment variables, for
    /// tests and for apps that read their environment elsewhere.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Invalid`] when a value has the wrong shape.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, SettingsError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut table = serde_json::Map::new();
        for (name, value) in vars {
            let Some(setting) = name.as_ref().strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let setting = setting.to_ascii_lowercase();
            if FIELDS.contains(&setting.as_str()) {
                table.insert(
                    setting,
                    serde_json::Value::String(value.as_ref().to_owned()),
                );
            }
        }
        Self::deserialize(serde_json::Value::Object(table)).map_err(SettingsError::Invalid)
    }

    /// Sets the secret in code (it is checked by [`config`](Self::config)).
    pub fn with_secret_key(mut self, secret: impl Into<String>) -> Self {
        self.secret_key = Some(secret.into());
        self
    }

    /// Whether a secret key is set.
    pub fn has_secret_key(&self) -> bool {
        self.secret_key.is_some()
    }

    /// `url`: where the app's store is, for the app to connect to.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The app's keys: `secret_key` signing, `old_secret_keys` verifying; `None` without
    /// a `secret_key`.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Key`] for a secret shorter than 32 bytes.
    pub fn keys(&self) -> Result<Option<KeyRing>, SettingsError> {
        let Some(secret) = &self.secret_key else {
            return Ok(None);
        };
        let mut ring = KeyRing::new(Key::try_from_secret(secret)?);
        for old in &self.old_secret_keys {
            ring = ring.with_verifying(Key::try_from_secret(old)?);
        }
        Ok(Some(ring))
    }

    /// The session configuration, with the app's keys when a secret is set.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Duration`] for a duration that is not a positive number of
    /// seconds, [`SettingsError::Key`] for a short secret, [`SettingsError::Config`] for
    /// settings that cannot work together.
    pub fn config(&self) -> Result<SessionConfig, SettingsError> {
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
        if let Some(same_site) = self.same_site {
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
        if let Some(refresh) = self.refresh {
            config = config.with_refresh(match refresh {
                RefreshSetting::Rolling => Refresh::Rolling,
                RefreshSetting::OnChange => Refresh::OnChange,
            });
        }
        if let Some(keys) = self.keys()? {
            config = config.with_keys(keys);
        }
        config.validate()?;
        Ok(config)
    }
}

/// A setting in seconds as a [`Duration`], refusing zero, negative and non-finite values.
fn seconds(setting: &'static str, value: Option<f64>) -> Result<Option<Duration>, SettingsError> {
    match value {
        None => Ok(None),
        Some(secs) => match Duration::try_from_secs_f64(secs) {
            Ok(duration) if !duration.is_zero() => Ok(Some(duration)),
            _ => Err(SettingsError::Duration {
                setting,
                value: secs,
            }),
        },
    }
}

impl fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password and the keys are secret: say only whether they are set.
        f.debug_struct("SessionSettings")
            .field("cookie_name", &self.cookie_name)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_timeout", &self.absolute_timeout)
            .field("lifetime", &self.lifetime)
            .field("url", &self.url.as_ref().map(|_| "REDACTED"))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "REDACTED"))
            .field("old_secret_keys", &self.old_secret_keys.len())
            .finish_non_exhaustive()
    }
}

/// Why [`SessionSettings`] could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A setting has the wrong shape (a word where a number belongs, an unknown key).
    #[error("invalid session settings: {0}")]
    Invalid(#[source] serde_json::Error),
    /// A duration is not a positive number of seconds.
    #[error(
        "session setting `{setting}` must be a number of seconds greater than zero, not {value}"
    )]
    Duration {
        /// The setting.
        setting: &'static str,
        /// What it was set to.
        value: f64,
    },
    /// A secret key is too short.
    #[error("session setting `secret_key` cannot be used: {0}")]
    Key(#[from] KeyError),
    /// The settings cannot work together.
    #[error("invalid session settings: {0}")]
    Config(#[from] ConfigError),
}

/// Deserializers that take a value typed (TOML, JSON, figment) or as the string an
/// environment variable holds.
mod lenient {
    use serde::de::Error as _;

    use super::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrText {
        Bool(bool),
        Text(String),
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(f64),
        Text(String),
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }

    pub(super) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Option::<BoolOrText>::deserialize(d)? {
            None => Ok(None),
            Some(BoolOrText::Bool(value)) => Ok(Some(value)),
            Some(BoolOrText::Text(text)) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(D::Error::custom(format!(
                    "expected true or false, not {text:?}"
                ))),
            },
        }
    }

    pub(super) fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<NumberOrText>::deserialize(d)? {
            None => Ok(None),
            Some(NumberOrText::Number(value)) => Ok(Some(value)),
            Some(NumberOrText::Text(text)) => text.trim().parse().map(Some).map_err(|_| {
                D::Error::custom(format!("expected a number of seconds, not {text:?}"))
            }),
        }
    }

    pub(super) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Option::<ListOrText>::deserialize(d)? {
            None => Vec::new(),
            Some(ListOrText::List(list)) => list,
            Some(ListOrText::Text(text)) => text
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn environment_and_serde_give_the_same_config() -> Result<(), Box<dyn std::error::Error>> {
        let env = SessionSettings::from_vars([
            ("SESSION_IDLE_TIMEOUT", "90.5"),
            ("SESSION_SECURE", "false"),
            ("SESSION_REFRESH", "on-change"),
            ("SESSION_SECRET_KEY", SECRET),
            (
                "SESSION_OLD_SECRET_KEYS",
                "fedcba9876543210fedcba9876543210, ",
            ),
            ("SESSION_BACKEND", "redis"),
        ])?
        .config()?;
        let typed: SessionSettings = serde_json::from_value(serde_json::json!({
            "idle_timeout": 90.5,
            "secure": false,
            "refresh": "on-change",
            "secret_key": SECRET,
            "old_secret_keys": ["fedcba9876543210fedcba9876543210"],
        }))?;
        let typed = typed.config()?;
        assert_eq!(env.idle_timeout(), Some(Duration::from_millis(90_500)));
        assert_eq!(env.idle_timeout(), typed.idle_timeout());
        assert!(!env.secure() && !typed.secure());
        assert_eq!(env.refresh(), Refresh::OnChange);
        assert_eq!(env.keys(), typed.keys());
        assert_eq!(env.keys().map(|ring| ring.iter().count()), Some(2));
        assert_eq!(env.id_cookie_keys(), typed.id_cookie_keys());
        Ok(())
    }

    #[test]
    fn bad_values_name_the_setting() -> Result<(), Box<dyn std::error::Error>> {
        let zero = SessionSettings::from_vars([("SESSION_LIFETIME", "0")])?;
        let zero = zero
            .config()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(zero.contains("`lifetime`"), "{zero}");
        let word = SessionSettings::from_vars([("SESSION_IDLE_TIMEOUT", "soon")]);
        let word = word.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(word.contains("\"soon\""), "{word}");
        let typo: Result<SessionSettings, _> = serde_json::from_str(r#"{"idle_timout": 1}"#);
        assert!(typo.is_err(), "unknown keys are refused");
        Ok(())
    }

    #[test]
    fn short_and_empty_secrets_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        for secret in ["", "hunter2", &SECRET[1..]] {
            let settings = SessionSettings::default().with_secret_key(secret);
            let Err(error) = settings.config() else {
                panic!("a {}-byte secret must be refused", secret.len());
            };
            let chain = crate::adapter::error_chain(&error);
            assert!(chain.contains("openssl rand"), "{chain}");
        }
        assert!(SessionSettings::default().config()?.keys().is_none());
        Ok(())
    }

    #[test]
    fn debug_hides_secrets() {
        let settings = SessionSettings::default().with_secret_key(SECRET);
        let debug = format!("{settings:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.starts_with("SessionSettings {"), "{debug}");
        assert!(debug.contains("secret_key: Some(\"REDACTED\")"), "{debug}");
    }

    #[test]
    fn the_secret_and_the_url_are_reported_as_set() -> Result<(), SettingsError> {
        let empty = SessionSettings::default();
        assert!(!empty.has_secret_key());
        assert_eq!(empty.url(), None);
        let url = "redis://:password@127.0.0.1:6379/0";
        let set = SessionSettings::from_vars([("SESSION_URL", url)])?.with_secret_key(SECRET);
        assert!(set.has_secret_key());
        assert_eq!(set.url(), Some(url));
        assert!(!format!("{set:?}").contains("password"));
        Ok(())
    }

    #[test]
    fn flags_take_the_words_environments_use() -> Result<(), SettingsError> {
        for (text, secure) in [("yes", true), ("ON", true), ("1", true), ("off", false)] {
            let config = SessionSettings::from_vars([("SESSION_SECURE", text)])?.config()?;
            assert_eq!(config.secure(), secure, "SESSION_SECURE={text}");
        }
        let maybe = SessionSettings::from_vars([("SESSION_HTTP_ONLY", "maybe")]);
        let message = maybe.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("expected true or false"), "{message}");
        Ok(())
    }

    /// Runs itself again with a `SESSION_*` variable set (changing this process's
    /// environment would race the other tests' threads).
    #[test]
    fn from_env_reads_the_process_environment() -> Result<(), Box<dyn std::error::Error>> {
        const NAME: &str = "set-by-the-parent-test";
        if std::env::var("SESSION_COOKIE_NAME").as_deref() == Ok(NAME) {
            let config = SessionSettings::from_env()?.config()?;
            assert_eq!(config.cookie_name(), NAME);
            return Ok(());
        }
        let child = std::process::Command::new(std::env::current_exe()?)
            .args([
                "--exact",
                "settings::tests::from_env_reads_the_process_environment",
            ])
            .env("SESSION_COOKIE_NAME", NAME)
            .output()?;
        let stdout = String::from_utf8_lossy(&child.stdout);
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(child.status.success(), "the child failed: {stdout}{stderr}");
        assert!(
            stdout.contains("1 passed"),
            "the child ran no test: {stdout}"
        );
        Ok(())
    }
}
