//! How a [`PostgresStore`] connects: its table, its pool, its cleanup schedule.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use session_core::clock::{Clock, SystemClock};
use session_core::store::redact_url;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::schema;
use crate::store::{describe_target, Db, Health};
use crate::{PostgresError, PostgresStore};

const DEFAULT_TABLE: &str = "session_records";
const DEFAULT_MAX_CONNECTIONS: u32 = 10;
const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_CLEANUP_BATCH: u32 = 1000;
/// A pooled connection idle this long is pinged before use: a server restart or a
/// firewall may have closed it meanwhile. Busier connections go straight to their query
/// (one round trip per operation), unless a connection failure was seen since they were
/// last used.
pub(crate) const PING_IDLE_AFTER: Duration = Duration::from_secs(5);

/// Settings for [`PostgresStore`], with the defaults [`PostgresStore::connect`] uses.
///
/// | setting | default |
/// |---|---|
/// | [`schema`](Self::with_schema) | the connection's current schema (the first of its `search_path`; `public` on a stock server), created if missing |
/// | [`table`](Self::with_table) | `session_records` |
/// | [`max_connections`](Self::with_max_connections) | 10 |
/// | [`acquire_timeout`](Self::with_acquire_timeout) | 5 s: how long an operation waits for a free connection, or for the server to accept one, before failing as unavailable |
/// | [`durable_commits`](Self::with_durable_commits) | off: `synchronous_commit = off` on the store's connections |
/// | [`cleanup_interval`](Self::with_cleanup_interval) | 60 s |
/// | [`cleanup_batch`](Self::with_cleanup_batch) | 1000 rows per statement |
/// | [`clock`](Self::with_clock) | [`SystemClock`]: what the cleanup task calls "now" |
///
/// The pool settings (and `durable_commits`) apply to [`connect`](Self::connect) and
/// [`connect_with`](Self::connect_with); [`from_pool`](Self::from_pool) uses the pool as
/// it was built.
///
/// # Durability
///
/// By default the store's connections commit with `synchronous_commit = off`: a commit
/// returns once it is in the server's WAL buffers, and the WAL writer flushes it to disk
/// within a fraction of a second (`wal_writer_delay`, 200 ms by default, at most three of
/// them). The database is never corrupted, and an application crash loses nothing; a crash
/// of the PostgreSQL server or its machine can drop the session writes of that last
/// moment (a user logged out, a counter one step back), as SQLite's `synchronous=NORMAL`
/// does in session-sqlite. In exchange a session write does not wait for a disk flush.
/// [`with_durable_commits(true)`](Self::with_durable_commits) keeps the server's setting
/// (`on` unless configured otherwise).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use session_postgres::PostgresStoreOptions;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = PostgresStoreOptions::default()
///     .with_schema("auth")
///     .with_table("web_sessions")
///     .with_max_connections(20)
///     .with_acquire_timeout(Duration::from_secs(2))
///     .with_cleanup_interval(Some(Duration::from_secs(300)))
///     .connect("postgres://app:secret@db.internal:5432/app")
///     .await?;
/// assert_eq!(store.table(), "auth.web_sessions");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PostgresStoreOptions {
    schema: Option<String>,
    table: String,
    max_connections: u32,
    acquire_timeout: Duration,
    durable_commits: bool,
    pub(crate) cleanup_interval: Option<Duration>,
    pub(crate) cleanup_batch: u32,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for PostgresStoreOptions {
    fn default() -> Self {
        Self {
            schema: None,
            table: DEFAULT_TABLE.to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            durable_commits: false,
            cleanup_interval: Some(DEFAULT_CLEANUP_INTERVAL),
            cleanup_batch: DEFAULT_CLEANUP_BATCH,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for PostgresStoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreOptions")
            .field("schema", &self.schema)
            .field("table", &self.table)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("durable_commits", &self.durable_commits)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("cleanup_batch", &self.cleanup_batch)
            .finish_non_exhaustive()
    }
}

impl PostgresStoreOptions {
    /// The schema that holds the table; created (with the table) on connect if missing.
    /// By default, the connection's current schema: the first schema of its `search_path`
    /// (set one per app with `?options=-c%20search_path%3Dmyapp` in the URL).
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The table's name (`session_records` by default), at most 52 bytes: the store also
    /// keeps `NAME_migrations` (its schema versions) and indexes `NAME_expires_at` and
    /// `NAME_principal`.
    /// Any characters are allowed; names are always quoted.
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// How many connections the store's pool may open (at least 1).
    pub fn with_max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long an operation waits for a free connection (or for a server that refuses
    /// connections to accept one) before failing with
    /// [`StoreError::Unavailable`](session_core::store::StoreError::Unavailable), which
    /// adapters answer with 503. Also bounds how long [`connect`](Self::connect) waits for
    /// the server.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Whether every session write waits for its commit to reach disk (the server's own
    /// `synchronous_commit`); off by default: `synchronous_commit = off` on the store's
    /// connections (see the type's docs on durability).
    pub fn with_durable_commits(mut self, durable: bool) -> Self {
        self.durable_commits = durable;
        self
    }

    /// How often the background task deletes expired rows; `None` turns it off (call
    /// [`RecordStore::delete_expired`](session_core::store::RecordStore::delete_expired)
    /// yourself then, or from one process only). The first run is one interval after
    /// connecting; each run deletes what is expired at the [`clock`](Self::with_clock)'s
    /// "now". Several processes may run it at once: each skips the rows another is
    /// deleting.
    pub fn with_cleanup_interval(mut self, interval: Option<Duration>) -> Self {
        self.cleanup_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// How many expired rows one `DELETE` removes (at least 1), so cleanup never holds
    /// many row locks or a long transaction.
    pub fn with_cleanup_batch(mut self, rows: u32) -> Self {
        self.cleanup_batch = rows.max(1);
        self
    }

    /// The clock for what the store does on its own, with no request to take the time
    /// from: the cleanup task deletes the rows expired at this clock's "now", and the
    /// schema ledger records when a migration ran. [`SystemClock`] by default.
    ///
    /// Requests never read it: every [`RecordStore`](session_core::store::RecordStore)
    /// call is handed its own `now` by the
    /// [`SessionManager`](session_core::adapter::SessionManager). Give the store the clock
    /// the manager reads (a [`ManualClock`](session_core::clock::ManualClock) in tests), so
    /// the cleanup never deletes a session the manager still counts as live.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Connects to the database at `url` and creates or upgrades the table.
    ///
    /// `url` is `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS]` (or
    /// `postgresql://`), with libpq's parameters (`options=-c search_path=...`,
    /// `application_name`, `host=/run/postgresql` for a Unix socket...). This build
    /// speaks plain TCP or Unix sockets: for TLS, enable one of sqlx's TLS features in
    /// your own manifest and use [`connect_with`](Self::connect_with) or
    /// [`from_pool`](Self::from_pool).
    ///
    /// # Errors
    ///
    /// [`PostgresError::InvalidUrl`] for a malformed URL (its password hidden);
    /// [`PostgresError::InvalidName`] for a schema or table name PostgreSQL cannot hold;
    /// [`PostgresError::Connect`] when the server does not accept a connection within the
    /// acquire timeout or refuses the login; [`PostgresError::Migrate`] when the table
    /// cannot be created; [`PostgresError::SchemaTooNew`] for a table from a newer
    /// version of this crate.
    pub async fn connect(self, url: &str) -> Result<PostgresStore, PostgresError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|source| PostgresError::InvalidUrl {
                url: redact_url(url),
                source,
            })?;
        self.connect_with(options).await
    }

    /// Connects with `options` (for settings a URL cannot carry) and creates or upgrades
    /// the table. The pool settings of these options apply.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect), apart from URL parsing.
    pub async fn connect_with(
        self,
        options: PgConnectOptions,
    ) -> Result<PostgresStore, PostgresError> {
        let options = if options.get_application_name().is_none() {
            options.application_name("session-postgres")
        } else {
            options
        };
        let target = describe_target(&options);
        let health = Arc::new(Health::new());
        let ping_health = Arc::clone(&health);
        let durable = self.durable_commits;
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            // A SET rather than a startup option: connection poolers (PgBouncer) refuse
            // unknown startup parameters.
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if !durable {
                        sqlx::Executor::execute(&mut *conn, "SET synchronous_commit = off").await?;
                    }
                    Ok(())
                })
            })
            // sqlx pings every connection before handing it out by default: a round trip
            // per operation. Ping only those idle for a while, or idle since a
            // connection failure was seen (a server restart leaves every idle connection
            // dead), so a busy store pays one round trip per operation and a restarted
            // server costs at most the request that noticed it.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let suspect =
                    meta.idle_for >= PING_IDLE_AFTER || ping_health.failed_within(meta.idle_for);
                Box::pin(async move {
                    if suspect {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| PostgresError::Connect {
                target: target.clone(),
                source,
            })?;
        self.open(pool, target, health).await
    }

    /// Uses `pool` (the app's own, for instance) and creates or upgrades the table. The
    /// pool's own settings apply, not this value's pool size and acquire timeout.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect), apart from URL parsing.
    pub async fn from_pool(self, pool: PgPool) -> Result<PostgresStore, PostgresError> {
        let target = describe_target(&pool.connect_options());
        self.open(pool, target, Arc::new(Health::new())).await
    }

    async fn open(
        self,
        pool: PgPool,
        target: String,
        health: Arc<Health>,
    ) -> Result<PostgresStore, PostgresError> {
        let connect_error = |source| PostgresError::Connect {
            target: target.clone(),
            source,
        };
        let mut conn = pool.acquire().await.map_err(connect_error)?;
        let name = schema::migrate(
            &mut conn,
            self.schema.clone(),
            self.table.clone(),
            &target,
            self.clock.now().as_unix_millis(),
        )
        .await?;
        drop(conn);
        let db = Db::new(pool, name, target, health);
        Ok(PostgresStore::new(db, &self))
    }
}

/// The first schema a `search_path` setting names, skipping `"$user"`.
pub(crate) fn first_schema(path: &str) -> Option<String> {
    path.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && *entry != "\"$user\"" && *entry != "$user")
        .map(
            |entry| match entry.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => entry.to_lowercase(),
            },
        )
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_paths_name_their_first_schema() {
        assert_eq!(first_schema("\"$user\", public").as_deref(), Some("public"));
        assert_eq!(first_schema("MyApp, public").as_deref(), Some("myapp"));
        assert_eq!(
            first_schema("\"My \"\"App\"\"\", public").as_deref(),
            Some("My \"App\"")
        );
        assert_eq!(first_schema("\"$user\"").as_deref(), None);
        assert_eq!(first_schema("").as_deref(), None);
    }
}
