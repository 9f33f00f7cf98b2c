//! `FlaskCookieBackend` beyond the conformance kit, against the crate's own Flask codec
//! (the real-Flask checks are in flask_interop.rs); driven through a `SessionManager` on a
//! `ManualClock`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{json, Value};
use session_cookie::flask::{FlaskCodec, FlaskSession};
use session_cookie::{FlaskCookieBackend, TIMES_KEY};
use session_core::adapter::{LazySession, ResponsePlan, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock, ManualClock};
use session_core::keys::{Key, KeyRing};
use session_core::{Session, SessionConfig, SessionError};

const SECRET: &str = "current secret key";
const OLD: &str = "previous secret key";

/// A manager serving a backend, and the clock it reads (starting at the system time, as
/// Flask's cookies carry real timestamps).
struct App {
    manager: SessionManager,
    clock: ManualClock,
}

impl App {
    fn new(backend: FlaskCookieBackend) -> Self {
        Self::with_config(backend, SessionConfig::default())
    }

    fn with_config(backend: FlaskCookieBackend, config: SessionConfig) -> Self {
        let clock = ManualClock::starting_now();
        let manager = SessionManager::new(backend, config)
            .unwrap()
            .with_clock(clock.clone());
        Self { manager, clock }
    }

    /// Whole Unix seconds on the app's clock, as itsdangerous stamps them.
    fn now_secs(&self) -> u64 {
        u64::try_from(self.clock.now().as_unix_secs()).unwrap()
    }

    /// A request carrying `cookie`, with its session loaded.
    async fn open(&self, cookie: Option<&str>) -> (LazySession, Session) {
        let request = self.manager.request(cookie);
        let session = request.session().await.unwrap();
        (request, session)
    }

    /// Whether `cookie` loads a session with data.
    async fn loads(&self, cookie: &str) -> bool {
        !self.open(Some(cookie)).await.1.is_empty()
    }
}

/// A cookie as Flask would write it: a tuple, bytes, a datetime, flashes, permanent.
fn flask_cookie(secret: &str, signed_at: u64) -> String {
    let json = r#"{"_flashes":[{" t":["message","from flask"]}],"_permanent":true,"blob":{" b":"AAH+/w=="},"pair":{" t":["a",1]},"user":"ada","when":{" d":"Wed, 21 Oct 2015 07:28:00 GMT"}}"#;
    FlaskCodec::new(secret).encode(&FlaskSession::from_tagged_json(json).unwrap(), signed_at)
}

async fn finish_plan(request: LazySession) -> ResponsePlan {
    request.finish().await.unwrap().unwrap()
}

async fn finish(request: LazySession) -> CookieUpdate {
    finish_plan(request).await.cookie
}

