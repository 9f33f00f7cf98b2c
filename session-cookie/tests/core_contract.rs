//! What session-core expects of every cookie backend since the committed-update and
//! remember-me work, checked on each: `CookieBackend` signed and encrypted, and
//! `FlaskCookieBackend`. Driven through a `SessionManager` on a `ManualClock`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;
use session_cookie::flask::{FlaskCodec, FlaskSession};
use session_cookie::{CookieBackend, FlaskCookieBackend};
use session_core::adapter::{LazySession, ResponsePlan, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock, ManualClock};
use session_core::keys::{Key, KeyRing};
use session_core::{Session, SessionConfig, SessionError};

const FLASK_SECRET: &str = "the Flask app's SECRET_KEY for the contract";

fn keys() -> KeyRing {
    KeyRing::new(Key::from_bytes(b"contract tests key, at least 32 b"))
}

/// A manager of every cookie backend under `config`, each on its own clock.
fn apps(config: SessionConfig) -> Vec<(&'static str, SessionManager, ManualClock)> {
    let native = config.clone().with_keys(keys());
    let on = |manager: SessionManager| {
        let clock = ManualClock::starting_now();
        (manager.with_clock(clock.clone()), clock)
    };
    let (signed, signed_clock) =
        on(SessionManager::new(CookieBackend::new(keys()), native.clone()).unwrap());
    let (encrypted, encrypted_clock) =
        on(SessionManager::new(CookieBackend::new(keys()).with_encryption(true), native).unwrap());
    let (flask, flask_clock) =
        on(SessionManager::new(FlaskCookieBackend::new(FLASK_SECRET), config).unwrap());
    vec![
        ("signed", signed, signed_clock),
        ("encrypted", encrypted, encrypted_clock),
        ("flask", flask, flask_clock),
    ]
}

async fn open(manager: &SessionManager, cookie: Option<&str>) -> (LazySession, Session) {
    let request = manager.request(cookie);
    let session = request.session().await.unwrap();
    (request, session)
}

async fn finish(request: LazySession) -> ResponsePlan {
    request.finish().await.unwrap().unwrap()
}

