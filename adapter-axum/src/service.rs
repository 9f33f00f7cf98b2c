//! [`SessionService`]: puts a lazy session slot into each request and saves what the
//! handler did.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use axum::response::Response;
use axum::BoxError;
use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request};
use session_core::{SessionManager, SessionResponse};
use tower_service::Service;
use tracing::{debug, error, Instrument};

use crate::error::respond;
use crate::slot::LazySession;
use crate::ResponseFuture;

/// The middleware [`SessionLayer`](crate::SessionLayer) builds.
///
/// Before the handler it records the request's session cookie in a slot in the request's
/// extensions; the [`Session`](crate::Session) extractor loads from it on first use. After
/// the handler, if the session was loaded, it is saved (whatever the response's status)
/// and the response gets the headers the save calls for. A failed save replaces the
/// response with an error: the client must not believe a write stuck when it did not.
///
/// # Examples
///
/// ```
/// use adapter_axum::{MemoryStore, SessionConfig, SessionLayer};
/// use axum::{body::Body, http::Request, routing::get, Router};
/// use tower::ServiceExt as _;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let app = Router::new()
///     .route("/", get(|| async { "no session needed" }))
///     .layer(SessionLayer::new(MemoryStore::default(), SessionConfig::default()));
///
/// let response = app.oneshot(Request::new(Body::empty())).await?;
/// // The handler never asked for the session: nothing was loaded, nothing is sent.
/// assert!(response.headers().get("set-cookie").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    manager: SessionManager,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, manager: SessionManager) -> Self {
        Self { inner, manager }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, consuming the middleware.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: 'static,
    ReqBody: Send + 'static,
    ResBody: HttpBody<Data = axum::body::Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let cookie = self.manager.find_cookie(
            request
                .headers()
                .get_all(COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok()),
        );
        let slot = Arc::new(LazySession::new(self.manager.clone(), cookie));
        request.extensions_mut().insert(Arc::clone(&slot));
        // `poll_ready` readied `self.inner`; use that one and leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let span = tracing::debug_span!("session");
        // If this future is dropped (client gone), `slot` and the request are dropped with
        // it, and so is the session with the per-session lock it holds.
        ResponseFuture::new(
            async move {
                let response = inner.call(request).await?.map(Body::new);
                Ok(finish(&slot, response).await)
            }
            .instrument(span),
        )
    }
}

/// Saves the session if the handler loaded it, and adds the headers the save calls for.
async fn finish(slot: &LazySession, mut response: Response) -> Response {
    let Some(session) = slot.loaded() else {
        return response;
    };
    match slot.manager().save(session).await {
        Ok(saved) => {
            debug!(
                set_cookie = saved.set_cookie.is_some(),
                status = response.status().as_u16(),
                "session saved"
            );
            if let Err(error) = add_headers(response.headers_mut(), &saved) {
                error!(%error, "the session cookie is not a valid header value");
                return respond(
                    &session_core::SessionError::Encode(Box::new(error)),
                    "sending the session cookie",
                );
            }
            response
        }
        Err(error) => respond(&error, "saving the session"),
    }
}

fn add_headers(
    headers: &mut HeaderMap,
    saved: &SessionResponse,
) -> Result<(), http::header::InvalidHeaderValue> {
    for (name, value) in saved.headers() {
        let value = HeaderValue::from_str(value)?;
        match name {
            "set-cookie" => {
                headers.append(SET_COOKIE, value);
            }
            "vary" => {
                if !varies_on_cookie(headers) {
                    headers.append(VARY, value);
                }
            }
            // A response that sets a session cookie must never be cached, whatever the
            // handler said.
            "cache-control" => {
                headers.insert(CACHE_CONTROL, value);
            }
            other => {
                // Headers added to `SessionResponse` later are passed on as they are.
                if let Ok(name) = http::HeaderName::from_bytes(other.as_bytes()) {
                    headers.append(name, value);
                }
            }
        }
    }
    Ok(())
}

fn varies_on_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|field| {
            let field = field.trim();
            field == "*" || field.eq_ignore_ascii_case("cookie")
        })
}

impl<S: fmt::Debug> fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("config", self.manager.config())
            .finish_non_exhaustive()
    }
}
