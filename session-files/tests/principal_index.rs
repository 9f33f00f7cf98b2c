//! The per-user index on disk: a marker per tied session in its principal's bucket, kept
//! by every write under the directory's lock, read by listings, healed by listings and the
//! cleanup, and exact after tied writes race from two stores on one directory.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::index::{bucket, listed, markers, new_key, record, tied_files, INDEX_DIR};
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore as _, StoreError};
use session_files::{Durability, FileStore};

async fn open(dir: &std::path::Path, durability: Durability) -> FileStore {
    FileStore::options()
        .with_cleanup_interval(None)
        .with_durability(durability)
        .open(dir)
        .await
        .expect("the directory opens")
}

fn set<const N: usize>(entries: [(&str, &str); N]) -> BTreeSet<(String, String)> {
    entries
        .into_iter()
        .map(|(principal, key)| (bucket(principal), key.to_owned()))
        .collect()
}

/// Each write moves the marker on disk: create, retie, untie, change of key, delete,
/// expiry; under every durability (`SyncAll` makes the marker ahead of the lock).
#[tokio::test]
async fn every_write_moves_the_marker() {
    for durability in [
        Durability::Buffered,
        Durability::SyncFile,
        Durability::SyncAll,
    ] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = open(dir.path(), durability).await;
        let clock = ManualClock::starting_now();
        let now = clock.now();
        let (a, b, c) = (new_key(), new_key(), new_key());
        store
            .create(&a, &record(now, 1, Some("ada")), now)
            .await
            .expect("create");
        store
            .create(&b, &record(now, 1, Some("ada")), now)
            .await
            .expect("create");
        store
            .create(&c, &record(now, 1, None), now)
            .await
            .expect("create");
        assert_eq!(
            markers(dir.path()),
            set([("ada", a.as_str()), ("ada", b.as_str())]),
            "{durability:?}: one marker per tied session, none for the untied"
        );

        store
            .save(&a, &record(now, 2, Some("bob")), 1, now)
            .await
            .expect("retie");
        store
            .save(&b, &record(now, 2, None), 1, now)
            .await
            .expect("untie");
        store
            .save(&c, &record(now, 2, Some("ada")), 1, now)
            .await
            .expect("tie");
        assert_eq!(
            markers(dir.path()),
            set([("bob", a.as_str()), ("ada", c.as_str())]),
            "{durability:?}: saves move markers"
        );

        let c2 = new_key();
        store
            .change_key(&c, &c2, &record(now, 3, Some("ada")), 2, now)
            .await
            .expect("rename");
        store.delete(&a).await.expect("delete");
        assert_eq!(
            markers(dir.path()),
            set([("ada", c2.as_str())]),
            "{durability:?}"
        );

        // Refused writes leave no marker behind, even one made ahead of the lock.
        let refused = store.create(&c2, &record(now, 1, Some("eve")), now).await;
        assert!(
            matches!(refused, Err(StoreError::KeyCollision)),
            "{refused:?}"
        );
        let refused = store.save(&b, &record(now, 3, Some("eve")), 1, now).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        let refused = store
            .change_key(&b, &new_key(), &record(now, 3, Some("eve")), 1, now)
            .await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        assert_eq!(
            markers(dir.path()),
            set([("ada", c2.as_str())]),
            "{durability:?}"
        );

        // Expired: listed no more, then the cleanup takes file, marker and bucket.
        let mut short = record(now, 1, Some("eve"));
        short.expires_at = now.saturating_add(Duration::from_secs(60));
        let e = new_key();
        store.create(&e, &short, now).await.expect("create");
        clock.advance(Duration::from_secs(120));
        assert!(listed(&store, "eve", clock.now()).await.is_empty());
        assert_eq!(store.delete_expired(clock.now()).await.expect("sweep"), 1);
        assert_eq!(
            markers(dir.path()),
            set([("ada", c2.as_str())]),
            "{durability:?}"
        );
        assert!(
            !dir.path().join(INDEX_DIR).join(bucket("eve")).exists(),
            "{durability:?}: an emptied bucket is removed"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_index_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = open(dir.path(), Durability::default()).await;
    let now = ManualClock::starting_now().now();
    let key = new_key();
    store
        .create(&key, &record(now, 1, Some("ada")), now)
        .await
        .expect("create");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    let root = dir.path().join(INDEX_DIR);
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(&root.join(bucket("ada"))), 0o700);
    assert_eq!(mode(&root.join(bucket("ada")).join(key.as_str())), 0o600);
}

