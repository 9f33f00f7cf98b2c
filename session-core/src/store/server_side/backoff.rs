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
    let pause = jittered(conflicts, getrandom::u32().ok());
    // Tokio's timer panics on a runtime built without it (`enable_time`), and no public
    // API tells whether it is there. The blocking pool exists on every Tokio runtime, so
    // the pause sleeps there; outside Tokio it only yields.
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            let _joined = runtime
                .spawn_blocking(move || std::thread::sleep(pause))
                .await;
        }
        Err(_) => std::thread::yield_now(),
    }
}

/// The pause before retry number `conflicts`: uniform in `0..=ceiling`, the ceiling
/// doubling from 1 ms up to 16 ms. Without randomness the full ceiling is a fine pause
/// too: it still backs off.
fn jittered(conflicts: u32, random: Option<u32>) -> Duration {
    let ceiling = ceiling_micros(conflicts);
    let micros = random.map_or(ceiling, |r| r % (ceiling + 1));
    Duration::from_micros(u64::from(micros))
}

fn ceiling_micros(conflicts: u32) -> u32 {
    (1_000_u32 << conflicts.saturating_sub(1).min(4)).min(MAX_PAUSE_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_16_ms() {
        let ceilings: Vec<u32> = (1..=8).map(ceiling_micros).collect();
        assert_eq!(
            ceilings,
            [1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000, 16_000]
        );
        assert_eq!(ceiling_micros(0), 1_000);
    }

    #[test]
    fn pauses_stay_under_the_ceiling() {
        for conflicts in 1..=8 {
            for random in [0, 1, 999, 1_000, 16_001, u32::MAX] {
                let pause = jittered(conflicts, Some(random));
                assert!(pause.as_micros() <= u128::from(ceiling_micros(conflicts)));
            }
            let ceiling = ceiling_micros(conflicts);
            assert_eq!(jittered(conflicts, None).as_micros(), u128::from(ceiling));
            // Uniform in 0..=ceiling: both ends are drawn.
            assert_eq!(
                jittered(conflicts, Some(ceiling)).as_micros(),
                u128::from(ceiling)
            );
            assert_eq!(jittered(conflicts, Some(ceiling + 1)).as_micros(), 0);
        }
    }

    #[test]
    fn a_runtime_without_a_timer_does_not_panic() -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        runtime.block_on(pause(1));
        Ok(())
    }
}
