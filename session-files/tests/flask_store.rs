//! The record-store rules in the Flask-Session mode's own terms: versions are fingerprints
//! of the pickle, timestamps live in the 4-byte header, the count file follows every file
//! created and removed, and no sid is ever at rest.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;
use session_files::{FileStoreOptions, FlaskSessionFileStore, FlaskSessionFormat};

const HOUR: Duration = Duration::from_secs(3600);

fn sid() -> (SessionId, StorageKey) {
    let id = SessionId::generate().unwrap();
    let key = StorageKey::raw_for_flask_session_compat(&id);
    (id, key)
}

fn record(now: Timestamp, user: &str) -> Record {
    let mut record = Record::new(now, now.saturating_add(HOUR));
    record.data.insert("user".into(), json!(user));
    record.version = 1;
    record
}

async fn store(dir: &std::path::Path) -> FlaskSessionFileStore {
    FileStoreOptions::default()
        .with_cleanup_interval(None)
        .open_flask_session(
            dir,
            &SessionConfig::default(),
            FlaskSessionFormat::default(),
        )
        .await
        .unwrap()
}

/// cachelib's count, as its count file holds it.
fn count(dir: &std::path::Path) -> Option<Vec<u8>> {
    let name = "79bc207ee04a581ab2348ca1f3494e64cd0ec36128735b8c6bc85ddd8fe1938c";
    std::fs::read(dir.join(name))
        .ok()
        .map(|file| file[4..].to_vec())
}

fn pickled_int(n: u8) -> Vec<u8> {
    vec![0x80, 5, b'K', n, b'.']
}

#[tokio::test]
async fn versions_are_fingerprints_and_compare_and_swap_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let now = ManualClock::starting_now().now();
    let (_, key) = sid();
    store.create(&key, &record(now, "ada"), now).await.unwrap();
    assert!(matches!(
        store.create(&key, &record(now, "eve"), now).await,
        Err(StoreError::KeyCollision)
    ));
    let loaded = store.load(&key, now).await.unwrap().unwrap();
    assert_eq!(loaded.data["user"], json!("ada"));
    let mut next = loaded.clone();
    next.data.insert("user".into(), json!("grace"));
    assert!(matches!(
        store.save(&key, &next, loaded.version ^ 1, now).await,
        Err(StoreError::Conflict)
    ));
    store.save(&key, &next, loaded.version, now).await.unwrap();
    let saved = store.load(&key, now).await.unwrap().unwrap();
    assert_eq!(saved.data["user"], json!("grace"));
    assert_ne!(
        saved.version, loaded.version,
        "a write changes the fingerprint"
    );
    assert!(
        matches!(
            store.save(&key, &next, loaded.version, now).await,
            Err(StoreError::Conflict)
        ),
        "a replayed save conflicts"
    );
    let (_, missing) = sid();
    assert!(matches!(
        store.save(&missing, &next, 1, now).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.load(&missing, now).await.unwrap(),
        None,
        "save never creates"
    );
}

#[tokio::test]
async fn touch_moves_the_header_only_and_expiry_is_judged_by_now() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let (_, key) = sid();
    store
        .create(&key, &record(clock.now(), "ada"), clock.now())
        .await
        .unwrap();
    let before = std::fs::read(store.file_for(&key)).unwrap();
    let version = store
        .load(&key, clock.now())
        .await
        .unwrap()
        .unwrap()
        .version;
    clock.advance(Duration::from_secs(60));
    let deadline = clock.now().saturating_add(2 * HOUR);
    store.touch(&key, clock.now(), deadline).await.unwrap();
    let after = std::fs::read(store.file_for(&key)).unwrap();
    assert_ne!(before[..4], after[..4], "the header moved");
    assert_eq!(before[4..], after[4..], "the pickle did not");
    let touched = store.load(&key, clock.now()).await.unwrap().unwrap();
    assert_eq!(touched.version, version, "touch is not a write");
    assert!(
        touched.expires_at >= deadline,
        "the deadline, rounded up to the second"
    );

    clock.advance(3 * HOUR);
    let now = clock.now();
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        None,
        "expired by the `now` handed in"
    );
    store
        .touch(&key, now, now.saturating_add(HOUR))
        .await
        .unwrap();
    assert_eq!(
        store.load(&key, now).await.unwrap(),
        None,
        "touch does not resurrect"
    );
    assert!(matches!(
        store.save(&key, &touched, version, now).await,
        Err(StoreError::Conflict)
    ));
    store.create(&key, &record(now, "new"), now).await.unwrap();
    assert_eq!(
        store.load(&key, now).await.unwrap().unwrap().data["user"],
        json!("new")
    );
}

#[tokio::test]
async fn the_count_file_follows_every_file() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let now = clock.now();
    let ((_, a), (_, b), (_, c)) = (sid(), sid(), sid());
    store.create(&a, &record(now, "a"), now).await.unwrap();
    store.create(&b, &record(now, "b"), now).await.unwrap();
    assert_eq!(count(dir.path()), Some(pickled_int(2)));
    let loaded = store.load(&a, now).await.unwrap().unwrap();
    store
        .change_key(&a, &c, &loaded, loaded.version, now)
        .await
        .unwrap();
    assert_eq!(
        count(dir.path()),
        Some(pickled_int(2)),
        "a move is one file for one"
    );
    assert_eq!(store.load(&a, now).await.unwrap(), None);
    store.delete(&b).await.unwrap();
    store.delete(&b).await.unwrap();
    assert_eq!(
        count(dir.path()),
        Some(pickled_int(1)),
        "a removal counts once"
    );
    clock.advance(2 * HOUR);
    assert_eq!(store.delete_expired(clock.now()).await.unwrap(), 1);
    assert_eq!(count(dir.path()), Some(pickled_int(0)));
    assert_eq!(
        common::session_files(dir.path()).len(),
        1,
        "only the count file is left"
    );
}

#[tokio::test]
async fn no_sid_is_ever_at_rest() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().unwrap();
    let config = SessionConfig::default();
    let store = store(dir.path()).await;
    let manager = common::manager(store.backend(), config, &clock);
    let mut sids = Vec::new();
    for i in 0..3 {
        let (request, session) = common::open(&manager, None).await.unwrap();
        session.insert("i", i).unwrap();
        let session_core::backend::CookieUpdate::Set { value, .. } =
            common::finish(&request).await.unwrap()
        else {
            panic!("a new session sets a cookie");
        };
        sids.push(value);
    }
    let dump = String::from_utf8_lossy(&common::dump(dir.path())).into_owned();
    for sid in &sids {
        assert!(!dump.contains(sid.as_str()), "a raw sid is at rest");
    }
}