/// A listing reads the principal's bucket and the files it names: an entry that fails
/// every read elsewhere in the directory does not disturb it, as it would a scan.
#[tokio::test]
async fn a_listing_reads_only_the_principals_bucket() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = open(dir.path(), Durability::default()).await;
    let now = ManualClock::starting_now().now();
    let (ada, bob) = (new_key(), new_key());
    store
        .create(&ada, &record(now, 1, Some("ada")), now)
        .await
        .expect("create");
    store
        .create(&bob, &record(now, 1, Some("bob")), now)
        .await
        .expect("create");
    for _ in 0..50 {
        store
            .create(&new_key(), &record(now, 1, None), now)
            .await
            .expect("create");
    }
    // A directory under a session's name: reading it as a file fails.
    std::fs::create_dir(dir.path().join(new_key().as_str())).expect("a trap");
    assert_eq!(
        listed(&store, "ada", now).await,
        BTreeSet::from([ada.as_str().to_owned()])
    );
    assert_eq!(
        listed(&store, "bob", now).await,
        BTreeSet::from([bob.as_str().to_owned()])
    );
    assert!(listed(&store, "nobody", now).await.is_empty());
}

/// Markers a crash can leave (no file, or a file tied to someone else) are never listed;
/// the listing that meets them removes them, and the cleanup removes those whose file is
/// gone.
#[tokio::test]
async fn markers_that_lead_nowhere_are_skipped_and_removed() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = open(dir.path(), Durability::default()).await;
    let now = ManualClock::starting_now().now();
    let (ada, bob) = (new_key(), new_key());
    store
        .create(&ada, &record(now, 1, Some("ada")), now)
        .await
        .expect("create");
    store
        .create(&bob, &record(now, 1, Some("bob")), now)
        .await
        .expect("create");
    let ada_bucket = dir.path().join(INDEX_DIR).join(bucket("ada"));
    let (gone, elsewhere) = (new_key(), bob.as_str());
    std::fs::write(ada_bucket.join(gone.as_str()), b"").expect("a dangling marker");
    std::fs::write(ada_bucket.join(elsewhere), b"").expect("a marker of bob's session");
    assert_eq!(
        listed(&store, "ada", now).await,
        BTreeSet::from([ada.as_str().to_owned()])
    );
    assert_eq!(
        markers(dir.path()),
        tied_files(&store, now).await,
        "the listing healed"
    );

    // The cleanup: a marker whose file is gone, in a bucket of its own.
    let eve_bucket = dir.path().join(INDEX_DIR).join(bucket("eve"));
    std::fs::create_dir(&eve_bucket).expect("a bucket");
    std::fs::write(eve_bucket.join(new_key().as_str()), b"").expect("a dangling marker");
    store.delete_expired(now).await.expect("sweep");
    assert_eq!(
        markers(dir.path()),
        tied_files(&store, now).await,
        "the sweep healed"
    );
    assert!(!eve_bucket.exists(), "and removed the emptied bucket");
}

/// Tied creates, deletes, renames, reties, unties and revokes racing from 20 tasks on two
/// stores (two lock handles, as two processes hold them) on one directory leave the
/// markers exactly on the live tied sessions: no write's marker is missing, none dangles.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tied_writes_leave_exact_markers() {
    for durability in [Durability::SyncFile, Durability::SyncAll] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let stores = [
            Arc::new(open(dir.path(), durability).await),
            Arc::new(open(dir.path(), durability).await),
        ];
        let now = ManualClock::starting_now().now();
        let mut tasks = Vec::new();
        for seed in 0..20 {
            let store = Arc::clone(&stores[seed % 2]);
            tasks.push(tokio::spawn(async move {
                common::index::race_tied_writes(&store, seed, 30, now).await;
            }));
        }
        for task in tasks {
            task.await.expect("a task panicked");
        }
        let tied = tied_files(&stores[0], now).await;
        assert!(
            tied.len() > 100,
            "{durability:?}: {} tied sessions",
            tied.len()
        );
        assert_eq!(
            markers(dir.path()),
            tied,
            "{durability:?}: the markers are exact"
        );
        for principal in ["ada", "bob"] {
            let expected: BTreeSet<String> = tied
                .iter()
                .filter(|(b, _)| *b == bucket(principal))
                .map(|(_, name)| name.clone())
                .collect();
            for store in &stores {
                assert_eq!(
                    listed(store, principal, now).await,
                    expected,
                    "{durability:?}"
                );
            }
        }
    }
}
