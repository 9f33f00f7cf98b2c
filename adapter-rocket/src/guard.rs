//! The [`Session`] request guard, its [`Sentinel`] and its [`SessionRejection`].

use std::ops::Deref;
use std::sync::{Mutex, PoisonError};

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};
use session_core::adapter::{ErrorResponse, LazySession, SessionManager};
use session_core::SessionError;

/// What the fairing manages at ignition: the manager every guard loads with.
pub(crate) struct Managed(pub(crate) SessionManager);

/// The request's [`LazySession`], in the request's local cache: a second guard in the same
/// request gets the same session, and the fairing's `on_response` finds what the guard
/// loaded. `None` when no guard ran.
pub(crate) struct RequestSession(pub(crate) Option<LazySession>);

impl RequestSession {
    /// The request's session, if a guard opened one.
    pub(crate) fn of<'r>(request: &'r Request<'_>) -> Option<&'r LazySession> {
        request.local_cache(|| RequestSession(None)).0.as_ref()
    }
}

/// A guard's failure to load, for the fairing to answer with `session-core`'s body
/// (Rocket's catchers only see the status).
#[derive(Default)]
pub(crate) struct LoadFailure(Mutex<Option<ErrorResponse>>);

impl LoadFailure {
    /// The failure recorded for `request`, taken (so it is answered once).
    pub(crate) fn take(request: &Request<'_>) -> Option<ErrorResponse> {
        request
            .local_cache(LoadFailure::default)
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn record(request: &Request<'_>, response: ErrorResponse) {
        *request
            .local_cache(LoadFailure::default)
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(response);
    }
}

/// The session of the current request, as a request guard.
///
/// Loading happens here, so only routes that take a `Session` touch the store; taking it
/// twice in one request (two guards, or a forward to another route) loads once. It
/// dereferences to [`session_core::Session`], whose methods (`get`, `insert`, `update`,
/// `regenerate`, `destroy`, `flash`...) are synchronous; return
/// `Result<_, adapter_rocket::Error>` to use `?` on them.
/// [`SessionFairing`](crate::SessionFairing) saves it after the handler.
///
/// | outcome | when |
/// |---|---|
/// | success | the session, or a fresh anonymous one for a missing, forged, expired or unknown cookie |
/// | error 503 | the store failed (the cause is logged): never a silent logout; the body is `session-core`'s [`ErrorResponse`], as on Axum |
/// | error 500 | no [`SessionFairing`](crate::SessionFairing) is attached (normally caught at launch by the sentinel) |
///
/// # Sentinel
///
/// A route that takes `Session` (or `Option<Session>`) aborts launch when no
/// [`SessionFairing`](crate::SessionFairing) is attached, instead of failing on the first
/// request.
///
/// # Examples
///
/// ```
/// use adapter_rocket::{Error, MemoryStore, Session, SessionConfig, SessionFairing};
/// use rocket::error::ErrorKind;
/// use rocket::local::asynchronous::Client;
///
/// #[rocket::post("/count")]
/// fn count(session: Session) -> Result<String, Error> {
///     Ok(session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?.to_string())
/// }
///
/// # rocket::async_test(async {
/// let rocket = rocket::build()
///     .mount("/", rocket::routes![count])
///     .attach(SessionFairing::new(MemoryStore::default(), SessionConfig::default()));
/// let client = Client::untracked(rocket).await?;
/// let response = client.post("/count").dispatch().await;
/// let set_cookie = response.headers().get_one("Set-Cookie").unwrap_or_default();
/// assert!(set_cookie.starts_with("session="));
/// assert_eq!(response.into_string().await.as_deref(), Some("1"));
///
/// // Without the fairing, launch is refused.
/// let bare = rocket::build().mount("/", rocket::routes![count]);
/// let refused = Client::untracked(bare).await.err();
/// assert!(refused.is_some_and(|e| matches!(e.kind(), ErrorKind::SentinelAborts(_))));
/// # Ok::<(), rocket::Error>(())
/// # })?;
/// # Ok::<(), rocket::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Session(session_core::Session);

impl Session {
    /// The framework-independent session handle.
    pub fn into_inner(self) -> session_core::Session {
        self.0
    }
}

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<Session> for session_core::Session {
    fn from(session: Session) -> Self {
        session.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session {
    type Error = SessionRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let Some(Managed(manager)) = request.rocket().state::<Managed>() else {
            let rejection = SessionRejection::MissingFairing;
            tracing::error!(path = %request.uri().path(), "{rejection}");
            return Outcome::Error((Status::InternalServerError, rejection));
        };
        let opened = request.local_cache(|| {
            let headers = request.headers().get("Cookie").map(str::as_bytes);
            RequestSession(Some(manager.request_with_headers(headers)))
        });
        let Some(lazy) = &opened.0 else {
            // The fairing looked first (a response for a request no guard had run on):
            // cannot happen before a handler, but never panic.
            return Outcome::Error((
                Status::InternalServerError,
                SessionRejection::MissingFairing,
            ));
        };
        match lazy.session().await {
            Ok(session) => Outcome::Success(Session(session)),
            Err(error) => {
                // An outage must not look like a logout: the request fails instead, and
                // the fairing answers with the same body as adapter-axum.
                let response = ErrorResponse::for_error(&error);
                response.log(&error, "loading the session");
                let status = Status::new(response.status);
                LoadFailure::record(request, response);
                Outcome::Error((status, SessionRejection::Load(error)))
            }
        }
    }
}

impl Sentinel for Session {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<Managed>().is_some() {
            return false;
        }
        tracing::error!(
            "a route takes `adapter_rocket::Session` but no `SessionFairing` is attached: add \
             `.attach(SessionFairing::new(store, config))` (or `SessionFairing::from_figment`) \
             to the Rocket instance"
        );
        true
    }
}

/// Why a [`Session`] guard failed.
///
/// | variant | status |
/// |---|---|
/// | [`MissingFairing`](Self::MissingFairing) | 500 |
/// | [`Load`](Self::Load) | 503 for a store that is down, else 500; the cause is logged |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No [`SessionFairing`](crate::SessionFairing) is attached to the Rocket instance.
    #[error(
        "no session for this request: attach `SessionFairing` to the Rocket instance with \
         `.attach(SessionFairing::new(..))`"
    )]
    MissingFairing,
    /// The backend failed to load the session (a store that is down, say). The visitor is
    /// not logged out silently: the request fails and can be retried.
    #[error("the session could not be loaded")]
    Load(#[source] SessionError),
}
