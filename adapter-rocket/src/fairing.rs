//! [`SessionFairing`]: builds the session manager at ignition and saves sessions in
//! `on_response`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Header;
use rocket::request::Request;
use rocket::response::Response;
use rocket::{Build, Phase, Rocket};
use session_core::adapter::{error_chain, ErrorResponse, HeaderOp, SessionManager};
use session_core::backend::IntoSessionBackend;
use session_core::store::BoxError;
use session_core::{ConfigError, SessionConfig};

use crate::error::render;
use crate::guard::{LoadFailure, Managed, RequestSession};
use crate::{LaunchError, LaunchSettings};

type ManagerFuture = Pin<Box<dyn Future<Output = Result<SessionManager, LaunchError>> + Send>>;
type Connect = Box<dyn FnOnce(LaunchSettings) -> ManagerFuture + Send>;

/// Where the manager comes from, until ignition takes it.
enum Pending {
    /// Built in code (an invalid configuration is reported at ignition).
    Ready(Result<SessionManager, ConfigError>),
    /// Built at ignition from the `sessions` table of Rocket's figment.
    Figment(Connect),
}

/// Serves sessions to a Rocket instance: at ignition it sets up the backend (aborting
/// launch with a logged [`LaunchError`] when it cannot), and after each request whose
/// route took a [`Session`](crate::Session) it saves the session and adds `Set-Cookie`,
/// `Vary: Cookie` and `Cache-Control: no-store` as needed. A request that did not load
/// the session is left alone: no store access, no header.
///
/// A failed save replaces the response: 503 when the store is down, 413 when the session
/// is too large, 500 otherwise, with the cause logged. Requests on one session in one
/// process run one after another from load to save (the lock lives in `session-core`'s
/// [`ServerSide`](session_core::store::ServerSide)), so concurrent `update`s are never lost.
///
/// Attaching a second `SessionFairing` replaces the first (it is a singleton fairing).
///
/// # Secret keys
///
/// Outside the `debug` profile launch is refused when keys are needed and would be random,
/// as Rocket refuses to launch without its own `secret_key`. Precisely: with
/// [`from_figment`](Self::from_figment) or [`connect`](Self::connect), a backend that asks
/// for keys ([`LaunchSettings::keys`], as a cookie backend does) without
/// `sessions.secret_key` set aborts launch with [`LaunchError::SecretKeyRequired`]; in
/// `debug` it gets a random key and a warning. A `secret_key`, when set, must be at least
/// 32 bytes in every profile, and then also signs the id cookies of server-side stores.
/// [`new`](Self::new) and [`from_manager`](Self::from_manager) take the keys the code
/// gave, which the fairing cannot tell from random ones: the code is responsible for them.
///
/// # Examples
///
/// A store built in code, settings from `Rocket.toml` (see [`LaunchSettings`]):
///
/// ```
/// use adapter_rocket::{MemoryStore, SessionFairing};
/// use rocket::error::ErrorKind;
/// use rocket::figment::Figment;
/// use rocket::local::asynchronous::Client;
///
/// # rocket::async_test(async {
/// let figment = Figment::from(rocket::Config::debug_default())
///     .merge(("sessions.cookie_name", "sid"))
///     .merge(("sessions.idle_timeout", "soon"));
/// let rocket = rocket::custom(figment).attach(SessionFairing::from_figment(MemoryStore::default()));
/// // "soon" is not a number of seconds: launch is refused, and the reason logged.
/// let refused = Client::untracked(rocket).await.err();
/// assert!(refused.is_some_and(|e| matches!(e.kind(), ErrorKind::FailedFairings(_))));
/// # });
/// ```
pub struct SessionFairing {
    pending: Mutex<Option<Pending>>,
}

impl SessionFairing {
    /// Serves sessions from `backend` (a [`RecordStore`](session_core::store::RecordStore)
    /// such as [`MemoryStore`](crate::MemoryStore), any
    /// [`SessionBackend`](session_core::backend::SessionBackend), or a
    /// [`BoxedBackend`](crate::BoxedBackend) chosen at run time) with `config`. An invalid
    /// `config` aborts launch with [`LaunchError::Config`].
    pub fn new(backend: impl IntoSessionBackend, config: SessionConfig) -> Self {
        Self::pending(Pending::Ready(SessionManager::new(backend, config)))
    }

    /// Serves sessions from an existing manager (shared with a background task, say).
    pub fn from_manager(manager: SessionManager) -> Self {
        Self::pending(Pending::Ready(Ok(manager)))
    }

    /// Serves sessions from `backend`, with the settings of the `sessions` table of
    /// Rocket's configuration ([`LaunchSettings`]), read at ignition.
    pub fn from_figment<B>(backend: B) -> Self
    where
        B: IntoSessionBackend + Send + 'static,
    {
        Self::connect(move |_| async move { Ok::<_, std::convert::Infallible>(backend) })
    }

