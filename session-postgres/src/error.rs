//! What can go wrong with the session database, and how it maps onto [`StoreError`].

use std::time::Duration;

use session_core::store::{BoxError, StoreError};

/// A failure of the session database, naming the database and table (never a password)
/// and keeping the cause, whose message is the server's own.
///
/// [`PostgresStore::connect`](crate::PostgresStore::connect) returns it directly; the
/// [`RecordStore`](session_core::store::RecordStore) methods box it into a [`StoreError`]:
/// [`StoreError::Unavailable`] when retrying later may help or the operator must act (the
/// server is down or restarting, the connection broke, no connection was free in time, the
/// server is out of connections or disk), [`StoreError::Corrupt`] for a row that cannot be
/// decoded (and a record too large to store), and [`StoreError::Backend`] for the rest.
///
/// # Examples
///
/// ```
/// use session_postgres::PostgresStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let error = PostgresStore::connect("postgres://ada:hunter2@localhost:not-a-port/app")
///     .await
///     .err()
///     .ok_or("the port is not a number")?;
/// let message = error.to_string();
/// assert!(message.contains("ada:***@localhost"), "{message}");
/// assert!(!message.contains("hunter2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The connection URL could not be understood.
    #[error(
        "`{url}` is not a usable PostgreSQL URL (expected `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`): {source}"
    )]
    InvalidUrl {
        /// The URL as given, any password hidden
        /// ([`redact_url`](session_core::store::redact_url)).
        url: String,
        /// sqlx's parse error.
        #[source]
        source: sqlx::Error,
    },
    /// A schema or table name the store cannot use.
    #[error("`{name}` cannot be the session {what} name: {reason}")]
    InvalidName {
        /// `schema` or `table`.
        what: &'static str,
        /// The name as given.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// The server could not be reached, or refused the connection.
    #[error("could not connect to the session database {target}: {source}")]
    Connect {
        /// The server and database, without a password.
        target: String,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// The store's table could not be created or upgraded.
    #[error("could not set up the session table {table} in {target}: {source}")]
    Migrate {
        /// The server and database, without a password.
        target: String,
        /// The table, schema-qualified.
        table: String,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// The table was set up by a newer version of this crate.
    #[error(
        "the session table {table} in {target} has schema version {found}, newer than version {supported} that this build of session-postgres knows; upgrade session-postgres"
    )]
    SchemaTooNew {
        /// The server and database, without a password.
        target: String,
        /// The table, schema-qualified.
        table: String,
        /// The schema version found.
        found: i32,
        /// The newest schema version this build knows.
        supported: i32,
    },
    /// Every connection of the pool stayed in use for the whole acquire timeout.
    #[error(
        "the session database {target} could not {operation}: all {size} connections of the \
         pool stayed in use for {timeout:?}; raise the pool size \
         (`PostgresStoreOptions::with_max_connections`) or find what holds connections"
    )]
    PoolExhausted {
        /// The server and database, without a password.
        target: String,
        /// What was being done, such as `load a session`.
        operation: &'static str,
        /// How many connections the pool holds.
        size: u32,
        /// How long the store waited for one.
        timeout: Duration,
    },
    /// No connection could be opened within the acquire timeout: the server is down,
    /// restarting or unreachable, or refuses connections (too many clients).
    #[error(
        "the session database {target} could not {operation}: no connection could be opened \
         within {timeout:?} (is the server up and accepting connections?)"
    )]
    NoConnection {
        /// The server and database, without a password.
        target: String,
        /// What was being done, such as `load a session`.
        operation: &'static str,
        /// How long the store tried.
        timeout: Duration,
    },
    /// A statement failed.
    #[error("the session database {target} failed to {operation}: {source}")]
    Query {
        /// The server and database, without a password.
        target: String,
        /// What was being done, such as `load a session`.
        operation: &'static str,
        /// sqlx's error; for a server error, the server's message.
        #[source]
        source: sqlx::Error,
    },
    /// A stored row could not be decoded into a session record.
    #[error("a session record in {table} ({target}) has a corrupt `{column}` column: {source}")]
    Corrupt {
        /// The server and database, without a password.
        target: String,
        /// The table, schema-qualified.
        table: String,
        /// The column that failed to decode.
        column: &'static str,
        /// The decoding error.
        #[source]
        source: BoxError,
    },
    /// A session tied to a principal whose name the per-user index cannot hold: one with
    /// a NUL character (PostgreSQL `text` has none), or one longer than
    /// [`PostgresStore::MAX_PRINCIPAL_BYTES`](crate::PostgresStore::MAX_PRINCIPAL_BYTES)
    /// (an index entry must fit in a third of a page). Nothing is written. The name is
    /// left out of the message: it identifies a user.
    #[error("a session for {target} cannot be tied to its principal: the name {reason}")]
    InvalidPrincipal {
        /// The server and database, without a password.
        target: String,
        /// Why not.
        reason: &'static str,
    },
    /// A session's data could not be encoded as JSON.
    #[error("a session for {target} could not be encoded as JSON: {source}")]
    Encode {
        /// The server and database, without a password.
        target: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

impl PostgresError {
    /// Whether the store cannot serve now and retrying later may help, or the operator
    /// must act: the server is down, restarting, unreachable or out of resources, a
    /// connection broke, or no connection was free in time.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::PoolExhausted { .. } | Self::NoConnection { .. } => true,
            Self::Query { source, .. } | Self::Migrate { source, .. } => is_transient(source),
            _ => false,
        }
    }

    /// The server's SQLSTATE code, when the server reported the error
    /// (`"57P01"`: the server is shutting down, `"53300"`: too many connections...).
    pub fn sqlstate(&self) -> Option<&str> {
        sqlstate_of(source_of(self))
    }
}

