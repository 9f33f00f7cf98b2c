//! Checks for a [`RecordStore`]: one public function per rule of the contract.
//!
//! Each check panics with a message naming the broken rule. Run them all with
//! [`record_store_tests!`](crate::record_store_tests).
//!
//! Time comes from a [`ManualClock`] that starts at the system time (so records look
//! current to stores with native expiry) and only moves when a check advances it; every
//! store call is handed its `now`. A store must therefore judge expiry by that `now`, not
//! by its server's clock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, ServerSide, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;

use crate::drive::{manager, new_session, open, read};
use crate::StoreHarness;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn new_key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().unwrap())
}

/// A live record holding `data`, version 1, created at `now` and expiring an hour later.
fn record_with(now: Timestamp, data: Value) -> Record {
    let mut record = Record::new(now, now.saturating_add(HOUR));
    record.data = match data {
        Value::Object(map) => map,
        other => Map::from_iter([("value".to_owned(), other)]),
    };
    record.version = 1;
    record
}

/// Where the harness claims native expiry, the store's own deadline for `key` (its TTL)
/// must be `expected`, the record's `expires_at`: the claim is checked, not believed.
async fn assert_native_deadline<H: StoreHarness>(
    harness: &H,
    store: &H::Store,
    key: &StorageKey,
    expected: Timestamp,
    after: &str,
) {
    if !harness.expires_natively() {
        return;
    }
    let deadline = harness.native_deadline(store, key).await;
    assert_eq!(
        deadline.map(Timestamp::as_unix_millis),
        Some(expected.as_unix_millis()),
        "the harness claims native expiry, so after {after} the store's own deadline for \
         the record (its TTL) must be the record's expires_at"
    );
}

fn every_json_type() -> Value {
    json!({
        "null": null,
        "true": true,
        "false": false,
        "int": 42,
        "negative": -7,
        "big": i64::MAX,
        "unsigned": u64::MAX,
        "float": 1.5,
        "string": "hello",
        "unicode": "héllo wörld 😀 \u{0} \"quoted\" \\ </script>",
        "empty string": "",
        "array": [1, "two", null, [3.25], {"four": 4}],
        "empty array": [],
        "object": {"nested": {"deeper": [true, false]}},
        "empty object": {},
    })
}

/// A record with every JSON type (and awkward strings) comes back exactly as stored,
/// metadata included.
pub async fn round_trip_every_json_type<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let key = new_key();
    let mut record = record_with(clock.now(), every_json_type());
    record.permanent = true;
    store.create(&key, &record, clock.now()).await.unwrap();
    assert_native_deadline(harness, &store, &key, record.expires_at, "create").await;
    let loaded = store.load(&key, clock.now()).await.unwrap();
    assert_eq!(
        loaded,
        Some(record),
        "the stored record must come back unchanged"
    );
}

/// A key that was never stored loads as `None`, not as an error.
pub async fn missing_key_loads_none<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    assert_eq!(store.load(&new_key(), clock.now()).await.unwrap(), None);
}

/// `create` refuses a key that holds a live record, and leaves that record alone.
pub async fn create_refuses_a_colliding_key<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let now = clock.now();
    let key = new_key();
    let first = record_with(now, json!({"owner": "first"}));
    store.create(&key, &first, now).await.unwrap();
    let second = record_with(now, json!({"owner": "second"}));
    let result = store.create(&key, &second, now).await;
    assert!(
        matches!(result, Err(StoreError::KeyCollision)),
        "create over a live record must be KeyCollision, got {result:?}"
    );
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        Some(first),
        "the first record must stay"
    );
}

/// A save with a stale expected version is a conflict and changes nothing; the right
/// version saves.
pub async fn compare_and_swap_refuses_stale_versions<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let now = clock.now();
    let key = new_key();
    let original = record_with(now, json!({"n": 1}));
    store.create(&key, &original, now).await.unwrap();

    let mut stale = original.clone();
    stale.data.insert("n".into(), json!("stale"));
    stale.version = 8;
    let result = store.save(&key, &stale, 7, now).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "stale save must conflict, got {result:?}"
    );
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        Some(original.clone()),
        "a conflict changes nothing"
    );

    let mut next = original.clone();
    next.data.insert("n".into(), json!(2));
    next.version = 2;
    next.expires_at = now.saturating_add(2 * HOUR);
    store.save(&key, &next, 1, now).await.unwrap();
    assert_native_deadline(harness, &store, &key, next.expires_at, "save").await;
    assert_eq!(store.load(&key, now).await.unwrap(), Some(next.clone()));

    // The version moved on, so the old expectation is stale now.
    let result = store.save(&key, &next, 1, now).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "a replayed save must conflict, got {result:?}"
    );
}

