//! Sessions too large for their backend, and many requests on one session at once.

use super::{assert_logged_in, config, count, counter_value, login, start, NAME};
use crate::{DemoSpec, Visitor};

/// How many `POST /counter` race on one session.
const CONCURRENT: u64 = 50;

/// `POST /data` stores small values (200); a value too large for the backend is `413`
/// with a message naming the size and the limit, and the session stays as it was.
pub async fn oversized_sessions_are_refused(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let small = visitor
        .post_form("/data", &[("key", "note"), ("value", "a small note")])
        .await
        .unwrap();
    assert_eq!(
        small.status,
        200,
        "POST /data with a small value: {}",
        small.summary()
    );
    assert_eq!(count(&mut visitor, "before the large value").await, 1);

    let size = spec.backend.capabilities().oversize_value_bytes;
    let large = random_text(size);
    let reply = visitor
        .post_form("/data", &[("key", "big"), ("value", &large)])
        .await
        .unwrap();
    assert_eq!(
        reply.status,
        413,
        "POST /data with {size} bytes on --backend {}: expected 413; {}",
        spec.backend,
        reply.summary()
    );
    let message = reply.text();
    let numbers = numbers_in(&message);
    // The limit is under the value's size; the session's size (however the backend
    // encodes it) is over the limit.
    let limit = numbers
        .iter()
        .copied()
        .filter(|&n| n > 0 && n < size as u64)
        .max();
    let names_size = limit.is_some_and(|limit| numbers.iter().any(|&n| n > limit));
    assert!(
        names_size && message.to_lowercase().contains("limit"),
        "the 413 must name the session's size and the backend's (smaller) limit; got {}",
        reply.summary()
    );

    assert_logged_in(&mut visitor, NAME, "after the refused value").await;
    assert_eq!(
        count(&mut visitor, "after the refused value").await,
        2,
        "the session must stay as it was after a 413"
    );
}

/// 50 concurrent `POST /counter` on one session: all 200. Server-side backends count
/// every one and answer exactly 1..=50, each the value that was stored (the next answer
/// is 51). Cookie backends declare
/// that the last response's cookie wins: each request sees the same cookie, so each
/// answers 1.
pub async fn concurrent_counters_lose_nothing(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let visitors: Vec<Visitor> = (0..CONCURRENT).map(|_| visitor.clone()).collect();
    let mut values = race(visitors, "on one session").await;
    values.sort_unstable();
    if spec.backend.capabilities().merges_concurrent_writes {
        assert_eq!(
            values,
            (1..=CONCURRENT).collect::<Vec<_>>(),
            "{CONCURRENT} concurrent increments on one session must answer exactly 1..={CONCURRENT}"
        );
        assert_eq!(
            count(&mut visitor, "after the race").await,
            CONCURRENT + 1,
            "{CONCURRENT} concurrent increments on one session must all count"
        );
    } else {
        assert_eq!(
            values,
            vec![1; values.len()],
            "--backend {}: declared last-write-wins, each request sees counter 0",
            spec.backend
        );
    }
    assert_logged_in(&mut visitor, NAME, "after the race").await;
}

/// Sends one `POST /counter` per visitor, all at once; every answer must be 200 with an
/// integer. Returns the values in no particular order.
pub(super) async fn race(visitors: Vec<Visitor>, what: &str) -> Vec<u64> {
    let mut tasks = tokio::task::JoinSet::new();
    for mut visitor in visitors {
        tasks.spawn(async move { visitor.post("/counter").await });
    }
    let mut values = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let reply = joined.unwrap().unwrap();
        values.push(counter_value(
            &reply,
            &format!("concurrent POST /counter {what} (never a retry status)"),
        ));
    }
    values
}

/// `len` letters and digits from a fixed xorshift sequence: the same every run, and as
/// poorly compressible as text gets.
fn random_text(len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state % 62) as usize])
        })
        .collect()
}

/// Every run of ASCII digits in `text`, as numbers (thousands separators `,` `_` and
/// thin spaces inside a run are skipped).
fn numbers_in(text: &str) -> Vec<u64> {
    let mut numbers = Vec::new();
    let mut current: Option<u64> = None;
    for ch in text.chars() {
        match (ch.to_digit(10), current) {
            (Some(digit), _) => {
                current = Some(
                    current
                        .unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(u64::from(digit)),
                )
            }
            (None, Some(_)) if matches!(ch, ',' | '_' | '\u{2009}') => {}
            (None, Some(number)) => {
                numbers.push(number);
                current = None;
            }
            (None, None) => {}
        }
    }
    numbers.extend(current);
    numbers
}

#[cfg(test)]
mod tests {
    use super::numbers_in;

    #[test]
    fn reads_the_numbers_of_a_message() {
        assert_eq!(
            numbers_in("session would be 1,572,900 bytes, over the 1048576-byte limit"),
            vec![1_572_900, 1_048_576]
        );
        assert_eq!(numbers_in("no numbers"), Vec::<u64>::new());
    }

    #[test]
    fn random_text_is_alphanumeric_and_varied() {
        let text = super::random_text(1000);
        assert_eq!(text.len(), 1000);
        assert!(text.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(
            text.chars()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                > 50
        );
    }
}
