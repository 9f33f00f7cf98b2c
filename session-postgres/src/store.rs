//! The store handle: its pool, its statements, its cleanup task, and how it is closed.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;

use crate::cleanup::Cleanup;
use crate::error::is_connection_error;
use crate::schema::TableName;
use crate::sql::Statements;
use crate::{PostgresError, PostgresStoreOptions};

/// Server-side sessions in a PostgreSQL table.
///
/// Cheap to clone: clones share the pool and the cleanup task, which stops when the last
/// clone is dropped or [`close`](Self::close) is called. Any number of processes may use
/// the same table: every write is a compare-and-swap on the row's version, so none of
/// them loses another's update.
///
/// See the [crate docs](crate) for the table and an example.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    cleanup: Option<Cleanup>,
    cleanup_batch: u32,
}

/// The pool, the table's statements and what error messages name: everything a query
/// needs.
#[derive(Clone)]
pub(crate) struct Db {
    pub(crate) pool: PgPool,
    pub(crate) sql: Arc<Statements>,
    pub(crate) name: Arc<TableName>,
    /// `postgres://user@host:port/database`, never a password.
    pub(crate) target: Arc<str>,
    pub(crate) health: Arc<Health>,
}

impl Db {
    pub(crate) fn new(pool: PgPool, name: TableName, target: String, health: Arc<Health>) -> Self {
        Self {
            sql: Arc::new(Statements::new(&name)),
            pool,
            name: Arc::new(name),
            target: Arc::from(target),
            health,
        }
    }

    /// `source` as this store's error for `operation`; a connection failure is noted so
    /// idle connections are checked before their next use.
    pub(crate) fn query_error(
        &self,
        operation: &'static str,
        source: sqlx::Error,
    ) -> PostgresError {
        if is_connection_error(&source) {
            self.health.failed();
        }
        if matches!(source, sqlx::Error::PoolTimedOut) {
            let size = self.pool.options().get_max_connections();
            let timeout = self.pool.options().get_acquire_timeout();
            let target = self.target.to_string();
            // Every connection open and none idle: they are all in use. Otherwise the
            // pool had room, and opening a connection kept failing.
            return if self.pool.size() >= size && self.pool.num_idle() == 0 {
                PostgresError::PoolExhausted {
                    target,
                    operation,
                    size,
                    timeout,
                }
            } else {
                PostgresError::NoConnection {
                    target,
                    operation,
                    timeout,
                }
            };
        }
        PostgresError::Query {
            target: self.target.to_string(),
            operation,
            source,
        }
    }

    pub(crate) fn corrupt(
        &self,
        column: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    ) -> PostgresError {
        PostgresError::Corrupt {
            target: self.target.to_string(),
            table: self.name.display(),
            column,
            source,
        }
    }
}

/// When the store last saw a connection fail, so connections idle since then are pinged
/// before use (a restarted server leaves all of them dead).
pub(crate) struct Health {
    started: Instant,
    /// Milliseconds after `started` of the last failure, plus one; 0 for never.
    last_failure: AtomicU64,
}

impl Health {
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            last_failure: AtomicU64::new(0),
        }
    }

    fn elapsed_millis(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn failed(&self) {
        self.last_failure
            .store(self.elapsed_millis().saturating_add(1), Ordering::Relaxed);
    }

    /// Whether a failure was seen within the last `idle_for` (so after a connection idle
    /// that long went idle). Rounded up: a connection released in the same millisecond
    /// as the failure is checked too.
    pub(crate) fn failed_within(&self, idle_for: Duration) -> bool {
        match self.last_failure.load(Ordering::Relaxed) {
            0 => false,
            at => {
                let since = self.elapsed_millis().saturating_sub(at - 1);
                u128::from(since) <= idle_for.as_millis() + 1
            }
        }
    }
}

/// `postgres://user@host:port/database` (or the socket directory for a Unix socket):
/// what error messages name. Built from the parsed options, so no password can appear.
pub(crate) fn describe_target(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => options.get_host().to_owned(),
    };
    let database = options.get_database().unwrap_or(options.get_username());
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        host,
        options.get_port(),
        database
    )
}

