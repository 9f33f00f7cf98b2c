//! The adapter room's own guarantees, without a framework: the cookie the manager looks
//! for and the `Set-Cookie` it builds follow the configuration exactly.

use std::time::Duration;

use cookie::SameSite;

use super::{error_chain, ErrorResponse, HeaderOp, LogLevel, ResponsePlan, SessionManager};
use crate::backend::CookieUpdate;
use crate::clock::{ManualClock, Timestamp};
use crate::store::MemoryStore;
use crate::{SessionConfig, SessionError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn manager(config: SessionConfig) -> Result<SessionManager, crate::ConfigError> {
    SessionManager::new(MemoryStore::default(), config)
}

#[test]
fn the_cookie_is_found_under_the_configured_name_only() -> TestResult {
    let headers: [&[u8]; 1] = [b"session=default; sid=custom"];
    let default = manager(SessionConfig::default())?;
    assert_eq!(default.find_cookie(headers).as_deref(), Some("default"));
    let custom = manager(SessionConfig::default().with_cookie_name("sid"))?;
    assert_eq!(custom.find_cookie(headers).as_deref(), Some("custom"));
    assert_eq!(custom.find_cookie([b"theme=dark".as_slice()]), None);
    Ok(())
}

#[test]
fn the_set_cookie_carries_every_configured_attribute() -> TestResult {
    let config = SessionConfig::default()
        .with_cookie_name("sid")
        .with_path("/app")
        .with_domain("example.com")
        .with_same_site(SameSite::Strict);
    let manager = manager(config)?;
    let now = Timestamp::from_unix_millis(1_000_000);
    // A deadline 90.5 s away: Max-Age counts whole seconds, rounded down.
    let expires_at = now.saturating_add(Duration::from_millis(90_500));
    let update = CookieUpdate::Set {
        value: "v".to_owned(),
        expires_at: Some(expires_at),
    };
    let cookie = manager
        .set_cookie(&update, now)
        .ok_or("a Set update sets a cookie")?;
    assert_eq!((cookie.name(), cookie.value()), ("sid", "v"));
    assert_eq!(cookie.path(), Some("/app"));
    assert_eq!(cookie.domain(), Some("example.com"));
    assert_eq!(cookie.same_site(), Some(SameSite::Strict));
    assert_eq!(
        (cookie.secure(), cookie.http_only()),
        (Some(true), Some(true))
    );
    assert_eq!(cookie.max_age().map(|age| age.whole_seconds()), Some(90));
    let expires = cookie.expires_datetime().ok_or("Expires is set")?;
    assert_eq!(expires, expires_at.to_offset_date_time());

    let browser_session = CookieUpdate::Set {
        value: "v".to_owned(),
        expires_at: None,
    };
    let cookie = manager.set_cookie(&browser_session, now).ok_or("set")?;
    assert_eq!((cookie.max_age(), cookie.expires()), (None, None));
    assert_eq!(manager.set_cookie(&CookieUpdate::Unchanged, now), None);
    Ok(())
}

#[test]
fn the_insecure_development_settings_are_honoured() -> TestResult {
    let config = SessionConfig::default()
        .with_secure(false)
        .with_http_only(false);
    let cookie =
        manager(config)?.session_cookie("v".to_owned(), None, Timestamp::from_unix_millis(0));
    assert_eq!(
        (cookie.secure(), cookie.http_only()),
        (Some(false), Some(false))
    );
    Ok(())
}

#[test]
fn the_removal_cookie_matches_the_cookie_it_removes() -> TestResult {
    let config = SessionConfig::default()
        .with_cookie_name("sid")
        .with_path("/app")
        .with_domain("example.com");
    let manager = manager(config)?;
    let removal = manager
        .set_cookie(&CookieUpdate::Remove, Timestamp::from_unix_millis(5))
        .ok_or("a removal is a Set-Cookie")?;
    assert_eq!((removal.name(), removal.value()), ("sid", ""));
    assert_eq!(removal.path(), Some("/app"));
    assert_eq!(removal.domain(), Some("example.com"));
    assert_eq!(removal.max_age().map(|age| age.whole_seconds()), Some(0));
    Ok(())
}

#[test]
fn time_comes_from_the_manager_clock() -> TestResult {
    let clock = ManualClock::at(Timestamp::from_unix_millis(42));
    let manager = manager(SessionConfig::default())?.with_clock(clock.clone());
    assert_eq!(manager.now(), Timestamp::from_unix_millis(42));
    clock.set(Timestamp::from_unix_millis(7));
    assert_eq!(
        manager.now(),
        Timestamp::from_unix_millis(7),
        "set moves it back too"
    );
    Ok(())
}

#[test]
fn debug_names_the_backend_and_the_settings() -> TestResult {
    let manager = manager(SessionConfig::default().with_cookie_name("sid"))?;
    let debug = format!("{manager:?}");
    assert!(debug.starts_with("SessionManager {"), "{debug}");
    assert!(debug.contains("\"sid\""), "{debug}");
    Ok(())
}

#[test]
fn only_what_an_operator_must_fix_is_logged_as_an_error() {
    let unsupported = SessionError::Unsupported {
        feature: "listing",
        reason: "cookies",
    };
    let cases = [
        (SessionError::Superseded, 409, LogLevel::Warn),
        (
            SessionError::InvalidPrincipal { reason: "empty" },
            422,
            LogLevel::Warn,
        ),
        (unsupported, 501, LogLevel::Warn),
        (SessionError::AlreadySaved, 500, LogLevel::Error),
        (
            SessionError::Store(crate::store::StoreError::Unavailable("down".into())),
            503,
            LogLevel::Error,
        ),
    ];
    for (error, status, level) in cases {
        let response = ErrorResponse::for_error(&error);
        assert_eq!(
            (response.status, response.level),
            (status, level),
            "{error:?}"
        );
        assert_eq!(response.body, error.public_message());
    }
}

/// An error whose message may or may not already show its cause's.
#[derive(Debug)]
struct Layer(&'static str, Option<Box<Layer>>);

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Layer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|cause| cause as _)
    }
}

