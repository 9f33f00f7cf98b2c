//! The per-request slot the service puts into request extensions and the extractor fills.

use session_core::{Session, SessionError, SessionManager};
use tokio::sync::OnceCell;

/// One request's session, loaded on first use.
///
/// The service keeps one handle to the slot and the request's extensions another, so after
/// the handler the service finds whatever the extractor loaded, and a request whose handler
/// never asked for the session never touches the store.
pub(crate) struct LazySession {
    manager: SessionManager,
    cookie: Option<String>,
    session: OnceCell<Session>,
}

impl LazySession {
    pub(crate) fn new(manager: SessionManager, cookie: Option<String>) -> Self {
        Self {
            manager,
            cookie,
            session: OnceCell::new(),
        }
    }

    /// The session, loading it on the first call; later calls (a second extractor in the
    /// same request) share the first load.
    pub(crate) async fn get_or_load(&self) -> Result<Session, SessionError> {
        self.session
            .get_or_try_init(|| self.manager.load(self.cookie.as_deref()))
            .await
            .cloned()
    }

    /// The session if a handler loaded it.
    pub(crate) fn loaded(&self) -> Option<&Session> {
        self.session.get()
    }

    pub(crate) fn manager(&self) -> &SessionManager {
        &self.manager
    }
}
