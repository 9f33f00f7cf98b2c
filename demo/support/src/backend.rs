//! From flags to a [`SessionManager`]: the session configuration and the one place that
//! picks a backend, at run time, as a [`BoxedBackend`].

use session_cookie::{CookieBackend, FlaskCookieBackend};
use session_core::adapter::SessionManager;
use session_core::backend::{BoxedBackend, IntoSessionBackend};
use session_core::store::{BoxError, MemoryStore};
use session_core::{ConfigError, SessionConfig, SessionSettings, SettingsError};
use session_redis::{FlaskSessionStore, RedisStore};
use session_sqlite::SqliteStore;

use crate::{BackendKind, CommonArgs, Secret};

/// The session configuration the flags ask for, on top of what the library's
/// [`SessionSettings`] read from `SESSION_*` variables: `Secure` unless
/// `--insecure-cookie`, the timeouts, permanent sessions with `--lifetime`, and the app's
/// keys from the secret (id cookies signed, so a forged id is refused before any store
/// lookup).
///
/// # Errors
///
/// When a `SESSION_*` variable cannot be used.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use clap::Parser;
/// use demo_support::{session_config, CommonArgs, Secret};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     common: CommonArgs,
/// }
/// let cli = Cli::try_parse_from(["demo", "--insecure-cookie", "--lifetime", "60"])?;
/// let config = session_config(&cli.common, &Secret::new(None)?)?;
/// assert!(!config.secure());
/// assert!(config.permanent_by_default());
/// assert_eq!(config.lifetime(), Duration::from_secs(60));
/// assert!(config.keys().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn session_config(args: &CommonArgs, secret: &Secret) -> Result<SessionConfig, StartupError> {
    Ok(session_config_without_keys(args)?.with_keys(secret.keys().clone()))
}

/// [`session_config`] with bare id cookies, as Flask-Session issues them (it no longer
/// signs its ids), so a Flask-Session app and the demo can read each other's cookies.
fn session_config_without_keys(args: &CommonArgs) -> Result<SessionConfig, StartupError> {
    // The secret comes from the flag (which also reads SESSION_SECRET_KEY): the settings
    // read from the environment supply everything else.
    let settings = SessionSettings::from_env()?;
    let base = settings.config()?;
    let mut config = base.with_secure(!args.insecure_cookie);
    if let Some(idle) = args.idle_timeout {
        config = config.with_idle_timeout(idle);
    }
    if let Some(absolute) = args.absolute_timeout {
        config = config.with_absolute_timeout(absolute);
    }
    if let Some(lifetime) = args.lifetime {
        config = config.with_lifetime(lifetime).with_permanent(true);
    }
    Ok(config)
}

/// Connects the backend the flags name and pairs it with [`session_config`].
///
/// Every backend is chosen in the one `match` below, each arm a [`BoxedBackend`]: the
/// run-time choice the library supports on both frameworks.
///
/// # Errors
///
/// When the backend cannot be reached or set up, or the configuration is invalid.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use demo_support::{session_manager, CommonArgs, Secret};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     common: CommonArgs,
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let cli = Cli::try_parse_from(["demo", "--backend", "memory"])?;
/// let manager = session_manager(&cli.common, &Secret::new(None)?).await?;
/// assert!(manager.capabilities().server_side_revocation);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn session_manager(
    args: &CommonArgs,
    secret: &Secret,
) -> Result<SessionManager, StartupError> {
    let (backend, config) = backend(args, secret).await?;
    Ok(SessionManager::new(backend, config)?)
}

/// The backend the flags name, boxed, and the configuration it runs with.
async fn backend(
    args: &CommonArgs,
    secret: &Secret,
) -> Result<(BoxedBackend, SessionConfig), StartupError> {
    let config = session_config(args, secret)?;
    let url = args.database_url().unwrap_or_default();
    let unreachable = |source: BoxError| StartupError::Connect {
        backend: args.backend,
        source,
    };
    Ok(match args.backend {
        BackendKind::Memory => (MemoryStore::default().into_boxed(), config),
        BackendKind::Sqlite => {
            let store = SqliteStore::connect(url)
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::Redis => {
            let store = RedisStore::connect(url)
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::FlaskRedis => {
            let config = session_config_without_keys(args)?;
            let store = FlaskSessionStore::connect(url, &config)
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::Cookie => (
            CookieBackend::new(secret.keys().clone()).into_boxed(),
            config,
        ),
        BackendKind::FlaskCookie => {
            // Flask's SECRET_KEY is the string itself; without one, the random key's bytes.
            let flask_secret = secret.given().map_or_else(
                || secret.keys().signing().as_bytes().to_vec(),
                |given| given.as_bytes().to_vec(),
            );
            (FlaskCookieBackend::new(flask_secret).into_boxed(), config)
        }
    })
}

/// A one-line description of where sessions live, for the startup message: the backend
/// and its database, with any password in the URL hidden.
pub fn describe(args: &CommonArgs) -> String {
    match args.database_url() {
        None => format!("{} backend", args.backend),
        Some(url) => format!("{} backend at {}", args.backend, redact_password(url)),
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// The backend's store could not be opened or reached.
    #[error("could not start the `{backend}` session backend")]
    Connect {
        /// The backend asked for.
        backend: BackendKind,
        /// The store's error.
        #[source]
        source: BoxError,
    },
    /// The flags make an impossible session configuration.
    #[error("invalid session settings")]
    Config(#[from] ConfigError),
    /// The secret or a `SESSION_*` setting cannot be used.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_hidden() {
        assert_eq!(
            redact_password("redis://:hunter2@host:6379/0"),
            "redis://:***@host:6379/0"
        );
        assert_eq!(
            redact_password("redis://ada:pw@host/0"),
            "redis://ada:***@host/0"
        );
        assert_eq!(
            redact_password("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(
            redact_password("sqlite://demo-sessions.db"),
            "sqlite://demo-sessions.db"
        );
    }
}
