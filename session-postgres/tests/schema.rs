//! What `connect` leaves in the database, where, and under which names; stores starting
//! together; a role that may not create tables; expiry and batched deletion.

mod common;

use std::time::Duration;

use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_postgres::{PostgresError, PostgresStore, PostgresStoreOptions};
use sqlx::Row as _;

use crate::common::{quoted_table, TestSchema};

fn key() -> StorageKey {
    StorageKey::hashed(&SessionId::generate().expect("random"))
}

fn record_expiring_in(now: Timestamp, duration: Duration) -> Record {
    let mut record = Record::new(now, now.saturating_add(duration));
    record.version = 1;
    record
        .data
        .insert("user".to_owned(), serde_json::json!("ada"));
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_creates_the_table_its_index_and_its_ledger() {
    let (schema, store) = common::temp_store().await;
    assert_eq!(store.table(), format!("{}.session_records", schema.name));
    let columns: Vec<(String, String)> = sqlx::query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'session_records' ORDER BY ordinal_position",
    )
    .bind(&schema.name)
    .fetch_all(store.pool())
    .await
    .expect("columns")
    .into_iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    let expected = [
        ("id_hash", "text"),
        ("data", "bytea"),
        ("created_at", "bigint"),
        ("last_active", "bigint"),
        ("expires_at", "bigint"),
        ("permanent", "boolean"),
        ("version", "bigint"),
        ("principal", "text"),
    ];
    assert_eq!(
        columns,
        expected.map(|(name, ty)| (name.to_owned(), ty.to_owned()))
    );
    let index: String = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'session_records_expires_at'",
    )
    .bind(&schema.name)
    .fetch_one(store.pool())
    .await
    .expect("the expiry index");
    assert!(index.contains("(expires_at)"), "{index}");
    let index: String = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'session_records_principal'",
    )
    .bind(&schema.name)
    .fetch_one(store.pool())
    .await
    .expect("the principal index");
    assert!(
        index.contains("(principal, expires_at) WHERE (principal IS NOT NULL)"),
        "{index}"
    );
    let versions: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT version FROM \"{}\".session_records_migrations ORDER BY version",
        schema.name
    ))
    .fetch_all(store.pool())
    .await
    .expect("the ledger");
    assert_eq!(versions, [1, 2]);

    // Connecting again changes nothing and keeps the rows.
    let now = ManualClock::starting_now().now();
    let key = key();
    let record = record_expiring_in(now, Duration::from_secs(60));
    store.create(&key, &record, now).await.expect("create");
    let again = common::options(&schema)
        .connect(schema.url())
        .await
        .expect("reconnect");
    assert_eq!(again.load(&key, now).await.expect("load"), Some(record));
}

/// The data column holds exactly the JSON the store was given, readable with
/// `convert_from(data, 'UTF8')`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_is_stored_as_the_json_bytes() {
    let (_schema, store) = common::temp_store().await;
    let now = ManualClock::starting_now().now();
    let key = key();
    let mut record = record_expiring_in(now, Duration::from_secs(60));
    record
        .data
        .insert("n".to_owned(), serde_json::json!(1.5e300));
    store.create(&key, &record, now).await.expect("create");
    let text: String = sqlx::query_scalar(&format!(
        "SELECT convert_from(data, 'UTF8') FROM {} WHERE id_hash = $1",
        quoted_table(&store)
    ))
    .bind(key.as_str())
    .fetch_one(store.pool())
    .await
    .expect("the row");
    assert_eq!(text, serde_json::to_string(&record.data).expect("json"));
    assert_eq!(store.load(&key, now).await.expect("load"), Some(record));
}

/// Without `with_schema`, the schema is the first of the URL's `search_path`, created if
/// missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_urls_search_path_names_the_schema() {
    let schema = TestSchema::new().await;
    let store = PostgresStoreOptions::default()
        .with_cleanup_interval(None)
        .connect(&schema.url_with_search_path())
        .await
        .expect("connect");
    assert_eq!(store.schema(), schema.name);
    assert_eq!(common::row_count(&store).await, 0);
}

/// Any table name works: names are always quoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_table_names_are_quoted() {
    let schema = TestSchema::new().await;
    let store = common::options(&schema)
        .with_table("Web \"Sessions\"; DROP TABLE x; --")
        .connect(schema.url())
        .await
        .expect("connect");
    let now = ManualClock::starting_now().now();
    let key = key();
    let record = record_expiring_in(now, Duration::from_secs(60));
    store.create(&key, &record, now).await.expect("create");
    assert_eq!(store.load(&key, now).await.expect("load"), Some(record));

    let error = common::options(&schema)
        .with_table("")
        .connect(schema.url())
        .await
        .expect_err("an empty name");
    assert!(
        matches!(error, PostgresError::InvalidName { .. }),
        "{error}"
    );
    let error = common::options(&schema)
        .with_table("t".repeat(53))
        .connect(schema.url())
        .await
        .expect_err("too long");
    assert!(error.to_string().contains("52 bytes"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_pool_uses_the_apps_pool() {
    let schema = TestSchema::new().await;
    let pool = sqlx::PgPool::connect(schema.url()).await.expect("a pool");
    let store = PostgresStoreOptions::default()
        .with_schema(&schema.name)
        .with_cleanup_interval(None)
        .from_pool(pool.clone())
        .await
        .expect("from_pool");
    let now = ManualClock::starting_now().now();
    let key = key();
    store
        .create(&key, &record_expiring_in(now, Duration::from_secs(60)), now)
        .await
        .expect("create");
    let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted_table(&store)))
        .fetch_one(&pool)
        .await
        .expect("count through the app's pool");
    assert_eq!(rows, 1);
}

