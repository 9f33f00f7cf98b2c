//! Cookies signed with the right key but stamped in the future: every timeout counts from
//! the issue and creation times a cookie carries, so one stamped ahead of the clock would
//! outlive them all. Both backends refuse (an anonymous visitor) a cookie whose issue or
//! creation time is more than `MAX_CLOCK_SKEW` ahead, and accept one a little ahead (the
//! clocks of several servers differ a little). Every cookie here is sealed with the real
//! keys through the crate's own codecs; the clock is a `ManualClock`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;
use session_cookie::flask::{FlaskCodec, FlaskSession};
use session_cookie::{CookieBackend, FlaskCookieBackend, MAX_CLOCK_SKEW, TIMES_KEY};
use session_core::adapter::SessionManager;
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock, ManualClock, Timestamp};
use session_core::keys::{Key, KeyRing};
use session_core::store::Record;
use session_core::SessionConfig;

const HOUR: Duration = Duration::from_secs(60 * 60);
const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
const IDLE: Duration = Duration::from_secs(60);
const ABSOLUTE: Duration = Duration::from_secs(7_200);
const SECRET: &str = "the Flask app's SECRET_KEY for these tests";

fn keys() -> KeyRing {
    KeyRing::new(Key::from_bytes(b"future-dated cookie tests key, 32+"))
}

/// Idle and absolute timeouts, so only a cookie from the future could outlive them.
fn config() -> SessionConfig {
    SessionConfig::default()
        .with_keys(keys())
        .with_idle_timeout(IDLE)
        .with_absolute_timeout(ABSOLUTE)
}

fn flask_config() -> SessionConfig {
    SessionConfig::default()
        .with_idle_timeout(IDLE)
        .with_absolute_timeout(ABSOLUTE)
}

fn manager(backend: CookieBackend, clock: &ManualClock) -> SessionManager {
    SessionManager::new(backend, config())
        .unwrap()
        .with_clock(clock.clone())
}

fn flask_manager(clock: &ManualClock) -> SessionManager {
    SessionManager::new(FlaskCookieBackend::new(SECRET), flask_config())
        .unwrap()
        .with_clock(clock.clone())
}

/// The user `cookie` logs in as, if any.
async fn user(manager: &SessionManager, cookie: &str) -> Option<String> {
    let request = manager.request(Some(cookie));
    let session = request.session().await.unwrap();
    session.get::<String>("user").unwrap()
}

/// What is wrong with how `cookie` is treated, if anything: it must be refused now and
/// after every timeout has passed (on another clock, so the caller's does not move), and
/// a write on it must start a fresh session.
async fn refusal_problem(
    manager: &SessionManager,
    clock: &ManualClock,
    cookie: &str,
) -> Option<&'static str> {
    if user(manager, cookie).await.is_some() {
        return Some("accepted now");
    }
    let later = ManualClock::at(clock.now());
    later.advance(ABSOLUTE + IDLE + Duration::from_secs(1));
    if user(&manager.clone().with_clock(later), cookie)
        .await
        .is_some()
    {
        return Some("accepted after the idle and absolute timeouts");
    }
    let request = manager.request(Some(cookie));
    let session = request.session().await.unwrap();
    if !session.is_empty() {
        return Some("not an anonymous visitor");
    }
    session.insert("user", "eve").unwrap();
    let plan = request.finish().await.unwrap().unwrap();
    match plan.cookie {
        CookieUpdate::Set { .. } => None,
        _ => Some("a write sets no fresh cookie"),
    }
}

