//! One clock: the current time comes from a [`Clock`] the
//! [`SessionManager`](crate::adapter::SessionManager) owns and hands down to backends and
//! stores, so tests move a [`ManualClock`] instead of sleeping.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use session_core::clock::{Clock, ManualClock, Timestamp};
//!
//! let clock = ManualClock::at(Timestamp::from_unix_millis(1_000));
//! clock.advance(Duration::from_secs(30 * 60));
//! assert_eq!(clock.now().as_unix_millis(), 1_000 + 30 * 60 * 1_000);
//! ```

mod timestamp;

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use self::timestamp::Timestamp;

/// Where the current time comes from.
///
/// The manager reads it once per load and once per save and passes the instant down
/// ([`Context::now`](crate::backend::Context::now), the `now` argument of every
/// [`RecordStore`](crate::store::RecordStore) method), so one request sees one clock.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock: the default.
///
/// # Examples
///
/// ```
/// use session_core::clock::{Clock, SystemClock};
///
/// assert!(SystemClock.now().as_unix_millis() > 1_600_000_000_000);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time()
    }
}

/// A clock that moves only when told to: for tests of timeouts and refreshes that must not
/// depend on how fast the machine is.
///
/// Clones share one time, so a test keeps a clone and moves the clock the manager reads.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::starting_now();
/// let handed_to_the_manager = clock.clone();
/// let before = handed_to_the_manager.now();
/// clock.advance(Duration::from_millis(1_500));
/// assert_eq!(handed_to_the_manager.now().duration_since(before), Duration::from_millis(1_500));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `at`.
    pub fn at(at: Timestamp) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(at.as_unix_millis())),
        }
    }

    /// A clock standing at the system time of its creation, so records it stamps look
    /// current to stores with native expiry (Redis `PEXPIREAT`).
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            })
            .ok();
    }

    /// Sets the clock to `at` (backwards too, to test a clock that jumped).
    pub fn set(&self, at: Timestamp) {
        self.millis.store(at.as_unix_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.millis.load(Ordering::SeqCst))
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_shows_its_time() {
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_000));
        clock.advance(Duration::from_millis(500));
        assert_eq!(clock.now(), Timestamp::from_unix_millis(1_500));
        clock.set(Timestamp::from_unix_millis(200));
        assert_eq!(clock.now(), Timestamp::from_unix_millis(200));
        assert_eq!(format!("{clock:?}"), "ManualClock(Timestamp(200))");
    }
}