/// Eight stores connect at once to a schema that does not exist yet (eight server
/// sessions, as eight processes would be): all start, the migration runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_starting_together_on_an_empty_schema_all_start() {
    let schema = TestSchema::new().await;
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let options = common::options(&schema).with_max_connections(1);
            let url = schema.url().to_owned();
            tokio::spawn(async move { options.connect(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.expect("join").expect("every store starts"));
    }
    let versions: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT version FROM \"{}\".session_records_migrations ORDER BY version",
        schema.name
    ))
    .fetch_all(stores[0].pool())
    .await
    .expect("the ledger");
    assert_eq!(versions, [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_from_a_newer_version_is_refused() {
    let (schema, store) = common::temp_store().await;
    sqlx::query(&format!(
        "INSERT INTO \"{}\".session_records_migrations (version, applied_at) VALUES (99, 0)",
        schema.name
    ))
    .execute(store.pool())
    .await
    .expect("insert");
    let error = common::options(&schema)
        .connect(schema.url())
        .await
        .expect_err("a newer schema");
    assert!(
        matches!(
            error,
            PostgresError::SchemaTooNew {
                found: 99,
                supported: 2,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade session-postgres"));
}

/// Once the table exists, an app role that may not create anything (only read and
/// write the rows) connects and works: no DDL runs when the ledger is current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_create_rights_uses_a_migrated_table() {
    let (schema, store) = common::temp_store().await;
    let role = common::pg::unique_name("sp_role");
    let setup = [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA \"{}\" TO {role}", schema.name),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"{}\" TO {role}",
            schema.name
        ),
        format!("REVOKE CREATE ON SCHEMA public FROM {role}"),
    ];
    for statement in &setup {
        sqlx::query(statement)
            .execute(store.pool())
            .await
            .expect(statement);
    }
    let url = schema.url().replacen("postgres@", &format!("{role}@"), 1);
    let result = async {
        let limited = common::options(&schema).connect(&url).await?;
        let now = ManualClock::starting_now().now();
        let key = key();
        let record = record_expiring_in(now, Duration::from_secs(60));
        limited.create(&key, &record, now).await?;
        let loaded = limited.load(&key, now).await?;
        limited.close().await;
        Ok::<_, Box<dyn std::error::Error>>(loaded == Some(record))
    }
    .await;
    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        sqlx::query(&statement)
            .execute(store.pool())
            .await
            .expect(&statement);
    }
    assert!(result.expect("the limited role works"), "round trip");
}

/// Rows past their deadline are absent to every operation before anything deletes them;
/// `delete_expired` then removes exactly those, across several batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_are_absent_and_deleted_in_batches() {
    let schema = TestSchema::new().await;
    let store = common::options(&schema)
        .with_cleanup_batch(2)
        .connect(schema.url())
        .await
        .expect("connect");
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let mut expiring = Vec::new();
    for _ in 0..5 {
        let key = key();
        let record = record_expiring_in(now, Duration::from_secs(60));
        store.create(&key, &record, now).await.expect("create");
        expiring.push((key, record));
    }
    let live = key();
    store
        .create(
            &live,
            &record_expiring_in(now, Duration::from_secs(3600)),
            now,
        )
        .await
        .expect("create");

    clock.advance(Duration::from_secs(60));
    let later = clock.now();
    let (key, record) = &expiring[0];
    assert_eq!(store.load(key, later).await.expect("load"), None);
    let mut next = record.clone();
    next.version += 1;
    assert!(matches!(
        store.save(key, &next, record.version, later).await,
        Err(StoreError::Conflict)
    ));
    store
        .touch(key, later, later.saturating_add(Duration::from_secs(60)))
        .await
        .expect("touch");
    assert_eq!(
        store.load(key, later).await.expect("load"),
        None,
        "touch revives nothing"
    );
    // An expired row's key is free for a new session.
    next.expires_at = later.saturating_add(Duration::from_secs(3600));
    store
        .create(key, &next, later)
        .await
        .expect("create over an expired row");
    assert_eq!(common::row_count(&store).await, 6);

    assert_eq!(store.delete_expired(later).await.expect("delete"), 4);
    assert_eq!(common::row_count(&store).await, 2);
    assert!(store.load(&live, later).await.expect("load").is_some());
}

/// Many concurrent creates of one key: exactly one wins, the others collide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_key_have_one_winner() {
    let (_schema, store) = common::temp_store().await;
    let now = ManualClock::starting_now().now();
    let key = key();
    let record = record_expiring_in(now, Duration::from_secs(60));
    let tries: Vec<_> = (0..16)
        .map(|_| {
            let (store, key, record): (PostgresStore, _, _) =
                (store.clone(), key.clone(), record.clone());
            tokio::spawn(async move { store.create(&key, &record, now).await })
        })
        .collect();
    let mut won = 0;
    for attempt in tries {
        match attempt.await.expect("join") {
            Ok(()) => won += 1,
            Err(StoreError::KeyCollision) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(won, 1);
}

/// The store's connections commit without waiting for the disk unless told to (see
/// `PostgresStoreOptions::with_durable_commits`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_wait_for_the_disk_only_when_asked() {
    let schema = TestSchema::new().await;
    for (durable, expected) in [(false, "off"), (true, "on")] {
        let store = common::options(&schema)
            .with_durable_commits(durable)
            .connect(schema.url())
            .await
            .expect("connect");
        let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(store.pool())
            .await
            .expect("show");
        assert_eq!(setting, expected, "durable_commits = {durable}");
    }
}
