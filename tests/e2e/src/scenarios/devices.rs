//! "Where you are signed in": the per-user routes (`/sessions`, `/api/sessions`, the revoke
//! routes, `/logout-everywhere`) and `--max-sessions-per-user`. Backends without the
//! per-user index ([`Capabilities::per_user_index`](crate::Capabilities::per_user_index))
//! answer 501 with a message on every one of those routes, and their logins still work.

mod listing;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use self::listing::{assert_sessions_page, handle_of, list, Entry};
use super::{
    assert_anonymous, assert_logged_in, config, count, login, session_cookie, start, NAME,
};
use crate::{Demo, DemoSpec, Reply, Visitor};

/// Another user, whose sessions are none of ada's business.
const OTHER_NAME: &str = "bob";
/// The `User-Agent`s of ada's three browsers (the last one is HTML-escaped on the page).
const AGENTS: [&str; 3] = [
    "FirstBrowser/1.0 (e2e; laptop)",
    "SecondBrowser/2.0 (e2e; phone)",
    "ThirdBrowser/3.0 (e2e; <i>tablet</i> & \"co\")",
];
/// A well-formed handle (22 URL-safe base64 characters) no session has.
const UNKNOWN_HANDLE: &str = "AAAAAAAAAAAAAAAAAAAAAA";
/// How far the demo's clock may read from the test's (same machine; rounding only).
const CLOCK_SLACK_MS: i64 = 1000;
/// At most this many `POST /counter` to move a session's activity past another's.
const ACTIVITY_ATTEMPTS: usize = 1000;

/// Three browsers log in as ada (each with its own `User-Agent`), one as bob (with none).
/// `GET /api/sessions` from ada's second browser is a JSON array of three entries with
/// exactly the contract's fields: distinct handles that appear in no cookie, unix-ms times
/// from this test's run, and exactly one `current`, the second browser's (its login's
/// `User-Agent`, even when asked with another). bob sees his one session, `user_agent`
/// null. `GET /sessions` is HTML: one item per session with its revoke form, this one
/// marked "(this device)", and the "sign out other devices" and "log out everywhere"
/// buttons. Anonymous: 401 on both. A logout takes its session off the list, and a login
/// as bob in one of ada's browsers moves that browser to bob's list. Without the index: 501
/// with a message.
pub async fn sessions_are_listed_per_user(spec: &DemoSpec) {
    let began = now_ms();
    let (demo, _) = start(&config(spec)).await;
    let mut adas = ada_browsers(&demo).await;
    let mut bob = Visitor::new(&demo).unwrap();
    login(&mut bob, OTHER_NAME).await;
    if !spec.backend.capabilities().per_user_index {
        for (visitor, name) in [(&mut adas[0], NAME), (&mut bob, OTHER_NAME)] {
            assert_no_index(spec, visitor, name).await;
        }
        return;
    }
    let mut anonymous = Visitor::new(&demo).unwrap();
    for path in ["/sessions", "/api/sessions"] {
        let reply = anonymous.get(path).await.unwrap();
        assert_eq!(
            reply.status,
            401,
            "GET {path} anonymous: {}",
            reply.summary()
        );
    }

    let listed = list(&mut adas[1], "ada's second browser").await;
    let ended = now_ms();
    assert_eq!(listed.len(), 3, "ada has three sessions: {listed:?}");
    let current: Vec<&Entry> = listed.iter().filter(|entry| entry.current).collect();
    assert!(
        current.len() == 1 && current[0].user_agent.as_deref() == Some(AGENTS[1]),
        "exactly one entry is `current`, the asking browser's ({:?}): {listed:?}",
        AGENTS[1]
    );
    let agents: BTreeSet<Option<&str>> = listed
        .iter()
        .map(|entry| entry.user_agent.as_deref())
        .collect();
    assert_eq!(agents, AGENTS.map(Some).into(), "the logins' User-Agents");
    let handles: BTreeSet<&str> = listed.iter().map(|entry| entry.handle.as_str()).collect();
    assert_eq!(handles.len(), 3, "handles must be distinct: {listed:?}");
    for entry in &listed {
        assert!(
            began - CLOCK_SLACK_MS <= entry.created_at
                && entry.created_at <= entry.last_active
                && entry.last_active <= ended + CLOCK_SLACK_MS,
            "created_at <= last_active, both unix ms within this test's run \
             ({began}..={ended}): {entry:?}"
        );
        for cookie in adas
            .iter()
            .chain([&bob])
            .filter_map(Visitor::session_cookie)
        {
            assert!(
                !cookie.contains(&entry.handle) && !entry.handle.contains(cookie),
                "a handle must reveal nothing a cookie is made of: {entry:?}, cookie {cookie}"
            );
        }
    }

    // The User-Agent is the login's, whatever a later request sends.
    let mut changed = adas[0].clone().with_user_agent("ChangedBrowser/9.0");
    let again = list(&mut changed, "ada's first browser, another User-Agent").await;
    let mine: Vec<&Entry> = again.iter().filter(|entry| entry.current).collect();
    assert!(
        mine.len() == 1 && mine[0].user_agent.as_deref() == Some(AGENTS[0]),
        "the first browser's entry keeps its login's User-Agent {:?}: {again:?}",
        AGENTS[0]
    );
    let same: BTreeSet<&str> = again.iter().map(|entry| entry.handle.as_str()).collect();
    assert_eq!(same, handles, "every browser of ada sees the same sessions");

    let bobs = list(&mut bob, OTHER_NAME).await;
    assert!(
        bobs.len() == 1
            && bobs[0].current
            && bobs[0].user_agent.is_none()
            && !handles.contains(bobs[0].handle.as_str()),
        "bob sees his one session, current, user_agent null (he sent none): {bobs:?}"
    );

    assert_sessions_page(&mut adas[1], &listed, &AGENTS).await;

    // A logout, and a login as someone else, take a session off ada's list.
    adas[2].get("/logout").await.unwrap();
    login(&mut adas[0], OTHER_NAME).await;
    let left = list(&mut adas[1], "ada, after a logout and a login as bob").await;
    assert!(
        left.len() == 1 && left[0].current,
        "only ada's second browser is left: {left:?}"
    );
    let bobs = list(&mut bob, "bob, after a second login").await;
    assert!(
        bobs.len() == 2
            && bobs
                .iter()
                .any(|entry| entry.user_agent.as_deref() == Some(AGENTS[0])),
        "bob's list has the browser that logged in as him: {bobs:?}"
    );
}