#[test]
fn the_error_chain_shows_each_cause_once() {
    let io = Layer("connection refused", None);
    let shown = Layer("store down: connection refused", Some(Box::new(io)));
    let outer = Layer("saving the session", Some(Box::new(shown)));
    assert_eq!(
        error_chain(&outer),
        "saving the session: store down: connection refused"
    );
}

#[test]
fn a_response_setting_a_cookie_varies_on_it_and_is_never_cached() {
    let cookie = cookie::Cookie::new("session", "v");
    let plan = ResponsePlan {
        cookie: CookieUpdate::Unchanged,
        set_cookie: Some(cookie),
        vary_cookie: true,
        no_store: true,
    };
    let append = |name, value: &str| HeaderOp::Append {
        name,
        value: value.to_owned().into(),
    };
    let no_store = HeaderOp::Replace {
        name: "cache-control",
        value: "no-store".into(),
    };
    assert_eq!(
        plan.header_ops(["Accept"]),
        [
            append("set-cookie", "session=v"),
            append("vary", "Cookie"),
            no_store.clone(),
        ]
    );
    // `Vary` already covers the cookie: not added twice.
    assert_eq!(
        plan.header_ops(["Accept, Cookie"]),
        [append("set-cookie", "session=v"), no_store]
    );
    let read_only = ResponsePlan {
        set_cookie: None,
        no_store: false,
        ..plan
    };
    assert_eq!(read_only.header_ops([]), [append("vary", "Cookie")]);
    let untouched = ResponsePlan {
        vary_cookie: false,
        ..read_only
    };
    assert_eq!(untouched.header_ops([]), []);
}

#[tokio::test]
async fn a_lazy_session_says_whether_it_was_loaded_and_never_shows_its_cookie() -> TestResult {
    let manager = manager(SessionConfig::default())?;
    let request = manager.request(Some("secret-cookie-value"));
    assert!(!request.is_loaded());
    assert_eq!(
        format!("{request:?}"),
        "LazySession { has_cookie: true, loaded: false, .. }"
    );
    request.session().await?;
    assert!(request.is_loaded());
    assert!(!format!("{request:?}").contains("secret"));
    Ok(())
}
