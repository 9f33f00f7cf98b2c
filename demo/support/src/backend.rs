//! From flags to a [`SessionManager`]: the session configuration and the one place that
//! picks a backend, at run time, as a [`BoxedBackend`].

use std::path::PathBuf;

use session_cookie::{CookieBackend, FlaskCookieBackend};
use session_core::adapter::SessionManager;
use session_core::backend::{BoxedBackend, IntoSessionBackend};
use session_core::store::{redact_url, BoxError, MemoryStore};
use session_core::{ConfigError, SessionConfig, SessionSettings, SettingsError};
use session_files::{FileStore, FlaskSessionFileStore};
use session_postgres::PostgresStore;
use session_redis::RedisConfig;
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
    let mut config = base
        .with_secure(!args.insecure_cookie)
        .with_max_sessions_per_principal(args.max_sessions_per_user);
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
        BackendKind::Postgres => {
            // The table goes in the URL's `search_path` schema (`public` by default).
            let store = PostgresStore::connect(url)
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::Redis => {
            let store = RedisConfig::new(url)
                .with_prefix(args.redis_prefix())
                .connect()
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::FlaskRedis => {
            let config = session_config_without_keys(args)?;
            // `--redis-prefix` is Flask-Session's `SESSION_KEY_PREFIX`.
            let store = RedisConfig::new(url)
                .with_prefix(args.redis_prefix())
                .connect_flask_session(&config)
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::Files => {
            let store = FileStore::open(directory(url))
                .await
                .map_err(|e| unreachable(e.into()))?;
            (store.into_boxed(), config)
        }
        BackendKind::FlaskFiles => {
            // Flask-Session's sids are bare, as for flask-redis.
            let config = session_config_without_keys(args)?;
            let store = FlaskSessionFileStore::open(directory(url), &config)
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

/// The directory a `file://` URL names: `file://relative/dir` (relative to the working
/// directory, like `sqlite://relative.db`) or `file:///absolute/dir`; anything without
/// the scheme is taken as a path. Not parsed with `url`: in a URL `file://dir` would make
/// `dir` a host, and the relative form is the one Flask-Session's default needs.
fn directory(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("file://").unwrap_or(url))
}

/// A one-line description of where sessions live, for the startup message: the backend
/// and its database, with any password in the URL hidden.
pub fn describe(args: &CommonArgs) -> String {
    match args.database_url() {
        None => format!("{} backend", args.backend),
        Some(url) => format!("{} backend at {}", args.backend, redact_url(url)),
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
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
    }

    fn described(backend: &str, url: &str) -> String {
        let cli = Cli::try_parse_from(["demo", "--backend", backend, "--database-url", url])
            .unwrap_or_else(|error| panic!("{error}"));
        describe(&cli.common)
    }

    /// Red-team finding: a password holding an unencoded `/`, `?` or `#` ended the
    /// authority early, and the whole URL was printed.
    #[test]
    fn file_urls_name_relative_and_absolute_directories() {
        assert_eq!(
            directory("file://flask_session"),
            PathBuf::from("flask_session")
        );
        assert_eq!(
            directory("file:///var/lib/app"),
            PathBuf::from("/var/lib/app")
        );
        assert_eq!(directory("sessions"), PathBuf::from("sessions"));
    }

    #[test]
    fn describe_never_prints_a_password_whatever_its_characters() {
        for (url, shown) in [
            (
                "redis://user:hun/ter2@127.0.0.1:6399/0",
                "redis backend at redis://user:***@127.0.0.1:6399/0",
            ),
            (
                "redis://user:hun?ter2@127.0.0.1:6399/0",
                "redis backend at redis://user:***@127.0.0.1:6399/0",
            ),
            (
                "redis://user:hun#ter2@127.0.0.1:6399/0",
                "redis backend at redis://user:***@127.0.0.1:6399/0",
            ),
            (
                "redis://:hun@ter2@127.0.0.1:6399/0",
                "redis backend at redis://:***@127.0.0.1:6399/0",
            ),
            (
                "redis+unix:///tmp/r.sock?db=0&pass=hunter2",
                "redis backend at redis+unix:///tmp/r.sock?db=0&pass=***",
            ),
            (
                "sqlite:///var/lib/app/sessions.db",
                "sqlite backend at sqlite:///var/lib/app/sessions.db",
            ),
        ] {
            let backend = if url.starts_with("sqlite") {
                "sqlite"
            } else {
                "redis"
            };
            let line = described(backend, url);
            assert!(
                !line.contains("ter2") && !line.contains("hunter2"),
                "{line}"
            );
            assert_eq!(line, shown);
        }
    }

    #[test]
    fn ordinary_urls_are_described_as_they_are() {
        assert_eq!(
            described("redis", "redis://:hunter2@host:6379/0"),
            "redis backend at redis://:***@host:6379/0"
        );
        assert_eq!(
            described("redis", "redis://127.0.0.1:6379"),
            "redis backend at redis://127.0.0.1:6379"
        );
        assert_eq!(
            described("sqlite", "sqlite://demo-sessions.db"),
            "sqlite backend at sqlite://demo-sessions.db"
        );
    }
}
