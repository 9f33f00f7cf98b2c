//! What `RedisStore` leaves in Redis: one hash per session under a hash-tagged key, its
//! TTL exactly the session's deadline, and `touch` moving only the deadline.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use redis::Commands as _;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore, SessionId, StorageKey};
use session_core::SessionConfig;

use crate::common::{raw_connection, store, unique_prefix, Cleanup, REDIS_URL};

#[tokio::test(flavor = "multi_thread")]
async fn one_hash_per_session_with_the_deadline_as_ttl() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("layout");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let key = StorageKey::hashed(&SessionId::generate().unwrap());
    let redis_key = store.redis_key(&key);
    assert_eq!(
        redis_key,
        format!("{prefix}{{{}}}", key.as_str()),
        "prefix + hash-tagged storage key"
    );

    let clock = ManualClock::starting_now();
    let now = clock.now();
    let mut record = SessionConfig::default().new_record(now);
    record.expires_at = now.saturating_add(Duration::from_secs(600));
    record.data.insert("user".into(), "ada".into());
    record.version = 1;
    store.create(&key, &record, now).await.unwrap();

    let mut conn = raw_connection(REDIS_URL);
    let fields: HashMap<String, String> = conn.hgetall(&redis_key).unwrap();
    let expires = record.expires_at.as_unix_millis().to_string();
    let expected: HashMap<String, String> = [
        ("version", "1"),
        ("data", r#"{"user":"ada"}"#),
        ("created_at", &now.as_unix_millis().to_string()),
        ("last_active", &now.as_unix_millis().to_string()),
        ("expires_at", &expires),
        ("permanent", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(fields, expected);
    let expire_time: i64 = redis::cmd("PEXPIRETIME")
        .arg(&redis_key)
        .query(&mut conn)
        .unwrap();
    assert_eq!(
        expire_time,
        record.expires_at.as_unix_millis(),
        "PEXPIREAT at the deadline"
    );

    // touch: new deadline and last activity, the data field untouched.
    let later = now.saturating_add(Duration::from_secs(30));
    let deadline = later.saturating_add(Duration::from_secs(900));
    store.touch(&key, later, deadline).await.unwrap();
    let touched: HashMap<String, String> = conn.hgetall(&redis_key).unwrap();
    assert_eq!(touched["data"], expected["data"]);
    assert_eq!(touched["version"], "1");
    assert_eq!(touched["last_active"], later.as_unix_millis().to_string());
    let expire_time: i64 = redis::cmd("PEXPIRETIME")
        .arg(&redis_key)
        .query(&mut conn)
        .unwrap();
    assert_eq!(
        expire_time,
        deadline.as_unix_millis(),
        "the TTL follows the touched deadline"
    );

    // Deleted behind the store's back: touch must not bring a partial hash back.
    let _: () = conn.del(&redis_key).unwrap();
    store.touch(&key, later, deadline).await.unwrap();
    let exists: bool = conn.exists(&redis_key).unwrap();
    assert!(!exists, "touch must not resurrect a missing key");
}
