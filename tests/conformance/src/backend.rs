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
use session_core::clock::{Clock as _, ManualClock, Timestamp};
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

/// `cookie` with one character of its last dot-separated segment (its tag) changed and
/// everything before it (the payload) kept: a genuine payload under a wrong signature.
fn with_wrong_tag(cookie: &str) -> String {
    let (payload, tag) = cookie
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("a signed cookie ends in `.<tag>`, got {cookie:?}"));
    // The first character of a base64 tag carries six bits of its first byte (the last may
    // carry only padding bits a lenient decoder ignores).
    let mut chars = tag.chars();
    let first = chars.next().expect("the tag is not empty");
    let flipped = if first == 'A' { 'B' } else { 'A' };
    format!("{payload}.{flipped}{}", chars.as_str())
}

/// No cookie, garbage, truncated or tampered cookies and well-formed ids the server
/// never issued all load as anonymous sessions, never as errors; a write then gets a
/// brand-new cookie. A signed cookie (a client-side session, or a server-side id cookie
/// when the configuration has keys) with its genuine payload and a wrong tag is
/// anonymous too: the tag is checked, not only the payload's shape.
pub async fn bad_cookies_are_anonymous<H: BackendHarness>(harness: &H) {
    let (backend, manager, _clock) = start(harness).await;
    let good = new_session(&manager, "user", json!("ada")).await;
    let user = read(&manager, &good, |session| {
        session.get::<String>("user").unwrap()
    })
    .await;
    assert_eq!(user.as_deref(), Some("ada"), "the untampered cookie loads");
    let signed =
        !backend.capabilities().server_side_revocation || harness.config().keys().is_some();
    if signed {
        let wrong_tag = with_wrong_tag(&good);
        let user = read(&manager, &wrong_tag, |session| {
            session.get::<String>("user").unwrap()
        })
        .await;
        assert_eq!(
            user, None,
            "a genuine payload under a wrong tag ({wrong_tag:?}) must load as anonymous: \
             is the signature checked?"
        );
    }
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
    let manager = manager(&backend, config.clone(), &clock);
    let mut cookie = new_session(&manager, "user", json!("ada")).await;
    if harness.expires_natively() {
        // The claim is checked: the storage's own deadline is the session's.
        let now = clock.now();
        let deadline = harness.native_deadline(&backend, &cookie).await;
        assert_eq!(
            deadline.map(Timestamp::as_unix_millis),
            Some(config.expires_at(now, now).as_unix_millis()),
            "the harness claims native expiry, so the storage's own deadline for a new \
             session (its TTL) must be the session's deadline"
        );
    }
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

/// Concurrent `update_committed`s on one session, split over two processes: on merging
/// backends each request answers its own committed value, so together they answer exactly
/// 1 to n, and the session ends at n (however the backend batches or replays the writes).
/// A client-side backend declares it cannot merge: each answers the one write it made.
pub async fn committed_answers_are_each_requests_own<H: BackendHarness>(harness: &H) {
    const REQUESTS: u64 = 40;
    let first = Arc::new(harness.backend().await);
    let second = Arc::new(harness.second_process(&first).await);
    let clock = ManualClock::starting_now();
    let first_manager = manager(&first, harness.config(), &clock);
    let second_manager = manager(&second, harness.config(), &clock);
    let cookie = new_session(&first_manager, "counter", json!(0)).await;
    let mut answers = crate::concurrent::increment_committed_concurrently(
        &first_manager,
        &second_manager,
        &cookie,
        REQUESTS as usize,
    )
    .await;
    answers.sort_unstable();
    if first.capabilities().merges_concurrent_writes {
        assert_eq!(
            answers,
            (1..=REQUESTS).collect::<Vec<_>>(),
            "each request answers its own committed value"
        );
        let counter = read(&first_manager, &cookie, |session| {
            session.get::<u64>("counter").unwrap()
        })
        .await;
        assert_eq!(counter, Some(REQUESTS), "every committed update must count");
    } else {
        assert!(
            answers.iter().all(|&answer| answer == 1),
            "declared last-write-wins: each request holds only its own write, {answers:?}"
        );
    }
}

/// `n` characters of a fixed pseudo-random alphanumeric stream: a value that grows by one
/// byte of JSON per character and that compression (Flask cookies) cannot shrink to nothing.
fn filler(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let index = usize::try_from(state >> 58).unwrap() % ALPHABET.len();
            char::from(ALPHABET[index])
        })
        .collect()
}

/// The size and limit a refused write reports; fails the check on any other outcome.
fn too_large(result: Result<(), SessionError>, what: &str) -> (usize, usize) {
    match result {
        Err(SessionError::TooLarge { size, limit, .. }) => (size, limit),
        Err(other) => panic!("{what}: expected TooLarge, got {other}"),
        Ok(()) => panic!("{what}: expected TooLarge, the write was accepted"),
    }
}

/// The session size limit holds from both sides. Just under the backend's declared
/// [`max_session_bytes`](Capabilities::max_session_bytes) a write is accepted and
/// round-trips; the next byte is refused at `insert` with `TooLarge` reporting a size
/// just over the limit and the limit itself, and the session stays as it was. (The
/// boundary is found by bisection on the value's length, so any size measure works.)
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

    // Far over: refused, with the size and the limit. (A compressing backend may take
    // more characters than its limit; doubling finds a length it refuses.)
    let mut refused = limit + 1;
    while refused <= 64 * limit && session.insert("big", filler(refused)).is_ok() {
        session.remove("big");
        refused *= 2;
    }
    let (size, reported) = too_large(
        session.insert("big", filler(refused)),
        "a value longer than the limit",
    );
    assert!(
        size > limit,
        "reported size {size} must exceed the limit {limit}"
    );
    assert_eq!(reported, limit, "TooLarge must report the declared limit");
    assert!(
        !session.contains("big"),
        "a refused write must leave no trace"
    );

    // The boundary: `accepted` characters fit, `refused` do not.
    let mut accepted = 0;
    session.insert("big", filler(accepted)).unwrap();
    while refused - accepted > 1 {
        let middle = accepted + (refused - accepted) / 2;
        if session.insert("big", filler(middle)).is_ok() {
            accepted = middle;
        } else {
            refused = middle;
            session.insert("big", filler(accepted)).unwrap();
        }
    }
    let (size, reported) = too_large(
        session.insert("big", filler(refused)),
        "one character over the largest accepted value",
    );
    assert!(
        size > limit,
        "a write one character over the largest accepted one is refused at size {size}, \
         which is within the limit {limit}: the limit must allow every size up to itself"
    );
    assert!(
        size <= limit + 64,
        "the largest accepted write is far under the limit: the next character makes \
         {size} bytes against a limit of {limit}"
    );
    assert_eq!(reported, limit);
    assert_eq!(
        session.get::<String>("big").unwrap(),
        Some(filler(accepted)),
        "a refused write must leave the session as it was"
    );

    // Just under the limit round-trips.
    let cookie = set_value(finish(&request).await);
    read(&manager, &cookie, |session| {
        assert_eq!(
            session.get::<String>("small").unwrap().as_deref(),
            Some("kept")
        );
        assert_eq!(
            session.get::<String>("big").unwrap(),
            Some(filler(accepted)),
            "a session just under the limit must round-trip"
        );
    })
    .await;
}
