//! Wall-clock instants kept to the millisecond, the precision every store persists.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
///
/// Stores persist timestamps as plain integers, so the type is one: no time zone, no
/// sub-millisecond part to lose on a round trip, and arithmetic that saturates instead of
/// panicking.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::clock::Timestamp;
///
/// let t = Timestamp::from_unix_millis(1_000);
/// assert_eq!(t.saturating_add(Duration::from_millis(500)).as_unix_millis(), 1_500);
/// assert_eq!(t.saturating_add(Duration::from_secs(1)).duration_since(t), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time from the system clock: what [`SystemClock`](super::SystemClock)
    /// reads. Everything else asks the [`Clock`](super::Clock) it was handed.
    pub(crate) fn from_system_time() -> Self {
        let millis = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970 is broken; treat it as the epoch rather than panic.
            Err(_) => 0,
        };
        Self(millis)
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_unix_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded down.
    pub const fn as_unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant moved `duration` later, saturating at the end of time.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// How long after `earlier` this instant is; zero when it is not after it.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        let millis = self.0.saturating_sub(earlier.0).max(0);
        Duration::from_millis(millis.unsigned_abs())
    }

    /// This instant as a [`time::OffsetDateTime`] in UTC.
    pub fn to_offset_date_time(self) -> time::OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

impl From<time::OffsetDateTime> for Timestamp {
    fn from(value: time::OffsetDateTime) -> Self {
        let millis = value.unix_timestamp_nanos() / 1_000_000;
        Self(i64::try_from(millis).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let end = Timestamp::from_unix_millis(i64::MAX);
        assert_eq!(end.saturating_add(Duration::MAX), end);
        let start = Timestamp::from_unix_millis(10);
        assert_eq!(start.duration_since(end), Duration::ZERO);
    }

    #[test]
    fn offset_date_time_round_trip_keeps_milliseconds() {
        let t = Timestamp::from_unix_millis(1_700_000_000_123);
        assert_eq!(Timestamp::from(t.to_offset_date_time()), t);
    }

    #[test]
    fn now_is_after_2020() {
        assert!(Timestamp::from_system_time().as_unix_secs() > 1_577_836_800);
    }
}
