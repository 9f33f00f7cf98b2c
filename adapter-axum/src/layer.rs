//! [`SessionLayer`]: the configuration that wraps a router in [`SessionService`].

use std::fmt;

use session_core::adapter::SessionManager;
use session_core::backend::IntoSessionBackend;
use session_core::{ConfigError, SessionConfig};
use tower_layer::Layer;

use crate::SessionService;

/// Gives every request of the wrapped service a lazily loaded session and saves it after
/// the handler, adding `Set-Cookie`, `Vary: Cookie` and `Cache-Control: no-store` as
/// needed.
///
/// Cheap to clone: clones share one [`SessionManager`] (and so one store and one set of
/// per-session locks).
///
/// # Examples
///
/// ```
/// use adapter_axum::{MemoryStore, SessionConfig, SessionLayer};
/// use axum::{routing::get, Router};
///
/// let layer = SessionLayer::new(MemoryStore::default(), SessionConfig::default());
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(layer);
///
/// // An impossible configuration is refused up front.
/// let broken = SessionConfig::default().with_path("no-leading-slash");
/// assert!(SessionLayer::try_new(MemoryStore::default(), broken).is_err());
/// ```
#[derive(Clone)]
pub struct SessionLayer {
    manager: SessionManager,
}

impl SessionLayer {
    /// A layer serving sessions from `backend` (a
    /// [`RecordStore`](session_core::store::RecordStore) such as
    /// [`MemoryStore`](crate::MemoryStore), any
    /// [`SessionBackend`](session_core::backend::SessionBackend), or a
    /// [`BoxedBackend`](session_core::backend::BoxedBackend) chosen at run time) with
    /// `config`.
    ///
    /// # Panics
    ///
    /// When `config` is invalid (see [`SessionConfig::validate`]); use
    /// [`SessionLayer::try_new`] to handle that as an error.
    pub fn new(backend: impl IntoSessionBackend, config: SessionConfig) -> Self {
        match Self::try_new(backend, config) {
            Ok(layer) => layer,
            Err(error) => panic!("invalid session configuration: {error}"),
        }
    }

    /// A layer serving sessions from `backend` with `config`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`SessionConfig::validate`] or of the backend's check (a
    /// cookie backend given other keys than the config's).
    pub fn try_new(
        backend: impl IntoSessionBackend,
        config: SessionConfig,
    ) -> Result<Self, ConfigError> {
        SessionManager::new(backend, config).map(Self::from_manager)
    }

    /// A layer around an existing manager, for apps that build one elsewhere (or share it
    /// with a background task).
    pub fn from_manager(manager: SessionManager) -> Self {
        Self { manager }
    }

    /// The manager this layer loads and saves sessions with.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }
}

impl From<SessionManager> for SessionLayer {
    fn from(manager: SessionManager) -> Self {
        Self::from_manager(manager)
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.manager.clone())
    }
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", self.manager.config())
            .finish_non_exhaustive()
    }
}
