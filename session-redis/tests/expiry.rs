//! Expiry is judged against the `now` a store is handed, not Redis' clock: with the
//! caller's clock a minute ahead of Redis', a record at its deadline is absent to load,
//! save, change_key and touch, and create takes its key over, while Redis still holds the
//! key with its native TTL (`PEXPIREAT` at the deadline) not yet fired.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use redis::Commands as _;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;

use crate::common::{flask_store, raw_connection, store, unique_prefix, Cleanup, REDIS_URL};

const MINUTE: Duration = Duration::from_secs(60);

/// `PEXPIRETIME` (unix ms) and `PTTL` of `key`: the native expiry Redis will apply.
fn native_expiry(key: &str) -> (i64, i64) {
    let mut conn = raw_connection(REDIS_URL);
    let at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(&mut conn).unwrap();
    let ttl: i64 = conn.pttl(key).unwrap();
    (at, ttl)
}

/// Runs every operation on `key`, whose record `stored` (version `version`) expires a
/// minute after `clock`'s start, with the clock moved to that deadline; `fresh` is a
/// record to create in its place. Returns nothing: asserts.
async fn absent_at_the_deadline<S: RecordStore>(
    store: &S,
    clock: &ManualClock,
    (key, other): (&StorageKey, &StorageKey),
    stored: &Record,
    version: u64,
    redis_key: &str,
) {
    assert_eq!(
        native_expiry(redis_key).0,
        stored.expires_at.as_unix_millis()
    );

    clock.advance(MINUTE); // exactly at the deadline by the caller's clock: over
    let now = clock.now();
    assert_eq!(store.load(key, now).await.unwrap(), None);
    let mut next = stored.clone();
    next.version = version + 1;
    next.expires_at = now.saturating_add(MINUTE);
    assert!(matches!(
        store.save(key, &next, version, now).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.change_key(key, other, &next, version, now).await,
        Err(StoreError::Conflict)
    ));
    store
        .touch(key, now, now.saturating_add(MINUTE))
        .await
        .unwrap();

    // Redis' clock is a minute behind: the key is still there, its TTL untouched.
    let (at, ttl) = native_expiry(redis_key);
    assert_eq!(
        at,
        stored.expires_at.as_unix_millis(),
        "nothing moved the native deadline"
    );
    assert!(ttl > 0, "Redis has not expired the key by its own clock");
    let exists: bool = raw_connection(REDIS_URL).exists(redis_key).unwrap();
    assert!(exists);

    // A create takes the expired key over.
    let mut fresh = SessionConfig::default().new_record(now);
    fresh.data.insert("user".into(), "grace".into());
    fresh.version = 1;
    store.create(key, &fresh, now).await.unwrap();
    let loaded = store.load(key, now).await.unwrap().unwrap();
    assert_eq!(loaded.data, fresh.data);
    assert_eq!(
        native_expiry(redis_key).0,
        fresh.expires_at.as_unix_millis()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_store_records_are_absent_from_their_deadline_on() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("expiry");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let clock = ManualClock::starting_now();
    let key = StorageKey::hashed(&SessionId::generate().unwrap());
    let other = StorageKey::hashed(&SessionId::generate().unwrap());
    let now = clock.now();
    let mut record = Record::new(now, now.saturating_add(MINUTE));
    record.data.insert("user".into(), "ada".into());
    record.version = 1;
    store.create(&key, &record, now).await.unwrap();
    assert_eq!(store.load(&key, now).await.unwrap(), Some(record.clone()));

    let redis_key = store.redis_key(&key);
    absent_at_the_deadline(&store, &clock, (&key, &other), &record, 1, &redis_key).await;
    let exists: bool = raw_connection(REDIS_URL)
        .exists(store.redis_key(&other))
        .unwrap();
    assert!(!exists, "the failed key change created nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn flask_session_records_are_absent_from_their_deadline_on() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("flask-expiry");
    cleanup.track(&prefix);
    let config = SessionConfig::default();
    let store = flask_store(&prefix, &config).await;
    let clock = ManualClock::starting_now();
    let key = StorageKey::raw_for_flask_session_compat(&SessionId::generate().unwrap());
    let other = StorageKey::raw_for_flask_session_compat(&SessionId::generate().unwrap());
    let now = clock.now();
    let mut record = Record::new(now, now.saturating_add(MINUTE));
    record.data.insert("user".into(), "ada".into());
    store.create(&key, &record, now).await.unwrap();
    let loaded = store.load(&key, now).await.unwrap().unwrap();
    assert_eq!(loaded.data, record.data);
    assert_eq!(
        loaded.expires_at, record.expires_at,
        "the deadline is read back from the key's expiry (PEXPIRETIME)"
    );

    let redis_key = store.redis_key(&key);
    absent_at_the_deadline(
        &store,
        &clock,
        (&key, &other),
        &record,
        loaded.version,
        &redis_key,
    )
    .await;
    let exists: bool = raw_connection(REDIS_URL)
        .exists(store.redis_key(&other))
        .unwrap();
    assert!(!exists, "the failed key change created nothing");
}
