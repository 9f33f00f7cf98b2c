//! Checks for any [`SessionBackend`], client-side or server-side: one public function per
//! rule, driven through cookie values exactly as an adapter drives them.
//!
//! Where a backend cannot meet a rule by nature, its [`Capabilities`] say so and the
//! check asserts that the limitation is real: a cookie backend must show that a replayed
//! cookie still works after logout, rather than skip the check.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use session_core::{
    Capabilities, CookieUpdate, Session, SessionBackend, SessionConfig, SessionError, SessionId,
};

use crate::BackendHarness;

/// Saves `session` and returns the cookie the response would carry.
async fn save<B: SessionBackend>(
    backend: &B,
    session: &Session,
    config: &SessionConfig,
) -> CookieUpdate {
    backend.save(session.finish(), config).await.unwrap()
}

/// The value of a `Set` cookie update.
fn set_value(update: CookieUpdate) -> String {
    match update {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie to be set, got {other:?}"),
    }
}

/// A new session holding `key = value`; returns its cookie value.
async fn new_session<B: SessionBackend>(
    backend: &B,
    config: &SessionConfig,
    key: &str,
    value: Value,
) -> String {
    let session = backend.load(None, config).await.unwrap();
    session.insert(key, value).unwrap();
    set_value(save(backend, &session, config).await)
}

/// Loads `cookie` and returns the session (which must then be finished by the caller, or
/// dropped).
async fn load<B: SessionBackend>(backend: &B, config: &SessionConfig, cookie: &str) -> Session {
    backend.load(Some(cookie), config).await.unwrap()
}

/// Every JSON type survives the trip through the backend and back.
pub async fn round_trip_every_json_type<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let value = json!({
        "null": null, "bool": true, "int": -42, "big": i64::MAX, "float": 0.25,
        "string": "héllo 😀 \"q\" </script>", "array": [1, [2], {"three": 3}], "object": {"a": {}},
    });
    let cookie = new_session(&backend, &config, "everything", value.clone()).await;
    let session = load(&backend, &config, &cookie).await;
    assert_eq!(session.get::<Value>("everything").unwrap(), Some(value));
}

/// No cookie, garbage, truncated or tampered cookies and well-formed ids the server
/// never issued all load as anonymous sessions, never as errors; a write then gets a
/// brand-new cookie.
pub async fn bad_cookies_are_anonymous<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let good = new_session(&backend, &config, "user", json!("ada")).await;
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
        let session = backend.load(Some(input), &config).await.unwrap();
        assert!(
            session.is_empty(),
            "cookie {input:?} must load as an anonymous session"
        );
        drop(session.finish());
    }
    let session = load(&backend, &config, &unknown).await;
    session.insert("counter", 1).unwrap();
    let fresh = set_value(save(&backend, &session, &config).await);
    assert_ne!(fresh, unknown, "an unknown id must never be adopted");
    assert_eq!(
        load(&backend, &config, &fresh)
            .await
            .get::<i32>("counter")
            .unwrap(),
        Some(1)
    );
}

/// A request that does not change the session writes nothing and sends no cookie.
pub async fn untouched_sessions_write_nothing<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let anonymous = backend.load(None, &config).await.unwrap();
    assert_eq!(
        save(&backend, &anonymous, &config).await,
        CookieUpdate::Unchanged
    );
    let cookie = new_session(&backend, &config, "user", json!("ada")).await;
    let session = load(&backend, &config, &cookie).await;
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(
        save(&backend, &session, &config).await,
        CookieUpdate::Unchanged
    );
}

