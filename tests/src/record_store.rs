//! Checks for a [`RecordStore`]: one public function per rule of the contract.
//!
//! Each check panics with a message naming the broken rule. Run them all with
//! [`record_store_tests!`](crate::record_store_tests).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use session_core::{
    CookieUpdate, Record, RecordStore, ServerSide, SessionBackend, SessionConfig, SessionId,
    StorageKey, StoreError, Timestamp,
};

use crate::StoreHarness;

const HOUR: Duration = Duration::from_secs(3600);

fn new_key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().unwrap())
}

/// A live record holding `data`, version 1, expiring in an hour.
fn record_with(data: Value) -> Record {
    let now = Timestamp::now();
    let mut record = Record::new(now, now.saturating_add(HOUR));
    record.data = match data {
        Value::Object(map) => map,
        other => Map::from_iter([("value".to_owned(), other)]),
    };
    record.version = 1;
    record
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
    let store = harness.store().await;
    let key = new_key();
    let mut record = record_with(every_json_type());
    record.permanent = true;
    store.create(&key, &record).await.unwrap();
    let loaded = store.load(&key).await.unwrap();
    assert_eq!(
        loaded,
        Some(record),
        "the stored record must come back unchanged"
    );
}

/// A key that was never stored loads as `None`, not as an error.
pub async fn missing_key_loads_none<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    assert_eq!(store.load(&new_key()).await.unwrap(), None);
}

/// `create` refuses a key that holds a live record, and leaves that record alone.
pub async fn create_refuses_a_colliding_key<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let key = new_key();
    let first = record_with(json!({"owner": "first"}));
    store.create(&key, &first).await.unwrap();
    let second = record_with(json!({"owner": "second"}));
    let result = store.create(&key, &second).await;
    assert!(
        matches!(result, Err(StoreError::KeyCollision)),
        "create over a live record must be KeyCollision, got {result:?}"
    );
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(first),
        "the first record must stay"
    );
}

/// A save with a stale expected version is a conflict and changes nothing; the right
/// version saves.
pub async fn compare_and_swap_refuses_stale_versions<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let key = new_key();
    let original = record_with(json!({"n": 1}));
    store.create(&key, &original).await.unwrap();

    let mut stale = original.clone();
    stale.data.insert("n".into(), json!("stale"));
    stale.version = 8;
    let result = store.save(&key, &stale, 7).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "stale save must conflict, got {result:?}"
    );
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(original.clone()),
        "a conflict changes nothing"
    );

    let mut next = original.clone();
    next.data.insert("n".into(), json!(2));
    next.version = 2;
    store.save(&key, &next, 1).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), Some(next.clone()));

    // The version moved on, so the old expectation is stale now.
    let result = store.save(&key, &next, 1).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "a replayed save must conflict, got {result:?}"
    );
}

/// A save of a key that holds nothing is a conflict, never an upsert.
pub async fn save_of_a_missing_record_is_a_conflict<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let key = new_key();
    let result = store.save(&key, &record_with(json!({})), 0).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "got {result:?}"
    );
    assert_eq!(
        store.load(&key).await.unwrap(),
        None,
        "save must not create a record"
    );
}

/// `change_key` moves the record atomically: the old key is gone and the new one holds the
/// data; with a stale version or a taken new key, nothing changes.
pub async fn change_key_is_atomic<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let (old, new, taken) = (new_key(), new_key(), new_key());
    let record = record_with(json!({"user": "ada"}));
    store.create(&old, &record).await.unwrap();
    let occupant = record_with(json!({"user": "someone else"}));
    store.create(&taken, &occupant).await.unwrap();

    let mut moved = record.clone();
    moved.version = 2;
    let stale = store.change_key(&old, &new, &moved, 5).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict)),
        "stale change_key must conflict, got {stale:?}"
    );
    let collision = store.change_key(&old, &taken, &moved, 1).await;
    assert!(
        matches!(collision, Err(StoreError::KeyCollision)),
        "change_key onto a live key must be KeyCollision, got {collision:?}"
    );
    assert_eq!(
        store.load(&old).await.unwrap(),
        Some(record.clone()),
        "failed moves change nothing"
    );
    assert_eq!(store.load(&new).await.unwrap(), None);
    assert_eq!(
        store.load(&taken).await.unwrap(),
        Some(occupant),
        "the occupant stays"
    );

    store.change_key(&old, &new, &moved, 1).await.unwrap();
    assert_eq!(
        store.load(&old).await.unwrap(),
        None,
        "the old key must be gone"
    );
    assert_eq!(
        store.load(&new).await.unwrap(),
        Some(moved),
        "the new key holds the record"
    );
}

/// `delete` removes the record; deleting a missing key is not an error.
pub async fn delete_removes_the_record<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let (key, other) = (new_key(), new_key());
    store
        .create(&key, &record_with(json!({"a": 1})))
        .await
        .unwrap();
    store
        .create(&other, &record_with(json!({"b": 2})))
        .await
        .unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), None);
    assert!(
        store.load(&other).await.unwrap().is_some(),
        "delete touches only its key"
    );
    store.delete(&key).await.unwrap();
}

/// `touch` moves `last_active` and `expires_at` without rewriting data or version, and
/// never brings back a missing record.
pub async fn touch_extends_expiry_without_rewriting_data<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let key = new_key();
    let record = record_with(every_json_type());
    store.create(&key, &record).await.unwrap();
    let later = record.last_active.saturating_add(Duration::from_secs(60));
    let deadline = later.saturating_add(2 * HOUR);
    store.touch(&key, later, deadline).await.unwrap();

    let touched = store.load(&key).await.unwrap().unwrap();
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
    store.save(&key, &next, 1).await.unwrap();

    let missing = new_key();
    store.touch(&missing, later, deadline).await.unwrap();
    assert_eq!(
        store.load(&missing).await.unwrap(),
        None,
        "touch must not create a record"
    );
}