/// A save of a key that holds nothing is a conflict, never an upsert.
pub async fn save_of_a_missing_record_is_a_conflict<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let now = clock.now();
    let key = new_key();
    let result = store.save(&key, &record_with(now, json!({})), 0, now).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "got {result:?}"
    );
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        None,
        "save must not create a record"
    );
}

/// `change_key` moves the record atomically: the old key is gone and the new one holds the
/// data; with a stale version or a taken new key, nothing changes.
pub async fn change_key_is_atomic<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let now = clock.now();
    let (old, new, taken) = (new_key(), new_key(), new_key());
    let record = record_with(now, json!({"user": "ada"}));
    store.create(&old, &record, now).await.unwrap();
    let occupant = record_with(now, json!({"user": "someone else"}));
    store.create(&taken, &occupant, now).await.unwrap();

    let mut moved = record.clone();
    moved.version = 2;
    let stale = store.change_key(&old, &new, &moved, 5, now).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict)),
        "stale change_key must conflict, got {stale:?}"
    );
    let collision = store.change_key(&old, &taken, &moved, 1, now).await;
    assert!(
        matches!(collision, Err(StoreError::KeyCollision)),
        "change_key onto a live key must be KeyCollision, got {collision:?}"
    );
    assert_eq!(
        store.load(&old, now).await.unwrap(),
        Some(record.clone()),
        "failed moves change nothing"
    );
    assert_eq!(store.load(&new, now).await.unwrap(), None);
    assert_eq!(
        store.load(&taken, now).await.unwrap(),
        Some(occupant),
        "the occupant stays"
    );

    moved.expires_at = now.saturating_add(3 * HOUR);
    store.change_key(&old, &new, &moved, 1, now).await.unwrap();
    assert_native_deadline(harness, &store, &new, moved.expires_at, "change_key").await;
    assert_eq!(
        store.load(&old, now).await.unwrap(),
        None,
        "the old key must be gone"
    );
    assert_eq!(
        store.load(&new, now).await.unwrap(),
        Some(moved),
        "the new key holds the record"
    );
}

/// `delete` removes the record; deleting a missing key is not an error.
pub async fn delete_removes_the_record<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let now = clock.now();
    let (key, other) = (new_key(), new_key());
    store
        .create(&key, &record_with(now, json!({"a": 1})), now)
        .await
        .unwrap();
    store
        .create(&other, &record_with(now, json!({"b": 2})), now)
        .await
        .unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.load(&key, now).await.unwrap(), None);
    assert!(
        store.load(&other, now).await.unwrap().is_some(),
        "delete touches only its key"
    );
    store.delete(&key).await.unwrap();
}

/// `touch` moves `last_active` and `expires_at` without rewriting data or version, and
/// never brings back a missing record.
pub async fn touch_extends_expiry_without_rewriting_data<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let key = new_key();
    let record = record_with(clock.now(), every_json_type());
    store.create(&key, &record, clock.now()).await.unwrap();
    clock.advance(MINUTE);
    let later = clock.now();
    let deadline = later.saturating_add(2 * HOUR);
    store.touch(&key, later, deadline).await.unwrap();
    assert_native_deadline(harness, &store, &key, deadline, "touch").await;

    let touched = store.load(&key, later).await.unwrap().unwrap();
    assert_eq!(touched.last_active, later);
    assert_eq!(touched.expires_at, deadline);
    assert_eq!(touched.data, record.data, "touch must not change data");
    assert_eq!(
        touched.version, record.version,
        "touch must not change the version"
    );
    assert_eq!(touched.created_at, record.created_at);

    // A save expecting the untouched version still succeeds: touch is not a write.
    let mut next = touched.clone();
    next.version = 2;
    store.save(&key, &next, 1, later).await.unwrap();

    let missing = new_key();
    store.touch(&missing, later, deadline).await.unwrap();
    assert_eq!(
        store.load(&missing, later).await.unwrap(),
        None,
        "touch must not create a record"
    );
}