/// `regenerate` issues a new cookie with the same data. On revocable backends the old
/// cookie is dead; on others it still loads, as the capabilities declare.
pub async fn regenerate_changes_the_cookie_and_keeps_data<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let old = new_session(&backend, &config, "cart", json!(["apple"])).await;
    let session = load(&backend, &config, &old).await;
    session.regenerate();
    session.insert("user", "ada").unwrap();
    let new = set_value(save(&backend, &session, &config).await);
    assert_ne!(new, old, "regenerate must change the cookie");
    let session = load(&backend, &config, &new).await;
    assert_eq!(
        session.get::<Value>("cart").unwrap(),
        Some(json!(["apple"])),
        "data survives regenerate"
    );
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    drop(session.finish());
    let replay = load(&backend, &config, &old).await;
    if backend.capabilities().server_side_revocation {
        assert!(replay.is_empty(), "the pre-regeneration id must be dead");
    } else {
        assert!(
            !replay.is_empty(),
            "backend declares no revocation, yet the old cookie was refused"
        );
    }
}

/// `destroy` sends a removal cookie; replaying the old cookie is anonymous on revocable
/// backends and still works on others, as declared.
pub async fn destroy_removes_the_session<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let cookie = new_session(&backend, &config, "user", json!("ada")).await;
    let session = load(&backend, &config, &cookie).await;
    session.destroy();
    assert!(session.is_empty(), "a destroyed session reads as empty");
    assert_eq!(
        save(&backend, &session, &config).await,
        CookieUpdate::Remove
    );
    let replay = load(&backend, &config, &cookie).await;
    if backend.capabilities().server_side_revocation {
        assert!(
            replay.is_empty(),
            "a destroyed session must be gone on the server"
        );
    } else {
        assert_eq!(
            replay.get::<String>("user").unwrap().as_deref(),
            Some("ada"),
            "backend declares no revocation, yet the replayed cookie was refused"
        );
    }
}

/// Writes after `destroy` start a new session with a new cookie and only the new data.
pub async fn writes_after_destroy_start_a_new_session<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let cookie = new_session(&backend, &config, "user", json!("ada")).await;
    let session = load(&backend, &config, &cookie).await;
    session.destroy();
    session.flash("Logged out").unwrap();
    let fresh = set_value(save(&backend, &session, &config).await);
    assert_ne!(fresh, cookie);
    let session = load(&backend, &config, &fresh).await;
    assert_eq!(
        session.get::<String>("user").unwrap(),
        None,
        "old data must not carry over"
    );
    assert_eq!(session.take_flashes().len(), 1);
}

/// Flash messages are shown once.
pub async fn flashes_are_shown_once<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let session = backend.load(None, &config).await.unwrap();
    session.flash("Welcome, ada!").unwrap();
    session.flash_with("error", "Careful").unwrap();
    let cookie = set_value(save(&backend, &session, &config).await);
    let session = load(&backend, &config, &cookie).await;
    let flashes = session.take_flashes();
    let shown: Vec<(&str, &str)> = flashes
        .iter()
        .map(|f| (f.category.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(shown, [("message", "Welcome, ada!"), ("error", "Careful")]);
    let cookie = match save(&backend, &session, &config).await {
        CookieUpdate::Set { value, .. } => value,
        _ => cookie,
    };
    assert!(
        load(&backend, &config, &cookie)
            .await
            .take_flashes()
            .is_empty(),
        "flashes are shown once"
    );
}

/// Permanent sessions get persistent cookies, per session or by default.
pub async fn permanent_sessions_get_persistent_cookies<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let session = backend.load(None, &config).await.unwrap();
    session.insert("user", "ada").unwrap();
    assert!(matches!(
        save(&backend, &session, &config).await,
        CookieUpdate::Set {
            persistent: false,
            ..
        }
    ));
    let session = backend.load(None, &config).await.unwrap();
    session.set_permanent(true).unwrap();
    session.insert("user", "ada").unwrap();
    let update = save(&backend, &session, &config).await;
    assert!(
        matches!(
            update,
            CookieUpdate::Set {
                persistent: true,
                ..
            }
        ),
        "got {update:?}"
    );
    assert!(load(&backend, &config, &set_value(update))
        .await
        .is_permanent());

    let permanent = config.clone().with_permanent(true);
    let session = backend.load(None, &permanent).await.unwrap();
    session.insert("user", "ada").unwrap();
    assert!(matches!(
        save(&backend, &session, &permanent).await,
        CookieUpdate::Set {
            persistent: true,
            ..
        }
    ));
}