/// Asserts every cookie of `cases` is refused, naming each that is not.
async fn assert_all_refused(
    manager: &SessionManager,
    clock: &ManualClock,
    cases: &[(String, String)],
) {
    let mut accepted = Vec::new();
    for (label, cookie) in cases {
        if let Some(problem) = refusal_problem(manager, clock, cookie).await {
            accepted.push(format!("{label}: {problem}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "cookies from the future: {accepted:#?}"
    );
}

// ---- CookieBackend ----

/// A native cookie for `user: ada`, created at `created_at` and issued at `issued_at`.
fn native_cookie(backend: &CookieBackend, created_at: Timestamp, issued_at: Timestamp) -> String {
    let mut record = Record::new(created_at, issued_at);
    record.data.insert("user".into(), json!("ada"));
    backend
        .encode(&record, config().cookie_name(), issued_at)
        .unwrap()
}

/// A native cookie sealing the raw payload `json`, issued at `issued_at`.
fn native_raw(backend: &CookieBackend, json: &str, issued_at: Timestamp) -> String {
    backend
        .codec()
        .seal(config().cookie_name(), json.as_bytes(), issued_at)
        .unwrap()
}

#[tokio::test]
async fn native_cookies_from_the_future_are_refused() {
    for encrypt in [false, true] {
        let backend = CookieBackend::new(keys()).with_encryption(encrypt);
        let clock = ManualClock::starting_now();
        let manager = manager(backend.clone(), &clock);
        let now = clock.now();
        let max = Timestamp::from_unix_millis(i64::MAX);
        let cases = [
            ("+1 h", now.saturating_add(HOUR), now.saturating_add(HOUR)),
            (
                "+100 y",
                now.saturating_add(CENTURY),
                now.saturating_add(CENTURY),
            ),
            ("i64::MAX", max, max),
            (
                "issued +100 y, created now",
                now,
                now.saturating_add(CENTURY),
            ),
            ("issued i64::MAX, created now", now, max),
            (
                "created +100 y, issued now",
                now.saturating_add(CENTURY),
                now,
            ),
            (
                "just beyond the skew",
                now.saturating_add(MAX_CLOCK_SKEW + Duration::from_millis(1)),
                now.saturating_add(MAX_CLOCK_SKEW + Duration::from_millis(1)),
            ),
        ];
        let mut cookies: Vec<(String, String)> = cases
            .into_iter()
            .map(|(label, created, issued)| {
                let cookie = native_cookie(&backend, created, issued);
                (format!("{label} (encrypted: {encrypt})"), cookie)
            })
            .collect();
        let raw = [
            // Eight 0xff bytes: u64::MAX as the big-endian timestamp (-1 ms as an i64).
            (
                "issued u64::MAX bytes",
                Timestamp::from_unix_millis(-1),
                format!(r#"{{"c":{},"d":{{"user":"ada"}}}}"#, now.as_unix_millis()),
            ),
            (
                "created i64::MAX",
                now,
                format!(r#"{{"c":{},"d":{{"user":"ada"}}}}"#, i64::MAX),
            ),
            (
                "created u64::MAX",
                now,
                format!(r#"{{"c":{},"d":{{"user":"ada"}}}}"#, u64::MAX),
            ),
        ];
        cookies.extend(raw.into_iter().map(|(label, issued, json)| {
            let cookie = native_raw(&backend, &json, issued);
            (format!("{label} (encrypted: {encrypt})"), cookie)
        }));
        assert_all_refused(&manager, &clock, &cookies).await;
        // The control: the same raw payload, stamped now, is a session.
        let json = format!(r#"{{"c":{},"d":{{"user":"ada"}}}}"#, now.as_unix_millis());
        let cookie = native_raw(&backend, &json, now);
        assert_eq!(user(&manager, &cookie).await.as_deref(), Some("ada"));
    }
}

#[tokio::test]
async fn native_cookies_a_little_ahead_are_accepted() {
    let backend = CookieBackend::new(keys());
    let clock = ManualClock::starting_now();
    let manager = manager(backend.clone(), &clock);
    let now = clock.now();
    for ahead in [Duration::from_secs(30), MAX_CLOCK_SKEW] {
        let cookie = native_cookie(
            &backend,
            now.saturating_add(ahead),
            now.saturating_add(ahead),
        );
        assert_eq!(
            user(&manager, &cookie).await.as_deref(),
            Some("ada"),
            "{ahead:?} ahead"
        );
    }
    // And its idle timeout still ends it, counted from its own issue time.
    let cookie = native_cookie(
        &backend,
        now.saturating_add(Duration::from_secs(30)),
        now.saturating_add(Duration::from_secs(30)),
    );
    clock.advance(Duration::from_secs(30) + IDLE);
    assert_eq!(user(&manager, &cookie).await, None);
}

// ---- FlaskCookieBackend ----

/// A Flask cookie for `user: ada`, signed at `signed_secs` (itsdangerous's whole seconds),
/// with `_rs_ts` when given.
fn flask_cookie(signed_secs: u64, times: Option<serde_json::Value>) -> String {
    let mut session = FlaskSession::new();
    session.insert("user", json!("ada"));
    if let Some(times) = times {
        session.insert(TIMES_KEY, times);
    }
    FlaskCodec::new(SECRET).encode(&session, signed_secs)
}

fn secs(at: Timestamp) -> u64 {
    u64::try_from(at.as_unix_secs()).unwrap()
}

#[tokio::test]
async fn flask_cookies_from_the_future_are_refused() {
    let clock = ManualClock::starting_now();
    let manager = flask_manager(&clock);
    let now = clock.now();
    let ms = |at: Timestamp| at.as_unix_millis();
    let hour = now.saturating_add(HOUR);
    let century = now.saturating_add(CENTURY);
    let beyond = now.saturating_add(MAX_CLOCK_SKEW + Duration::from_secs(1));
    let cases = [
        // As Flask writes them: no `_rs_ts`, the signature's second is everything.
        ("flask +1 h", flask_cookie(secs(hour), None)),
        ("flask +100 y", flask_cookie(secs(century), None)),
        ("flask u64::MAX", flask_cookie(u64::MAX, None)),
        (
            "flask i64::MAX",
            flask_cookie(u64::try_from(i64::MAX).unwrap(), None),
        ),
        ("flask beyond the skew", flask_cookie(secs(beyond), None)),
        // As Rust writes them: `_rs_ts` refines the second.
        (
            "rust +1 h",
            flask_cookie(secs(hour), Some(json!([ms(hour), ms(hour)]))),
        ),
        (
            "rust +100 y",
            flask_cookie(secs(century), Some(json!([ms(century), ms(century)]))),
        ),
        (
            "rust u64::MAX",
            flask_cookie(u64::MAX, Some(json!([i64::MAX, i64::MAX]))),
        ),
        (
            "rust signed +100 y, created now",
            flask_cookie(secs(century), Some(json!([ms(now), ms(century)]))),
        ),
        (
            "rust created +100 y, signed now",
            flask_cookie(secs(now), Some(json!([ms(century), ms(now)]))),
        ),
        (
            "rust created i64::MAX, signed now",
            flask_cookie(secs(now), Some(json!([i64::MAX, ms(now)]))),
        ),
        (
            "rust created u64::MAX, signed now",
            flask_cookie(secs(now), Some(json!([u64::MAX, ms(now)]))),
        ),
    ];
    let cases: Vec<(String, String)> = cases
        .into_iter()
        .map(|(label, cookie)| (label.to_owned(), cookie))
        .collect();
    assert_all_refused(&manager, &clock, &cases).await;
    // The control: signed now, it is a session.
    let cookie = flask_cookie(secs(now), Some(json!([ms(now), ms(now)])));
    assert_eq!(user(&manager, &cookie).await.as_deref(), Some("ada"));
}

#[tokio::test]
async fn flask_cookies_a_little_ahead_are_accepted() {
    let clock = ManualClock::starting_now();
    let manager = flask_manager(&clock);
    let now = clock.now();
    let ahead = now.saturating_add(Duration::from_secs(30));
    let ms = ahead.as_unix_millis();
    for cookie in [
        flask_cookie(secs(ahead), None),
        flask_cookie(secs(ahead), Some(json!([ms, ms]))),
    ] {
        assert_eq!(user(&manager, &cookie).await.as_deref(), Some("ada"));
    }
    // Its idle timeout still ends it, counted from its own issue time.
    let cookie = flask_cookie(secs(ahead), Some(json!([ms, ms])));
    clock.advance(Duration::from_secs(30) + IDLE);
    assert_eq!(user(&manager, &cookie).await, None);
}
