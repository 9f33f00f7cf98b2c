//! The per-user index in the table: the `principal` column kept by every write, what a
//! listing returns, a version-1 table migrated, and racing logins and revokes leaving
//! the raw index exactly on the live tied rows. Against the test server (see
//! `tests/common/pg.rs`).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_postgres::{PostgresError, PostgresStore};
use sqlx::Connection as _;

use crate::common::{quoted_table, TestSchema};

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

/// The keys listed for `principal`, sorted.
async fn listed(store: &PostgresStore, principal: &str, now: Timestamp) -> BTreeSet<String> {
    store
        .sessions_of(principal, now)
        .await
        .expect("the listing")
        .into_iter()
        .map(|(key, _)| key.as_str().to_owned())
        .collect()
}

/// What the index itself holds for `principal` (expired entries included): the planner
/// is kept off the table (no sequential or bitmap heap scan), so the keys come through
/// the principal index.
async fn raw_index(store: &PostgresStore, principal: &str) -> BTreeSet<String> {
    let mut tx = store.pool().begin().await.expect("a transaction");
    sqlx::raw_sql("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        .execute(&mut *tx)
        .await
        .expect("planner settings");
    let sql = format!(
        "SELECT id_hash FROM {} WHERE principal = $1",
        quoted_table(store)
    );
    let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {sql}"))
        .bind(principal)
        .fetch_all(&mut *tx)
        .await
        .expect("the plan");
    assert!(
        plan.iter()
            .any(|line| line.contains("Index Scan using session_records_principal")),
        "{plan:?}"
    );
    sqlx::query_scalar(&sql)
        .bind(principal)
        .fetch_all(&mut *tx)
        .await
        .expect("the index reads")
        .into_iter()
        .collect()
}

/// The rows whose data ties them to `principal`, found by reading every row's data: the
/// truth the index must match.
async fn tied_rows(store: &PostgresStore, principal: &str) -> BTreeSet<String> {
    sqlx::query_scalar(&format!(
        "SELECT id_hash FROM {}
         WHERE convert_from(data, 'UTF8')::jsonb #>> '{{_principal,name}}' = $1",
        quoted_table(store)
    ))
    .bind(principal)
    .fetch_all(store.pool())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_returns_the_principals_live_sessions_only() {
    let clock = ManualClock::starting_now();
    let (_schema, store) = common::temp_store().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_moves_the_index_entry_with_the_row() {
    let clock = ManualClock::starting_now();
    let (_schema, store) = common::temp_store().await;
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

/// A table at schema version 1 (before the index), as the previous release left it,
/// gains the column and the index on connect; its rows survive, untied, and new ones are
/// indexed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_table_is_migrated() {
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let schema = TestSchema::new().await;
    let old = key();
    {
        let mut conn = sqlx::PgConnection::connect(schema.url())
            .await
            .expect("the test server");
        let name = format!("\"{}\"", schema.name.replace('"', "\"\""));
        // Version 1's DDL, as released.
        sqlx::raw_sql(&format!(
            "CREATE SCHEMA {name};
             CREATE TABLE {name}.session_records (
                id_hash     text COLLATE \"C\" NOT NULL PRIMARY KEY,
                data        bytea   NOT NULL,
                created_at  bigint  NOT NULL,
                last_active bigint  NOT NULL,
                expires_at  bigint  NOT NULL,
                permanent   boolean NOT NULL,
                version     bigint  NOT NULL
             );
             CREATE INDEX session_records_expires_at ON {name}.session_records (expires_at);
             CREATE TABLE {name}.session_records_migrations (
                version    integer NOT NULL PRIMARY KEY,
                applied_at bigint  NOT NULL
             );
             INSERT INTO {name}.session_records_migrations VALUES (1, 0);"
        ))
        .execute(&mut conn)
        .await
        .expect("version 1");
        sqlx::query(&format!(
            "INSERT INTO {name}.session_records
                (id_hash, data, created_at, last_active, expires_at, permanent, version)
             VALUES ($1, '{{\"n\":1}}'::bytea, $2, $2, $3, false, 1)"
        ))
        .bind(old.as_str())
        .bind(now.as_unix_millis())
        .bind(now.saturating_add(HOUR).as_unix_millis())
        .execute(&mut conn)
        .await
        .expect("an old row");
        conn.close().await.expect("close");
    }

    let store = common::options(&schema)
        .connect(schema.url())
        .await
        .expect("the old table opens");
    let versions: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT version FROM \"{}\".session_records_migrations ORDER BY version",
        schema.name
    ))
    .fetch_all(store.pool())
    .await
    .expect("the ledger");
    assert_eq!(versions, [1, 2]);
    let loaded = store.load(&old, now).await.expect("load").expect("kept");
    assert_eq!(loaded.data["n"], 1);
    let new = key();
    store
        .create(&new, &record(now, HOUR, Some("ada")), now)
        .await
        .expect("create");
    assert_eq!(listed(&store, "ada", now).await, keys([&new]));
    assert_eq!(raw_index(&store, "ada").await, keys([&new]));
}

/// Logins and revokes racing on one principal, from two stores (two pools, as two
/// processes would have) on one table: afterwards the raw index holds exactly the
/// rows whose data ties them to the principal, and a final "log out everywhere" leaves
/// none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_logins_and_revokes_leave_no_dangling_entries() {
    let clock = ManualClock::starting_now();
    let (schema, first) = common::temp_store().await;
    let second = common::options(&schema)
        .connect(schema.url())
        .await
        .expect("a second store on the table");
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

/// Names PostgreSQL text or its index cannot hold are refused with a typed error before
/// anything is written, and listing them finds nothing; the longest allowed name, even
/// incompressible, fits the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstorable_principal_names_are_typed_errors() {
    let clock = ManualClock::starting_now();
    let (_schema, store) = common::temp_store().await;
    let now = clock.now();
    // Pseudo-random printable ASCII: compresses poorly, as a worst case for the index.
    let mut state: u64 = 1;
    let mut noise = |len: usize| -> String {
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                char::from(b'!' + u8::try_from((state >> 33) % 94).expect("< 94"))
            })
            .collect()
    };
    let longest = noise(PostgresStore::MAX_PRINCIPAL_BYTES);
    let too_long = noise(PostgresStore::MAX_PRINCIPAL_BYTES + 1);

    for name in ["a\0b", too_long.as_str()] {
        let key = key();
        let error = store
            .create(&key, &record(now, HOUR, Some(name)), now)
            .await
            .expect_err("refused");
        let StoreError::Backend(source) = &error else {
            panic!("not a backend error: {error:?}");
        };
        assert!(
            matches!(
                source.downcast_ref::<PostgresError>(),
                Some(PostgresError::InvalidPrincipal { .. })
            ),
            "{error}"
        );
        assert!(
            !error.to_string().contains(name),
            "the name stays out of logs"
        );
        assert!(store
            .sessions_of(name, now)
            .await
            .expect("listing")
            .is_empty());
    }
    let untied = key();
    store
        .create(&untied, &record(now, HOUR, None), now)
        .await
        .expect("create");
    let mut retied = record(now, HOUR, Some("a\0b"));
    retied.version = 2;
    assert!(store.save(&untied, &retied, 1, now).await.is_err());
    assert!(store
        .change_key(&untied, &key(), &retied, 1, now)
        .await
        .is_err());
    assert_eq!(
        common::row_count(&store).await,
        1,
        "nothing else was written"
    );

    let key = key();
    store
        .create(&key, &record(now, HOUR, Some(&longest)), now)
        .await
        .expect("the longest name fits");
    assert_eq!(listed(&store, &longest, now).await, keys([&key]));
}
