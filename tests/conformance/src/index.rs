//! Checks of the per-user index for any [`SessionBackend`]: tie sessions to a principal,
//! list them, end one, the others or all, cap them, across processes and under racing
//! logins. Driven through a [`SessionManager`] as an adapter drives it.
//!
//! A backend declares the index in [`Capabilities::per_user_index`](session_core::backend::Capabilities::per_user_index); every check holds
//! it to that both ways. A backend that declares no index must refuse to tie a session
//! and to list one ([`SessionError::Unsupported`], answered 501), so an app never believes
//! it logged a user out everywhere when it could not.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::adapter::SessionManager;
use session_core::backend::{BoxedBackend, CookieUpdate, SessionBackend};
use session_core::clock::ManualClock;
use session_core::{LiveSession, Principal, SessionConfig, SessionError, SessionHandle};

use crate::drive::{self, finish, open, read, set_value};
use crate::BackendHarness;

const MINUTE: Duration = Duration::from_secs(60);

fn manager<B: SessionBackend>(
    backend: &Arc<B>,
    config: SessionConfig,
    clock: &ManualClock,
) -> SessionManager {
    drive::manager(
        BoxedBackend::from_backend(Arc::clone(backend)),
        config,
        clock,
    )
}

/// The harness's backend and a manager on a fresh manual clock with `config`; `None`
/// (after checking that the backend really has no index) when it declares none.
async fn start<H: BackendHarness>(
    harness: &H,
    config: SessionConfig,
) -> Option<(Arc<H::Backend>, SessionManager, ManualClock)> {
    let backend = Arc::new(harness.backend().await);
    let clock = ManualClock::starting_now();
    let manager = manager(&backend, config, &clock);
    if backend.capabilities().per_user_index {
        Some((backend, manager, clock))
    } else {
        assert_no_index(&manager).await;
        None
    }
}

/// A backend that declares no index refuses to tie and to list, with a 501.
async fn assert_no_index(manager: &SessionManager) {
    let (request, session) = open(manager, None).await;
    let tied = session.set_principal(Principal::new("ada"));
    assert!(
        matches!(tied, Err(SessionError::Unsupported { .. })),
        "the backend declares no per-user index, yet tying a session gave {tied:?}"
    );
    assert_eq!(tied.map_err(|error| error.http_status()), Err(501));
    assert!(session.is_empty(), "a refused tie writes nothing");
    let own = session.live_sessions().await;
    assert!(
        matches!(own, Err(SessionError::Unsupported { .. })),
        "a session without an index must not answer an empty list, got {own:?}"
    );
    finish(&request).await;
    let listed = manager.sessions_of("ada").await;
    assert!(
        matches!(listed, Err(SessionError::Unsupported { .. })),
        "the backend declares no per-user index, yet listing gave {listed:?}"
    );
}

/// A login as the demo does it: a new id, the user's name, the tie with a user agent.
/// Returns the cookie.
async fn log_in(manager: &SessionManager, cookie: Option<&str>, name: &str, agent: &str) -> String {
    let (request, session) = open(manager, cookie).await;
    session.regenerate();
    session.insert("username", name).unwrap();
    session
        .set_principal(Principal::new(name).attach("user_agent", agent))
        .unwrap();
    set_value(finish(&request).await)
}

/// The list as the browser holding `cookie` sees it.
async fn list_as(manager: &SessionManager, cookie: &str) -> Vec<LiveSession> {
    let (request, session) = open(manager, Some(cookie)).await;
    let sessions = session.live_sessions().await.unwrap();
    finish(&request).await;
    sessions
}

/// The handle of the session `cookie` names, from its own list.
async fn handle_of(manager: &SessionManager, cookie: &str) -> SessionHandle {
    let sessions = list_as(manager, cookie).await;
    let current: Vec<_> = sessions.iter().filter(|s| s.current).collect();
    assert_eq!(
        current.len(),
        1,
        "exactly one listed session is the caller's: {sessions:?}"
    );
    current[0].handle.clone()
}