fn value(plan: &ResponsePlan, label: &str) -> String {
    match &plan.cookie {
        CookieUpdate::Set { value, .. } => value.clone(),
        other => panic!("{label}: expected a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn a_session_emptied_by_showing_its_flash_gets_a_removal_cookie() {
    for (label, manager, _clock) in apps(SessionConfig::default()) {
        let (request, session) = open(&manager, None).await;
        session.flash("Saved").unwrap();
        let cookie = value(&finish(request).await, label);

        let (request, session) = open(&manager, Some(&cookie)).await;
        let shown = session.take_flashes();
        assert_eq!(shown.len(), 1, "{label}");
        assert!(session.is_empty(), "{label}");
        let plan = finish(request).await;
        assert_eq!(plan.cookie, CookieUpdate::Remove, "{label}");
        let removal = plan.set_cookie.expect("a removal cookie is sent");
        assert_eq!(removal.value(), "", "{label}");
        assert_eq!(
            removal.max_age().map(|age| age.whole_seconds()),
            Some(0),
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_new_session_that_writes_and_removes_its_only_key_sends_nothing() {
    for (label, manager, _clock) in apps(SessionConfig::default()) {
        let (request, session) = open(&manager, None).await;
        session.insert("draft", "text").unwrap();
        assert!(session.remove("draft"), "{label}");
        let plan = finish(request).await;
        assert_eq!(plan.cookie, CookieUpdate::Unchanged, "{label}");
        assert!(plan.set_cookie.is_none(), "{label}");

        // The same with `pop` and with flashes taken in the request that made them.
        let (request, session) = open(&manager, None).await;
        session.insert("n", 1).unwrap();
        assert_eq!(session.pop::<u64>("n").unwrap(), Some(1), "{label}");
        session.flash("gone at once").unwrap();
        assert_eq!(session.take_flashes().len(), 1, "{label}");
        assert!(finish(request).await.set_cookie.is_none(), "{label}");
    }
}

#[tokio::test]
async fn remember_for_outlives_the_idle_timeout_but_not_the_absolute_one() {
    const DAY: Duration = Duration::from_secs(86_400);
    const ABSOLUTE: Duration = Duration::from_secs(7_200);
    let config = SessionConfig::default()
        .with_idle_timeout(Duration::from_secs(60))
        .with_absolute_timeout(ABSOLUTE);
    for (label, manager, clock) in apps(config) {
        let start = clock.now();
        let (request, session) = open(&manager, None).await;
        session.insert("user", "ada").unwrap();
        session.remember_for(DAY).unwrap();
        assert!(session.is_permanent(), "{label}");
        let plan = finish(request).await;
        let max_age = plan.set_cookie.as_ref().and_then(|c| c.max_age());
        assert_eq!(
            max_age.map(|age| age.whole_seconds()),
            Some(7_200),
            "{label}: capped by the absolute timeout"
        );
        assert_eq!(
            plan.cookie,
            CookieUpdate::Set {
                value: value(&plan, label),
                expires_at: Some(start.saturating_add(ABSOLUTE)),
            },
            "{label}"
        );
        let mut cookie = value(&plan, label);

        // Ten minutes idle (ten times the idle timeout): still logged in, and the
        // remember-me window is kept.
        clock.advance(Duration::from_secs(600));
        let (request, session) = open(&manager, Some(&cookie)).await;
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("ada"),
            "{label}: survives 10 minutes idle"
        );
        assert!(session.is_permanent(), "{label}");
        let plan = finish(request).await;
        if let CookieUpdate::Set { value, expires_at } = &plan.cookie {
            assert_eq!(*expires_at, Some(start.saturating_add(ABSOLUTE)), "{label}");
            cookie = value.clone();
        }

        // Active every ten minutes until a moment before the absolute timeout...
        while clock.now().duration_since(start) + Duration::from_secs(600) < ABSOLUTE {
            clock.advance(Duration::from_secs(600));
            let (request, session) = open(&manager, Some(&cookie)).await;
            session
                .update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)
                .unwrap();
            cookie = value(&finish(request).await, label);
        }
        clock.set(start.saturating_add(ABSOLUTE - Duration::from_millis(1)));
        let (_request, session) = open(&manager, Some(&cookie)).await;
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("ada"),
            "{label}: alive until the absolute timeout"
        );
        // ...but not past it.
        clock.set(start.saturating_add(ABSOLUTE));
        let (_request, session) = open(&manager, Some(&cookie)).await;
        assert!(session.is_empty(), "{label}: ended by the absolute timeout");
    }
}

#[tokio::test]
async fn update_committed_answers_the_stored_value() {
    for (label, manager, clock) in apps(SessionConfig::default()) {
        let mut cookie: Option<String> = None;
        for expected in 1..=3_u64 {
            let (request, session) = open(&manager, cookie.as_deref()).await;
            let n = session
                .update_committed("count", |n: Option<u64>| n.unwrap_or(0) + 1)
                .await
                .unwrap();
            assert_eq!(n, expected, "{label}");
            assert_eq!(session.get::<u64>("count").unwrap(), Some(expected));
            // Saved already: later writes are refused, the response carries the cookie.
            assert!(matches!(
                session.insert("late", true),
                Err(SessionError::AlreadySaved)
            ));
            let stored = value(&finish(request).await, label);
            clock.advance(Duration::from_secs(1));
            let (_request, session) = open(&manager, Some(&stored)).await;
            assert_eq!(
                session.get::<u64>("count").unwrap(),
                Some(expected),
                "{label}: the cookie holds what update_committed answered"
            );
            assert!(!session.contains("late"), "{label}");
            cookie = Some(stored);
        }
    }
}

#[tokio::test]
async fn a_stored_value_of_another_type_is_a_wrong_type_error() {
    for (label, manager, _clock) in apps(SessionConfig::default()) {
        let (request, session) = open(&manager, None).await;
        session.insert("username", 42).unwrap();
        let cookie = value(&finish(request).await, label);
        let (_request, session) = open(&manager, Some(&cookie)).await;
        match session.get::<String>("username") {
            Err(SessionError::WrongType { key, .. }) => assert_eq!(key, "username", "{label}"),
            other => panic!("{label}: expected WrongType, got {other:?}"),
        }
        assert_eq!(session.get::<u64>("username").unwrap(), Some(42), "{label}");
        assert_eq!(
            SessionError::WrongType {
                key: "username".into(),
                source: serde_json::from_str::<String>("42").unwrap_err(),
            }
            .http_status(),
            422
        );
    }
}

#[tokio::test]
async fn a_flask_session_whose_username_is_an_int_is_a_wrong_type_error() {
    let clock = ManualClock::starting_now();
    let manager = SessionManager::new(
        FlaskCookieBackend::new(FLASK_SECRET),
        SessionConfig::default(),
    )
    .unwrap()
    .with_clock(clock.clone());
    // As a Flask app writes `session["username"] = 7` (no `_rs_ts`).
    let mut flask = FlaskSession::new();
    flask.insert("username", json!(7));
    let secs = u64::try_from(clock.now().as_unix_secs()).unwrap();
    let cookie = FlaskCodec::new(FLASK_SECRET).encode(&flask, secs);

    let (request, session) = open(&manager, Some(&cookie)).await;
    match session.get::<String>("username") {
        Err(SessionError::WrongType { key, .. }) => assert_eq!(key, "username"),
        other => panic!("expected WrongType, got {other:?}"),
    }
    match session.pop::<String>("username") {
        Err(SessionError::WrongType { .. }) => {}
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert_eq!(
        session.get::<i64>("username").unwrap(),
        Some(7),
        "the value stays"
    );
    // Reading wrongly changes nothing: no cookie is sent.
    assert_eq!(finish(request).await.cookie, CookieUpdate::Unchanged);
}
