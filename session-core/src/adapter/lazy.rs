//! [`LazySession`]: one request's session, loaded on first use and saved once.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::OnceCell;

use super::{ResponsePlan, SessionManager};
use crate::backend::{BoxedState, Context, CookieUpdate, Outcome, Revocation, SessionBackend};
use crate::session::Host;
use crate::{LiveSession, Session, SessionError};

/// One request's session: loaded by the first handler extractor (or guard) that asks for
/// it, shared by later ones, and saved once: by the adapter after the handler, or earlier
/// by the handler itself ([`Session::commit`]).
///
/// A request whose handler never asks for the session never touches the store, and
/// [`finish`](Self::finish) then says there is nothing to send.
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::store::MemoryStore;
/// use session_core::SessionConfig;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
/// let request = manager.request(None);
/// let first = request.session().await?;
/// let second = request.session().await?; // loaded once, shared
/// first.insert("n", 1)?;
/// assert_eq!(second.get::<i32>("n")?, Some(1));
/// assert!(request.finish().await?.is_some_and(|plan| plan.set_cookie.is_some()));
/// // Saved once: the handle refuses writes that would be lost, and still reads.
/// assert!(first.insert("n", 2).is_err());
/// assert_eq!(first.get::<i32>("n")?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LazySession {
    manager: SessionManager,
    cookie: Option<String>,
    loaded: OnceCell<Arc<Slot>>,
}

/// The loaded session, the backend's state for its save (taken by the save), and the
/// response plan of a save the handler made early.
struct Slot {
    manager: SessionManager,
    session: Session,
    state: Mutex<Option<BoxedState>>,
    committed: Mutex<Option<ResponsePlan>>,
}

impl LazySession {
    pub(crate) fn new(manager: SessionManager, cookie: Option<String>) -> Self {
        Self {
            manager,
            cookie,
            loaded: OnceCell::new(),
        }
    }

    /// The session, loading it on the first call.
    ///
    /// A server-side session holds its per-session lock from here until it is saved (or
    /// until this is dropped, with a cancelled request).
    ///
    /// # Errors
    ///
    /// When the backend fails (a store that is down): the request must fail rather than
    /// treat the visitor as logged out.
    pub async fn session(&self) -> Result<Session, SessionError> {
        let slot = self.loaded.get_or_try_init(|| self.load()).await?;
        Ok(slot.session.clone())
    }

    /// Whether a handler asked for the session.
    pub fn is_loaded(&self) -> bool {
        self.loaded.initialized()
    }

    /// Saves what the handler did (unless it already did, with [`Session::commit`]) and
    /// says which headers the response needs; `None` when the session was never loaded.
    ///
    /// # Errors
    ///
    /// When the session could not be saved: the response must not claim success.
    pub async fn finish(&self) -> Result<Option<ResponsePlan>, SessionError> {
        let Some(slot) = self.loaded.get() else {
            return Ok(None);
        };
        if let Some(plan) = lock(&slot.committed).take() {
            return Ok(Some(plan));
        }
        slot.save().await
    }

    /// The manager this session belongs to.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }

    async fn load(&self) -> Result<Arc<Slot>, SessionError> {
        let manager = &self.manager;
        let cx = Context::new(manager.config(), manager.now());
        let loaded = manager.backend().load(self.cookie.as_deref(), cx).await?;
        let slot = Arc::new(Slot {
            manager: manager.clone(),
            session: Session::from_loaded(loaded.record, loaded.lifecycle, loaded.size_limit),
            state: Mutex::new(Some(loaded.state)),
            committed: Mutex::new(None),
        });
        let host: Weak<dyn Host> = Arc::downgrade(&slot) as Weak<Slot>;
        slot.session.attach(host, loaded.storage_key);
        Ok(slot)
    }
}

impl Slot {
    /// Saves the session through the backend, once; `None` when it was already saved.
    async fn save(&self) -> Result<Option<ResponsePlan>, SessionError> {
        let Some(state) = lock(&self.state).take() else {
            return Ok(None);
        };
        let taken = self.session.take();
        let outcome = Outcome {
            state,
            lifecycle: taken.lifecycle,
            record: taken.record,
            changes: taken.changes,
            accessed: taken.accessed,
        };
        let manager = &self.manager;
        let now = manager.now();
        let saved = manager
            .backend()
            .save(outcome, Context::new(manager.config(), now))
            .await?;
        if let Some(record) = saved.record {
            self.session.show_stored(record);
        }
        if saved.storage_key.is_some() || saved.cookie == CookieUpdate::Remove {
            self.session.show_key(saved.storage_key);
        }
        // One instant for the deadline the backend set and the Max-Age counted from it.
        let set_cookie = manager.set_cookie(&saved.cookie, now);
        Ok(Some(ResponsePlan {
            no_store: set_cookie.is_some(),
            set_cookie,
            vary_cookie: taken.accessed,
            cookie: saved.cookie,
        }))
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Host for Slot {
    fn commit(&self) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            if let Some(plan) = self.save().await? {
                *lock(&self.committed) = Some(plan);
            }
            Ok(())
        })
    }

    fn indexes_principals(&self) -> bool {
        self.manager.capabilities().per_user_index
    }

    fn sessions_of<'a>(
        &'a self,
        principal: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LiveSession>, SessionError>> {
        Box::pin(self.manager.sessions_of(principal))
    }

    fn revoke<'a>(
        &'a self,
        principal: &'a str,
        which: Revocation<'a>,
    ) -> BoxFuture<'a, Result<u64, SessionError>> {
        Box::pin(self.manager.revoke_where(principal, which))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a single `take` or assignment: nothing is left half
    // done by a panic, so poisoning is ignored.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for LazySession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cookie is a credential: say only whether there is one.
        f.debug_struct("LazySession")
            .field("has_cookie", &self.cookie.is_some())
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}
