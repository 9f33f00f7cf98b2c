//! The command-line flags both demos share.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// `--remember-for`'s default: 30 days, in seconds.
const REMEMBER_FOR_DEFAULT: &str = "2592000";

/// The flags of both demos but `--addr`, whose default differs per framework: each demo
/// declares `--addr` itself and flattens this struct next to it.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use demo_support::{BackendKind, CommonArgs};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[arg(long, env = "DEMO_ADDR", default_value = "127.0.0.1:3000")]
///     addr: String,
///     #[command(flatten)]
///     common: CommonArgs,
/// }
///
/// let cli = Cli::try_parse_from(["demo", "--backend", "memory", "--idle-timeout", "1.5"])?;
/// assert_eq!(cli.common.backend, BackendKind::Memory);
/// assert_eq!(cli.common.idle_timeout, Some(std::time::Duration::from_millis(1500)));
/// // "Remember me" keeps a session 30 days unless told otherwise.
/// assert_eq!(cli.common.remember_for, std::time::Duration::from_secs(30 * 24 * 60 * 60));
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Args, Clone, Debug)]
#[non_exhaustive]
pub struct CommonArgs {
    /// Where sessions are kept.
    #[arg(long, env = "SESSION_BACKEND", value_enum, default_value_t = BackendKind::Sqlite)]
    pub backend: BackendKind,

    /// The database of the sqlite, redis, postgres or files backends (default:
    /// sqlite://demo-sessions.db, redis://127.0.0.1:6379 for the redis backends,
    /// postgres://postgres@127.0.0.1:5432/postgres for postgres, file://demo-sessions (a
    /// directory) for files, file://flask_session for flask-files; file:///abs/dir for
    /// an absolute directory).
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Any string; the keys that sign session cookies are derived from it. Without it a
    /// random key is used and sessions end when the demo restarts.
    #[arg(
        long,
        env = "SESSION_SECRET_KEY",
        value_name = "STRING",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// End sessions after this many seconds without a request (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub idle_timeout: Option<Duration>,

    /// End sessions this many seconds after they started, however active.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub absolute_timeout: Option<Duration>,

    /// Make sessions permanent: the cookie lives this many seconds, renewed on each save.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub lifetime: Option<Duration>,

    /// How long "remember me" (`remember=on` at login) keeps a session without a
    /// request, in seconds, instead of `--idle-timeout`; `--absolute-timeout` and
    /// `--lifetime` still cap it [default: 30 days].
    #[arg(long, value_name = "SECS", value_parser = parse_secs, default_value = REMEMBER_FOR_DEFAULT, hide_default_value = true)]
    pub remember_for: Duration,

    /// Drop the cookie's `Secure` attribute, for plain http beyond localhost.
    #[arg(long)]
    pub insecure_cookie: bool,

    /// The text every Redis key of the redis and flask-redis backends starts with, so
    /// several apps (or test runs) can share one Redis; for flask-redis it is
    /// Flask-Session's `SESSION_KEY_PREFIX` and must match the Flask app's. Avoid `{`
    /// and `}` [default: session:, the redis backend's default and Flask-Session's]
    #[arg(long, env = "SESSION_REDIS_PREFIX", value_name = "PREFIX")]
    pub redis_prefix: Option<String>,

    /// Server-side backends: how many sessions one user may hold at once; a login beyond
    /// it ends the user's least recently active session [default: no limit].
    #[arg(long, value_name = "N")]
    pub max_sessions_per_user: Option<NonZeroUsize>,
}

/// The session backends the demos know.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// SQLite through sqlx (the default).
    Sqlite,
    /// The whole session in a signed cookie.
    Cookie,
    /// A cookie Flask can read and write.
    FlaskCookie,
    /// Redis.
    Redis,
    /// Redis records a Flask-Session app shares.
    FlaskRedis,
    /// This process's memory: gone at restart.
    Memory,
    /// PostgreSQL through sqlx.
    Postgres,
    /// One file per session in a directory.
    Files,
    /// Flask-Session's filesystem directory (`SESSION_TYPE = "filesystem"`).
    FlaskFiles,
}

