//! `FlaskCookieBackend` against real Flask (the venv from `scripts/test.sh`): Rust reads
//! cookies Flask made, Flask reads cookies Rust made, and both write one session in turn
//! through a Flask app served over HTTP on 127.0.0.1. Rust's side is a `SessionManager`
//! on a `ManualClock` started at the system time (Flask checks real signature ages); no
//! test moves it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Map, Value};
use session_cookie::flask::FlaskCodec;
use session_cookie::FlaskCookieBackend;
use session_core::adapter::{LazySession, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::clock::ManualClock;
use session_core::{Session, SessionConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const SECRET: &str = "the Flask app's SECRET_KEY, shared with Rust";
const WAIT: Duration = Duration::from_secs(30);

/// The Python with Flask: `$SESSION_TEST_PYTHON`, else the workspace's `.venv`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("SESSION_TEST_PYTHON") {
        return python.into();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with Flask at {} and SESSION_TEST_PYTHON is not set: run scripts/test.sh \
         (it creates the venv with Flask from tests/python/requirements.txt)",
        venv.display()
    );
    venv
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// Runs a script of tests/python to completion and parses its JSON output.
async fn run_python(name: &str, args: &[&str]) -> Value {
    let output = tokio::time::timeout(
        WAIT,
        Command::new(python())
            .arg(script(name))
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{name} did not finish within {WAIT:?}"))
    .unwrap_or_else(|error| panic!("could not run {name} (run scripts/test.sh): {error}"));
    assert!(
        output.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A manager serving `backend` with the default configuration.
fn manager(backend: FlaskCookieBackend) -> SessionManager {
    SessionManager::new(backend, SessionConfig::default())
        .unwrap()
        .with_clock(ManualClock::starting_now())
}

/// A request carrying `cookie`, with its session loaded.
async fn open(manager: &SessionManager, cookie: Option<&str>) -> (LazySession, Session) {
    let request = manager.request(cookie);
    let session = request.session().await.unwrap();
    (request, session)
}

/// Saves the request's session and returns the cookie it sets.
async fn save(request: LazySession) -> String {
    match request.finish().await.unwrap().unwrap().cookie {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

fn flashes(session: &Session) -> Vec<(String, String)> {
    session
        .take_flashes()
        .into_iter()
        .map(|f| (f.category, f.message))
        .collect()
}

#[tokio::test]
async fn rust_reads_cookies_real_flask_made() {
    let cases = run_python("flask_make_cookies.py", &[SECRET]).await;
    let rust =
        manager(FlaskCookieBackend::new(SECRET).with_fallbacks(["the secret before rotation"]));
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let label = case["label"].as_str().unwrap();
        let (_request, session) = open(&rust, case["cookie"].as_str()).await;
        let expected = case["natural"].as_object().unwrap();
        let mut keys = session.keys();
        keys.retain(|key| key != "_flashes");
        assert_eq!(
            keys,
            expected.keys().cloned().collect::<Vec<_>>(),
            "{label}"
        );
        for (key, value) in expected {
            assert_eq!(
                session.get::<Value>(key).unwrap().as_ref(),
                Some(value),
                "{label}: {key}"
            );
        }
        assert_eq!(
            session.is_permanent(),
            case["permanent"].as_bool().unwrap(),
            "{label}"
        );
        let expected_flashes: Vec<(String, String)> =
            serde_json::from_value(case["flashes"].clone()).unwrap();
        assert_eq!(flashes(&session), expected_flashes, "{label}");
    }
    // Without the fallback, the cookie signed by the old secret is refused.
    let old = cases.iter().find(|c| c["label"] == "old secret").unwrap();
    let strict = manager(FlaskCookieBackend::new(SECRET));
    assert!(open(&strict, old["cookie"].as_str()).await.1.is_empty());
}

#[tokio::test]
async fn real_flask_reads_cookies_rust_made() {
    let rust = manager(FlaskCookieBackend::new(SECRET));
    let (request, session) = open(&rust, None).await;
    let values = json!({
        "user_id": 42,
        "name": "Zoë 😀 </script>",
        "nested": {"list": [1, 2.5, null, true], "dict": {"k": "v"}},
        "big": i64::MAX,
        "looks_tagged": {" t": [1, 2]},
    });
    for (key, value) in values.as_object().unwrap() {
        session.insert(key.clone(), value.clone()).unwrap();
    }
    session.flash("Welcome, ada!").unwrap();
    session.flash_with("error", "Careful").unwrap();
    session.set_permanent(true).unwrap();
    let cookie = save(request).await;

    let seen = run_python("flask_read_cookie.py", &[SECRET, &cookie]).await;
    let mut natural = seen["natural"].as_object().unwrap().clone();
    let times = natural
        .remove(session_cookie::TIMES_KEY)
        .expect("the millisecond timestamps ride along");
    assert!(
        times
            .as_array()
            .is_some_and(|t| t.len() == 2 && t.iter().all(Value::is_i64)),
        "{times}"
    );
    natural.remove("_permanent");
    natural.remove("_flashes");
    assert_eq!(
        Value::Object(natural),
        values,
        "Flask sees exactly what Rust stored"
    );
    assert_eq!(seen["permanent"], json!(true));
    assert_eq!(seen["types"]["_flashes"], json!("list"));
    assert_eq!(
        seen["flashes"],
        json!([["message", "Welcome, ada!"], ["error", "Careful"]])
    );

    // A compressible session is compressed, as Flask does, and Flask still reads it.
    let (request, session) = open(&rust, None).await;
    session.insert("long", "abc".repeat(300)).unwrap();
    let cookie = save(request).await;
    assert!(
        cookie.starts_with('.'),
        "compressed payloads start with a dot"
    );
    let seen = run_python("flask_read_cookie.py", &[SECRET, &cookie]).await;
    assert_eq!(seen["natural"]["long"], json!("abc".repeat(300)));

    // Flask refuses a cookie signed with another secret: the test can fail.
    let seen = run_python("flask_read_cookie.py", &["another secret", &cookie]).await;
    assert_eq!(seen["natural"], json!({}));
}

/// The Flask app of tests/python/flask_cookie_app.py, served on 127.0.0.1.
struct FlaskApp {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl FlaskApp {
    async fn start() -> Self {
        let mut child = Command::new(python())
            .arg(script("flask_cookie_app.py"))
            .args(["--port", "0", "--secret", SECRET])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("could not start the Flask app (run scripts/test.sh): {error}")
            });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line()).await;
        let port = match line {
            Ok(Ok(Some(line))) => line.strip_prefix("PORT ").map(str::to_owned),
            _ => None,
        };
        let Some(port) = port else {
            let mut stderr = String::new();
            let _ = child.kill().await;
            let _ = child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .await;
            panic!("the Flask app did not start within {WAIT:?}: {stderr}");
        };
        let http = reqwest::Client::builder().timeout(WAIT).build().unwrap();
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http,
        }
    }

    /// GETs `path` with the session cookie; returns the body and the new cookie, if any.
    async fn get(&self, path: &str, cookie: &str) -> (String, Option<String>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("session={cookie}"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix("session="))
            .map(|value| value.split(';').next().unwrap_or_default().to_owned());
        (response.text().await.unwrap(), cookie)
    }

    async fn session(&self, cookie: &str) -> Map<String, Value> {
        let (body, _) = self.get("/get", cookie).await;
        serde_json::from_str::<Value>(&body)
            .unwrap()
            .as_object()
            .unwrap()
            .clone()
    }
}

impl Drop for FlaskApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test]
async fn rust_and_flask_share_one_session_over_http() {
    let app = FlaskApp::start().await;
    let rust = manager(FlaskCookieBackend::new(SECRET));

    // Rust starts the session.
    let (request, session) = open(&rust, None).await;
    session.insert("from_rust", "hello").unwrap();
    session.flash("rust says hi").unwrap();
    let cookie = save(request).await;

    // Flask reads it, adds a string and a Flask-only type.
    let seen = app.session(&cookie).await;
    assert_eq!(seen["natural"]["from_rust"], json!("hello"));
    let (_, cookie) = app.get("/set?from_flask=world", &cookie).await;
    let (_, cookie) = app
        .get("/tuple?k=pair", &cookie.expect("Flask re-issues"))
        .await;
    let cookie = cookie.expect("Flask re-issues");

    // Rust reads both, shows the flash and writes a counter.
    let (request, session) = open(&rust, Some(&cookie)).await;
    assert_eq!(
        session.get::<String>("from_rust").unwrap().as_deref(),
        Some("hello")
    );
    assert_eq!(
        session.get::<String>("from_flask").unwrap().as_deref(),
        Some("world")
    );
    assert_eq!(session.get::<Value>("pair").unwrap(), Some(json!(["a", 1])));
    assert_eq!(
        flashes(&session),
        [("message".to_owned(), "rust says hi".to_owned())]
    );
    session.insert("counter", 1).unwrap();
    session.set_permanent(true).unwrap();
    let cookie = save(request).await;

    // Flask's keys survived the Rust write with their Python types; the flash is gone.
    let seen = app.session(&cookie).await;
    assert_eq!(seen["types"]["pair"], json!("tuple"), "{seen:?}");
    assert_eq!(seen["types"]["counter"], json!("int"));
    assert_eq!(seen["natural"]["from_flask"], json!("world"));
    assert_eq!(seen["permanent"], json!(true));
    assert!(
        seen["natural"].get("_flashes").is_none(),
        "a taken flash is gone: {seen:?}"
    );

    // Flask flashes, Rust shows it.
    let (_, flashed) = app.get("/flash?m=from%20flask&c=info", &cookie).await;
    let flashed = flashed.expect("Flask re-issues");
    let (request, session) = open(&rust, Some(&flashed)).await;
    assert_eq!(
        flashes(&session),
        [("info".to_owned(), "from flask".to_owned())]
    );
    assert_eq!(session.get::<u32>("counter").unwrap(), Some(1));

    // Rust flashes, Flask's get_flashed_messages shows it.
    session.flash_with("warning", "from rust").unwrap();
    let cookie = save(request).await;
    let (body, _) = app.get("/flashes", &cookie).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!([["warning", "from rust"]])
    );

    // A cookie signed with another secret is refused by both.
    let stranger = FlaskCodec::new("not the secret").encode(&Default::default(), 1_700_000_000);
    assert_eq!(app.session(&stranger).await["natural"], json!({}));
    assert!(open(&rust, Some(&stranger)).await.1.is_empty());
}
