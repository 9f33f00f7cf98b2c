//! What a client (or a stray key) can make the stores do: a cookie that names no session
//! is an anonymous visitor, never a store error (no 503 "store down" a client can raise);
//! an undecodable record is `Corrupt`, so `ServerSide` deletes it and counts it; a key
//! of another Redis type in Flask-Session's namespace is someone else's and is left
//! alone; and no URL shape puts a password in an error or in `Debug` output.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use redis::Commands as _;
use session_core::adapter::SessionManager;
use session_core::backend::{BoxedBackend, CookieUpdate};
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore, ServerSide, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;
use session_redis::RedisConfig;

use crate::common::{
    finish, flask_store, open, raw_connection, store, unique_prefix, Cleanup, REDIS_URL,
};

/// A manager over a shared `ServerSide`, so the test can read its corrupt-record count.
fn manager_over<S: RecordStore>(
    backend: &Arc<ServerSide<S>>,
    clock: &ManualClock,
) -> SessionManager {
    let boxed = BoxedBackend::from_backend(Arc::clone(backend));
    SessionManager::new(boxed, SessionConfig::default())
        .unwrap()
        .with_clock(clock.clone())
}

fn exists(key: &str) -> bool {
    raw_connection(REDIS_URL).exists(key).unwrap()
}

/// Red-team finding: a 64-hex-digit cookie in the Flask-Session mode was refused as a
/// "hashed key", a backend error (503, logged at ERROR). It names no session: the visitor
/// is anonymous, and a write gets a fresh id.
#[tokio::test(flavor = "multi_thread")]
async fn flask_mode_64_hex_cookie_is_an_anonymous_visitor() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("hostile-hex");
    cleanup.track(&prefix);
    let config = SessionConfig::default();
    let backend = Arc::new(ServerSide::new(flask_store(&prefix, &config).await));
    let clock = ManualClock::starting_now();
    let manager = manager_over(&backend, &clock);
    let hex = "0123456789abcdef".repeat(4);

    let (request, session) = open(&manager, Some(&hex))
        .await
        .expect("a cookie that names no session is no error");
    assert!(session.is_empty());
    session.insert("user", "ada").unwrap();
    let cookie = finish(&request).await.expect("the write succeeds");
    let CookieUpdate::Set { value, .. } = cookie else {
        panic!("a new session sets a cookie, got {cookie:?}");
    };
    assert_ne!(value, hex, "strict mode: the client's id is never adopted");
    assert!(exists(&format!("{prefix}{value}")));
    assert!(!exists(&format!("{prefix}{hex}")));

    // A Flask-Session record under a 64-hex sid (an app with a long SESSION_ID_LENGTH
    // could issue one) is an ordinary record.
    let mut conn = raw_connection(REDIS_URL);
    let _: () = conn
        .set_ex(
            format!("{prefix}{hex}"),
            br#"{"user": "bob"}"#.as_slice(),
            60,
        )
        .unwrap();
    let (_request, session) = open(&manager, Some(&hex)).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("bob")
    );
}

