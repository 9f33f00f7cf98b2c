//! From flags to a [`SessionManager`]: the session configuration and the one place that
//! picks a backend.

use session_cookie::{CookieStore, FlaskCookieStore};
use session_core::{BoxError, ConfigError, KeyError, MemoryStore, SessionConfig, SessionManager};
use session_redis::{FlaskSessionStore, RedisStore};
use session_sqlite::SqliteStore;

use crate::{BackendKind, CommonArgs, Secret};

/// The purpose the server-side id cookies' signing key is derived for.
const ID_COOKIE_KEYS: &str = "server-side session id cookie";

/// The session configuration the flags ask for: `Secure` unless `--insecure-cookie`,
/// the timeouts, permanent sessions with `--lifetime`, and id cookies signed with a key
/// derived from the secret (so a forged id is refused before any store lookup).
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
/// let config = session_config(&cli.common, &Secret::new(Some("s"))?);
/// assert!(!config.secure());
/// assert!(config.permanent_by_default());
/// assert_eq!(config.lifetime(), Duration::from_secs(60));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn session_config(args: &CommonArgs, secret: &Secret) -> SessionConfig {
    session_config_without_keys(args).with_keys(secret.keys(ID_COOKIE_KEYS))
}

/// [`session_config`] with bare id cookies, as Flask-Session issues them (it no longer
/// signs its ids), so a Flask-Session app and the demo can read each other's cookies.
fn session_config_without_keys(args: &CommonArgs) -> SessionConfig {
    let mut config = SessionConfig::default().with_secure(!args.insecure_cookie);
    if let Some(idle) = args.idle_timeout {
        config = config.with_idle_timeout(idle);
    }
    if let Some(absolute) = args.absolute_timeout {
        config = config.with_absolute_timeout(absolute);
    }
    if let Some(lifetime) = args.lifetime {
        config = config.with_lifetime(lifetime).with_permanent(true);
    }
    config
}

/// Connects the backend the flags name and pairs it with [`session_config`].
///
/// Every backend is chosen in the one `match` below.
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
    let config = session_config(args, secret);
    let url = args.database_url().unwrap_or_default();
    let unreachable = |source: BoxError| StartupError::Connect {
        backend: args.backend,
        source,
    };
    let manager = match args.backend {
        BackendKind::Memory => SessionManager::new(MemoryStore::default(), config)?,
        BackendKind::Sqlite => {
            let store = SqliteStore::connect(url)
                .await
                .map_err(|e| unreachable(e.into()))?;
            SessionManager::new(store, config)?
        }
        BackendKind::Redis => {
            let store = RedisStore::connect(url)
                .await
                .map_err(|e| unreachable(e.into()))?;
            SessionManager::new(store, config)?
        }
        BackendKind::FlaskRedis => {
            let config = session_config_without_keys(args);
            let store = FlaskSessionStore::connect(url, &config)
                .await
                .map_err(|e| unreachable(e.into()))?;
            SessionManager::new(store, config)?
        }
        BackendKind::Cookie => {
            SessionManager::new(CookieStore::new(secret.keys("cookie session")), config)?
        }
        BackendKind::FlaskCookie => {
            // Flask's SECRET_KEY is the string itself; without one, the random master key.
            let flask_secret = secret.given().map_or_else(
                || secret.master().as_bytes().to_vec(),
                |given| given.as_bytes().to_vec(),
            );
            SessionManager::new(FlaskCookieStore::new(flask_secret), config)?
        }
    };
    Ok(manager)
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
    /// The key could not be made.
    #[error(transparent)]
    Key(#[from] KeyError),
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
