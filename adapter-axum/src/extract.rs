//! The [`Session`] extractor and its [`SessionRejection`].

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use session_core::adapter::{ErrorResponse, LazySession};
use session_core::SessionError;

use crate::error::render;

/// The session of the current request, as a handler argument.
///
/// Loading happens here, on first use, so only handlers that take a `Session` touch the
/// store; taking it twice in one request loads once. It dereferences to
/// [`session_core::Session`], whose methods (`get`, `insert`, `update`, `regenerate`,
/// `destroy`, `flash`...) are synchronous. [`SessionLayer`](crate::SessionLayer) saves it
/// after the handler.
///
/// `Option<Session>` is `None` when no [`SessionLayer`](crate::SessionLayer) wraps the
/// route, for handlers that work with or without sessions.
///
/// # Examples
///
/// ```
/// use adapter_axum::{Error, MemoryStore, Session, SessionConfig, SessionLayer};
/// use axum::{body::Body, http::Request, routing::post, Router};
/// use tower::ServiceExt as _;
///
/// async fn count(session: Session) -> Result<String, Error> {
///     Ok(session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?.to_string())
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let app = Router::new()
///     .route("/count", post(count))
///     .layer(SessionLayer::new(MemoryStore::default(), SessionConfig::default()));
/// let request = Request::post("/count").body(Body::empty())?;
/// let response = app.oneshot(request).await?;
/// assert!(response.headers()["set-cookie"].to_str()?.starts_with("session="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
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

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(lazy) = parts.extensions.get::<Arc<LazySession>>().cloned() else {
            let rejection = SessionRejection::MissingLayer;
            tracing::error!(path = parts.uri.path(), "{rejection}");
            return Err(rejection);
        };
        load(&lazy).await
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Arc<LazySession>>().cloned() {
            None => Ok(None),
            Some(lazy) => load(&lazy).await.map(Some),
        }
    }
}

async fn load(lazy: &LazySession) -> Result<Session, SessionRejection> {
    // An outage must not look like a logout: the request fails instead.
    lazy.session()
        .await
        .map(Session)
        .map_err(SessionRejection::Load)
}

const MISSING_LAYER: &str = "no session for this request: add `SessionLayer` to the router, \
     with `.layer(SessionLayer::new(..))` after the routes that take a `Session`";

/// Why a [`Session`] could not be extracted.
///
/// | variant | status | body |
/// |---|---|---|
/// | [`MissingLayer`](Self::MissingLayer) | 500 | says to add `SessionLayer` to the router |
/// | [`Load`](Self::Load) | 503 for a store that is down, else 500 | `session-core`'s [`ErrorResponse`]; the cause is logged, not shown |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionRejection {
    /// The route is not wrapped by a [`SessionLayer`](crate::SessionLayer).
    #[error("{}", MISSING_LAYER)]
    MissingLayer,
    /// The backend failed to load the session (a store that is down, say). The visitor is
    /// not logged out silently: the request fails and can be retried.
    #[error("the session could not be loaded")]
    Load(#[source] SessionError),
}

impl SessionRejection {
    /// The response this rejection is answered with.
    pub fn error_response(&self) -> ErrorResponse {
        match self {
            Self::MissingLayer => ErrorResponse::missing_layer(MISSING_LAYER),
            Self::Load(error) => ErrorResponse::for_error(error),
        }
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let response = self.error_response();
        if let Self::Load(error) = &self {
            response.log(error, "loading the session");
        }
        render(response)
    }
}
