//! Where Redis is, how its keys are named, and how long to wait for it.

use std::fmt;
use std::time::Duration;

use session_core::store::redact_url;

use crate::{RedisError, RedisStore};

/// The default key prefix, Flask-Session's `SESSION_KEY_PREFIX`.
pub const DEFAULT_PREFIX: &str = "session:";
/// How long a command may take before it fails with [`RedisError::Timeout`].
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one attempt to open a connection may take.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How to reach Redis and name session keys: a builder for [`RedisStore`] and
/// [`FlaskSessionStore`](crate::FlaskSessionStore).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://:hunter2@127.0.0.1:6379/0")
///     .with_prefix("myapp:session:")
///     .with_command_timeout(Duration::from_millis(500));
/// assert_eq!(config.prefix(), "myapp:session:");
/// // The password never shows in Debug output (nor in errors).
/// assert!(!format!("{config:?}").contains("hunter2"));
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) nodes: Vec<String>,
    pub(crate) cluster: bool,
    pub(crate) prefix: String,
    pub(crate) command_timeout: Duration,
    pub(crate) connect_timeout: Duration,
}

impl RedisConfig {
    /// A single Redis server at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` with a TLS feature of the `redis` crate).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            nodes: vec![url.into()],
            cluster: false,
            prefix: DEFAULT_PREFIX.to_owned(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// A Redis Cluster, discovered from any of `nodes` (URLs as for [`RedisConfig::new`]).
    ///
    /// Each session lives in one key whose hash tag (`{...}`) is its storage key, so
    /// sessions spread over the cluster's slots.
    #[cfg(feature = "cluster")]
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            nodes: nodes.into_iter().map(Into::into).collect(),
            cluster: true,
            ..Self::new(String::new())
        }
    }

    /// Sets the text every key starts with (default `session:`). Give each app its own
    /// prefix when several share a Redis; avoid `{` and `}`, which would change how a
    /// cluster spreads the keys.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets how long one command may take (default 2 s): past it the command fails with
    /// [`RedisError::Timeout`], so a hung server yields errors (503s), not hung requests.
    /// The store runs on Tokio with timers enabled, as `#[tokio::main]`, axum and Rocket
    /// set up.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Sets how long one attempt to open a connection may take (default 2 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The command timeout.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Connects a [`RedisStore`].
    ///
    /// # Errors
    ///
    /// [`RedisError::InvalidUrl`] for a malformed URL; [`RedisError::Command`] or
    /// [`RedisError::Timeout`] when the server cannot be reached.
    pub async fn connect(self) -> Result<RedisStore, RedisError> {
        RedisStore::from_config(self).await
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes: Vec<String> = self.nodes.iter().map(|url| redact_url(url)).collect();
        f.debug_struct("RedisConfig")
            .field("nodes", &nodes)
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}
