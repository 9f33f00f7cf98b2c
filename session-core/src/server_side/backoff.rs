//! The pause between compare-and-swap retries.

use std::time::Duration;

/// The longest pause, in microseconds, between two retries: 16 ms.
const MAX_PAUSE_MICROS: u32 = 16_000;

/// Waits a random while before retry number `conflicts` (1 after the first conflict).
///
/// A save conflicts because another process committed first; retrying at once puts this
/// process right behind that winner again, whose next request is already loading, and with
/// several processes on one session one of them can lose dozens of times in a row. A
/// jittered pause whose ceiling doubles (1, 2, 4, 8, 16 ms) breaks the lockstep. Only
/// writes that conflict across processes pay it: within one process, requests on a
/// session are serialised and never conflict.
pub(crate) async fn pause(conflicts: u32) {
    let ceiling = (1_000_u32 << conflicts.saturating_sub(1).min(4)).min(MAX_PAUSE_MICROS);
    // Without randomness the full ceiling is a fine pause too: it still backs off.
    let jitter = getrandom::u32().map_or(ceiling, |r| r % (ceiling + 1));
    tokio::time::sleep(Duration::from_micros(u64::from(jitter))).await;
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn pauses_stay_under_the_ceiling() {
        let start = Instant::now();
        for conflicts in 1..=8 {
            pause(conflicts).await;
        }
        // Eight pauses of at most 1+2+4+8+16+16+16+16 ms, plus timer granularity.
        assert!(
            start.elapsed() < Duration::from_millis(79 + 8 * 20),
            "{:?}",
            start.elapsed()
        );
    }
}
