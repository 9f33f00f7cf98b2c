//! Driving a backend as an adapter does: a [`SessionManager`] on the check's
//! [`ManualClock`], one [`LazySession`] per request.

use session_core::adapter::{LazySession, SessionManager};
use session_core::backend::{CookieUpdate, IntoSessionBackend};
use session_core::clock::ManualClock;
use session_core::{Session, SessionConfig};

use crate::requests;

/// A manager serving `backend` with `config`, reading time from `clock`.
pub(crate) fn manager(
    backend: impl IntoSessionBackend,
    config: SessionConfig,
    clock: &ManualClock,
) -> SessionManager {
    SessionManager::new(backend, config)
        .unwrap_or_else(|error| panic!("the backend refuses the configuration: {error}"))
        .with_clock(clock.clone())
}

/// A request carrying `cookie`, with its session loaded ([`requests::open`], panicking).
pub(crate) async fn open(manager: &SessionManager, cookie: Option<&str>) -> (LazySession, Session) {
    requests::open(manager, cookie).await.unwrap()
}

/// Ends a request whose session was loaded: saves it and returns the cookie the response
/// would carry ([`requests::finish`], panicking).
pub(crate) async fn finish(request: &LazySession) -> CookieUpdate {
    requests::finish(request).await.unwrap()
}

/// A request that only reads: loads `cookie`, hands the session to `read`, and finishes.
pub(crate) async fn read<T>(
    manager: &SessionManager,
    cookie: &str,
    read: impl FnOnce(&Session) -> T,
) -> T {
    let (request, session) = open(manager, Some(cookie)).await;
    let value = read(&session);
    finish(&request).await;
    value
}

/// The value of a `Set` cookie update.
pub(crate) fn set_value(update: CookieUpdate) -> String {
    match update {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie to be set, got {other:?}"),
    }
}

/// A new session holding `key = value`, saved; its cookie value.
pub(crate) async fn new_session(
    manager: &SessionManager,
    key: &str,
    value: serde_json::Value,
) -> String {
    let (request, session) = open(manager, None).await;
    session.insert(key, value).unwrap();
    set_value(finish(&request).await)
}
