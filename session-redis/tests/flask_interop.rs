//! `FlaskSessionStore` against real Flask-Session (from PyPI, in the repository's venv)
//! and the real Redis: Flask writes and Rust reads, Rust writes and Flask reads, and the
//! bytes Rust stores are the bytes Flask-Session stores.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use redis::Commands as _;
use serde_json::{json, Value};
use session_core::adapter::SessionManager;
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock as _, ManualClock};
use session_core::SessionConfig;

use crate::common::{
    finish, flask_store, manager, open, raw_connection, unique_prefix, Cleanup, REDIS_URL,
};

const LIFETIME: Duration = Duration::from_secs(3600);

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python: `SESSION_TEST_PYTHON`, else `<workspace>/.venv/bin/python`.
fn python() -> PathBuf {
    let python = std::env::var_os("SESSION_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python venv with Flask-Session at {}: run scripts/test.sh (it creates the venv from \
         tests/python/requirements.txt), or set SESSION_TEST_PYTHON",
        python.display()
    );
    python
}

/// One request through the Flask-Session app; returns what it printed.
fn flask(prefix: &str, permanent: bool, args: &[&str]) -> Value {
    let mut command = Command::new(python());
    command
        .arg(workspace().join("tests/python/flask_session_app.py"))
        .args(["--redis-url", REDIS_URL, "--prefix", prefix])
        .args(["--lifetime", &LIFETIME.as_secs().to_string()]);
    if !permanent {
        command.arg("--not-permanent");
    }
    let output = command.args(args).output().unwrap();
    assert!(
        output.status.success(),
        "the Flask app failed ({}): {}\n(is the venv complete? run scripts/test.sh)",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn config() -> SessionConfig {
    SessionConfig::default().with_lifetime(LIFETIME)
}

/// A manager on the Flask-Session store under `prefix`, on a manual clock standing at the
/// time the test starts (Flask and Redis read the system clock, which has moved on by a
/// few seconds at most: far less than the one-hour lifetime).
async fn flask_manager(prefix: &str, clock: &ManualClock) -> SessionManager {
    manager(flask_store(prefix, &config()).await, config(), clock)
}

/// The instant Redis will expire `key` (`PEXPIRETIME`, unix ms).
fn expire_time(key: &str) -> i64 {
    redis::cmd("PEXPIRETIME")
        .arg(key)
        .query(&mut raw_connection(REDIS_URL))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn flask_writes_rust_reads_and_writes_back() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("flask");
    cleanup.track(&prefix);
    let data = json!({"user": "ada", "n": 3, "nested": {"list": [1, 2.5, null, "x"], "ok": true}});
    let written = flask(
        &prefix,
        true,
        &["write", "--set", &data.to_string(), "--flash", "hello"],
    );
    let sid = written["sid"].as_str().unwrap().to_owned();

    let clock = ManualClock::starting_now();
    let manager = flask_manager(&prefix, &clock).await;
    let (request, session) = open(&manager, Some(&sid)).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(
        session.get::<Value>("nested").unwrap(),
        Some(data["nested"].clone())
    );
    assert!(
        session.is_permanent(),
        "`_permanent` becomes the permanent flag"
    );
    assert!(
        !session.contains("_permanent"),
        "`_permanent` is not a session value"
    );
    let flashes = session.take_flashes();
    assert_eq!(flashes.len(), 1);
    assert_eq!(
        (flashes[0].category.as_str(), flashes[0].message.as_str()),
        ("message", "hello")
    );
    session
        .update("n", |n: Option<u32>| n.unwrap_or(0) * 10)
        .unwrap();
    session.insert("from_rust", true).unwrap();
    let update = finish(&request).await.unwrap();
    let deadline = clock.now().saturating_add(LIFETIME);
    assert_eq!(
        update,
        CookieUpdate::Set {
            value: sid.clone(),
            expires_at: Some(deadline)
        },
        "same bare sid, persistent until the session's deadline"
    );
    assert_eq!(
        expire_time(&format!("{prefix}{sid}")),
        deadline.as_unix_millis(),
        "Redis expires the record at the session's deadline"
    );

    let read = flask(&prefix, true, &["read", &format!("--sid={sid}")]);
    assert_eq!(
        read["sid"],
        json!(sid),
        "Flask keeps the session Rust saved"
    );
    assert_eq!(read["permanent"], json!(true));
    assert_eq!(read["session"]["n"], json!(30));
    assert_eq!(read["session"]["from_rust"], json!(true));
    assert_eq!(read["session"]["user"], json!("ada"));
    assert!(
        read["session"].get("_flashes").is_none(),
        "the flash Rust showed is gone for Flask too"
    );
    // Flask refreshes a permanent session on every request: `SET ... EX` its lifetime.
    let ttl = read["pttl"].as_i64().unwrap();
    assert!(
        ttl > 0 && ttl <= 3_600_000,
        "Flask keeps a TTL of at most its lifetime, got {ttl} ms"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_writes_flask_reads() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("flask");
    cleanup.track(&prefix);
    let clock = ManualClock::starting_now();
    let manager = flask_manager(&prefix, &clock).await;
    let (request, session) = open(&manager, None).await.unwrap();
    session.set_permanent(true).unwrap();
    session.insert("user", "grace").unwrap();
    session.insert("roles", ["admin", "ops"]).unwrap();
    session.flash_with("info", "Welcome, grace!").unwrap();
    let CookieUpdate::Set {
        value: sid,
        expires_at: Some(expires_at),
    } = finish(&request).await.unwrap()
    else {
        panic!("a new permanent session sets a persistent cookie");
    };
    assert_eq!(
        sid.len(),
        43,
        "a bare 256-bit sid, as Flask-Session's token_urlsafe(32)"
    );
    assert_eq!(
        expires_at,
        clock.now().saturating_add(LIFETIME),
        "the cookie lasts the lifetime"
    );
    assert_eq!(
        expire_time(&format!("{prefix}{sid}")),
        expires_at.as_unix_millis(),
        "Redis expires the record when the cookie ends"
    );

    let read = flask(
        &prefix,
        true,
        &["read", &format!("--sid={sid}"), "--take-flashes"],
    );
    assert_eq!(read["sid"], json!(sid));
    assert_eq!(read["permanent"], json!(true));
    assert_eq!(read["session"]["user"], json!("grace"));
    assert_eq!(read["session"]["roles"], json!(["admin", "ops"]));
    assert_eq!(
        read["flashes"],
        json!([["info", "Welcome, grace!"]]),
        "Flask shows Rust's flash"
    );

    // Flask consumed the flash and saved; Rust sees that.
    let (_request, session) = open(&manager, Some(&sid)).await.unwrap();
    assert!(session.take_flashes().is_empty());
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("grace")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn non_permanent_sessions_and_logout_across_languages() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("flask");
    cleanup.track(&prefix);
    let written = flask(&prefix, false, &["write", "--set", r#"{"user": "linus"}"#]);
    let sid = written["sid"].as_str().unwrap().to_owned();
    let manager = flask_manager(&prefix, &ManualClock::starting_now()).await;
    let (request, session) = open(&manager, Some(&sid)).await.unwrap();
    assert!(
        !session.is_permanent(),
        "no `_permanent` in the dict: a browser-session cookie"
    );
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("linus")
    );
    session.destroy();
    assert_eq!(finish(&request).await.unwrap(), CookieUpdate::Remove);

    let read = flask(&prefix, false, &["read", &format!("--sid={sid}")]);
    assert_eq!(
        read["session"],
        json!({}),
        "Flask must not find a session Rust destroyed"
    );
    assert_eq!(read["raw"], Value::Null, "the record is gone from Redis");
    assert_eq!(
        read["set_cookie"],
        Value::Null,
        "Flask-Session sends no cookie for an empty session"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_stores_the_bytes_flask_session_stores() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("flask");
    cleanup.track(&prefix);
    // serde_json sorts keys; Flask keeps insertion order, so hand it the keys sorted.
    let data = json!({"a_float": 2.5, "big": i64::MAX, "list": [1, -7, null, true, "é"], "map": {"k": "v"}, "user": "ada"});
    let written = flask(&prefix, true, &["write", "--set", &data.to_string()]);
    let flask_bytes = written["raw"].as_str().unwrap().to_owned();

    let manager = flask_manager(&prefix, &ManualClock::starting_now()).await;
    let (request, session) = open(&manager, None).await.unwrap();
    session.set_permanent(true).unwrap();
    for (key, value) in data.as_object().unwrap() {
        session.insert(key.clone(), value.clone()).unwrap();
    }
    let CookieUpdate::Set { value: sid, .. } = finish(&request).await.unwrap() else {
        panic!("a new session sets a cookie");
    };
    let rust_bytes: Vec<u8> = raw_connection(REDIS_URL)
        .get(format!("{prefix}{sid}"))
        .unwrap();
    let rust_hex: String = rust_bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        rust_hex, flask_bytes,
        "the msgpack Rust writes must be Flask-Session's, byte for byte"
    );
}
