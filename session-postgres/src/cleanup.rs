//! The background task that deletes expired rows.

use std::sync::Arc;
use std::time::Duration;

use session_core::clock::Clock;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::store::Db;

/// The running cleanup task; dropping this stops it.
pub(crate) struct Cleanup {
    task: JoinHandle<()>,
}

impl Cleanup {
    /// Starts deleting expired rows of `db` every `interval`, `batch` rows per statement.
    /// The first run is one interval from now. Each run deletes what is expired at
    /// `clock`'s "now": there is no request to hand the task a time.
    pub(crate) fn spawn(db: Db, interval: Duration, batch: u32, clock: Arc<dyn Clock>) -> Self {
        let task = tokio::spawn(async move {
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            // After a stall, one run catches up on everything; a burst of runs would not.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match db.delete_expired(clock.now(), batch).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::debug!(deleted, "deleted expired sessions"),
                    Err(error) => tracing::warn!(%error, "could not delete expired sessions"),
                }
            }
        });
        Self { task }
    }

    /// Stops the task; a batch in flight either commits whole or not at all.
    pub(crate) fn stop(&self) {
        self.task.abort();
    }

    #[cfg(test)]
    pub(crate) fn abort_handle(&self) -> tokio::task::AbortHandle {
        self.task.abort_handle()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.task.abort();
    }
}