/// The principal the session `cookie` names is tied to, read in a request.
async fn principal_of(manager: &SessionManager, cookie: &str) -> Option<String> {
    read(manager, cookie, |session| {
        session.principal().map(|p| p.name().to_owned())
    })
    .await
}

fn handles(sessions: &[LiveSession]) -> HashSet<SessionHandle> {
    sessions.iter().map(|s| s.handle.clone()).collect()
}

/// The backend's [`Capabilities::per_user_index`] is true, or tying and listing are
/// refused with [`SessionError::Unsupported`].
///
/// [`Capabilities::per_user_index`]: session_core::backend::Capabilities::per_user_index
pub async fn per_user_index_matches_the_declaration<H: BackendHarness>(harness: &H) {
    let Some((_backend, manager, _clock)) = start(harness, harness.config()).await else {
        return;
    };
    let cookie = log_in(&manager, None, "ada", "agent").await;
    assert_eq!(
        principal_of(&manager, &cookie).await.as_deref(),
        Some("ada")
    );
    assert_eq!(manager.sessions_of("ada").await.unwrap().len(), 1);
}

/// Three logins are three listed sessions with distinct handles that reveal nothing of
/// the cookie, what the app attached, and the caller's marked; another principal's list
/// holds only its own.
pub async fn a_principal_lists_its_sessions<H: BackendHarness>(harness: &H) {
    let Some((_backend, manager, clock)) = start(harness, harness.config()).await else {
        return;
    };
    let mut cookies = Vec::new();
    for agent in ["phone", "laptop", "tablet"] {
        cookies.push(log_in(&manager, None, "ada", agent).await);
        clock.advance(MINUTE);
    }
    let bob = log_in(&manager, None, "bob", "desktop").await;

    let listed = manager.sessions_of("ada").await.unwrap();
    assert_eq!(listed.len(), 3, "three logins, three sessions: {listed:?}");
    assert_eq!(handles(&listed).len(), 3, "handles are distinct");
    let agents: Vec<_> = listed
        .iter()
        .map(|s| s.attached["user_agent"].clone())
        .collect();
    assert_eq!(
        agents,
        [json!("tablet"), json!("laptop"), json!("phone")],
        "most recently active first, with what the app attached"
    );
    for session in &listed {
        assert!(!session.current, "the manager's list is nobody's");
        assert!(session.created_at <= session.last_active);
        let handle = session.handle.as_str();
        for cookie in cookies.iter().chain([&bob]) {
            assert!(
                !cookie.contains(handle) && !handle.contains(cookie.as_str()),
                "a handle must reveal nothing a cookie is made of"
            );
        }
    }

    let seen_by_laptop = list_as(&manager, &cookies[1]).await;
    assert_eq!(handles(&seen_by_laptop), handles(&listed));
    let current: Vec<_> = seen_by_laptop.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].attached["user_agent"], json!("laptop"));

    let bobs = list_as(&manager, &bob).await;
    assert_eq!(bobs.len(), 1, "bob sees only his own session");
    assert!(handles(&bobs).is_disjoint(&handles(&listed)));
    assert!(
        manager.sessions_of("nobody").await.unwrap().is_empty(),
        "an unknown principal has no sessions"
    );
}