/// A record whose deadline has passed (by the `now` the store is handed, whatever its
/// server's clock says) is never returned, cannot be saved over, moved or touched back to
/// life, and does not block `create`.
pub async fn expired_records_are_never_returned<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let (key, moved_to) = (new_key(), new_key());
    let mut record = record_with(clock.now(), json!({"user": "ada"}));
    record.expires_at = clock.now().saturating_add(MINUTE);
    store.create(&key, &record, clock.now()).await.unwrap();
    clock.advance(MINUTE - Duration::from_millis(1));
    assert!(
        store.load(&key, clock.now()).await.unwrap().is_some(),
        "live before its deadline"
    );
    clock.advance(Duration::from_millis(1));
    let now = clock.now();

    assert_eq!(
        store.load(&key, now).await.unwrap(),
        None,
        "a record must not load from its deadline on"
    );
    store
        .touch(&key, now, now.saturating_add(HOUR))
        .await
        .unwrap();
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        None,
        "touch must not bring an expired record back"
    );
    let mut resurrect = record.clone();
    resurrect.version = 2;
    resurrect.expires_at = now.saturating_add(HOUR);
    let result = store.save(&key, &resurrect, 1, now).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "saving over an expired record must conflict, got {result:?}"
    );
    let result = store.change_key(&key, &moved_to, &resurrect, 1, now).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "moving an expired record must conflict, got {result:?}"
    );
    assert_eq!(store.load(&key, now).await.unwrap(), None);
    assert_eq!(
        store.load(&moved_to, now).await.unwrap(),
        None,
        "a refused move stores nothing"
    );

    let fresh = record_with(now, json!({"user": "new"}));
    store.create(&key, &fresh, now).await.unwrap();
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        Some(fresh),
        "an expired key is free again"
    );
}

/// `delete_expired` removes exactly the records expired at the `now` it is handed (a
/// record is expired from its deadline on, to the millisecond) and reports how many (zero
/// for a store that expires records natively, whose `delete_expired` has nothing to do).
pub async fn delete_expired_removes_exactly_the_expired<H: StoreHarness>(harness: &H) {
    let (store, clock) = (harness.store().await, ManualClock::starting_now());
    let now = clock.now();
    // On a whole second, which stores keeping Flask-Session's formats (whole seconds)
    // hold exactly.
    let deadline_secs = now.as_unix_millis().div_euclid(1000) + 61;
    let deadline = Timestamp::from_unix_millis(deadline_secs * 1000);
    let mut expiring = Vec::new();
    for i in 0..3 {
        let key = new_key();
        let mut record = record_with(now, json!({ "i": i }));
        record.expires_at = deadline;
        store.create(&key, &record, now).await.unwrap();
        expiring.push(key);
    }
    let mut live = Vec::new();
    for i in 0..2 {
        let key = new_key();
        store
            .create(&key, &record_with(now, json!({ "live": i })), now)
            .await
            .unwrap();
        live.push(key);
    }
    assert_eq!(
        store.delete_expired(now).await.unwrap(),
        0,
        "nothing has expired yet"
    );
    let just_before = Timestamp::from_unix_millis(deadline.as_unix_millis() - 1);
    assert_eq!(
        store.delete_expired(just_before).await.unwrap(),
        0,
        "a millisecond before their deadline, the records are live"
    );
    clock.set(deadline);
    let now = clock.now();

    let removed = store.delete_expired(now).await.unwrap();
    let expected = if harness.expires_natively() { 0 } else { 3 };
    assert_eq!(
        removed, expected,
        "delete_expired must report exactly the expired records it removed"
    );
    for key in &expiring {
        assert_eq!(store.load(key, now).await.unwrap(), None);
    }
    for key in &live {
        assert!(
            store.load(key, now).await.unwrap().is_some(),
            "live records must survive delete_expired"
        );
    }
    assert_eq!(
        store.delete_expired(now).await.unwrap(),
        0,
        "nothing is left to remove"
    );
}

