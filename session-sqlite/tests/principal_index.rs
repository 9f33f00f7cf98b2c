//! The per-user index in the file: the `principal` column kept by every write, what a
//! listing returns, a version-1 file migrated, and racing logins and revokes leaving the
//! raw index exactly on the live tied rows.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey};
use session_sqlite::{SqliteStore, SqliteStoreOptions};
use sqlx::Connection as _;

const HOUR: Duration = Duration::from_secs(3600);

fn key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

/// A record live for `ttl` from `now`, tied to `principal` when given.
fn record(now: Timestamp, ttl: Duration, principal: Option<&str>) -> Record {
    let mut record = Record::new(now, now.saturating_add(ttl));
    record.version = 1;
    if let Some(name) = principal {
        record.data.insert(
            "_principal".into(),
            json!({"name": name, "attached": {"user_agent": "test"}}),
        );
    }
    record
}

fn options() -> SqliteStoreOptions {
    SqliteStoreOptions::default().with_cleanup_interval(None)
}

/// The keys listed for `principal`, sorted.
async fn listed(store: &SqliteStore, principal: &str, now: Timestamp) -> BTreeSet<String> {
    store
        .sessions_of(principal, now)
        .await
        .expect("the listing")
        .into_iter()
        .map(|(key, _)| key.as_str().to_owned())
        .collect()
}

/// What the index itself holds for `principal` (expired entries included), read through
/// the index only.
async fn raw_index(store: &SqliteStore, principal: &str) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT id_hash FROM session_records INDEXED BY session_records_principal
         WHERE principal = ?1",
    )
    .bind(principal)
    .fetch_all(&mut *store.acquire_writer().await.expect("the write connection"))
    .await
    .expect("the index reads")
    .into_iter()
    .collect()
}

/// The rows whose data ties them to `principal`, found by reading every row's data: the
/// truth the index must match.
async fn tied_rows(store: &SqliteStore, principal: &str) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT id_hash FROM session_records NOT INDEXED
         WHERE json_extract(data, '$._principal.name') = ?1",
    )
    .bind(principal)
    .fetch_all(&mut *store.acquire_writer().await.expect("the write connection"))
    .await
    .expect("the table reads")
    .into_iter()
    .collect()
}

