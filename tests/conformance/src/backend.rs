//! Checks for any [`SessionBackend`], client-side or server-side: one public function per
//! rule, driven through a [`SessionManager`](session_core::adapter::SessionManager) and
//! cookie values exactly as an adapter drives them.
//!
//! Where a backend cannot meet a rule by nature, its [`Capabilities`] say so and the
//! check asserts that the limitation is real: a cookie backend must show that a replayed
//! cookie still works after logout, rather than skip the check.
//!
//! Time comes from a [`ManualClock`] the check advances: the timeout checks move it by
//! minutes instead of sleeping, so a backend must read the time it is handed
//! ([`Context::now`](session_core::backend::Context::now)), never the system clock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use session_core::backend::{BoxedBackend, Capabilities, CookieUpdate, SessionBackend};
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::SessionId;
use session_core::{SessionConfig, SessionError};

use crate::drive::{self, finish, new_session, open, read, set_value};
use crate::BackendHarness;

const MINUTE: Duration = Duration::from_secs(60);

/// A manager serving the shared `backend` with `config`, reading time from `clock`.
fn manager<B: SessionBackend>(
    backend: &Arc<B>,
    config: SessionConfig,
    clock: &ManualClock,
) -> session_core::adapter::SessionManager {
    drive::manager(
        BoxedBackend::from_backend(Arc::clone(backend)),
        config,
        clock,
    )
}

/// The harness's backend, and a manager serving it with the harness's configuration on a
/// fresh manual clock.
async fn start<H: BackendHarness>(
    harness: &H,
) -> (
    Arc<H::Backend>,
    session_core::adapter::SessionManager,
    ManualClock,
) {
    let backend = Arc::new(harness.backend().await);
    let clock = ManualClock::starting_now();
    let manager = manager(&backend, harness.config(), &clock);
    (backend, manager, clock)
}

/// Every JSON type survives the trip through the backend and back.
pub async fn round_trip_every_json_type<H: BackendHarness>(harness: &H) {
    let (_backend, manager, _clock) = start(harness).await;
    let value = json!({
        "null": null, "bool": true, "int": -42, "big": i64::MAX, "float": 0.25,
        "string": "héllo 😀 \"q\" </script>", "array": [1, [2], {"three": 3}], "object": {"a": {}},
    });
    let cookie = new_session(&manager, "everything", value.clone()).await;
    let loaded = read(&manager, &cookie, |session| {
        session.get::<Value>("everything").unwrap()
    })
    .await;
    assert_eq!(loaded, Some(value));
}

/// No cookie, garbage, truncated or tampered cookies and well-formed ids the server
/// never issued all load as anonymous sessions, never as errors; a write then gets a
/// brand-new cookie.
pub async fn bad_cookies_are_anonymous<H: BackendHarness>(harness: &H) {
    let (_backend, manager, _clock) = start(harness).await;
    let good = new_session(&manager, "user", json!("ada")).await;
    let mut tampered = good.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let unknown = SessionId::generate().unwrap().as_str().to_owned();
    let long = "x".repeat(10_000);
    let inputs = [
        "",
        "garbage",
        ".",
        "..",
        "a.b.c",
        "%%%",
        "😀",
        &long,
        &good[..good.len() / 2],
        &tampered,
        &unknown,
    ];
    for input in inputs {
        let empty = read(&manager, input, |session| session.is_empty()).await;
        assert!(empty, "cookie {input:?} must load as an anonymous session");
    }
    let (request, session) = open(&manager, Some(&unknown)).await;
    session.insert("counter", 1).unwrap();
    let fresh = set_value(finish(&request).await);
    assert_ne!(fresh, unknown, "an unknown id must never be adopted");
    let counter = read(&manager, &fresh, |session| {
        session.get::<i32>("counter").unwrap()
    })
    .await;
    assert_eq!(counter, Some(1));
}

/// A request that does not change the session writes nothing and sends no cookie.
pub async fn untouched_sessions_write_nothing<H: BackendHarness>(harness: &H) {
    let (_backend, manager, _clock) = start(harness).await;
    let (request, _anonymous) = open(&manager, None).await;
    assert_eq!(finish(&request).await, CookieUpdate::Unchanged);
    let cookie = new_session(&manager, "user", json!("ada")).await;
    let (request, session) = open(&manager, Some(&cookie)).await;
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(finish(&request).await, CookieUpdate::Unchanged);
}

/// `regenerate` issues a new cookie with the same data. On revocable backends the old
/// cookie is dead; on others it still loads, as the capabilities declare.
pub async fn regenerate_changes_the_cookie_and_keeps_data<H: BackendHarness>(harness: &H) {
    let (backend, manager, _clock) = start(harness).await;
    let old = new_session(&manager, "cart", json!(["apple"])).await;
    let (request, session) = open(&manager, Some(&old)).await;
    session.regenerate();
    session.insert("user", "ada").unwrap();
    let new = set_value(finish(&request).await);
    assert_ne!(new, old, "regenerate must change the cookie");
    read(&manager, &new, |session| {
        assert_eq!(
            session.get::<Value>("cart").unwrap(),
            Some(json!(["apple"])),
            "data survives regenerate"
        );
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("ada")
        );
    })
    .await;
    let replay_empty = read(&manager, &old, |session| session.is_empty()).await;
    if backend.capabilities().server_side_revocation {
        assert!(replay_empty, "the pre-regeneration id must be dead");
    } else {
        assert!(
            !replay_empty,
            "backend declares no revocation, yet the old cookie was refused"
        );
    }
}