/// What the store keeps never contains a raw session id: sessions created through
/// `ServerSide` leave only the SHA-256 of their id.
pub async fn ids_are_stored_hashed<H: StoreHarness>(harness: &H) {
    let store = Arc::new(harness.store().await);
    let clock = ManualClock::starting_now();
    let manager = manager(
        ServerSide::from_arc(Arc::clone(&store)),
        SessionConfig::default(),
        &clock,
    );
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(new_session(&manager, "i", json!(i)).await);
    }
    let dump = harness.dump(&store).await;
    let dump = String::from_utf8_lossy(&dump);
    for id in &ids {
        assert!(
            !dump.contains(id.as_str()),
            "the store keeps a raw session id"
        );
        let hash = StorageKey::hashed(&SessionId::parse(id).unwrap());
        assert!(
            dump.contains(hash.as_str()),
            "the dump should hold the hashed key (is `dump` complete?)"
        );
    }
}

/// 100 concurrent `update`s of one session, split over two `ServerSide` instances sharing
/// the store (two processes), all survive; so do 100 concurrent inserts of distinct keys.
pub async fn concurrent_updates_all_survive<H: StoreHarness>(harness: &H) {
    let store = Arc::new(harness.store().await);
    let clock = ManualClock::starting_now();
    let process = || {
        manager(
            ServerSide::from_arc(Arc::clone(&store)),
            SessionConfig::default(),
            &clock,
        )
    };
    let (first, second) = (process(), process());

    let cookie = new_session(&first, "counter", json!(0)).await;
    let updates =
        crate::concurrent::increment_concurrently(&first, &second, &cookie, 100, true).await;
    for update in updates {
        assert_eq!(
            update,
            CookieUpdate::Unchanged,
            "saving an existing session keeps its cookie"
        );
    }

    read(&first, &cookie, |session| {
        assert_eq!(
            session.get::<u64>("counter").unwrap(),
            Some(100),
            "every update must survive"
        );
        for i in 0..100 {
            assert_eq!(
                session.get::<i32>(&format!("key {i}")).unwrap(),
                Some(i),
                "insert {i} was lost"
            );
        }
    })
    .await;
}

/// A failing store makes `ServerSide` load and save fail with an "unavailable" error: an
/// outage is never turned into an empty session (a silent logout) or a lost write.
///
/// Checked twice: with the harness's [`broken_store`](StoreHarness::broken_store) (the
/// real store, really broken: its own errors must be classified as unavailable), where
/// the harness can break one, and with a [`FaultyStore`](crate::FaultyStore) failing on
/// demand around a working one (a failed write must not half-apply).
pub async fn store_errors_surface_as_errors<H: StoreHarness>(harness: &H) {
    if let Some(broken) = harness.broken_store().await {
        broken_store_fails_loudly(broken).await;
    }
    faulty_store_fails_loudly(harness).await;
}

async fn broken_store_fails_loudly<S: RecordStore>(broken: S) {
    let clock = ManualClock::starting_now();
    let manager = manager(ServerSide::new(broken), SessionConfig::default(), &clock);
    let cookie = SessionId::generate().unwrap().as_str().to_owned();
    match manager.request(Some(&cookie)).session().await {
        Err(error) => assert!(
            error.is_unavailable(),
            "a broken store's load error should be unavailable: {error}"
        ),
        Ok(session) => panic!(
            "a broken store must not load as a session (keys {:?})",
            session.keys()
        ),
    }
    let request = manager.request(None);
    let session = request.session().await.unwrap();
    session.insert("user", "ada").unwrap();
    let saved = request.finish().await;
    assert!(
        saved.as_ref().is_err_and(|e| e.is_unavailable()),
        "a broken store's failed save must be an unavailable error, got {saved:?}"
    );
}

async fn faulty_store_fails_loudly<H: StoreHarness>(harness: &H) {
    let store = Arc::new(crate::FaultyStore::new(harness.store().await));
    let clock = ManualClock::starting_now();
    let manager = manager(
        ServerSide::from_arc(Arc::clone(&store)),
        SessionConfig::default(),
        &clock,
    );
    let cookie = new_session(&manager, "user", json!("ada")).await;

    store.set_failing(true);
    match manager.request(Some(&cookie)).session().await {
        Err(error) => assert!(
            error.is_unavailable(),
            "load error should be unavailable: {error}"
        ),
        Ok(session) => panic!(
            "a failing store must not load as a session (keys {:?})",
            session.keys()
        ),
    }
    store.set_failing(false);
    let (request, session) = open(&manager, Some(&cookie)).await;
    session.insert("user", "grace").unwrap();
    store.set_failing(true);
    let saved = request.finish().await;
    assert!(
        saved.as_ref().is_err_and(|e| e.is_unavailable()),
        "a failing save must be an unavailable error, got {saved:?}"
    );

    store.set_failing(false);
    let user = read(&manager, &cookie, |session| {
        session.get::<String>("user").unwrap()
    })
    .await;
    assert_eq!(
        user.as_deref(),
        Some("ada"),
        "the failed write must not half-apply"
    );
}

