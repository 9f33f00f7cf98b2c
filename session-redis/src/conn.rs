//! One multiplexed, self-healing connection (to a server or a cluster) and the timeout
//! every command runs under.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use session_core::store::redact_url;
use tracing::debug;

use crate::{RedisConfig, RedisError};

/// How many times a lost connection is re-dialled before the commands waiting on it fail.
/// Few and quick: while Redis is down, requests should fail fast (503) rather than queue;
/// the next command after a failed round starts another, so service resumes by itself.
const RECONNECT_RETRIES: usize = 1;
/// The longest pause between two re-dials, in milliseconds.
const RECONNECT_MAX_DELAY_MS: u64 = 250;

/// A connection that every clone of a store shares: requests are pipelined over one
/// socket per server, and a dropped socket is re-dialled in the background.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            #[cfg(feature = "cluster")]
            Self::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            #[cfg(feature = "cluster")]
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// A connection plus what its errors need: the redacted URL and the command timeout.
#[derive(Clone)]
pub(crate) struct Redis {
    conn: Conn,
    url: Arc<str>,
    timeout: Duration,
    cluster: bool,
}

impl Redis {
    /// Connects as `config` says; fails when the first connection cannot be made.
    pub(crate) async fn connect(config: &RedisConfig) -> Result<Self, RedisError> {
        // Each node on its own: joined, one node's `@` could shift what another shows.
        let url = config
            .nodes
            .iter()
            .map(|node| redact_url(node))
            .collect::<Vec<_>>()
            .join(",");
        let command_error = |source| RedisError::Command {
            url: url.clone(),
            source,
        };
        let invalid_url = |source| RedisError::InvalidUrl {
            url: url.clone(),
            source,
        };
        let connecting = async {
            #[cfg(feature = "cluster")]
            if config.cluster {
                return connect_cluster(config, invalid_url, command_error).await;
            }
            let first = config.nodes.first().map(String::as_str).unwrap_or_default();
            let client = redis::Client::open(first).map_err(invalid_url)?;
            let manager = ConnectionManagerConfig::new()
                .set_connection_timeout(config.connect_timeout)
                .set_response_timeout(config.command_timeout)
                .set_number_of_retries(RECONNECT_RETRIES)
                .set_max_delay(RECONNECT_MAX_DELAY_MS);
            ConnectionManager::new_with_config(client, manager)
                .await
                .map(Conn::Single)
                .map_err(command_error)
        };
        // The client retries a refused first connection; bound the whole attempt.
        let budget = config
            .connect_timeout
            .saturating_mul(RECONNECT_RETRIES as u32 + 2);
        let conn = match tokio::time::timeout(budget, connecting).await {
            Ok(conn) => conn?,
            Err(source) => {
                return Err(RedisError::Timeout {
                    url,
                    timeout: budget,
                    source,
                })
            }
        };
        debug!(url = %url, cluster = config.cluster, "connected to Redis");
        Ok(Self {
            conn,
            url: url.into(),
            timeout: config.command_timeout,
            cluster: config.cluster,
        })
    }

    /// A handle to the shared connection, for one command or script.
    pub(crate) fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// Whether keys may live on different nodes, so a script may only touch one key.
    pub(crate) fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The server's URL, password redacted.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Runs one request under the command timeout, naming the server in its error.
    pub(crate) async fn run<T>(
        &self,
        request: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, RedisError> {
        match tokio::time::timeout(self.timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(RedisError::Command {
                url: self.url.to_string(),
                source,
            }),
            Err(source) => Err(RedisError::Timeout {
                url: self.url.to_string(),
                timeout: self.timeout,
                source,
            }),
        }
    }
}

#[cfg(feature = "cluster")]
async fn connect_cluster(
    config: &RedisConfig,
    invalid_url: impl Fn(redis::RedisError) -> RedisError,
    command_error: impl Fn(redis::RedisError) -> RedisError,
) -> Result<Conn, RedisError> {
    let client = redis::cluster::ClusterClientBuilder::new(config.nodes.iter().map(String::as_str))
        .connection_timeout(config.connect_timeout)
        .response_timeout(config.command_timeout)
        .retries(RECONNECT_RETRIES as u32)
        .max_retry_wait(RECONNECT_MAX_DELAY_MS)
        .build()
        .map_err(invalid_url)?;
    client
        .get_async_connection()
        .await
        .map(Conn::Cluster)
        .map_err(command_error)
}