/// The idle timeout ends a session left alone, while reads 1 s apart keep a 2 s idle
/// timeout alive (expiry is kept to the millisecond, refreshed at least every quarter).
pub async fn idle_timeout_expires_idle_sessions<H: BackendHarness>(harness: &H) {
    let backend = harness.backend().await;
    let config = harness.config().with_idle_timeout(Duration::from_secs(2));
    let mut cookie = new_session(&backend, &config, "user", json!("ada")).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let session = load(&backend, &config, &cookie).await;
        assert_eq!(
            session.get::<String>("user").unwrap().as_deref(),
            Some("ada"),
            "active sessions stay"
        );
        if let CookieUpdate::Set { value, .. } = save(&backend, &session, &config).await {
            cookie = value;
        }
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(
        load(&backend, &config, &cookie).await.is_empty(),
        "an idle session must expire"
    );
}

/// The absolute timeout ends a session however active it is.
pub async fn absolute_timeout_ends_active_sessions<H: BackendHarness>(harness: &H) {
    let backend = harness.backend().await;
    let config = harness
        .config()
        .with_absolute_timeout(Duration::from_secs(2));
    let mut cookie = new_session(&backend, &config, "user", json!("ada")).await;
    let mut alive_after = Duration::ZERO;
    for step in 1..=6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let session = load(&backend, &config, &cookie).await;
        if session.is_empty() {
            alive_after = Duration::from_millis(500 * (step - 1));
            break;
        }
        session
            .update("hits", |n: Option<u32>| n.unwrap_or(0) + 1)
            .unwrap();
        if let CookieUpdate::Set { value, .. } = save(&backend, &session, &config).await {
            cookie = value;
        }
    }
    assert!(
        alive_after >= Duration::from_millis(1_000),
        "ended too early, after {alive_after:?}"
    );
    assert!(
        !alive_after.is_zero(),
        "an active session must still end at the absolute timeout"
    );
}

/// Concurrent requests on one session: on merging backends, 50 concurrent `update`s split
/// over two processes all count. A client-side backend declares it cannot merge; the check
/// then shows that two responses built from one cookie each hold only their own write.
pub async fn concurrent_updates<H: BackendHarness>(harness: &H) {
    let first = Arc::new(harness.backend().await);
    let second = Arc::new(harness.second_process(&first).await);
    let config = Arc::new(harness.config());
    let cookie = new_session(first.as_ref(), &config, "counter", json!(0)).await;
    let updates =
        crate::concurrent::increment_concurrently(&first, &second, &config, &cookie, 50, false)
            .await;
    if first.capabilities().merges_concurrent_writes {
        let session = load(first.as_ref(), &config, &cookie).await;
        assert_eq!(
            session.get::<u64>("counter").unwrap(),
            Some(50),
            "every concurrent update must count"
        );
    } else {
        for update in updates {
            let session = load(first.as_ref(), &config, &set_value(update)).await;
            assert_eq!(
                session.get::<u64>("counter").unwrap(),
                Some(1),
                "declared last-write-wins"
            );
        }
    }
}

/// A write that would make the session too large for the backend is refused at `insert`
/// with the size and the limit, and the session stays as it was.
pub async fn oversized_writes_are_refused<H: BackendHarness>(harness: &H) {
    let (backend, config) = (harness.backend().await, harness.config());
    let Capabilities {
        max_session_bytes, ..
    } = backend.capabilities();
    let Some(limit) = max_session_bytes else {
        // An unlimited backend must accept a large value; that is the check.
        let cookie = new_session(&backend, &config, "big", json!("x".repeat(2 << 20))).await;
        assert!(load(&backend, &config, &cookie).await.contains("big"));
        return;
    };
    let session = backend.load(None, &config).await.unwrap();
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
    let cookie = set_value(save(&backend, &session, &config).await);
    let session = load(&backend, &config, &cookie).await;
    assert_eq!(
        session.get::<String>("small").unwrap().as_deref(),
        Some("kept")
    );
    assert!(!session.contains("big"));
}
