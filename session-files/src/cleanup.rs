//! The background task that removes expired session files.

use std::sync::Arc;
use std::time::Duration;

use session_core::clock::{Clock, Timestamp};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::FileStoreError;

/// What a sweep of a directory removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    /// Expired session files removed.
    pub(crate) expired: u64,
    /// Files that could not be decoded, removed (the store's own format only).
    pub(crate) undecodable: u64,
    /// Temporary files abandoned by crashed writers, removed.
    pub(crate) temps: u64,
    /// Per-user index markers whose session file was gone, removed (the native format
    /// only).
    pub(crate) markers: u64,
}

impl Swept {
    /// Whether the sweep removed anything: then the directory is fsynced, so the removals
    /// survive a power loss.
    pub(crate) fn removed_any(&self) -> bool {
        *self != Self::default()
    }

    pub(crate) fn log(self) {
        if !self.removed_any() {
            return;
        }
        let Self {
            expired,
            undecodable,
            temps,
            markers,
        } = self;
        if undecodable > 0 {
            tracing::warn!(
                expired,
                undecodable,
                temps,
                markers,
                "removed expired session files, and undecodable ones"
            );
        } else {
            tracing::debug!(expired, temps, markers, "removed expired session files");
        }
    }
}

/// A directory the cleanup task can sweep.
pub(crate) trait Sweep: Send + Sync + 'static {
    /// Removes what is expired at `now`. Blocks.
    fn sweep(&self, now: Timestamp) -> Result<Swept, FileStoreError>;
}

/// The running cleanup task; dropping this stops it.
pub(crate) struct Cleanup {
    task: JoinHandle<()>,
}

impl Cleanup {
    /// Sweeps `target` every `interval`, the first time one interval from now, at
    /// `clock`'s "now": there is no request to hand the task a time.
    pub(crate) fn spawn(target: Arc<dyn Sweep>, interval: Duration, clock: Arc<dyn Clock>) -> Self {
        let task = tokio::spawn(async move {
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            // After a stall, one run catches up on everything; a burst of runs would not.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let now = clock.now();
                let target = Arc::clone(&target);
                match tokio::task::spawn_blocking(move || target.sweep(now)).await {
                    Ok(Ok(swept)) => swept.log(),
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "could not remove expired session files");
                    }
                    Err(error) => tracing::warn!(%error, "the session cleanup task failed"),
                }
            }
        });
        Self { task }
    }

    /// Stops the task; a sweep in flight finishes the file it is on.
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
        self.stop();
    }
}