/// ada's second browser's session, revoked by handle from the first: its next request is
/// anonymous, the others stay. An unknown, malformed, missing or already revoked handle is
/// 404, and so is bob's handle (which leaves bob logged in). Revoking one's own handle
/// signs this browser out. "Sign out other devices" leaves only the caller; "log out
/// everywhere" sends a removal cookie, 303 to `/`, and every browser of ada is anonymous
/// (bob is not). Without the index: 501 with a message.
pub async fn revoking_ends_the_other_browser(spec: &DemoSpec) {
    let (demo, _) = start(&config(spec)).await;
    let mut adas = ada_browsers(&demo).await;
    let mut bob = Visitor::new(&demo).unwrap();
    login(&mut bob, OTHER_NAME).await;
    if !spec.backend.capabilities().per_user_index {
        assert_no_index(spec, &mut adas[0], NAME).await;
        return;
    }

    let second = handle_of(&list(&mut adas[0], "ada's first browser").await, AGENTS[1]);
    let reply = revoke(&mut adas[0], Some(&second)).await;
    assert_redirect(&reply, "/sessions", "POST /sessions/revoke");
    assert_anonymous(&mut adas[1], "the browser whose session was revoked").await;
    for index in [0, 2] {
        let context = format!("ada's browser {index} after a revoke");
        assert_logged_in(&mut adas[index], NAME, &context).await;
    }
    let left = list(&mut adas[0], "after the revoke").await;
    assert!(
        left.len() == 2 && left.iter().all(|entry| entry.handle != second),
        "the revoked session leaves the list: {left:?}"
    );

    let bobs = list(&mut bob, OTHER_NAME).await[0].handle.clone();
    for handle in [
        Some(UNKNOWN_HANDLE),
        Some("not a handle"),
        Some("../../etc/passwd"),
        Some(""),
        None,
        Some(second.as_str()),
        Some(bobs.as_str()),
    ] {
        let reply = revoke(&mut adas[0], handle).await;
        assert_eq!(
            reply.status,
            404,
            "POST /sessions/revoke with handle {handle:?} (unknown, malformed, missing, \
             already revoked or bob's): {}",
            reply.summary()
        );
    }
    assert_logged_in(
        &mut bob,
        OTHER_NAME,
        "after ada tried to revoke bob's handle",
    )
    .await;
    assert_logged_in(&mut adas[0], NAME, "after the refused revokes").await;

    // "Sign out" on one's own entry.
    login(&mut adas[1], NAME).await;
    let own = handle_of(&list(&mut adas[1], "signed in again").await, AGENTS[1]);
    let reply = revoke(&mut adas[1], Some(&own)).await;
    assert_redirect(
        &reply,
        "/sessions",
        "POST /sessions/revoke of one's own handle",
    );
    assert_anonymous(&mut adas[1], "after revoking one's own session").await;

    login(&mut adas[1], NAME).await;
    let reply = adas[0].post("/sessions/revoke-others").await.unwrap();
    assert_redirect(&reply, "/sessions", "POST /sessions/revoke-others");
    for index in [1, 2] {
        assert_anonymous(
            &mut adas[index],
            &format!("ada's browser {index} after revoke-others"),
        )
        .await;
    }
    assert_logged_in(&mut adas[0], NAME, "the browser that signed out the others").await;
    let alone = list(&mut adas[0], "after revoke-others").await;
    assert!(
        alone.len() == 1 && alone[0].current,
        "only the caller's session is left: {alone:?}"
    );

    for index in [1, 2] {
        login(&mut adas[index], NAME).await;
    }
    let reply = adas[0].post("/logout-everywhere").await.unwrap();
    assert_redirect(&reply, "/", "POST /logout-everywhere");
    let cookie = session_cookie(&reply, "POST /logout-everywhere");
    assert!(
        cookie.is_removal(),
        "POST /logout-everywhere must send a removal cookie: {}",
        cookie.raw
    );
    for (index, visitor) in adas.iter_mut().enumerate() {
        assert_anonymous(
            visitor,
            &format!("ada's browser {index} after logout-everywhere"),
        )
        .await;
    }
    assert_logged_in(&mut bob, OTHER_NAME, "bob, after ada logged out everywhere").await;
}

