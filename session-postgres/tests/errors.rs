//! Bad URLs, unreachable servers, undecodable rows: typed errors naming the database and
//! the operation, never a password, never a panic, and a corrupt row never a 500.

mod common;

use std::time::Duration;

use session_core::backend::CookieUpdate;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{Record, RecordStore, SessionId, StorageKey, StoreError};
use session_postgres::{PostgresError, PostgresStoreOptions};

use crate::common::quoted_table;

#[tokio::test]
async fn a_malformed_url_is_invalid_and_hides_its_password() {
    let error = PostgresStoreOptions::default()
        .connect("postgres://ada:hunter2@localhost:port/app")
        .await
        .expect_err("a port must be a number");
    assert!(
        matches!(error, PostgresError::InvalidUrl { .. }),
        "{error:?}"
    );
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("ada:***@localhost"), "{shown}");
}

/// A server that refuses connections: `connect` gives up after the acquire timeout with
/// an unavailable error that names the server, and not the password.
#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_named_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let error = PostgresStoreOptions::default()
        .with_acquire_timeout(Duration::from_millis(300))
        .connect(&format!("postgres://ada:hunter2@127.0.0.1:{port}/app"))
        .await
        .expect_err("nothing listens there");
    assert!(error.is_unavailable(), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        error
            .to_string()
            .contains(&format!("postgres://ada@127.0.0.1:{port}/app")),
        "{error}"
    );
    assert!(matches!(
        StoreError::from(error),
        StoreError::Unavailable(_)
    ));
}

/// A server error keeps the server's message and SQLSTATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_carry_the_servers_message() {
    let (schema, store) = common::temp_store().await;
    sqlx::query(&format!("DROP TABLE {}", quoted_table(&store)))
        .execute(store.pool())
        .await
        .expect("drop the table under the store");
    let now = ManualClock::starting_now().now();
    let key = StorageKey::hashed(&SessionId::generate().expect("random"));
    let Err(StoreError::Backend(source)) = store.load(&key, now).await else {
        panic!("a missing table is a backend error");
    };
    let error = source
        .downcast_ref::<PostgresError>()
        .expect("the store's error");
    assert_eq!(error.sqlstate(), Some("42P01"), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("load a session")
            && message.contains("does not exist")
            && message.contains(&schema.name),
        "the operation and the server's message: {message}"
    );
}

/// Rows that do not decode are `Corrupt` (not an outage); through a manager the visitor
/// gets a fresh session, and the row is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_rows_are_corrupt_and_replaced() {
    let (_schema, store) = common::temp_store().await;
    let clock = ManualClock::starting_now();
    let manager = common::manager(store.clone(), &clock);
    let table = quoted_table(&store);
    for garbage in [&b"{not json"[..], b"[1, 2]", b"\xff\xfe"] {
        let (request, session) = common::open(&manager, None).await.expect("load");
        session.insert("user", "ada").expect("insert");
        let CookieUpdate::Set { value: cookie, .. } = common::finish(&request).await.expect("save")
        else {
            panic!("a new session sets a cookie");
        };
        sqlx::query(&format!("UPDATE {table} SET data = $1"))
            .bind(garbage)
            .execute(store.pool())
            .await
            .expect("corrupt the row");
        let (request, session) = common::open(&manager, Some(&cookie))
            .await
            .expect("a corrupt row is no error for the visitor");
        assert!(session.is_empty(), "a fresh session");
        drop(request);
        assert_eq!(
            common::row_count(&store).await,
            0,
            "the corrupt row is gone"
        );
    }

    let now = clock.now();
    let key = StorageKey::hashed(&SessionId::generate().expect("random"));
    let record = Record::new(now, now.saturating_add(Duration::from_secs(60)));
    store.create(&key, &record, now).await.expect("create");
    sqlx::query(&format!(
        "UPDATE {table} SET data = 'not json'::bytea WHERE id_hash = $1"
    ))
    .bind(key.as_str())
    .execute(store.pool())
    .await
    .expect("corrupt");
    match store.load(&key, now).await {
        Err(StoreError::Corrupt(source)) => {
            let message = source.to_string();
            assert!(message.contains("`data`"), "names the column: {message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
