//! `RedisStore`'s per-user index as it sits in Redis: one sorted set per principal under
//! a hash-tagged key, read by listing, exactly the live records' keys after logins and
//! revokes race, and entries that follow renames, touches and expiry.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use redis::Commands as _;
use serde_json::json;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey};
use session_redis::RedisStore;

use crate::common::{raw_connection, store, unique_prefix, Cleanup, REDIS_URL};

const HOUR: Duration = Duration::from_secs(3600);

fn new_key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().unwrap())
}

fn tied(principal: &str, now: Timestamp) -> Record {
    let mut record = Record::new(now, now.saturating_add(HOUR));
    record
        .data
        .insert("_principal".into(), json!({ "name": principal }));
    record.version = 1;
    record
}

/// The members of a principal's index, read behind the store's back.
fn raw_index(store: &RedisStore, principal: &str) -> BTreeSet<String> {
    let mut conn = raw_connection(REDIS_URL);
    let members: Vec<String> = conn.zrange(store.principal_key(principal), 0, -1).unwrap();
    members.into_iter().collect()
}

async fn listed(store: &RedisStore, principal: &str, now: Timestamp) -> BTreeSet<String> {
    store
        .sessions_of(principal, now)
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key.as_str().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_logins_and_revokes_leave_exactly_the_live_keys_in_the_index() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("index-race");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let now = ManualClock::starting_now().now();

    // 20 logins on one principal, half of them logged out again at once, racing 3
    // revokers that end whatever they list at that moment ("log out everywhere").
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            let key = new_key();
            store.create(&key, &tied("ada", now), now).await.unwrap();
            if i % 2 == 0 {
                store.delete(&key).await.unwrap();
            }
            vec![key]
        });
    }
    for _ in 0..3 {
        let store = store.clone();
        tasks.spawn(async move {
            tokio::task::yield_now().await;
            for (key, _) in store.sessions_of("ada", now).await.unwrap() {
                store.delete(&key).await.unwrap();
            }
            Vec::new()
        });
    }
    let mut created = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        created.extend(joined.unwrap());
    }
    assert_eq!(created.len(), 20);
    let mut live = BTreeSet::new();
    for key in &created {
        if store.load(key, now).await.unwrap().is_some() {
            live.insert(key.as_str().to_owned());
        }
    }
    assert!(live.len() <= 10);
    assert_eq!(
        raw_index(&store, "ada"),
        live,
        "the index holds exactly the live records' keys: none lost, none dangling"
    );
    assert_eq!(listed(&store, "ada", now).await, live);

    // Log out everywhere, racing new logins: the new ones survive, listed.
    let victims = store.sessions_of("ada", now).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for (key, _) in victims {
        let store = store.clone();
        tasks.spawn(async move {
            store.delete(&key).await.unwrap();
            None
        });
    }
    for _ in 0..5 {
        let store = store.clone();
        tasks.spawn(async move {
            let key = new_key();
            store.create(&key, &tied("ada", now), now).await.unwrap();
            Some(key.as_str().to_owned())
        });
    }
    let mut logins = BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        logins.extend(joined.unwrap());
    }
    assert_eq!(
        raw_index(&store, "ada"),
        logins,
        "only the new logins remain"
    );
    assert_eq!(listed(&store, "ada", now).await, logins);
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_reads_the_principals_sorted_set() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("index-layout");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let (a, b) = (new_key(), new_key());
    store.create(&a, &tied("ada", now), now).await.unwrap();
    let mut later = tied("ada", now);
    later.expires_at = now.saturating_add(2 * HOUR);
    store.create(&b, &later, now).await.unwrap();

    // The key: prefix, "principal:", the name's SHA-256 as a hash tag.
    let index = store.principal_key("ada");
    assert_eq!(
        index,
        format!(
            "{prefix}principal:{{{}}}",
            "fdee430d40bd57deeac186cd9790033d0f06f909a8806e7ce6e717ab7c7d5029"
        )
    );
    let mut conn = raw_connection(REDIS_URL);
    let kind: String = redis::cmd("TYPE").arg(&index).query(&mut conn).unwrap();
    assert_eq!(kind, "zset");
    // Members scored with their deadlines; the set's TTL a grace after the last one.
    let scored: Vec<(String, i64)> = conn.zrange_withscores(&index, 0, -1).unwrap();
    let mut expected = vec![
        (
            a.as_str().to_owned(),
            now.saturating_add(HOUR).as_unix_millis(),
        ),
        (b.as_str().to_owned(), later.expires_at.as_unix_millis()),
    ];
    expected.sort_by_key(|(_, score)| *score);
    assert_eq!(scored, expected);
    let expire_at: i64 = redis::cmd("PEXPIRETIME")
        .arg(&index)
        .query(&mut conn)
        .unwrap();
    assert_eq!(expire_at, later.expires_at.as_unix_millis() + 60_000);
    // The record names its principal, so delete knows which index to clean.
    let named: Option<String> = conn.hget(store.redis_key(&a), "principal").unwrap();
    assert_eq!(named.as_deref(), Some("ada"));

    // Listing goes through the set: a record whose entry is gone is not found, though
    // it is live and tied (no scan of the sessions).
    assert_eq!(
        listed(&store, "ada", now).await,
        BTreeSet::from([a.as_str().to_owned(), b.as_str().to_owned()])
    );
    let _: i64 = conn.zrem(&index, b.as_str()).unwrap();
    assert_eq!(
        listed(&store, "ada", now).await,
        BTreeSet::from([a.as_str().to_owned()])
    );
    assert!(store.load(&b, now).await.unwrap().is_some());

    // A member that is no storage key (damage) is skipped, not an error.
    let _: i64 = conn.zadd(&index, "not a key", i64::MAX / 2).unwrap();
    assert_eq!(listed(&store, "ada", now).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_follow_renames_touches_and_expiry() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("index-follow");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let index = store.principal_key("ada");
    let mut conn = raw_connection(REDIS_URL);

    // change_key: the new key listed, the old one removed.
    let (old, new) = (new_key(), new_key());
    store.create(&old, &tied("ada", now), now).await.unwrap();
    let mut renamed = tied("ada", now);
    renamed.version = 2;
    store
        .change_key(&old, &new, &renamed, 1, now)
        .await
        .unwrap();
    assert_eq!(
        raw_index(&store, "ada"),
        BTreeSet::from([new.as_str().to_owned()])
    );

    // A failed rename (stale version) keeps the entry, and leaves none for the new key.
    let other = new_key();
    let refused = store.change_key(&new, &other, &renamed, 1, now).await;
    assert!(refused.is_err());
    assert_eq!(
        raw_index(&store, "ada"),
        BTreeSet::from([new.as_str().to_owned()])
    );

    // touch raises the score (and the set's TTL) with the deadline.
    let deadline = now.saturating_add(3 * HOUR);
    store.touch(&new, now, deadline).await.unwrap();
    let score: Option<i64> = conn.zscore(&index, new.as_str()).unwrap();
    assert_eq!(score, Some(deadline.as_unix_millis()));

    // Re-tied by a save: listed under bob, not under ada (ada's stale entry stays until
    // its deadline, skipped by listing).
    let mut bobs = tied("bob", now);
    bobs.version = 3;
    bobs.expires_at = deadline;
    store.save(&new, &bobs, 2, now).await.unwrap();
    assert!(listed(&store, "ada", now).await.is_empty());
    assert_eq!(
        listed(&store, "bob", now).await,
        BTreeSet::from([new.as_str().to_owned()])
    );

    // Expired: not listed at its deadline; its entry dropped by listing a grace later.
    clock.advance(3 * HOUR);
    assert!(listed(&store, "bob", clock.now()).await.is_empty());
    clock.advance(Duration::from_secs(61));
    assert!(listed(&store, "bob", clock.now()).await.is_empty());
    assert!(raw_index(&store, "bob").is_empty());
    assert!(listed(&store, "ada", clock.now()).await.is_empty());
    let exists: bool = conn.exists(store.principal_key("ada")).unwrap();
    assert!(!exists, "an index left with no entry is deleted by Redis");

    // An untied record writes no index and no principal field.
    let plain = new_key();
    let record = Record::new(clock.now(), clock.now().saturating_add(HOUR));
    store.create(&plain, &record, clock.now()).await.unwrap();
    let named: Option<String> = conn.hget(store.redis_key(&plain), "principal").unwrap();
    assert_eq!(named, None);
}
