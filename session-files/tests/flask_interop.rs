//! `FlaskSessionFileStore` against real Flask-Session 0.8 (from PyPI, in the repository's
//! venv) on one directory: Flask logs in and Rust reads, Rust logs in and Flask reads, a
//! Rust write keeps Flask's other keys and flashes (tuples stay tuples), logout either way
//! is logout for both, and the count file stays right; with SHA-256 names
//! (`SESSION_TYPE = "filesystem"`, cachelib 0.17) and MD5 names (cachelib 0.15's layout).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use session_core::adapter::SessionManager;
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock as _, ManualClock};
use session_core::SessionConfig;
use session_files::{FileStoreOptions, FilenameDigest, FlaskSessionFormat};

use crate::common::{finish, open};

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

/// One request through the Flask-Session app on `dir`; returns what it printed.
fn flask(dir: &Path, digest: FilenameDigest, args: &[&str]) -> Value {
    let mut command = Command::new(python());
    command
        .arg(workspace().join("tests/python/flask_session_files_app.py"))
        .arg("--dir")
        .arg(dir)
        .args(["--lifetime", &LIFETIME.as_secs().to_string()]);
    if digest == FilenameDigest::Md5 {
        command.args(["--digest", "md5"]);
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

/// A manager on the Flask-Session directory `dir`, on a manual clock standing at the time
/// the test starts (Flask reads the system clock, a few seconds on at most: far less than
/// the one-hour lifetime).
async fn manager(dir: &Path, digest: FilenameDigest, clock: &ManualClock) -> SessionManager {
    let store = FileStoreOptions::default()
        .with_cleanup_interval(None)
        .open_flask_session(
            dir,
            &config(),
            FlaskSessionFormat::default().with_digest(digest),
        )
        .await
        .unwrap();
    common::manager(store, config(), clock)
}

const DIGESTS: [FilenameDigest; 2] = [FilenameDigest::Sha256, FilenameDigest::Md5];

#[tokio::test(flavor = "multi_thread")]
async fn flask_login_rust_reads_and_writes_back() {
    for digest in DIGESTS {
        let dir = tempfile::tempdir().unwrap();
        let data = json!({"user": "ada", "n": 3, "cart": ["apple", 2], "nested": {"ok": true, "list": [1, 2.5, null]}});
        let written = flask(
            dir.path(),
            digest,
            &[
                "write",
                "--set",
                &data.to_string(),
                "--tuple",
                "cart",
                "--flash",
                "hello",
            ],
        );
        let sid = written["sid"].as_str().unwrap().to_owned();
        assert_eq!(
            written["count"],
            json!(1),
            "{digest:?}: Flask counted its session"
        );

        let clock = ManualClock::starting_now();
        let manager = manager(dir.path(), digest, &clock).await;
        let (request, session) = open(&manager, Some(&sid)).await.unwrap();
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("ada"),
            "{digest:?}"
        );
        assert_eq!(
            session.get::<Value>("cart").unwrap(),
            Some(json!(["apple", 2]))
        );
        assert_eq!(
            session.get::<Value>("nested").unwrap(),
            Some(data["nested"].clone())
        );
        assert!(session.is_permanent(), "`_permanent` is the permanent flag");
        assert!(!session.contains("_permanent"));
        session
            .update("n", |n: Option<u32>| n.unwrap_or(0) * 10)
            .unwrap();
        session.insert("from_rust", true).unwrap();
        let update = finish(&request).await.unwrap();
        assert_eq!(
            update,
            CookieUpdate::Set {
                value: sid.clone(),
                expires_at: Some(clock.now().saturating_add(LIFETIME))
            },
            "{digest:?}: the same bare sid, persistent until the session's deadline"
        );

        // Flask sees Rust's write, and its own values as it stored them: the tuple and the
        // flash Rust did not show are still tuples.
        let read = flask(
            dir.path(),
            digest,
            &["read", &format!("--sid={sid}"), "--take-flashes"],
        );
        assert_eq!(
            read["sid"],
            json!(sid),
            "{digest:?}: Flask keeps the session"
        );
        assert_eq!(read["session"]["n"], json!(30));
        assert_eq!(read["session"]["from_rust"], json!(true));
        assert_eq!(read["session"]["nested"], data["nested"]);
        assert_eq!(
            read["types"]["cart"],
            json!("tuple"),
            "{digest:?}: a tuple stays a tuple"
        );
        assert_eq!(read["types"]["_flashes[0]"], json!("tuple"));
        assert_eq!(read["flashes"], json!([["message", "hello"]]));
        assert_eq!(read["count"], json!(1), "{digest:?}: still one entry");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_login_flask_reads() {
    for digest in DIGESTS {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_now();
        let manager = manager(dir.path(), digest, &clock).await;
        let (request, session) = open(&manager, None).await.unwrap();
        session.set_permanent(true).unwrap();
        session.insert("user", "grace").unwrap();
        session.insert("roles", ["admin", "ops"]).unwrap();
        session.flash_with("info", "Welcome, grace!").unwrap();
        let CookieUpdate::Set { value: sid, .. } = finish(&request).await.unwrap() else {
            panic!("a new session sets a cookie");
        };
        assert_eq!(
            sid.len(),
            43,
            "a bare 256-bit sid, as Flask-Session's token_urlsafe(32)"
        );

        let read = flask(
            dir.path(),
            digest,
            &["read", &format!("--sid={sid}"), "--take-flashes"],
        );
        assert_eq!(read["sid"], json!(sid), "{digest:?}");
        assert_eq!(read["permanent"], json!(true));
        assert_eq!(read["session"]["user"], json!("grace"));
        assert_eq!(read["session"]["roles"], json!(["admin", "ops"]));
        assert_eq!(
            read["types"]["_flashes[0]"],
            json!("tuple"),
            "flashes as Flask stores them"
        );
        assert_eq!(
            read["flashes"],
            json!([["info", "Welcome, grace!"]]),
            "Flask shows Rust's flash"
        );
        assert_eq!(
            read["count"],
            json!(1),
            "{digest:?}: Rust counted its session"
        );

        // Flask took the flash and saved; Rust sees that.
        let (_request, session) = open(&manager, Some(&sid)).await.unwrap();
        assert!(session.take_flashes().is_empty());
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("grace")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_on_either_side_is_logout_for_both() {
    for digest in DIGESTS {
        // Flask logs in, Rust logs out.
        let dir = tempfile::tempdir().unwrap();
        let written = flask(
            dir.path(),
            digest,
            &["--not-permanent", "write", "--set", r#"{"user": "linus"}"#],
        );
        let sid = written["sid"].as_str().unwrap().to_owned();
        let manager = manager(dir.path(), digest, &ManualClock::starting_now()).await;
        let (request, session) = open(&manager, Some(&sid)).await.unwrap();
        assert!(
            !session.is_permanent(),
            "no `_permanent`: a browser-session cookie"
        );
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("linus")
        );
        session.destroy();
        assert_eq!(finish(&request).await.unwrap(), CookieUpdate::Remove);
        let read = flask(
            dir.path(),
            digest,
            &["--not-permanent", "read", &format!("--sid={sid}")],
        );
        assert_eq!(read["session"], json!({}), "{digest:?}: Flask finds nobody");
        assert_eq!(read["raw"], Value::Null, "the file is gone");
        assert_eq!(
            read["set_cookie"],
            Value::Null,
            "Flask-Session sends no cookie for an empty session"
        );
        assert_eq!(
            read["count"],
            json!(0),
            "{digest:?}: the count follows the removal"
        );

        // Rust logs in, Flask logs out.
        let (request, session) = open(&manager, None).await.unwrap();
        session.insert("user", "ada").unwrap();
        let CookieUpdate::Set { value: sid, .. } = finish(&request).await.unwrap() else {
            panic!("a new session sets a cookie");
        };
        let out = flask(dir.path(), digest, &["logout", &format!("--sid={sid}")]);
        assert_eq!(
            out["raw"],
            Value::Null,
            "{digest:?}: Flask removed the file"
        );
        let (_request, session) = open(&manager, Some(&sid)).await.unwrap();
        assert!(session.is_empty(), "{digest:?}: Rust finds nobody");
        assert_eq!(
            common::session_files(dir.path()).len(),
            1,
            "only the count file is left"
        );
    }
}

/// Rust's files sit among Flask's: Flask's own bookkeeping (its count, its pruning by
/// threshold) sees the lock file neither as an entry nor as garbage.
#[tokio::test(flavor = "multi_thread")]
async fn flask_does_not_count_the_rust_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let manager = manager(
        dir.path(),
        FilenameDigest::Sha256,
        &ManualClock::starting_now(),
    )
    .await;
    let (request, session) = open(&manager, None).await.unwrap();
    session.insert("user", "ada").unwrap();
    finish(&request).await.unwrap();
    // A new FileSystemCache recounts the directory when it starts: one entry, Rust's.
    let written = flask(
        dir.path(),
        FilenameDigest::Sha256,
        &["write", "--set", r#"{"user": "bob"}"#],
    );
    assert_eq!(
        written["count"],
        json!(2),
        "Rust's session and Flask's; the lock file is not an entry"
    );
}