/// Revoke one, the others, then all: each revoked browser is anonymous on its next
/// request; another principal's handle ends nothing.
pub async fn revoke_one_others_and_all<H: BackendHarness>(harness: &H) {
    let Some((_backend, manager, _clock)) = start(harness, harness.config()).await else {
        return;
    };
    let mut cookies = Vec::new();
    for agent in ["a", "b", "c", "d"] {
        cookies.push(log_in(&manager, None, "ada", agent).await);
    }
    let bob = log_in(&manager, None, "bob", "e").await;
    let bobs_handle = handle_of(&manager, &bob).await;

    // One, from the first browser.
    let second = handle_of(&manager, &cookies[1]).await;
    let (request, session) = open(&manager, Some(&cookies[0])).await;
    assert!(session.revoke(&second).await.unwrap(), "ada's own session");
    assert!(
        !session.revoke(&bobs_handle).await.unwrap(),
        "another principal's handle ends nothing"
    );
    assert!(
        !session.revoke(&second).await.unwrap(),
        "a revoked handle ends nothing twice"
    );
    assert_eq!(finish(&request).await, CookieUpdate::Unchanged);
    assert_eq!(principal_of(&manager, &cookies[1]).await, None, "revoked");
    assert_eq!(principal_of(&manager, &bob).await.as_deref(), Some("bob"));
    assert_eq!(manager.sessions_of("ada").await.unwrap().len(), 3);

    // The others.
    let (request, session) = open(&manager, Some(&cookies[0])).await;
    assert_eq!(session.revoke_others().await.unwrap(), 2);
    finish(&request).await;
    for cookie in &cookies[2..] {
        assert_eq!(principal_of(&manager, cookie).await, None, "signed out");
    }
    let left = manager.sessions_of("ada").await.unwrap();
    assert_eq!(left.len(), 1, "only the caller's session is left");
    assert_eq!(left[0].attached["user_agent"], json!("a"));

    // All, this one included.
    let again = log_in(&manager, None, "ada", "f").await;
    let (request, session) = open(&manager, Some(&cookies[0])).await;
    assert_eq!(session.log_out_everywhere().await.unwrap(), 1);
    assert_eq!(finish(&request).await, CookieUpdate::Remove);
    for cookie in [&cookies[0], &again] {
        assert_eq!(
            principal_of(&manager, cookie).await,
            None,
            "logged out everywhere"
        );
    }
    assert!(manager.sessions_of("ada").await.unwrap().is_empty());
    assert_eq!(principal_of(&manager, &bob).await.as_deref(), Some("bob"));
}

/// With a cap of 2, a third login ends the least recently active session, not the
/// oldest-created one.
pub async fn the_cap_ends_the_least_recently_active<H: BackendHarness>(harness: &H) {
    let config = harness
        .config()
        .with_max_sessions_per_principal(NonZeroUsize::new(2));
    let Some((_backend, manager, clock)) = start(harness, config).await else {
        return;
    };
    let first = log_in(&manager, None, "ada", "first").await;
    clock.advance(MINUTE);
    let second = log_in(&manager, None, "ada", "second").await;
    clock.advance(MINUTE);
    // The first browser is used again: now the second is the least recently active.
    let (request, session) = open(&manager, Some(&first)).await;
    session.insert("cart", 1).unwrap();
    finish(&request).await;
    clock.advance(MINUTE);
    let third = log_in(&manager, None, "ada", "third").await;

    let listed = manager.sessions_of("ada").await.unwrap();
    let agents: HashSet<_> = listed
        .iter()
        .map(|s| s.attached["user_agent"].clone())
        .collect();
    assert_eq!(
        agents,
        HashSet::from([json!("first"), json!("third")]),
        "the cap keeps the two most recently active"
    );
    assert_eq!(principal_of(&manager, &second).await, None, "evicted");
    assert_eq!(principal_of(&manager, &first).await.as_deref(), Some("ada"));
    assert_eq!(principal_of(&manager, &third).await.as_deref(), Some("ada"));
}

/// Expired sessions leave the list, whichever timeout ended them.
pub async fn expired_sessions_leave_the_list<H: BackendHarness>(harness: &H) {
    let config = harness.config().with_idle_timeout(10 * MINUTE);
    let Some((_backend, manager, clock)) = start(harness, config).await else {
        return;
    };
    let _early = log_in(&manager, None, "ada", "early").await;
    clock.advance(8 * MINUTE);
    let late = log_in(&manager, None, "ada", "late").await;
    assert_eq!(manager.sessions_of("ada").await.unwrap().len(), 2);
    clock.advance(4 * MINUTE);
    let listed = list_as(&manager, &late).await;
    assert_eq!(
        listed.len(),
        1,
        "the idle session left the list: {listed:?}"
    );
    assert_eq!(listed[0].attached["user_agent"], json!("late"));
    assert!(listed[0].current);
    clock.advance(11 * MINUTE);
    assert!(manager.sessions_of("ada").await.unwrap().is_empty());
}

