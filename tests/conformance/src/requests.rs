//! Requests as an adapter makes them, for store authors' own tests: open a request on a
//! [`SessionManager`], save it, and the counter requests a concurrency test sends.
//!
//! Each returns the session's errors instead of panicking, so a test can assert on an
//! outage (a store that is down answers `Err`, never a logout).
//!
//! # Examples
//!
//! ```
//! use session_conformance::requests::{increment, new_counter};
//! use session_core::adapter::SessionManager;
//! use session_core::store::MemoryStore;
//! use session_core::SessionConfig;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
//! let cookie = new_counter(&manager).await;
//! assert_eq!(increment(&manager, &cookie).await?, 1);
//! assert_eq!(increment(&manager, &cookie).await?, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use session_core::adapter::{LazySession, SessionManager};
use session_core::backend::CookieUpdate;
use session_core::{Session, SessionError};

/// A request carrying `cookie`, with its session loaded.
///
/// # Errors
///
/// When the backend cannot load the session.
pub async fn open(
    manager: &SessionManager,
    cookie: Option<&str>,
) -> Result<(LazySession, Session), SessionError> {
    let request = manager.request(cookie);
    let session = request.session().await?;
    Ok((request, session))
}

/// Saves a request whose session was loaded; the cookie the response would carry.
///
/// # Errors
///
/// When the backend cannot save the session.
///
/// # Panics
///
/// When the request's session was never loaded (a test bug).
pub async fn finish(request: &LazySession) -> Result<CookieUpdate, SessionError> {
    Ok(request
        .finish()
        .await?
        .expect("a loaded session has a response plan")
        .cookie)
}

/// A new session holding `counter = 0`, saved; its cookie value.
///
/// # Panics
///
/// When the backend fails or sets no cookie for a new session.
pub async fn new_counter(manager: &SessionManager) -> String {
    let (request, session) = open(manager, None).await.expect("load");
    session.insert("counter", 0).expect("insert");
    match finish(&request).await.expect("save") {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("a new session sets a cookie, got {other:?}"),
    }
}

/// One request adding 1 to `counter`, as a `POST /counter` would; the new count. The
/// session keeps its id, so the response sets no cookie.
///
/// # Errors
///
/// When the backend cannot load or save the session.
///
/// # Panics
///
/// When the session does not load (the cookie names no live session) or the response
/// would set a cookie.
pub async fn increment(manager: &SessionManager, cookie: &str) -> Result<u64, SessionError> {
    let (request, session) = open(manager, Some(cookie)).await?;
    assert!(!session.is_empty(), "the shared session must load");
    let value = session.update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    assert_eq!(finish(&request).await?, CookieUpdate::Unchanged);
    Ok(value)
}

/// The value of `key` in the session `cookie` names, read in a request of its own.
///
/// # Errors
///
/// When the backend cannot load or save the session, or the value is not JSON.
pub async fn read_value(
    manager: &SessionManager,
    cookie: &str,
    key: &str,
) -> Result<Option<serde_json::Value>, SessionError> {
    let (request, session) = open(manager, Some(cookie)).await?;
    let value = session.get(key)?;
    finish(&request).await?;
    Ok(value)
}
