//! `CookieBackend` beyond the conformance kit: key rotation, tampering, cookie-name binding,
//! encryption, the exact size limit, rolling refresh, the cookie's deadline and the keys
//! check; driven through a `SessionManager` on a `ManualClock`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use session_cookie::CookieBackend;
use session_core::adapter::{LazySession, ResponsePlan, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock, ManualClock, Timestamp};
use session_core::keys::{Key, KeyRing};
use session_core::{ConfigError, Session, SessionConfig, SessionError};

fn key(byte: u8) -> Key {
    Key::from_bytes(&[byte; 32])
}

fn config() -> SessionConfig {
    SessionConfig::default()
}

/// A manager serving `backend`, and the clock it reads.
struct App {
    manager: SessionManager,
    clock: ManualClock,
}

impl App {
    fn new(backend: CookieBackend) -> Self {
        Self::with_config(backend, config())
    }

    fn with_config(backend: CookieBackend, config: SessionConfig) -> Self {
        Self::on_clock(backend, config, ManualClock::starting_now())
    }

    /// Another app (other keys, other settings) on this app's clock, as a second service
    /// reading the same browser's cookies would be.
    fn beside(&self, backend: CookieBackend, config: SessionConfig) -> Self {
        Self::on_clock(backend, config, self.clock.clone())
    }