/// A login on a session that is used again later keeps its tie through the id change and
/// later requests; the old handle is gone from the list.
pub async fn regeneration_keeps_the_tie<H: BackendHarness>(harness: &H) {
    let Some((_backend, manager, _clock)) = start(harness, harness.config()).await else {
        return;
    };
    let cookie = log_in(&manager, None, "ada", "browser").await;
    let before = handle_of(&manager, &cookie).await;
    let (request, session) = open(&manager, Some(&cookie)).await;
    session.regenerate();
    let renamed = set_value(finish(&request).await);
    assert_ne!(renamed, cookie);
    let after = handle_of(&manager, &renamed).await;
    assert_ne!(after, before, "a new id is a new handle");
    let listed = manager.sessions_of("ada").await.unwrap();
    assert_eq!(handles(&listed), HashSet::from([after]));
    assert_eq!(
        principal_of(&manager, &renamed).await.as_deref(),
        Some("ada")
    );
}

/// A revocation in one process is seen by another sharing the storage, at once.
pub async fn revocation_reaches_every_process<H: BackendHarness>(harness: &H) {
    let Some((first, first_manager, clock)) = start(harness, harness.config()).await else {
        return;
    };
    let second = Arc::new(harness.second_process(&first).await);
    let second_manager = manager(&second, harness.config(), &clock);
    let cookie = log_in(&first_manager, None, "ada", "one").await;
    let other = log_in(&second_manager, None, "ada", "two").await;
    assert_eq!(second_manager.sessions_of("ada").await.unwrap().len(), 2);
    assert_eq!(second_manager.revoke_all("ada").await.unwrap(), 2);
    for cookie in [&cookie, &other] {
        assert_eq!(principal_of(&first_manager, cookie).await, None);
    }
    assert!(first_manager.sessions_of("ada").await.unwrap().is_empty());
}

/// Sixteen logins in two processes race eight revocations of older sessions of the same
/// principal: every login is listed and works, every revoked session is gone, and
/// nothing else is listed.
pub async fn racing_logins_and_revocations_lose_nothing<H: BackendHarness>(harness: &H) {
    let Some((first, first_manager, clock)) = start(harness, harness.config()).await else {
        return;
    };
    let second = Arc::new(harness.second_process(&first).await);
    let second_manager = manager(&second, harness.config(), &clock);
    let mut old = Vec::new();
    for n in 0..8 {
        let cookie = log_in(&first_manager, None, "ada", &format!("old {n}")).await;
        old.push((handle_of(&first_manager, &cookie).await, cookie));
    }

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..16 {
        let manager = if n % 2 == 0 {
            &first_manager
        } else {
            &second_manager
        }
        .clone();
        tasks.spawn(async move { Ok(log_in(&manager, None, "ada", &format!("new {n}")).await) });
    }
    for (n, (handle, _)) in old.iter().enumerate() {
        let manager = if n % 2 == 0 {
            &second_manager
        } else {
            &first_manager
        }
        .clone();
        let handle = handle.clone();
        tasks.spawn(async move {
            let ended = manager.revoke("ada", &[handle]).await.unwrap();
            assert_eq!(ended, 1, "each old session is revoked once");
            Err(())
        });
    }
    let mut new = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(cookie) = done.unwrap() {
            new.push(cookie);
        }
    }
    assert_eq!(new.len(), 16);

    let mut expected = HashSet::new();
    for cookie in &new {
        assert_eq!(
            principal_of(&second_manager, cookie).await.as_deref(),
            Some("ada")
        );
        expected.insert(handle_of(&first_manager, cookie).await);
    }
    for (_, cookie) in &old {
        assert_eq!(principal_of(&first_manager, cookie).await, None, "revoked");
    }
    let listed = second_manager.sessions_of("ada").await.unwrap();
    assert_eq!(
        handles(&listed),
        expected,
        "the list holds exactly the live sessions: no login lost, no revoked one left"
    );
    assert_eq!(listed.len(), 16, "no session is listed twice");
    assert_eq!(first_manager.revoke_all("ada").await.unwrap(), 16);
    assert!(second_manager.sessions_of("ada").await.unwrap().is_empty());
}