/// The per-user index follows every write: [`RecordStore::sessions_of`] finds exactly the
/// live records tied to a principal after create, save (retied or untied), change of key,
/// delete and expiry. A store that does not declare the index
/// ([`RecordStore::indexes_principals`]) must say so when asked to list.
pub async fn principal_index_follows_every_write<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let clock = ManualClock::starting_now();
    let now = clock.now();
    if !store.indexes_principals() {
        let listed = store.sessions_of("ada", now).await;
        assert!(
            matches!(listed, Err(StoreError::Unsupported(_))),
            "a store that declares no per-user index must refuse to list, got {listed:?}"
        );
        return;
    }
    let tied = |name: &str, version: u64| {
        let mut record = record_with(now, json!({"_principal": {"name": name}, "n": version}));
        record.version = version;
        record
    };
    let listed = |principal: &'static str| {
        let store = &store;
        let clock = &clock;
        async move {
            let mut found: Vec<(String, Record)> = store
                .sessions_of(principal, clock.now())
                .await
                .unwrap()
                .into_iter()
                .map(|(key, record)| (key.as_str().to_owned(), record))
                .collect();
            found.sort_by(|a, b| a.0.cmp(&b.0));
            found
        }
    };
    let keys = |found: &[(String, Record)]| -> Vec<String> {
        found.iter().map(|(key, _)| key.clone()).collect()
    };
    let sorted = |mut keys: Vec<&StorageKey>| -> Vec<String> {
        keys.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        keys.into_iter()
            .map(|key| key.as_str().to_owned())
            .collect()
    };

    let (a, b, c, d) = (new_key(), new_key(), new_key(), new_key());
    store.create(&a, &tied("ada", 1), now).await.unwrap();
    store.create(&b, &tied("ada", 1), now).await.unwrap();
    store.create(&c, &tied("bob", 1), now).await.unwrap();
    store
        .create(&d, &record_with(now, json!({"n": 1})), now)
        .await
        .unwrap();
    let found = listed("ada").await;
    assert_eq!(keys(&found), sorted(vec![&a, &b]), "both of ada's sessions");
    assert_eq!(
        found
            .iter()
            .find(|(key, _)| key == a.as_str())
            .map(|(_, r)| r),
        Some(&tied("ada", 1)),
        "listed records are the stored records"
    );
    assert_eq!(keys(&listed("bob").await), sorted(vec![&c]));

    // Untied by a save, retied to another principal by a save.
    store
        .save(&b, &record_with(now, json!({"n": 2})), 1, now)
        .await
        .unwrap();
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a]), "untied");
    store.save(&c, &tied("ada", 2), 1, now).await.unwrap();
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a, &c]), "retied");
    assert!(
        listed("bob").await.is_empty(),
        "bob's entry left with the tie"
    );

    // Renamed: the entry follows the key.
    let a2 = new_key();
    store
        .change_key(&a, &a2, &tied("ada", 2), 1, now)
        .await
        .unwrap();
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a2, &c]), "renamed");

    // Deleted.
    store.delete(&c).await.unwrap();
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a2]), "deleted");

    // Expired: gone from the list at its deadline, and after delete_expired.
    let mut short = tied("ada", 1);
    short.expires_at = now.saturating_add(MINUTE);
    let e = new_key();
    store.create(&e, &short, now).await.unwrap();
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a2, &e]));
    clock.advance(2 * MINUTE);
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a2]), "expired");
    store.delete_expired(clock.now()).await.unwrap();
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a2]));

    // Touched: still listed past its first deadline.
    store
        .touch(&a2, clock.now(), clock.now().saturating_add(2 * HOUR))
        .await
        .unwrap();
    clock.advance(90 * MINUTE);
    assert_eq!(keys(&listed("ada").await), sorted(vec![&a2]), "touched");
}