fn source_of(error: &PostgresError) -> Option<&sqlx::Error> {
    match error {
        PostgresError::Connect { source, .. }
        | PostgresError::Migrate { source, .. }
        | PostgresError::Query { source, .. } => Some(source),
        _ => None,
    }
}

fn sqlstate_of(error: Option<&sqlx::Error>) -> Option<&str> {
    match error? {
        sqlx::Error::Database(error) => error
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .map(|error| error.code()),
        _ => None,
    }
}

impl From<PostgresError> for StoreError {
    fn from(error: PostgresError) -> Self {
        let too_large = source_of(&error).is_some_and(is_too_large);
        if too_large || matches!(error, PostgresError::Corrupt { .. }) {
            // A record too large to store is this record's problem, not an outage (503).
            StoreError::Corrupt(Box::new(error))
        } else if error.is_unavailable() {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Backend(Box::new(error))
        }
    }
}

/// Whether `error` is one that retrying later may cure: the connection or the server, not
/// the statement. <https://www.postgresql.org/docs/current/errcodes-appendix.html>
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(_) => {
            sqlstate_of(Some(error)).is_some_and(|code| {
                // 08: connection exception; 53: insufficient resources (disk full, out of
                // memory, too many connections); 58: system error (I/O); 57P01-57P05:
                // shut down, crashed, starting up, database dropped, idle session timeout.
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("58")
                    || matches!(
                        code,
                        "57P01" | "57P02" | "57P03" | "57P04" | "57P05"
                            // serialization failure, deadlock, lock not available,
                            // statement timeout: the next try may pass.
                            | "40001" | "40P01" | "55P03" | "57014"
                            // a read-only standby after a failover
                            | "25006"
                    )
            })
        }
        _ => is_connection_error(error),
    }
}

/// Whether `error` says the connection (not the statement) failed: the next try, on
/// another connection, may pass.
pub(crate) fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(_) => sqlstate_of(Some(error)).is_some_and(|code| {
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Whether `error` is the server's "program limit exceeded" (class 54): a value past what
/// PostgreSQL stores in one field.
pub(crate) fn is_too_large(error: &sqlx::Error) -> bool {
    sqlstate_of(Some(error)).is_some_and(|code| code.starts_with("54"))
}