    fn on_clock(backend: CookieBackend, config: SessionConfig, clock: ManualClock) -> Self {
        let manager = SessionManager::new(backend, config)
            .unwrap()
            .with_clock(clock.clone());
        Self { manager, clock }
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

    /// A new session holding `key: value`, and its cookie.
    async fn new_cookie(&self, key: &str, value: serde_json::Value) -> String {
        let (request, session) = self.open(None).await;
        session.insert(key, value).unwrap();
        set_value(finish(request).await)
    }
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

/// The key id part of a cookie value.
fn kid(value: &str) -> String {
    value.split('.').nth(1).unwrap().to_owned()
}

fn kid_of(backend: &CookieBackend) -> String {
    URL_SAFE_NO_PAD.encode(backend.codec().signing_key_id().to_bytes())
}

/// The issue time sealed in a cookie value (8 bytes, big-endian Unix milliseconds).
fn issued_at(value: &str) -> Timestamp {
    let bytes = URL_SAFE_NO_PAD
        .decode(value.split('.').nth(2).unwrap())
        .unwrap();
    Timestamp::from_unix_millis(i64::from_be_bytes(bytes.try_into().unwrap()))
}

#[tokio::test]
async fn rotated_keys_verify_and_the_next_save_re_signs_with_the_newest() {
    let before_backend = CookieBackend::new(KeyRing::new(key(1)));
    let before = App::new(before_backend.clone());
    let old_cookie = before.new_cookie("user", json!("ada")).await;
    assert_eq!(kid(&old_cookie), kid_of(&before_backend));

    let after_backend = CookieBackend::new(KeyRing::new(key(2)).with_verifying(key(1)));
    assert_ne!(kid_of(&after_backend), kid_of(&before_backend));
    let after = before.beside(after_backend.clone(), config());
    // An unchanged session signed by the old key is re-signed as soon as it is read.
    let (request, session) = after.open(Some(&old_cookie)).await;
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    let resigned = set_value(finish(request).await);
    assert_eq!(kid(&resigned), kid_of(&after_backend));
    // A write re-signs too; and a cookie of the newest key is left alone when only read.
    let (request, session) = after.open(Some(&old_cookie)).await;
    session.insert("visits", 1).unwrap();
    assert_eq!(
        kid(&set_value(finish(request).await)),
        kid_of(&after_backend)
    );
    let (request, session) = after.open(Some(&resigned)).await;
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(finish(request).await, CookieUpdate::Unchanged);

    // Once the old key is retired, its cookies are anonymous.
    let retired = before.beside(CookieBackend::new(KeyRing::new(key(2))), config());
    assert!(!retired.loads(&old_cookie).await);
    assert!(retired.loads(&resigned).await);
}

#[tokio::test]
async fn any_flipped_or_missing_byte_makes_the_visitor_anonymous() {
    for encrypt in [false, true] {
        let app = App::new(CookieBackend::new(KeyRing::new(key(3))).with_encryption(encrypt));
        let cookie = app.new_cookie("user", json!("ada")).await;
        assert!(app.loads(&cookie).await);
        for i in 0..cookie.len() {
            let mut bytes = cookie.clone().into_bytes();
            // Another character that is valid where it stands (base64 or the dot).
            bytes[i] = match bytes[i] {
                b'A' => b'B',
                b'.' => b'_',
                _ => b'A',
            };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(
                !app.loads(&tampered).await,
                "byte {i} flipped (encrypt: {encrypt}) still loaded"
            );
            assert!(!app.loads(&cookie[..i]).await, "truncated to {i} bytes");
        }
    }
}

#[tokio::test]
async fn a_cookie_only_works_under_its_own_name() {
    for encrypt in [false, true] {
        let backend = CookieBackend::new(KeyRing::new(key(4))).with_encryption(encrypt);
        let app = App::new(backend.clone());
        let cookie = app.new_cookie("role", json!("admin")).await;
        // Verified (and remembered) under its own name first: the backend remembers
        // which name that was.
        assert!(app.loads(&cookie).await);
        let cart = app.beside(backend, config().with_cookie_name("cart"));
        assert!(!cart.loads(&cookie).await);
        assert!(app.loads(&cookie).await);
    }
}

#[tokio::test]
async fn encryption_hides_the_payload() {
    const SECRET: &str = "plaintext-that-must-not-leak";
    let payload_of = |cookie: &str| {
        URL_SAFE_NO_PAD
            .decode(cookie.split('.').nth(3).unwrap())
            .unwrap()
    };
    let contains = |haystack: &[u8]| {
        haystack
            .windows(SECRET.len())
            .any(|w| w == SECRET.as_bytes())
    };

    let signed = App::new(CookieBackend::new(KeyRing::new(key(5))));
    let cookie = signed.new_cookie("note", json!(SECRET)).await;
    assert!(
        contains(&payload_of(&cookie)),
        "signed cookies are readable: the check can fail"
    );

    let encrypted = App::new(CookieBackend::new(KeyRing::new(key(5))).with_encryption(true));
    let cookie = encrypted.new_cookie("note", json!(SECRET)).await;
    assert!(cookie.starts_with("e1."));
    assert!(!contains(cookie.as_bytes()) && !contains(&payload_of(&cookie)));
    let (_request, session) = encrypted.open(Some(&cookie)).await;
    assert_eq!(
        session.get::<String>("note").unwrap().as_deref(),
        Some(SECRET)
    );
}

#[tokio::test]
async fn the_limit_is_the_exact_cookie_length() {
    for encrypt in [false, true] {
        let app = App::new(CookieBackend::new(KeyRing::new(key(6))).with_encryption(encrypt));
        let (request, session) = app.open(None).await;
        // Grow a value one byte at a time from well below the limit until it is refused.
        let mut len = 2_000;
        while session.insert("blob", "x".repeat(len)).is_ok() {
            len += 1;
        }
        let error = session.insert("blob", "x".repeat(len)).unwrap_err();
        let SessionError::TooLarge {
            size,
            limit,
            backend,
            advice,
        } = error
        else {
            panic!("expected TooLarge, got {error}");
        };
        assert_eq!((limit, backend), (4_093, "cookie"));
        assert!(advice.contains("server-side store"), "{advice}");
        assert_eq!(
            session.get::<String>("blob").unwrap().map(|v| v.len()),
            Some(len - 1),
            "left as it was"
        );
        let cookie = set_value(finish(request).await);
        let largest = "session=".len() + cookie.len();
        // One more byte of JSON adds one or two characters of base64: the limit is exact.
        assert!(
            largest <= 4_093 && 4_093 < size && size <= largest + 2,
            "{largest} {size}"
        );
        assert_eq!(app.manager.capabilities().max_session_bytes, Some(4_093));
    }
    let small = App::new(CookieBackend::new(KeyRing::new(key(6))).with_max_cookie_bytes(200));
    let (_request, session) = small.open(None).await;
    assert!(matches!(
        session.insert("k", "x".repeat(200)),
        Err(SessionError::TooLarge { limit: 200, .. })
    ));
}

#[tokio::test]
async fn unchanged_sessions_are_re_issued_once_a_quarter_of_the_idle_window_passed() {
    let app = App::with_config(
        CookieBackend::new(KeyRing::new(key(7))),
        config().with_idle_timeout(Duration::from_millis(800)),
    );
    let cookie = app.new_cookie("user", json!("ada")).await;
    let first_issue = app.clock.now();
    assert_eq!(issued_at(&cookie), first_issue);

    // Before a quarter of the window (200 ms): read, not re-issued.
    app.clock.advance(Duration::from_millis(150));
    let (request, session) = app.open(Some(&cookie)).await;
    assert!(session.contains("user"));
    assert_eq!(finish(request).await, CookieUpdate::Unchanged, "too early");

    // After it: re-issued, stamped with the time of the read.
    app.clock.advance(Duration::from_millis(100));
    let (request, session) = app.open(Some(&cookie)).await;
    assert!(session.contains("user"));
    let CookieUpdate::Set {
        value: refreshed, ..
    } = finish(request).await
    else {
        panic!("a session read after a quarter of its idle window is re-issued");
    };
    assert_eq!(issued_at(&refreshed), app.clock.now());
    assert!(issued_at(&refreshed) > first_issue, "a later timestamp");

    let (request, session) = app.open(Some(&refreshed)).await;
    assert!(session.contains("user"));
    assert_eq!(
        finish(request).await,
        CookieUpdate::Unchanged,
        "just refreshed"
    );

    // The refresh kept the session alive: 700 ms after the refresh, 950 ms after the
    // first issue, the refreshed cookie loads and the first one has idled out.
    app.clock.advance(Duration::from_millis(700));
    assert!(app.loads(&refreshed).await);
    assert!(!app.loads(&cookie).await);
}

#[tokio::test]
async fn regenerate_without_writes_still_changes_the_cookie() {
    let app = App::new(CookieBackend::new(KeyRing::new(key(8))));
    let cookie = app.new_cookie("user", json!("ada")).await;
    let (request, session) = app.open(Some(&cookie)).await;
    session.regenerate();
    let regenerated = set_value(finish(request).await);
    assert_ne!(regenerated, cookie);
    let (_request, session) = app.open(Some(&regenerated)).await;
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    // An anonymous session that only asked for a new id has nothing to store.
    let (request, anonymous) = app.open(None).await;
    anonymous.regenerate();
    assert_eq!(finish(request).await, CookieUpdate::Unchanged);
}

#[tokio::test]
async fn destroy_removes_the_cookie_and_later_writes_start_afresh() {
    let app = App::new(CookieBackend::new(KeyRing::new(key(8))));
    let cookie = app.new_cookie("user", json!("ada")).await;
    let (request, session) = app.open(Some(&cookie)).await;
    session.destroy();
    assert_eq!(finish(request).await, CookieUpdate::Remove);

    let (request, session) = app.open(Some(&cookie)).await;
    session.destroy();
    session.flash("Logged out").unwrap();
    let fresh = set_value(finish(request).await);
    let (_request, session) = app.open(Some(&fresh)).await;
    assert_eq!(session.keys(), ["_flashes"], "nothing of the old session");
}

#[test]
fn decode_and_encode_are_inverse_and_check_expiry() {
    let backend = CookieBackend::new(KeyRing::new(key(9)));
    let config = config().with_absolute_timeout(Duration::from_secs(60));
    let now = Timestamp::from_unix_millis(1_700_000_000_123);
    let mut record = config.new_record(now);
    record.data.insert("k".into(), json!([1, 2]));
    record.permanent = true;
    let value = backend.encode(&record, "session", now).unwrap();
    assert_eq!(
        backend.cookie_len(&record, "session"),
        "session=".len() + value.len()
    );
    let back = backend.decode(&value, &config, now).unwrap();
    assert_eq!(
        (back.data, back.created_at, back.permanent),
        (record.data, now, true)
    );
    let later = now.saturating_add(Duration::from_secs(61));
    assert!(
        backend.decode(&value, &config, later).is_none(),
        "past the absolute timeout"
    );
}

#[test]
fn a_config_with_other_keys_is_refused() {
    let ring = KeyRing::new(key(10)).with_verifying(key(11));
    let backend = || CookieBackend::new(ring.clone());

    // The same ring, or none, is fine.
    assert!(SessionManager::new(backend(), config().with_keys(ring.clone())).is_ok());
    assert!(SessionManager::new(backend(), config()).is_ok());

    // Another ring would be silently ignored: refused when the manager is built.
    for other in [
        KeyRing::new(key(12)),
        KeyRing::new(key(10)),
        KeyRing::new(key(11)).with_verifying(key(10)),
    ] {
        let error = SessionManager::new(backend(), config().with_keys(other)).unwrap_err();
        assert_eq!(error, ConfigError::KeysDiffer { backend: "cookie" });
        assert!(error.to_string().contains("with_keys"), "{error}");
    }
}

#[tokio::test]
async fn a_permanent_cookie_lives_until_the_session_deadline() {
    const IDLE: Duration = Duration::from_secs(60);
    let app = App::with_config(
        CookieBackend::new(KeyRing::new(key(13))),
        config()
            .with_idle_timeout(IDLE)
            .with_absolute_timeout(Duration::from_secs(7_200))
            .with_lifetime(Duration::from_secs(31 * 24 * 60 * 60))
            .with_permanent(true),
    );
    let deadline = |plan: &ResponsePlan| match &plan.cookie {
        CookieUpdate::Set { expires_at, .. } => *expires_at,
        other => panic!("expected a cookie, got {other:?}"),
    };
    let max_age = |plan: &ResponsePlan| {
        plan.set_cookie
            .as_ref()
            .and_then(|cookie| cookie.max_age())
            .map(|age| age.whole_seconds())
    };

    // The idle timeout is the nearest limit: the cookie ends with it, not in 31 days.
    let (request, session) = app.open(None).await;
    session.insert("user", "ada").unwrap();
    let plan = finish_plan(request).await;
    assert_eq!(deadline(&plan), Some(app.clock.now().saturating_add(IDLE)));
    assert_eq!(max_age(&plan), Some(60));
    let cookie = plan.cookie_value().unwrap().to_owned();

    // A read after a quarter of the idle window re-issues it with the deadline moved.
    app.clock.advance(Duration::from_secs(20));
    let (request, session) = app.open(Some(&cookie)).await;
    assert!(session.contains("user"));
    let plan = finish_plan(request).await;
    assert_eq!(deadline(&plan), Some(app.clock.now().saturating_add(IDLE)));
    assert_eq!(max_age(&plan), Some(60));

    // Once the absolute timeout is nearer than the idle one, the cookie ends with it.
    let app = App::with_config(
        CookieBackend::new(KeyRing::new(key(13))),
        config()
            .with_idle_timeout(IDLE)
            .with_absolute_timeout(Duration::from_secs(90))
            .with_permanent(true),
    );
    let created = app.clock.now();
    let cookie = app.new_cookie("user", json!("ada")).await;
    app.clock.advance(Duration::from_secs(40));
    let (request, _session) = app.open(Some(&cookie)).await;
    let plan = finish_plan(request).await;
    assert_eq!(
        deadline(&plan),
        Some(created.saturating_add(Duration::from_secs(90)))
    );
    assert_eq!(max_age(&plan), Some(50));
}