    /// Reads the `sessions` table at ignition and calls `connect` with it to set up the
    /// backend (`settings.url()` says where the store is; `settings.keys()` gives a cookie
    /// backend its keys). An error from `connect` aborts launch with
    /// [`LaunchError::Connect`].
    ///
    /// # Examples
    ///
    /// ```
    /// use adapter_rocket::{MemoryStore, SessionFairing};
    ///
    /// let fairing = SessionFairing::connect(|settings| async move {
    ///     match settings.url() {
    ///         None | Some("memory:") => Ok(MemoryStore::default()),
    ///         Some(other) => Err(format!("no store for {other}")),
    ///     }
    /// });
    /// let rocket = rocket::build().attach(fairing);
    /// ```
    pub fn connect<F, Fut, B, E>(connect: F) -> Self
    where
        F: FnOnce(LaunchSettings) -> Fut + Send + 'static,
        Fut: Future<Output = Result<B, E>> + Send + 'static,
        B: IntoSessionBackend,
        E: Into<BoxError>,
    {
        let connect: Connect = Box::new(move |settings: LaunchSettings| {
            Box::pin(async move {
                let config = settings.config().clone();
                let backend = connect(settings)
                    .await
                    .map_err(|error| flatten_launch_error(error.into()))?;
                Ok(SessionManager::new(backend, config)?)
            })
        });
        Self::pending(Pending::Figment(connect))
    }

    /// The manager of an ignited Rocket instance with a `SessionFairing`, for code outside
    /// requests (a maintenance task, say).
    pub fn manager<P: Phase>(rocket: &Rocket<P>) -> Option<&SessionManager> {
        rocket.state::<Managed>().map(|Managed(manager)| manager)
    }

    fn pending(pending: Pending) -> Self {
        Self {
            pending: Mutex::new(Some(pending)),
        }
    }

    async fn build_manager(&self, rocket: &Rocket<Build>) -> Result<SessionManager, LaunchError> {
        // Ignition happens once; the lock is only held to take what is pending.
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match pending {
            None => Err(LaunchError::AlreadyUsed),
            Some(Pending::Ready(manager)) => Ok(manager?),
            Some(Pending::Figment(connect)) => {
                let settings = LaunchSettings::from_figment(rocket.figment())?;
                connect(settings).await
            }
        }
    }
}

/// A [`LaunchError`] returned by a `connect` closure (`settings.keys()?`) stays itself;
/// any other error is the store's.
fn flatten_launch_error(error: BoxError) -> LaunchError {
    match error.downcast::<LaunchError>() {
        Ok(launch) => *launch,
        Err(other) => LaunchError::Connect(other),
    }
}

#[rocket::async_trait]
impl Fairing for SessionFairing {
    fn info(&self) -> Info {
        Info {
            name: "Sessions",
            kind: Kind::Ignite | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        match self.build_manager(&rocket).await {
            Ok(manager) => Ok(rocket.manage(Managed(manager))),
            Err(error) => {
                tracing::error!("sessions: {}", error_chain(&error));
                Err(rocket)
            }
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        if let Some(failure) = LoadFailure::take(request) {
            // Rocket's catcher answered the guard's failure with its own page: give the
            // visitor the same body adapter-axum does.
            *response = render(failure);
            return;
        }
        let Some(lazy) = RequestSession::of(request) else {
            return;
        };
        match lazy.finish().await {
            Ok(Some(plan)) => {
                tracing::debug!(
                    set_cookie = plan.set_cookie.is_some(),
                    status = response.status().code,
                    "session saved"
                );
                let vary: Vec<String> = response.headers().get("Vary").map(str::to_owned).collect();
                for op in plan.header_ops(vary.iter().map(String::as_str)) {
                    apply(response, op);
                }
            }
            Ok(None) => {}
            Err(error) => {
                let failure = ErrorResponse::for_error(&error);
                failure.log(&error, "saving the session");
                *response = render(failure);
            }
        }
    }
}

/// Applies one header operation: translation, nothing decided here.
fn apply(response: &mut Response<'_>, op: HeaderOp) {
    match op {
        HeaderOp::Append { name, value } => {
            response.adjoin_header(Header::new(name, value));
        }
        HeaderOp::Replace { name, value } => {
            response.set_header(Header::new(name, value));
        }
    }
}

impl fmt::Debug for SessionFairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let state = match &*pending {
            None => "ignited",
            Some(Pending::Ready(_)) => "built in code",
            Some(Pending::Figment(_)) => "from the figment, at ignition",
        };
        f.debug_struct("SessionFairing")
            .field("manager", &state)
            .finish()
    }
}
