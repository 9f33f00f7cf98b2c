//! The demo's "where you are signed in" pages: the principal a login ties its session to,
//! the JSON of `GET /api/sessions`, and the form fields of the revoke routes.

use serde::Serialize;
use session_core::{LiveSession, Principal, Session, SessionError, SessionHandle};

/// Ties `session` to the principal `name` at login, with the login request's
/// `User-Agent`, on backends that keep the per-user index; on the others (cookies, the
/// Flask-compatible stores) the login goes on without it, as DESIGN.md says.
///
/// # Errors
///
/// When the session would no longer fit its backend.
///
/// # Examples
///
/// ```
/// let session = session_core::Session::default();
/// demo_support::tie_login(&session, "ada", Some("curl/8"))?;
/// assert_eq!(session.principal().map(|p| p.name().to_owned()).as_deref(), Some("ada"));
/// # Ok::<(), session_core::SessionError>(())
/// ```
pub fn tie_login(
    session: &Session,
    name: &str,
    user_agent: Option<&str>,
) -> Result<(), SessionError> {
    let mut principal = Principal::new(name);
    if let Some(agent) = user_agent {
        principal = principal.attach(USER_AGENT, agent);
    }
    match session.set_principal(principal) {
        Err(SessionError::Unsupported { .. }) => Ok(()),
        other => other,
    }
}

/// What the app attaches to a login: the browser's `User-Agent`.
const USER_AGENT: &str = "user_agent";

/// One session as `GET /api/sessions` answers it (DESIGN.md's demo contract).
#[derive(Serialize)]
struct SessionJson<'a> {
    handle: &'a str,
    current: bool,
    created_at: i64,
    last_active: i64,
    user_agent: Option<&'a str>,
}

/// The JSON array `GET /api/sessions` answers: one object per live session, with
/// `handle`, `current`, `created_at` and `last_active` (unix ms) and `user_agent`.
///
/// # Examples
///
/// ```
/// assert_eq!(demo_support::sessions_json(&[]), "[]");
/// ```
pub fn sessions_json(sessions: &[LiveSession]) -> String {
    let rows: Vec<SessionJson<'_>> = sessions
        .iter()
        .map(|session| SessionJson {
            handle: session.handle.as_str(),
            current: session.current,
            created_at: session.created_at.as_unix_millis(),
            last_active: session.last_active.as_unix_millis(),
            user_agent: user_agent(session),
        })
        .collect();
    // A list of plain strings, numbers and booleans always serializes.
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// The `User-Agent` attached at login, if any.
pub(crate) fn user_agent(session: &LiveSession) -> Option<&str> {
    session
        .attached
        .get(USER_AGENT)
        .and_then(|agent| agent.as_str())
}

/// The `handle` field of `POST /sessions/revoke`; `None` when absent or not a handle
/// (the route answers 404, as for an unknown handle).
///
/// # Examples
///
/// ```
/// assert!(demo_support::handle(Some("AAAAAAAAAAAAAAAAAAAAAA")).is_some());
/// assert!(demo_support::handle(Some("../etc")).is_none());
/// assert!(demo_support::handle(None).is_none());
/// ```
pub fn handle(submitted: Option<&str>) -> Option<SessionHandle> {
    submitted?.trim().parse().ok()
}