/// Red-team finding: in the Flask-Session mode the sid is the Redis key, so a client can
/// name any key under the prefix. One of another Redis type made `GET` fail with
/// WRONGTYPE, a backend error (503). Such a key is not a Flask-Session record: the
/// visitor is anonymous, and the key is left alone (deleting it would let any client
/// delete the app's other keys under the prefix).
#[tokio::test(flavor = "multi_thread")]
async fn flask_mode_sid_naming_a_key_of_another_type_is_absent_and_left_alone() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("hostile-type");
    cleanup.track(&prefix);
    let config = SessionConfig::default();
    let backend = Arc::new(ServerSide::new(flask_store(&prefix, &config).await));
    let clock = ManualClock::starting_now();
    let manager = manager_over(&backend, &clock);
    let mut conn = raw_connection(REDIS_URL);

    type Plant = fn(&mut redis::Connection, &str);
    let planted: [(&str, Plant); 4] = [
        ("a_hash_the_app_keeps_here_1", |c, k| {
            let _: () = c.hset(k, "field", "value").unwrap();
        }),
        ("a_list_the_app_keeps_here_2", |c, k| {
            let _: () = c.rpush(k, "item").unwrap();
        }),
        ("a_set_the_app_keeps_here_33", |c, k| {
            let _: () = c.sadd(k, "member").unwrap();
        }),
        ("a_zset_the_app_keeps_here_4", |c, k| {
            let _: () = c.zadd(k, "member", 1).unwrap();
        }),
    ];
    for (sid, plant) in planted {
        let key = format!("{prefix}{sid}");
        plant(&mut conn, &key);
        let (request, session) = open(&manager, Some(sid))
            .await
            .unwrap_or_else(|error| panic!("{sid}: a foreign key is no error: {error}"));
        assert!(session.is_empty(), "{sid}");
        session.insert("n", 1).unwrap();
        let value = match finish(&request).await.unwrap() {
            CookieUpdate::Set { value, .. } => value,
            other => panic!("{sid}: expected a new cookie, got {other:?}"),
        };
        assert_ne!(value, sid);
        assert!(exists(&key), "{sid}: the app's key is left alone");
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut conn).unwrap();
        assert_ne!(kind, "string", "{sid}: and not overwritten");
    }
    assert_eq!(backend.corrupt_records_discarded(), 0);
}

/// A string in Flask-Session's namespace that this store cannot decode (a Flask session
/// holding Python-only values, or any other string under the prefix, named by a visitor's
/// cookie) reads as absent and is left alone: never deleted, never a 5xx.
#[tokio::test(flavor = "multi_thread")]
async fn flask_mode_undecodable_records_are_absent_and_left_alone() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("hostile-flask-corrupt");
    cleanup.track(&prefix);
    let config = SessionConfig::default();
    let backend = Arc::new(ServerSide::new(flask_store(&prefix, &config).await));
    let clock = ManualClock::starting_now();
    let manager = manager_over(&backend, &clock);
    let mut conn = raw_connection(REDIS_URL);

    let shapes: [&[u8]; 4] = [b"{not json", b"[1, 2]", b"\xc4\x03abc", b"42"];
    for (n, bytes) in shapes.iter().enumerate() {
        let sid = SessionId::generate().unwrap();
        let key = format!("{prefix}{}", sid.as_str());
        let _: () = conn.set_ex(&key, *bytes, 60).unwrap();
        let (_request, session) = open(&manager, Some(sid.as_str()))
            .await
            .unwrap_or_else(|error| panic!("{bytes:?}: {error}"));
        assert!(session.is_empty(), "{n}: an anonymous visitor");
        assert!(exists(&key), "{bytes:?}: the Flask app's key is left alone");
        assert_eq!(backend.corrupt_records_discarded(), 0);
    }
}

