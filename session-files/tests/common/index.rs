//! The per-user index as it lies on disk, and a workload of tied writes to race against it.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_files::FileStore;
use sha2::{Digest as _, Sha256};

/// The index's directory in a session directory.
pub const INDEX_DIR: &str = ".principals";

/// A principal's bucket: the hex SHA-256 of its name.
pub fn bucket(principal: &str) -> String {
    Sha256::digest(principal.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub fn new_key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

/// A record live for a day from `now`, at `version`, tied to `principal` when given.
pub fn record(now: Timestamp, version: u64, principal: Option<&str>) -> Record {
    let mut record = Record::new(
        now,
        now.saturating_add(std::time::Duration::from_secs(86_400)),
    );
    record.version = version;
    if let Some(name) = principal {
        record.data.insert(
            "_principal".into(),
            json!({"name": name, "attached": {"user_agent": "test"}}),
        );
    }
    record
}

/// Every marker on disk, as (bucket, file name), read straight from the tree.
pub fn markers(dir: &Path) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let Ok(buckets) = std::fs::read_dir(dir.join(INDEX_DIR)) else {
        return found;
    };
    for bucket in buckets {
        let bucket = bucket.expect("a bucket");
        let name = bucket.file_name().into_string().expect("a UTF-8 bucket");
        for marker in std::fs::read_dir(bucket.path()).expect("the bucket lists") {
            let marker = marker.expect("a marker");
            found.insert((
                name.clone(),
                marker.file_name().into_string().expect("a UTF-8 marker"),
            ));
        }
    }
    found
}

/// Every session file whose record is tied to a principal and live at `now`, as (the
/// principal's bucket, file name): the truth the markers must match, found by reading
/// every session file.
pub async fn tied_files(store: &FileStore, now: Timestamp) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for name in super::session_files(store.dir()) {
        let key = StorageKey::parse_hashed(&name).expect("session files are named by keys");
        let record = store
            .load(&key, now)
            .await
            .expect("every session file loads");
        if let Some(principal) = record.as_ref().and_then(Record::principal) {
            found.insert((bucket(principal), name));
        }
    }
    found
}

/// The keys `store` lists for `principal`, as file names.
pub async fn listed(store: &FileStore, principal: &str, now: Timestamp) -> BTreeSet<String> {
    store
        .sessions_of(principal, now)
        .await
        .expect("the listing")
        .into_iter()
        .map(|(key, record)| {
            assert_eq!(
                record.principal(),
                Some(principal),
                "a listed record is tied"
            );
            key.as_str().to_owned()
        })
        .collect()
}

/// A refusal a racing revoke can cause: the record was deleted (or renamed) under us.
fn raced(result: Result<(), StoreError>) {
    match result {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(error) => panic!("a tied write failed: {error}"),
    }
}

/// `rounds` logins on one store: each creates a session tied to ada (a third to bob) and
/// then deletes it, renames it, reties it, unties it or keeps it; every third round also
/// revokes the first of ada's listed sessions, whoever made it (another task, another
/// store, another process).
pub async fn race_tied_writes(store: &FileStore, seed: usize, rounds: usize, now: Timestamp) {
    for i in 0..rounds {
        let key = new_key();
        let (principal, other) = if (i + seed) % 3 == 0 {
            ("bob", "ada")
        } else {
            ("ada", "bob")
        };
        store
            .create(&key, &record(now, 1, Some(principal)), now)
            .await
            .expect("a login creates its session");
        match (i + seed) % 5 {
            0 => store.delete(&key).await.expect("delete"),
            1 => raced(
                store
                    .change_key(&key, &new_key(), &record(now, 2, Some(principal)), 1, now)
                    .await,
            ),
            2 => raced(store.save(&key, &record(now, 2, Some(other)), 1, now).await),
            3 => raced(store.save(&key, &record(now, 2, None), 1, now).await),
            _ => {}
        }
        if i % 3 == 2 {
            let sessions = store.sessions_of("ada", now).await.expect("the listing");
            if let Some((victim, _)) = sessions.first() {
                store.delete(victim).await.expect("revoke");
            }
        }
    }
}