/// `--max-sessions-per-user 2`: ada logs in on A, then B, then A writes (`POST /counter`,
/// repeated until A's `last_active` is past B's, so one millisecond cannot tie them), then
/// ada logs in on C: B, the least recently active, is anonymous; A (with its data) and C
/// are logged in. Without the index there is no cap: all three stay, and the per-user
/// routes answer 501.
pub async fn max_sessions_per_user_evicts_the_least_recently_active(spec: &DemoSpec) {
    let (demo, _) = start(&config(spec).max_sessions_per_user(2)).await;
    let [mut a, mut b, mut c] =
        AGENTS.map(|agent| Visitor::new(&demo).unwrap().with_user_agent(agent));
    login(&mut a, NAME).await;
    login(&mut b, NAME).await;
    if !spec.backend.capabilities().per_user_index {
        login(&mut c, NAME).await;
        for (name, visitor) in [("A", &mut a), ("B", &mut b), ("C", &mut c)] {
            assert_logged_in(
                visitor,
                NAME,
                &format!("without the index no cap ends {name}"),
            )
            .await;
        }
        assert_no_index(spec, &mut a, NAME).await;
        return;
    }
    let b_handle = handle_of(&list(&mut a, "A, before it writes").await, AGENTS[1]);
    let mut attempts = 0;
    let counted = loop {
        let counted = count(&mut a, "A's activity").await;
        let listed = list(&mut a, "A, after it wrote").await;
        let active = |agent| {
            listed
                .iter()
                .find(|e| e.user_agent.as_deref() == Some(agent))
        };
        let (Some(mine), Some(theirs)) = (active(AGENTS[0]), active(AGENTS[1])) else {
            panic!("A and B must both be listed before C's login: {listed:?}");
        };
        if mine.last_active > theirs.last_active {
            break counted;
        }
        attempts += 1;
        assert!(
            attempts < ACTIVITY_ATTEMPTS,
            "{attempts} writes by A never moved its last_active past B's: {listed:?}"
        );
    };
    login(&mut c, NAME).await;
    assert_anonymous(&mut b, "B, the least recently active, after a third login").await;
    assert_logged_in(&mut a, NAME, "A, active after B").await;
    assert_logged_in(&mut c, NAME, "C, the newest login").await;
    assert_eq!(
        count(&mut a, "A after the eviction").await,
        counted + 1,
        "A keeps its data"
    );
    let listed = list(&mut c, "C").await;
    assert!(
        listed.len() == 2 && listed.iter().all(|entry| entry.handle != b_handle),
        "ada holds two sessions, B's not among them: {listed:?}"
    );
}

