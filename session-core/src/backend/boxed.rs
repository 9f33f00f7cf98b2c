//! [`BoxedBackend`]: any backend behind one type. The one place a backend is erased.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::SessionBackend;
use super::{Capabilities, Context, IntoSessionBackend, Loaded, Outcome, Revocation, Saved};
use crate::{ConfigError, LiveSession, SessionConfig, SessionError};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Any [`SessionBackend`] behind one type, so the backend can be chosen at run time (from
/// configuration, say) and every arm of a `match` has the same type. It is a backend
/// itself; [`SessionManager`](crate::adapter::SessionManager) holds every backend this way.
///
/// The backend's typed [`State`](SessionBackend::State) is not lost: `load` captures it,
/// with the backend, in the [`BoxedState`] that `save` hands back, so nothing is
/// downcast.
///
/// # Examples
///
/// ```
/// use session_core::backend::{BoxedBackend, IntoSessionBackend};
/// use session_core::store::MemoryStore;
///
/// fn backend_from(name: &str) -> BoxedBackend {
///     match name {
///         "memory" => MemoryStore::default().into_boxed(),
///         _ => MemoryStore::with_capacity(10).into_boxed(),
///     }
/// }
/// assert!(backend_from("memory").capabilities().server_side_revocation);
/// ```
#[derive(Clone)]
pub struct BoxedBackend {
    inner: Arc<dyn DynBackend>,
}

impl BoxedBackend {
    /// Boxes `backend` (a [`SessionBackend`] or a
    /// [`RecordStore`](crate::store::RecordStore)); a `BoxedBackend` is not boxed twice.
    pub fn new(backend: impl IntoSessionBackend) -> Self {
        backend.into_boxed()
    }

    /// Boxes a [`SessionBackend`].
    pub fn from_backend<B: SessionBackend>(backend: B) -> Self {
        Self {
            inner: Arc::new(backend),
        }
    }

    /// What the boxed backend can do.
    pub fn capabilities(&self) -> Capabilities {
        self.inner.dyn_capabilities()
    }
}

impl fmt::Debug for BoxedBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxedBackend")
            .field("capabilities", &self.capabilities())
            .finish_non_exhaustive()
    }
}

/// The [`State`](SessionBackend::State) of a [`BoxedBackend`]: the boxed backend's own
/// state, captured together with the backend that will save it.
pub struct BoxedState {
    pending: Box<dyn PendingSave>,
}

impl fmt::Debug for BoxedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxedState").finish_non_exhaustive()
    }
}

impl SessionBackend for BoxedBackend {
    type State = BoxedState;

    async fn load(
        &self,
        cookie: Option<&str>,
        cx: Context<'_>,
    ) -> Result<Loaded<BoxedState>, SessionError> {
        Arc::clone(&self.inner).dyn_load(cookie, cx).await
    }

    async fn save(
        &self,
        outcome: Outcome<BoxedState>,
        cx: Context<'_>,
    ) -> Result<Saved, SessionError> {
        let (outcome, state) = outcome.split();
        state.pending.save(outcome, cx).await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.dyn_capabilities()
    }

    async fn sessions_of(
        &self,
        principal: &str,
        cx: Context<'_>,
    ) -> Result<Vec<LiveSession>, SessionError> {
        self.inner.dyn_sessions_of(principal, cx).await
    }

    async fn revoke(
        &self,
        principal: &str,
        which: Revocation<'_>,
        cx: Context<'_>,
    ) -> Result<u64, SessionError> {
        self.inner.dyn_revoke(principal, which, cx).await
    }

    fn check(&self, config: &SessionConfig) -> Result<(), ConfigError> {
        self.inner.dyn_check(config)
    }
}

impl IntoSessionBackend for BoxedBackend {
    type Backend = Self;

    fn into_backend(self) -> Self {
        self
    }

    fn into_boxed(self) -> BoxedBackend {
        self
    }
}

/// The object-safe face of a [`SessionBackend`].
trait DynBackend: Send + Sync + 'static {
    /// Loads, and wraps the backend's state with the backend itself (hence `Arc<Self>`).
    fn dyn_load<'a>(
        self: Arc<Self>,
        cookie: Option<&'a str>,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<Loaded<BoxedState>, SessionError>>;

    fn dyn_capabilities(&self) -> Capabilities;

    fn dyn_sessions_of<'a>(
        &'a self,
        principal: &'a str,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<LiveSession>, SessionError>>;

    fn dyn_revoke<'a>(
        &'a self,
        principal: &'a str,
        which: Revocation<'a>,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<u64, SessionError>>;

    fn dyn_check(&self, config: &SessionConfig) -> Result<(), ConfigError>;
}

impl<B: SessionBackend> DynBackend for B {
    fn dyn_load<'a>(
        self: Arc<Self>,
        cookie: Option<&'a str>,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<Loaded<BoxedState>, SessionError>> {
        Box::pin(async move {
            let loaded = self.load(cookie, cx).await?;
            Ok(loaded.map_state(|state| BoxedState {
                pending: Box::new(Pending {
                    backend: self,
                    state,
                }),
            }))
        })
    }

    fn dyn_capabilities(&self) -> Capabilities {
        self.capabilities()
    }

    fn dyn_sessions_of<'a>(
        &'a self,
        principal: &'a str,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<LiveSession>, SessionError>> {
        Box::pin(self.sessions_of(principal, cx))
    }

    fn dyn_revoke<'a>(
        &'a self,
        principal: &'a str,
        which: Revocation<'a>,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<u64, SessionError>> {
        Box::pin(self.revoke(principal, which, cx))
    }

    fn dyn_check(&self, config: &SessionConfig) -> Result<(), ConfigError> {
        self.check(config)
    }
}

/// A loaded session's save, waiting for the request to finish.
trait PendingSave: Send {
    fn save<'a>(
        self: Box<Self>,
        outcome: Outcome<()>,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<Saved, SessionError>>;
}

struct Pending<B: SessionBackend> {
    backend: Arc<B>,
    state: B::State,
}

impl<B: SessionBackend> PendingSave for Pending<B> {
    fn save<'a>(
        self: Box<Self>,
        outcome: Outcome<()>,
        cx: Context<'a>,
    ) -> BoxFuture<'a, Result<Saved, SessionError>> {
        let Pending { backend, state } = *self;
        Box::pin(async move { backend.save(outcome.with_state(state), cx).await })
    }
}