fn keys<'a>(keys: impl IntoIterator<Item = &'a StorageKey>) -> BTreeSet<String> {
    keys.into_iter()
        .map(|key| key.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn listing_returns_the_principals_live_sessions_only() {
    let clock = ManualClock::starting_now();
    let (_dir, _path, store) = common::temp_store(options()).await;
    assert!(store.indexes_principals());
    let now = clock.now();
    let (ada1, ada2, short, bob, anonymous) = (key(), key(), key(), key(), key());
    let ada_record = record(now, HOUR, Some("ada"));
    store.create(&ada1, &ada_record, now).await.expect("create");
    store
        .create(&ada2, &record(now, HOUR, Some("ada")), now)
        .await
        .expect("create");
    store
        .create(&short, &record(now, HOUR / 2, Some("ada")), now)
        .await
        .expect("create");
    store
        .create(&bob, &record(now, HOUR, Some("bob")), now)
        .await
        .expect("create");
    store
        .create(&anonymous, &record(now, HOUR, None), now)
        .await
        .expect("create");

    let found = store.sessions_of("ada", now).await.expect("the listing");
    assert_eq!(
        keys(found.iter().map(|(key, _)| key)),
        keys([&ada1, &ada2, &short])
    );
    let (_, first) = found
        .iter()
        .find(|(key, _)| key == &ada1)
        .expect("ada1 listed");
    assert_eq!(first, &ada_record, "the listed record is the stored one");
    assert_eq!(listed(&store, "bob", now).await, keys([&bob]));
    assert!(listed(&store, "nobody", now).await.is_empty());

    // Past the short one's deadline (and exactly at it) it is not listed.
    let later = now.saturating_add(HOUR / 2);
    assert_eq!(listed(&store, "ada", later).await, keys([&ada1, &ada2]));
}

#[tokio::test]
async fn every_write_moves_the_index_entry_with_the_row() {
    let clock = ManualClock::starting_now();
    let (_dir, _path, store) = common::temp_store(options()).await;
    let now = clock.now();
    let key_a = key();
    let mut tied = record(now, HOUR, Some("ada"));
    store.create(&key_a, &tied, now).await.expect("create");

    // Re-saved tied to someone else: moves from ada to bob in the same statement.
    let mut bob = record(now, HOUR, Some("bob"));
    bob.version = 2;
    store.save(&key_a, &bob, 1, now).await.expect("save");
    assert!(raw_index(&store, "ada").await.is_empty());
    assert_eq!(raw_index(&store, "bob").await, keys([&key_a]));

    // Re-saved tied to nobody: leaves the index.
    let mut untied = record(now, HOUR, None);
    untied.version = 3;
    store.save(&key_a, &untied, 2, now).await.expect("save");
    assert!(raw_index(&store, "bob").await.is_empty());

    // A failed compare-and-swap changes nothing, the index included.
    tied.version = 4;
    assert!(store.save(&key_a, &tied, 99, now).await.is_err());
    assert!(raw_index(&store, "ada").await.is_empty());
    store.save(&key_a, &tied, 3, now).await.expect("save");
    assert_eq!(raw_index(&store, "ada").await, keys([&key_a]));

    // A touch keeps the entry; a key change moves it.
    store
        .touch(&key_a, now, now.saturating_add(HOUR * 2))
        .await
        .expect("touch");
    assert_eq!(raw_index(&store, "ada").await, keys([&key_a]));
    let key_b = key();
    tied.version = 5;
    store
        .change_key(&key_a, &key_b, &tied, 4, now)
        .await
        .expect("change_key");
    assert_eq!(raw_index(&store, "ada").await, keys([&key_b]));
    assert_eq!(listed(&store, "ada", now).await, keys([&key_b]));

    // A key change that collides rolls back: the entry stays where it was.
    let taken = key();
    store
        .create(&taken, &record(now, HOUR, Some("bob")), now)
        .await
        .expect("create");
    tied.version = 6;
    assert!(store
        .change_key(&key_b, &taken, &tied, 5, now)
        .await
        .is_err());
    assert_eq!(raw_index(&store, "ada").await, keys([&key_b]));
    assert_eq!(raw_index(&store, "bob").await, keys([&taken]));

    // Delete removes it.
    store.delete(&key_b).await.expect("delete");
    assert!(raw_index(&store, "ada").await.is_empty());

    // Create over an expired row of another principal takes its entry over.
    let later = now.saturating_add(HOUR * 2);
    store
        .create(&taken, &record(later, HOUR, Some("ada")), later)
        .await
        .expect("create over an expired row");
    assert!(raw_index(&store, "bob").await.is_empty());
    assert_eq!(raw_index(&store, "ada").await, keys([&taken]));

    // delete_expired removes entries with their rows.
    let expired = key();
    store
        .create(&expired, &record(later, HOUR / 4, Some("ada")), later)
        .await
        .expect("create");
    let past = later.saturating_add(HOUR / 2);
    assert_eq!(store.delete_expired(past).await.expect("cleanup"), 1);
    assert_eq!(raw_index(&store, "ada").await, keys([&taken]));
}

/// A file at schema version 1 (before the index) gains the column and the index on
/// connect; its rows survive, untied, and new ones are indexed.
#[tokio::test]
async fn a_version_1_file_is_migrated() {
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("v1.db");
    let old = key();
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("a new file");
        sqlx::raw_sql(include_str!(
            "../migrations/0001_create_session_records.sql"
        ))
        .execute(&mut conn)
        .await
        .expect("version 1");
        sqlx::raw_sql(
            "CREATE TABLE session_sqlite_migrations (
                version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;
             INSERT INTO session_sqlite_migrations VALUES (1, 0);",
        )
        .execute(&mut conn)
        .await
        .expect("the ledger");
        sqlx::query(
            "INSERT INTO session_records
                (id_hash, data, created_at, last_active, expires_at, permanent, version)
             VALUES (?1, '{\"n\":1}', ?2, ?2, ?3, 0, 1)",
        )
        .bind(old.as_str())
        .bind(now.as_unix_millis())
        .bind(now.saturating_add(HOUR).as_unix_millis())
        .execute(&mut conn)
        .await
        .expect("an old row");
        conn.close().await.expect("close");
    }

    let store = options()
        .connect(&common::url(&path))
        .await
        .expect("the old file opens");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM session_sqlite_migrations ORDER BY version")
            .fetch_all(&mut *store.acquire_writer().await.expect("the write connection"))
            .await
            .expect("ledger");
    assert_eq!(versions, [1, 2]);
    let loaded = store.load(&old, now).await.expect("load").expect("kept");
    assert_eq!(loaded.data["n"], 1);
    let new = key();
    store
        .create(&new, &record(now, HOUR, Some("ada")), now)
        .await
        .expect("create");
    assert_eq!(listed(&store, "ada", now).await, keys([&new]));
}

/// Logins and revokes racing on one principal, from two stores on one file (two
/// processes, as far as SQLite is concerned): afterwards the raw index holds exactly the
/// rows whose data ties them to the principal, and a final "log out everywhere" leaves
/// none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_logins_and_revokes_leave_no_dangling_entries() {
    let clock = ManualClock::starting_now();
    let (_dir, path, first) = common::temp_store(options()).await;
    let second = options()
        .connect(&common::url(&path))
        .await
        .expect("the file opens twice");
    let now = clock.now();

    let mut tasks = Vec::new();
    for n in 0..20_u64 {
        let store = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let own = key();
            let mut tied = record(now, HOUR, Some("ada"));
            store.create(&own, &tied, now).await.expect("login");
            match n % 5 {
                // Logs out.
                0 => store.delete(&own).await.expect("logout"),
                // Regenerates its id, as a login on an existing session does.
                1 => {
                    tied.version = 2;
                    // A revoker may have deleted it meanwhile: a conflict is fine.
                    let _ = store.change_key(&own, &key(), &tied, 1, now).await;
                }
                // Unties itself.
                2 => {
                    let mut untied = record(now, HOUR, None);
                    untied.version = 2;
                    let _ = store.save(&own, &untied, 1, now).await;
                }
                // Revokes every session of the principal it finds.
                3 => {
                    for (key, _) in store.sessions_of("ada", now).await.expect("listing") {
                        store.delete(&key).await.expect("revoke");
                    }
                }
                _ => {}
            }
        }));
    }
    for task in tasks {
        task.await.expect("no task panics");
    }

    let index = raw_index(&first, "ada").await;
    assert_eq!(index, tied_rows(&first, "ada").await, "no dangling entries");
    assert_eq!(listed(&second, "ada", now).await, index);
    for key in &index {
        let key = StorageKey::parse_hashed(key).expect("a hashed key");
        let record = first.load(&key, now).await.expect("load").expect("live");
        assert_eq!(record.principal(), Some("ada"));
    }

    // Log out everywhere: nothing tied to the principal is left.
    for (key, _) in second.sessions_of("ada", now).await.expect("listing") {
        second.delete(&key).await.expect("revoke");
    }
    assert!(raw_index(&first, "ada").await.is_empty());
    assert!(tied_rows(&first, "ada").await.is_empty());
}

/// SQLite text holds any name: a NUL inside, non-ASCII, a long one, the empty one.
#[tokio::test]
async fn any_principal_name_is_indexed() {
    let clock = ManualClock::starting_now();
    let (_dir, _path, store) = common::temp_store(options()).await;
    let now = clock.now();
    let long = "ada".repeat(100_000);
    for name in ["a\0b", "a", "é🦀", "", long.as_str(), "' OR 1=1 --"] {
        let key = key();
        store
            .create(&key, &record(now, HOUR, Some(name)), now)
            .await
            .expect("create");
        assert_eq!(listed(&store, name, now).await, keys([&key]), "{name:.10}");
    }
}