/// `destroy` sends a removal cookie; replaying the old cookie is anonymous on revocable
/// backends and still works on others, as declared.
pub async fn destroy_removes_the_session<H: BackendHarness>(harness: &H) {
    let (backend, manager, _clock) = start(harness).await;
    let cookie = new_session(&manager, "user", json!("ada")).await;
    let (request, session) = open(&manager, Some(&cookie)).await;
    session.destroy();
    assert!(session.is_empty(), "a destroyed session reads as empty");
    assert_eq!(finish(&request).await, CookieUpdate::Remove);
    let user = read(&manager, &cookie, |session| {
        session.get::<String>("user").unwrap()
    })
    .await;
    if backend.capabilities().server_side_revocation {
        assert_eq!(user, None, "a destroyed session must be gone on the server");
    } else {
        assert_eq!(
            user.as_deref(),
            Some("ada"),
            "backend declares no revocation, yet the replayed cookie was refused"
        );
    }
}

/// Writes after `destroy` start a new session with a new cookie and only the new data.
pub async fn writes_after_destroy_start_a_new_session<H: BackendHarness>(harness: &H) {
    let (_backend, manager, _clock) = start(harness).await;
    let cookie = new_session(&manager, "user", json!("ada")).await;
    let (request, session) = open(&manager, Some(&cookie)).await;
    session.destroy();
    session.flash("Logged out").unwrap();
    let fresh = set_value(finish(&request).await);
    assert_ne!(fresh, cookie);
    read(&manager, &fresh, |session| {
        assert_eq!(
            session.get::<String>("user").unwrap(),
            None,
            "old data must not carry over"
        );
        assert_eq!(session.take_flashes().len(), 1);
    })
    .await;
}