impl PostgresStore {
    /// The longest principal name, in bytes, a session can be tied to
    /// ([`Session::set_principal`](session_core::Session::set_principal)): the per-user
    /// index keeps the name in a B-tree entry, which PostgreSQL caps at about 2,700 bytes
    /// (after compression, so the cap would otherwise depend on the name). A longer name,
    /// or one with a NUL character, fails the save with
    /// [`PostgresError::InvalidPrincipal`](crate::PostgresError::InvalidPrincipal).
    pub const MAX_PRINCIPAL_BYTES: usize = 2048;

    /// Connects to the database at `url` with the default [`PostgresStoreOptions`] and
    /// creates or upgrades the table (`session_records` in the connection's current
    /// schema).
    ///
    /// `url` is `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS]`.
    ///
    /// # Errors
    ///
    /// See [`PostgresStoreOptions::connect`].
    pub async fn connect(url: &str) -> Result<Self, PostgresError> {
        PostgresStoreOptions::default().connect(url).await
    }

    /// Uses `pool` (the app's own, say) with the default [`PostgresStoreOptions`] and
    /// creates or upgrades the table.
    ///
    /// # Errors
    ///
    /// See [`PostgresStoreOptions::from_pool`].
    pub async fn from_pool(pool: PgPool) -> Result<Self, PostgresError> {
        PostgresStoreOptions::default().from_pool(pool).await
    }

    /// Settings to change before connecting; [`PostgresStoreOptions::default`] in short.
    pub fn options() -> PostgresStoreOptions {
        PostgresStoreOptions::default()
    }

    pub(crate) fn new(db: Db, options: &PostgresStoreOptions) -> Self {
        let cleanup = options.cleanup_interval.map(|interval| {
            Cleanup::spawn(
                db.clone(),
                interval,
                options.cleanup_batch,
                Arc::clone(&options.clock),
            )
        });
        Self {
            inner: Arc::new(Inner {
                db,
                cleanup,
                cleanup_batch: options.cleanup_batch,
            }),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn cleanup_batch(&self) -> u32 {
        self.inner.cleanup_batch
    }

    /// The table, as `schema.table`.
    pub fn table(&self) -> String {
        self.inner.db.name.display()
    }

    /// The schema that holds the table.
    pub fn schema(&self) -> &str {
        &self.inner.db.name.schema
    }

    /// The store's pool, for maintenance of your own (a look at the rows, a backup).
    /// Rows written through it bypass the store's checks.
    pub fn pool(&self) -> &PgPool {
        &self.inner.db.pool
    }

    /// Stops the cleanup task and closes the pool, waiting for queries in flight. Every
    /// clone of this store fails with
    /// [`StoreError::Unavailable`](session_core::store::StoreError::Unavailable)
    /// afterwards (and so does the app's pool, for a store made with
    /// [`from_pool`](Self::from_pool)).
    pub async fn close(&self) {
        if let Some(cleanup) = &self.inner.cleanup {
            cleanup.stop();
        }
        self.inner.db.pool.close().await;
    }

    #[cfg(test)]
    pub(crate) fn cleanup_task(&self) -> Option<tokio::task::AbortHandle> {
        self.inner.cleanup.as_ref().map(Cleanup::abort_handle)
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.inner.db.target)
            .field("table", &self.inner.db.name.display())
            .field("cleanup", &self.inner.cleanup.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_never_show_a_password() -> Result<(), sqlx::Error> {
        use std::str::FromStr as _;
        let options = PgConnectOptions::from_str("postgres://ada:hunter2@db.internal:6543/app")?;
        assert_eq!(
            describe_target(&options),
            "postgres://ada@db.internal:6543/app"
        );
        Ok(())
    }

    #[test]
    fn failures_mark_connections_idle_since() {
        let health = Health::new();
        assert!(!health.failed_within(Duration::from_secs(3600)));
        health.failed();
        assert!(health.failed_within(Duration::from_secs(3600)));
        assert!(health.failed_within(Duration::ZERO), "same millisecond");
    }
}
