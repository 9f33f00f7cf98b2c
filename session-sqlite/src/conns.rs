//! A small set of SQLite connections, each behind an async mutex.
//!
//! Not `sqlx::Pool`: on every release the pool spawns a task that pings the connection,
//! and a SQLite "connection" is a worker thread, so each query would pay two extra thread
//! hand-offs and a task spawn. Measured on the load path that tripled the CPU time
//! (see the crate's benches). SQLite connections are local and do not drop like network
//! ones, so a plain lock per connection is enough; a connection whose worker thread died
//! is replaced when a query reports it.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// Up to `slots` connections opened with the same options; opened on first need.
pub(crate) struct Conns {
    slots: Box<[Mutex<Option<SqliteConnection>>]>,
    /// Where a caller that found every connection busy queues next, so waiters spread.
    next: AtomicUsize,
    options: SqliteConnectOptions,
    acquire_timeout: Duration,
    closed: AtomicBool,
}

/// One connection, held exclusively until dropped.
pub(crate) struct Lease<'a> {
    conn: MappedMutexGuard<'a, SqliteConnection>,
    conns: &'a Conns,
}

impl Conns {
    /// Opens the first connection now, so a bad path fails here; the rest open lazily.
    pub(crate) async fn open(
        options: SqliteConnectOptions,
        slots: usize,
        acquire_timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let first = options.connect().await?;
        let slots = std::iter::once(Some(first))
            .chain(std::iter::repeat_with(|| None).take(slots.max(1) - 1))
            .map(Mutex::new)
            .collect();
        Ok(Self {
            slots,
            next: AtomicUsize::new(0),
            options,
            acquire_timeout,
            closed: AtomicBool::new(false),
        })
    }

    /// A free connection: the first idle one (low slots first, so a light load keeps to
    /// few warm connections), else the next one to free up, waiting at most the acquire
    /// timeout.
    pub(crate) async fn acquire(&self) -> Result<Lease<'_>, sqlx::Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let guard = match self.slots.iter().find_map(|slot| slot.try_lock().ok()) {
            Some(guard) => guard,
            None => {
                let slot =
                    &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
                tokio::time::timeout(self.acquire_timeout, slot.lock())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?
            }
        };
        let mut guard = guard;
        if guard.is_none() {
            // `close` empties slots; a closed set stays closed.
            if self.closed.load(Ordering::Acquire) {
                return Err(sqlx::Error::PoolClosed);
            }
            *guard = Some(self.options.connect().await?);
        }
        let conn =
            MutexGuard::try_map(guard, Option::as_mut).map_err(|_| sqlx::Error::PoolClosed)?;
        Ok(Lease { conn, conns: self })
    }

    /// Closes every connection, waiting for statements in flight; later acquires fail.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for slot in self.slots.iter() {
            if let Some(conn) = slot.lock().await.take() {
                if let Err(error) = conn.close().await {
                    tracing::debug!(%error, "error while closing a session database connection");
                }
            }
        }
    }
}

impl Lease<'_> {
    /// Replaces the connection if `result` shows it is broken (its worker thread died),
    /// so the next user gets a working one.
    pub(crate) async fn check<T>(&mut self, result: &Result<T, sqlx::Error>) {
        if matches!(result, Err(sqlx::Error::WorkerCrashed)) {
            tracing::warn!("a session database connection broke; reopening it");
            match self.conns.options.connect().await {
                Ok(conn) => *self.conn = conn,
                Err(error) => {
                    tracing::warn!(%error, "could not reopen a session database connection")
                }
            }
        }
    }
}

impl Deref for Lease<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}