/// Flash messages are shown once.
pub async fn flashes_are_shown_once<H: BackendHarness>(harness: &H) {
    let (backend, manager, _clock) = start(harness).await;
    let (request, session) = open(&manager, None).await;
    session.flash("Welcome, ada!").unwrap();
    session.flash_with("error", "Careful").unwrap();
    let cookie = set_value(finish(&request).await);
    let (request, session) = open(&manager, Some(&cookie)).await;
    let flashes = session.take_flashes();
    let shown: Vec<(&str, &str)> = flashes
        .iter()
        .map(|f| (f.category.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(shown, [("message", "Welcome, ada!"), ("error", "Careful")]);
    let cookie = match finish(&request).await {
        CookieUpdate::Set { value, .. } => value,
        // The session held only the flashes: emptied, it is removed, as Flask does. The
        // browser drops the cookie; a server-side backend also forgets the session.
        CookieUpdate::Remove if !backend.capabilities().server_side_revocation => return,
        _ => cookie,
    };
    let left = read(&manager, &cookie, |session| session.take_flashes()).await;
    assert!(left.is_empty(), "flashes are shown once");
}

/// Permanent sessions get persistent cookies, per session or by default, that end no
/// later than the session does; other sessions get browser-session cookies.
pub async fn permanent_sessions_get_persistent_cookies<H: BackendHarness>(harness: &H) {
    let (backend, manager, clock) = start(harness).await;
    let config = harness.config();
    let (request, session) = open(&manager, None).await;
    session.insert("user", "ada").unwrap();
    let update = finish(&request).await;
    assert!(
        matches!(
            update,
            CookieUpdate::Set {
                expires_at: None,
                ..
            }
        ),
        "a session that is not permanent gets a browser-session cookie, got {update:?}"
    );

    let now = clock.now();
    let deadline = config.expires_at(now, now);
    let assert_persistent = |update: &CookieUpdate| match update {
        CookieUpdate::Set {
            expires_at: Some(expires_at),
            ..
        } => assert!(
            now < *expires_at && *expires_at <= deadline,
            "a persistent cookie must end after now and no later than the session's \
             deadline ({deadline:?}), got {expires_at:?}"
        ),
        other => panic!("a permanent session needs a persistent cookie, got {other:?}"),
    };
    let (request, session) = open(&manager, None).await;
    session.set_permanent(true).unwrap();
    session.insert("user", "ada").unwrap();
    let update = finish(&request).await;
    assert_persistent(&update);
    let permanent = read(&manager, &set_value(update), |session| {
        session.is_permanent()
    })
    .await;
    assert!(permanent, "the session stays permanent");

    let by_default = self::manager(&backend, config.clone().with_permanent(true), &clock);
    let (request, session) = open(&by_default, None).await;
    session.insert("user", "ada").unwrap();
    assert_persistent(&finish(&request).await);
}

/// The idle timeout ends a session left alone, while reads 10 minutes apart keep a
/// 20-minute idle timeout alive (expiry is refreshed at least every quarter of it).
pub async fn idle_timeout_expires_idle_sessions<H: BackendHarness>(harness: &H) {
    let backend = Arc::new(harness.backend().await);
    let clock = ManualClock::starting_now();
    let config = harness.config().with_idle_timeout(20 * MINUTE);
    let manager = manager(&backend, config, &clock);
    let mut cookie = new_session(&manager, "user", json!("ada")).await;
    for _ in 0..3 {
        clock.advance(10 * MINUTE);
        let (request, session) = open(&manager, Some(&cookie)).await;
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("ada"),
            "active sessions stay"
        );
        if let CookieUpdate::Set { value, .. } = finish(&request).await {
            cookie = value;
        }
    }
    clock.advance(25 * MINUTE);
    let empty = read(&manager, &cookie, |session| session.is_empty()).await;
    assert!(empty, "an idle session must expire");
}

/// The absolute timeout ends a session however active it is: written every 5 minutes, a
/// session with a 20-minute absolute timeout lives until, and not past, 20 minutes.
pub async fn absolute_timeout_ends_active_sessions<H: BackendHarness>(harness: &H) {
    let backend = Arc::new(harness.backend().await);
    let clock = ManualClock::starting_now();
    let config = harness.config().with_absolute_timeout(20 * MINUTE);
    let manager = manager(&backend, config, &clock);
    let mut cookie = new_session(&manager, "user", json!("ada")).await;
    for minutes in [5, 10, 15] {
        clock.advance(5 * MINUTE);
        let (request, session) = open(&manager, Some(&cookie)).await;
        assert!(
            !session.is_empty(),
            "ended too early, after {minutes} minutes of a 20-minute absolute timeout"
        );
        session
            .update("hits", |n: Option<u32>| n.unwrap_or(0) + 1)
            .unwrap();
        if let CookieUpdate::Set { value, .. } = finish(&request).await {
            cookie = value;
        }
    }
    clock.advance(5 * MINUTE);
    let empty = read(&manager, &cookie, |session| session.is_empty()).await;
    assert!(
        empty,
        "an active session must still end at the absolute timeout"
    );
}

/// Concurrent requests on one session: on merging backends, 50 concurrent `update`s split
/// over two processes all count. A client-side backend declares it cannot merge; the check
/// then shows that two responses built from one cookie each hold only their own write.
pub async fn concurrent_updates<H: BackendHarness>(harness: &H) {
    let first = Arc::new(harness.backend().await);
    let second = Arc::new(harness.second_process(&first).await);
    let clock = ManualClock::starting_now();
    let first_manager = manager(&first, harness.config(), &clock);
    let second_manager = manager(&second, harness.config(), &clock);
    let cookie = new_session(&first_manager, "counter", json!(0)).await;
    let updates = crate::concurrent::increment_concurrently(
        &first_manager,
        &second_manager,
        &cookie,
        50,
        false,
    )
    .await;
    if first.capabilities().merges_concurrent_writes {
        let counter = read(&first_manager, &cookie, |session| {
            session.get::<u64>("counter").unwrap()
        })
        .await;
        assert_eq!(counter, Some(50), "every concurrent update must count");
    } else {
        for update in updates {
            let counter = read(&first_manager, &set_value(update), |session| {
                session.get::<u64>("counter").unwrap()
            })
            .await;
            assert_eq!(counter, Some(1), "declared last-write-wins");
        }
    }
}

/// A write that would make the session too large for the backend is refused at `insert`
/// with the size and the limit, and the session stays as it was.
pub async fn oversized_writes_are_refused<H: BackendHarness>(harness: &H) {
    let (backend, manager, _clock) = start(harness).await;
    let Capabilities {
        max_session_bytes, ..
    } = backend.capabilities();
    let Some(limit) = max_session_bytes else {
        // An unlimited backend must accept a large value; that is the check.
        let cookie = new_session(&manager, "big", json!("x".repeat(2 << 20))).await;
        let kept = read(&manager, &cookie, |session| session.contains("big")).await;
        assert!(kept, "an unlimited backend must keep a large value");
        return;
    };
    let (request, session) = open(&manager, None).await;
    session.insert("small", "kept").unwrap();
    let error = session.insert("big", "x".repeat(limit + 1)).unwrap_err();
    match error {
        SessionError::TooLarge {
            size,
            limit: reported,
            ..
        } => {
            assert!(
                size > limit,
                "reported size {size} must exceed the limit {limit}"
            );
            assert_eq!(reported, limit);
        }
        other => panic!("expected TooLarge, got {other}"),
    }
    assert!(
        !session.contains("big"),
        "a refused write must leave no trace"
    );
    let cookie = set_value(finish(&request).await);
    read(&manager, &cookie, |session| {
        assert_eq!(
            session.get::<String>("small").unwrap().as_deref(),
            Some("kept")
        );
        assert!(!session.contains("big"));
    })
    .await;
}