/// Every undecodable shape of a `RedisStore` record comes back as `Corrupt`, so it is
/// deleted when met instead of living on (a key of another type at a hashed name was a
/// WRONGTYPE backend error, 503).
#[tokio::test(flavor = "multi_thread")]
async fn redis_store_undecodable_records_are_corrupt_deleted_and_counted() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("hostile-corrupt");
    cleanup.track(&prefix);
    let store = store(&prefix).await;
    let backend = Arc::new(ServerSide::new(store.clone()));
    let clock = ManualClock::starting_now();
    let manager = manager_over(&backend, &clock);
    let mut conn = raw_connection(REDIS_URL);
    let far = (clock.now().as_unix_millis() + 3_600_000).to_string();
    let good = [
        ("version", "1"),
        ("data", r#"{"user":"ada"}"#),
        ("created_at", "0"),
        ("last_active", "0"),
        ("expires_at", far.as_str()),
        ("permanent", "0"),
    ];

    type Plant = Box<dyn Fn(&mut redis::Connection, &str)>;
    let with = |field: &'static str, value: &'static str| -> Plant {
        let fields = good.map(|(f, v)| (f, if f == field { value } else { v }.to_owned()));
        Box::new(move |c: &mut redis::Connection, k: &str| {
            let _: () = c.hset_multiple(k, &fields).unwrap();
        })
    };
    let without = |field: &'static str| -> Plant {
        let fields: Vec<(&str, String)> = good
            .iter()
            .filter(|(f, _)| *f != field)
            .map(|(f, v)| (*f, (*v).to_owned()))
            .collect();
        Box::new(move |c: &mut redis::Connection, k: &str| {
            let _: () = c.hset_multiple(k, &fields).unwrap();
        })
    };
    let shapes: Vec<(&str, Plant)> = vec![
        ("bad JSON", with("data", "{not json")),
        ("JSON not an object", with("data", "[1]")),
        ("a version that is no number", with("version", "seven")),
        ("a permanent flag that is no flag", with("permanent", "yes")),
        ("missing data", without("data")),
        ("missing version", without("version")),
        ("missing deadline", without("expires_at")),
        (
            "a string",
            Box::new(|c: &mut redis::Connection, k: &str| {
                let _: () = c.set(k, "not a hash").unwrap();
            }),
        ),
        (
            "a list",
            Box::new(|c: &mut redis::Connection, k: &str| {
                let _: () = c.rpush(k, "item").unwrap();
            }),
        ),
    ];
    for (n, (shape, plant)) in shapes.iter().enumerate() {
        let id = SessionId::generate().unwrap();
        let key = store.redis_key(&StorageKey::hashed(&id));
        plant(&mut conn, &key);
        let _: () = conn.expire(&key, 60).unwrap();
        let error = store
            .load(&StorageKey::hashed(&id), clock.now())
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt(_)),
            "{shape}: expected Corrupt, got {error:?}"
        );
        let (_request, session) = open(&manager, Some(id.as_str()))
            .await
            .unwrap_or_else(|error| panic!("{shape}: {error}"));
        assert!(session.is_empty(), "{shape}");
        assert!(!exists(&key), "{shape}: the corrupt record is gone");
        assert_eq!(backend.corrupt_records_discarded(), n as u64 + 1, "{shape}");
    }
}

/// Red-team finding: a password holding `/`, `?` or `#` (unencoded) ended the "authority"
/// early, so the whole URL, password included, reached errors and `Debug` output.
#[tokio::test(flavor = "multi_thread")]
async fn passwords_with_url_delimiters_never_reach_errors_or_debug_output() {
    let urls = [
        "redis://user:hun/ter2@127.0.0.1:6399/0",
        "redis://user:hun?ter2@127.0.0.1:6399/0",
        "redis://user:hun#ter2@127.0.0.1:6399/0",
        "redis://user:hun@ter2@127.0.0.1:6399/0",
        "redis://:hun/ter2@127.0.0.1:6399",
        "redis://user:123/ter2@127.0.0.1:6399/0",
        "redis+unix:///tmp/no-such-redis.sock?db=0&pass=hunter2",
    ];
    for url in urls {
        let config = RedisConfig::new(url).with_connect_timeout(Duration::from_millis(200));
        let debug = format!("{config:?}");
        assert!(!debug.contains("ter2"), "{url}: {debug}");
        let error = connect_error(config).await;
        assert!(!error.contains("ter2"), "{url}: {error}");
        assert!(!error.contains("hunter2"), "{url}: {error}");
    }
}

/// `RedisConfig::connect`'s error, its `Debug` and its causes, as one string (the
/// connection must fail).
async fn connect_error(config: RedisConfig) -> String {
    match config.connect().await {
        Ok(store) => panic!("nothing listens there, yet connected: {store:?}"),
        Err(error) => {
            let chain = session_core::adapter::error_chain(&error);
            format!("{error} | {error:?} | {chain}")
        }
    }
}