impl BackendKind {
    /// The flag value naming this backend.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Cookie => "cookie",
            Self::FlaskCookie => "flask-cookie",
            Self::Redis => "redis",
            Self::FlaskRedis => "flask-redis",
            Self::Memory => "memory",
            Self::Postgres => "postgres",
            Self::Files => "files",
            Self::FlaskFiles => "flask-files",
        }
    }

    /// The `--database-url` used when none is given, for backends that have one.
    pub fn default_database_url(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => Some("sqlite://demo-sessions.db"),
            Self::Redis | Self::FlaskRedis => Some("redis://127.0.0.1:6379"),
            Self::Postgres => Some("postgres://postgres@127.0.0.1:5432/postgres"),
            Self::Files => Some("file://demo-sessions"),
            // Flask-Session's own default directory, relative to where the app runs.
            Self::FlaskFiles => Some("file://flask_session"),
            Self::Cookie | Self::FlaskCookie | Self::Memory => None,
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl CommonArgs {
    /// The database URL in effect: the flag, or the backend's default.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url
            .as_deref()
            .or_else(|| self.backend.default_database_url())
    }

    /// The Redis key prefix in effect: the flag, or [`DEFAULT_REDIS_PREFIX`].
    pub fn redis_prefix(&self) -> &str {
        self.redis_prefix.as_deref().unwrap_or(DEFAULT_REDIS_PREFIX)
    }
}

/// `--redis-prefix`'s default: the redis backend's own default prefix, which is also
/// Flask-Session's default `SESSION_KEY_PREFIX`, so a Flask-Session app with default
/// settings shares the flask-redis backend's sessions.
pub const DEFAULT_REDIS_PREFIX: &str = session_redis::DEFAULT_PREFIX;

/// Seconds, whole or fractional, greater than zero.
fn parse_secs(value: &str) -> Result<Duration, String> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number of seconds"))?;
    match Duration::try_from_secs_f64(secs) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(format!(
            "`{value}` must be a number of seconds greater than zero"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_whole_and_fractional_and_refuse_zero() {
        assert_eq!(parse_secs("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "soon", "NaN", "inf"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn remember_for_defaults_to_thirty_days_and_takes_seconds() {
        use clap::Parser;

        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            common: CommonArgs,
        }
        let default = Cli::try_parse_from(["demo"]).map(|cli| cli.common.remember_for);
        assert_eq!(default.ok(), Some(Duration::from_secs(30 * 24 * 60 * 60)));
        let given = Cli::try_parse_from(["demo", "--remember-for", "86400"])
            .map(|cli| cli.common.remember_for);
        assert_eq!(given.ok(), Some(Duration::from_secs(86_400)));
        assert!(Cli::try_parse_from(["demo", "--remember-for", "0"]).is_err());
    }

    #[test]
    fn redis_prefix_defaults_to_flask_sessions_and_takes_the_flag() {
        use clap::Parser;

        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            common: CommonArgs,
        }
        // Flask-Session's default `SESSION_KEY_PREFIX`, and the redis backend's.
        assert_eq!(DEFAULT_REDIS_PREFIX, "session:");
        let default = Cli::try_parse_from(["demo", "--backend", "redis"]).map(|cli| cli.common);
        assert_eq!(
            default.as_ref().map(CommonArgs::redis_prefix).ok(),
            Some("session:")
        );
        let given = Cli::try_parse_from(["demo", "--redis-prefix", "app1:"]).map(|cli| cli.common);
        assert_eq!(
            given.as_ref().map(CommonArgs::redis_prefix).ok(),
            Some("app1:")
        );
        let help = <Cli as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        assert!(
            help.contains("--redis-prefix <PREFIX>") && help.contains("SESSION_REDIS_PREFIX"),
            "{help}"
        );
    }

    #[test]
    fn flag_names_match_the_value_enum() {
        for kind in BackendKind::value_variants() {
            let name = kind.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(name.as_deref(), Some(kind.name()));
        }
    }
}