fn set_value(update: CookieUpdate) -> String {
    match update {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn flask_keys_map_to_the_session_and_untouched_ones_survive_byte_for_byte() {
    let app = App::new(FlaskCookieBackend::new(SECRET));
    let (request, session) = app.open(Some(&flask_cookie(SECRET, app.now_secs()))).await;
    assert_eq!(
        session.keys(),
        ["_flashes", "blob", "pair", "user", "when"],
        "_permanent is not data"
    );
    assert!(session.is_permanent());
    assert_eq!(session.get::<Value>("pair").unwrap(), Some(json!(["a", 1])));
    let flashes = session.take_flashes();
    assert_eq!(
        (flashes[0].category.as_str(), flashes[0].message.as_str()),
        ("message", "from flask")
    );
    session.insert("user", "grace").unwrap();
    session.flash_with("info", "from rust").unwrap();
    let cookie = set_value(finish(request).await);

    let (flask, _) = FlaskCodec::new(SECRET).decode(&cookie, None, 0).unwrap();
    assert_eq!(flask.tagged_json("pair"), Some(r#"{" t":["a",1]}"#));
    assert_eq!(flask.tagged_json("blob"), Some(r#"{" b":"AAH+/w=="}"#));
    assert_eq!(
        flask.tagged_json("when"),
        Some(r#"{" d":"Wed, 21 Oct 2015 07:28:00 GMT"}"#)
    );
    assert_eq!(
        flask.tagged_json("_flashes"),
        Some(r#"[{" t":["info","from rust"]}]"#)
    );
    assert_eq!(flask.get("user"), Some(&json!("grace")));
    assert!(flask.is_permanent());
    assert!(flask.get(TIMES_KEY).is_some());
    let (_request, session) = app.open(Some(&cookie)).await;
    assert!(
        !session.contains(TIMES_KEY),
        "the timestamps key is not data"
    );
}

#[tokio::test]
async fn fallback_secrets_verify_and_the_next_save_re_signs_with_the_current_one() {
    let strict = App::new(FlaskCookieBackend::new(SECRET));
    let old_cookie = flask_cookie(OLD, strict.now_secs());
    assert!(!strict.loads(&old_cookie).await);

    let app = App::new(FlaskCookieBackend::new(SECRET).with_fallbacks([OLD]));
    let (request, session) = app.open(Some(&old_cookie)).await;
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    let cookie = set_value(finish(request).await);
    let (resigned, _) = FlaskCodec::new(SECRET).decode(&cookie, None, 0).unwrap();
    assert_eq!(resigned.get("user"), Some(&json!("ada")));
    // The old cookie again (now remembered as verified): still re-signed.
    let (request, _session) = app.open(Some(&old_cookie)).await;
    let again = set_value(finish(request).await);
    assert!(FlaskCodec::new(SECRET).decode(&again, None, 0).is_ok());
    // Read again, the re-signed cookie needs no new one.
    let (request, session) = app.open(Some(&cookie)).await;
    assert!(session.contains("user"));
    assert_eq!(finish(request).await, CookieUpdate::Unchanged);
}

#[tokio::test]
async fn a_cookie_flask_made_counts_from_its_signature_second() {
    let idle = App::with_config(
        FlaskCookieBackend::new(SECRET),
        SessionConfig::default().with_idle_timeout(Duration::from_secs(2)),
    );
    let cookie = flask_cookie(SECRET, idle.now_secs());
    assert!(idle.loads(&cookie).await);
    // Signed in the second the clock started: 3 s later, more than 2 s have passed.
    idle.clock.advance(Duration::from_secs(3));
    assert!(!idle.loads(&cookie).await);
    assert!(idle.loads(&flask_cookie(SECRET, idle.now_secs())).await);

    // Flask's own rule: older than the lifetime is expired.
    let lifetime = App::with_config(
        FlaskCookieBackend::new(SECRET),
        SessionConfig::default().with_lifetime(Duration::from_secs(2)),
    );
    let cookie = flask_cookie(SECRET, lifetime.now_secs());
    assert!(lifetime.loads(&cookie).await);
    lifetime.clock.advance(Duration::from_secs(3));
    assert!(!lifetime.loads(&cookie).await);
}

#[tokio::test]
async fn tampered_cookies_are_anonymous() {
    let app = App::new(FlaskCookieBackend::new(SECRET));
    let cookie = flask_cookie(SECRET, app.now_secs());
    assert!(app.loads(&cookie).await);
    for i in 0..cookie.len() {
        let mut bytes = cookie.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(!app.loads(&tampered).await, "byte {i}");
    }
}

#[tokio::test]
async fn oversized_writes_are_refused_but_a_large_flask_session_can_shrink() {
    let app = App::new(FlaskCookieBackend::new(SECRET));
    let (_request, session) = app.open(None).await;
    let error = session.insert("big", "x".repeat(4_000)).unwrap_err();
    let SessionError::TooLarge {
        size,
        limit,
        backend,
        ..
    } = error
    else {
        panic!("expected TooLarge, got {error}");
    };
    assert_eq!((limit, backend), (4_093, "flask-cookie"));
    assert!(size > 4_093);

    // Flask wrote a compressed session that is larger than the limit uncompressed.
    let mut large = FlaskSession::new();
    large.insert("essay", json!("abc".repeat(2_000)));
    large.push_flash("message", json!("hello"));
    let cookie = FlaskCodec::new(SECRET).encode(&large, app.now_secs());
    assert!(cookie.len() < 1_000, "compressed");
    let (request, session) = app.open(Some(&cookie)).await;
    assert!(
        session.insert("more", "y".repeat(100)).is_err(),
        "growing stays refused"
    );
    assert_eq!(session.take_flashes().len(), 1, "shrinking works");
    session.insert("essay", "short").unwrap();
    let cookie = set_value(finish(request).await);
    let (_request, session) = app.open(Some(&cookie)).await;
    assert_eq!(
        session.get::<String>("essay").unwrap().as_deref(),
        Some("short")
    );
    assert!(session.take_flashes().is_empty());
}

#[tokio::test]
async fn the_app_keys_do_not_apply_to_flask_cookies() {
    // Flask's SECRET_KEY signs; a configured ring is neither used nor compared.
    let ring = KeyRing::new(Key::from_bytes(&[1; 32]));
    let config = SessionConfig::default().with_keys(ring);
    let app = App::with_config(FlaskCookieBackend::new(SECRET), config);
    let (request, session) = app.open(None).await;
    session.insert("user", "ada").unwrap();
    let cookie = set_value(finish(request).await);
    let (flask, _) = FlaskCodec::new(SECRET).decode(&cookie, None, 0).unwrap();
    assert_eq!(flask.get("user"), Some(&json!("ada")));
}

#[tokio::test]
async fn a_permanent_cookie_lives_until_the_session_deadline() {
    const IDLE: Duration = Duration::from_secs(60);
    let app = App::with_config(
        FlaskCookieBackend::new(SECRET),
        SessionConfig::default()
            .with_idle_timeout(IDLE)
            .with_absolute_timeout(Duration::from_secs(7_200))
            .with_lifetime(Duration::from_secs(31 * 24 * 60 * 60)),
    );
    let deadline = |plan: &ResponsePlan| match &plan.cookie {
        CookieUpdate::Set { expires_at, .. } => *expires_at,
        other => panic!("expected a cookie, got {other:?}"),
    };

    // A browser-session cookie until the session is made permanent.
    let (request, session) = app.open(None).await;
    session.insert("user", "ada").unwrap();
    let plan = finish_plan(request).await;
    assert_eq!(deadline(&plan), None);
    app.clock.advance(Duration::from_secs(1));
    let (request, session) = app.open(plan.cookie_value()).await;
    session.set_permanent(true).unwrap();
    let plan = finish_plan(request).await;
    assert_eq!(deadline(&plan), Some(app.clock.now().saturating_add(IDLE)));
    let cookie = plan.cookie_value().unwrap().to_owned();

    // A read after a quarter of the idle window re-issues it with the deadline moved.
    app.clock.advance(Duration::from_secs(20));
    let (request, session) = app.open(Some(&cookie)).await;
    assert!(session.is_permanent());
    let plan = finish_plan(request).await;
    assert_eq!(deadline(&plan), Some(app.clock.now().saturating_add(IDLE)));
    let max_age = plan.set_cookie.as_ref().and_then(|c| c.max_age());
    assert_eq!(max_age.map(|age| age.whole_seconds()), Some(60));
}