/// Two demo processes on one store: ada logs in on the first and on the second; the second
/// lists both, revokes a third login of the first by handle and then logs out everywhere,
/// and the browsers on the first process are anonymous on their next request. The memory
/// backend declares each process separate: the second lists only its own session and its
/// "log out everywhere" leaves the first process's login alone. Without the index: 501
/// with a message on the second, and the login on the first stands.
pub async fn revocation_reaches_the_other_process(spec: &DemoSpec) {
    let config = config(spec);
    let first = config.start().await.unwrap();
    let second = config.start().await.unwrap();
    let [mut on_first, mut on_second, mut third] =
        AGENTS.map(|agent| Visitor::new(&first).unwrap().with_user_agent(agent));
    on_second = on_second.at(&second);
    login(&mut on_first, NAME).await;
    login(&mut on_second, NAME).await;
    let capabilities = spec.backend.capabilities();
    if !capabilities.per_user_index {
        assert_no_index(spec, &mut on_second, NAME).await;
        assert_logged_in(
            &mut on_first,
            NAME,
            "the first process, after 501s on the second",
        )
        .await;
        return;
    }
    if !capabilities.shared_by_processes {
        let listed = list(&mut on_second, "the second process").await;
        assert!(
            listed.len() == 1 && listed[0].current,
            "--backend {} declares per-process sessions: the second process lists only its \
             own: {listed:?}",
            spec.backend
        );
        let reply = on_second.post("/logout-everywhere").await.unwrap();
        assert_redirect(&reply, "/", "POST /logout-everywhere on the second process");
        assert_logged_in(
            &mut on_first,
            NAME,
            "the first process (per-process sessions)",
        )
        .await;
        return;
    }

    login(&mut third, NAME).await;
    let listed = list(&mut on_second, "the second process").await;
    assert_eq!(
        listed.len(),
        3,
        "the second process lists the first's logins: {listed:?}"
    );
    let reply = revoke(&mut on_second, Some(&handle_of(&listed, AGENTS[2]))).await;
    assert_redirect(
        &reply,
        "/sessions",
        "POST /sessions/revoke on the second process",
    );
    assert_anonymous(&mut third, "on the first process, revoked by the second").await;
    assert_logged_in(&mut on_first, NAME, "the first process, not revoked").await;

    let reply = on_second.post("/logout-everywhere").await.unwrap();
    assert_redirect(&reply, "/", "POST /logout-everywhere on the second process");
    assert_anonymous(
        &mut on_first,
        "on the first process, after logout-everywhere on the second",
    )
    .await;
    assert_anonymous(
        &mut on_second,
        "the second process, after its logout-everywhere",
    )
    .await;
}

/// ada's three browsers, each with its `User-Agent` from [`AGENTS`], logged in.
async fn ada_browsers(demo: &Demo) -> [Visitor; 3] {
    let mut browsers = AGENTS.map(|agent| Visitor::new(demo).unwrap().with_user_agent(agent));
    for browser in &mut browsers {
        login(browser, NAME).await;
    }
    browsers
}

/// On a backend without the index, every per-user route answers 501 with a message to
/// `name`'s logged-in visitor, which stays logged in.
async fn assert_no_index(spec: &DemoSpec, visitor: &mut Visitor, name: &str) {
    let routes = [
        ("GET", "/sessions"),
        ("GET", "/api/sessions"),
        ("POST", "/sessions/revoke"),
        ("POST", "/sessions/revoke-others"),
        ("POST", "/logout-everywhere"),
    ];
    for (method, path) in routes {
        let reply = match method {
            "GET" => visitor.get(path).await.unwrap(),
            _ => visitor
                .post_form(path, &[("handle", UNKNOWN_HANDLE)])
                .await
                .unwrap(),
        };
        assert!(
            reply.status == 501 && reply.text().to_lowercase().contains("per-user"),
            "--backend {} keeps no per-user index: {method} {path} must answer 501 with a \
             message naming it; got {}",
            spec.backend,
            reply.summary()
        );
    }
    assert_logged_in(visitor, name, "after the per-user routes answered 501").await;
}

/// `POST /sessions/revoke`, with `handle` when given (none: an empty form).
async fn revoke(visitor: &mut Visitor, handle: Option<&str>) -> Reply {
    let reply = match handle {
        Some(handle) => {
            visitor
                .post_form("/sessions/revoke", &[("handle", handle)])
                .await
        }
        None => visitor.post("/sessions/revoke").await,
    };
    reply.unwrap()
}

/// The reply is a 303 to `to`.
fn assert_redirect(reply: &Reply, to: &str, what: &str) {
    assert!(
        reply.status == 303 && reply.location() == Some(to),
        "{what}: expected 303 to {to}; got {}",
        reply.summary()
    );
}

/// This machine's clock in unix ms, as the demos read it.
fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
