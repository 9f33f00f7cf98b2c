//! Errors are typed, keep their cause, never show a password, and map to the right
//! `StoreError`; damaged records are corrupt, not crashes.

#![allow(clippy::unwrap_used)]

mod common;

use std::error::Error as _;
use std::net::TcpListener;
use std::time::Duration;

use redis::Commands as _;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;
use session_redis::{DecodeError, RedisConfig, RedisError};

use crate::common::{manager, open, raw_connection, store, unique_prefix, Cleanup, REDIS_URL};

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_connections_are_unavailable_and_redact_the_password() {
    let url = format!("redis://:hunter2@127.0.0.1:{}/0", closed_port());
    let error = RedisConfig::new(url)
        .with_connect_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap_err();
    assert!(
        error.is_unavailable(),
        "a refused connection is an outage: {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("redis://:***@127.0.0.1:"),
        "names the server: {message}"
    );
    assert!(
        !format!("{message} {error:?}").contains("hunter2"),
        "never shows the password"
    );
    assert!(error.source().is_some(), "keeps the cause");
    let store_error = StoreError::from(error);
    assert!(
        matches!(store_error, StoreError::Unavailable(_)),
        "{store_error:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_urls_are_invalid_not_unavailable() {
    let error = RedisConfig::new("http://127.0.0.1:6379")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, RedisError::InvalidUrl { .. }), "{error:?}");
    assert!(!error.is_unavailable());
    assert!(matches!(StoreError::from(error), StoreError::Backend(_)));
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_records_are_corrupt_and_start_anonymous_sessions() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("errors");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let clock = ManualClock::starting_now();
    let id = SessionId::generate().unwrap();
    let key = StorageKey::hashed(&id);
    let redis_key = store.redis_key(&key);
    let mut conn = raw_connection(REDIS_URL);
    let far = (clock.now().as_unix_millis() + 3_600_000).to_string();
    let fields = [
        ("version", "1"),
        ("data", "{not json"),
        ("created_at", "0"),
        ("last_active", "0"),
        ("expires_at", far.as_str()),
        ("permanent", "0"),
    ];
    let _: () = conn.hset_multiple(&redis_key, &fields).unwrap();
    let _: () = conn.expire(&redis_key, 60).unwrap();

    let error = store.load(&key, clock.now()).await.unwrap_err();
    let StoreError::Corrupt(source) = error else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert!(
        matches!(
            source.downcast_ref::<DecodeError>(),
            Some(DecodeError::Json(_))
        ),
        "{source:?}"
    );

    let _: () = conn.hset(&redis_key, "data", "{}").unwrap();
    let _: () = conn.hdel(&redis_key, "version").unwrap();
    let error = store.load(&key, clock.now()).await.unwrap_err();
    assert!(error.to_string().contains("corrupt"), "{error}");

    // Through ServerSide, a corrupt record is discarded: an anonymous session, not a 500.
    let manager = manager(store.clone(), SessionConfig::default(), &clock);
    let (_request, session) = open(&manager, Some(id.as_str())).await.unwrap();
    assert!(session.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_output_names_the_server_without_secrets() {
    let store = store(&unique_prefix("errors")).await;
    let debug = format!("{store:?}");
    assert!(
        debug.contains("127.0.0.1:6379") && debug.contains("test:errors:"),
        "{debug}"
    );
}