/// A record whose deadline has passed is never returned, cannot be saved over, and does
/// not block `create`.
pub async fn expired_records_are_never_returned<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let key = new_key();
    let mut record = record_with(json!({"user": "ada"}));
    record.expires_at = Timestamp::now().saturating_add(Duration::from_millis(300));
    store.create(&key, &record).await.unwrap();
    assert!(
        store.load(&key).await.unwrap().is_some(),
        "live before its deadline"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;

    assert_eq!(
        store.load(&key).await.unwrap(),
        None,
        "an expired record must not load"
    );
    let mut resurrect = record.clone();
    resurrect.version = 2;
    resurrect.expires_at = Timestamp::now().saturating_add(HOUR);
    let result = store.save(&key, &resurrect, 1).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "saving over an expired record must conflict, got {result:?}"
    );
    assert_eq!(store.load(&key).await.unwrap(), None);

    let fresh = record_with(json!({"user": "new"}));
    store.create(&key, &fresh).await.unwrap();
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(fresh),
        "an expired key is free again"
    );
}

/// `delete_expired` removes exactly the expired records and reports how many (zero for a
/// store that expires records natively, once they are gone by themselves).
pub async fn delete_expired_removes_exactly_the_expired<H: StoreHarness>(harness: &H) {
    let store = harness.store().await;
    let soon = Timestamp::now().saturating_add(Duration::from_millis(300));
    let mut expiring = Vec::new();
    for i in 0..3 {
        let key = new_key();
        let mut record = record_with(json!({ "i": i }));
        record.expires_at = soon;
        store.create(&key, &record).await.unwrap();
        expiring.push(key);
    }
    let mut live = Vec::new();
    for i in 0..2 {
        let key = new_key();
        store
            .create(&key, &record_with(json!({ "live": i })))
            .await
            .unwrap();
        live.push(key);
    }
    tokio::time::sleep(Duration::from_millis(450)).await;

    let removed = store.delete_expired().await.unwrap();
    let expected = if harness.expires_natively() { 0 } else { 3 };
    assert_eq!(
        removed, expected,
        "delete_expired must report exactly the expired records it removed"
    );
    for key in &expiring {
        assert_eq!(store.load(key).await.unwrap(), None);
    }
    for key in &live {
        assert!(
            store.load(key).await.unwrap().is_some(),
            "live records must survive delete_expired"
        );
    }
    assert_eq!(
        store.delete_expired().await.unwrap(),
        0,
        "nothing is left to remove"
    );
}

/// What the store keeps never contains a raw session id: sessions created through
/// `ServerSide` leave only the SHA-256 of their id.
pub async fn ids_are_stored_hashed<H: StoreHarness>(harness: &H) {
    let store = Arc::new(harness.store().await);
    let backend = ServerSide::from_arc(Arc::clone(&store));
    let config = SessionConfig::default();
    let mut ids = Vec::new();
    for i in 0..3 {
        let session = backend.load(None, &config).await.unwrap();
        session.insert("i", i).unwrap();
        let CookieUpdate::Set { value, .. } =
            backend.save(session.finish(), &config).await.unwrap()
        else {
            panic!("a new session must set a cookie");
        };
        ids.push(value);
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
    let first = Arc::new(ServerSide::from_arc(Arc::clone(&store)));
    let second = Arc::new(ServerSide::from_arc(Arc::clone(&store)));
    let config = Arc::new(SessionConfig::default());

    let session = first.load(None, &config).await.unwrap();
    session.insert("counter", 0).unwrap();
    let CookieUpdate::Set { value: cookie, .. } =
        first.save(session.finish(), &config).await.unwrap()
    else {
        panic!("a new session must set a cookie");
    };

    let updates =
        crate::concurrent::increment_concurrently(&first, &second, &config, &cookie, 100, true)
            .await;
    for update in updates {
        assert_eq!(
            update,
            CookieUpdate::Unchanged,
            "saving an existing session keeps its cookie"
        );
    }

    let session = first.load(Some(&cookie), &config).await.unwrap();
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
}

/// A failing store makes `ServerSide` load and save fail with an "unavailable" error: an
/// outage is never turned into an empty session (a silent logout) or a lost write.
pub async fn store_errors_surface_as_errors<H: StoreHarness>(harness: &H) {
    let store = Arc::new(crate::FaultyStore::new(harness.store().await));
    let backend = ServerSide::from_arc(Arc::clone(&store));
    let config = SessionConfig::default();
    let session = backend.load(None, &config).await.unwrap();
    session.insert("user", "ada").unwrap();
    let CookieUpdate::Set { value: cookie, .. } =
        backend.save(session.finish(), &config).await.unwrap()
    else {
        panic!("a new session must set a cookie");
    };

    store.set_failing(true);
    let loaded = backend.load(Some(&cookie), &config).await;
    match loaded {
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
    let session = backend.load(Some(&cookie), &config).await.unwrap();
    session.insert("user", "grace").unwrap();
    store.set_failing(true);
    let saved = backend.save(session.finish(), &config).await;
    assert!(
        saved.as_ref().is_err_and(|e| e.is_unavailable()),
        "a failing save must be an unavailable error, got {saved:?}"
    );

    store.set_failing(false);
    let session = backend.load(Some(&cookie), &config).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada"),
        "the failed write must not half-apply"
    );
}
