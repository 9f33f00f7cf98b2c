//! [`SessionService`]: puts a [`LazySession`] into each request and saves what the
//! handler did.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use axum::BoxError;
use http::header::{InvalidHeaderValue, COOKIE, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use session_core::adapter::{ErrorResponse, HeaderOp, LazySession, SessionManager};
use session_core::SessionError;
use tower_service::Service;
use tracing::{debug, Instrument};

use crate::error::render;
use crate::ResponseFuture;

/// The middleware [`SessionLayer`](crate::SessionLayer) builds.
///
/// Before the handler it puts a [`LazySession`] for the request's session cookie into the
/// request's extensions; the [`Session`](crate::Session) extractor loads from it on first use. After
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
        // Raw bytes: a stray non-UTF-8 byte in another cookie must not hide the session's.
        let lazy = Arc::new(
            self.manager.request_with_headers(
                request
                    .headers()
                    .get_all(COOKIE)
                    .iter()
                    .map(HeaderValue::as_bytes),
            ),
        );
        request.extensions_mut().insert(Arc::clone(&lazy));
        // `poll_ready` readied `self.inner`; use that one and leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // If this future is dropped (client gone), `lazy` and the request are dropped with
        // it, and so is the session with the per-session lock it holds.
        let respond = async move {
            let response = inner.call(request).await?.map(Body::new);
            Ok(finish(&lazy, response).await)
        };
        let span = tracing::debug_span!("session");
        if span.is_disabled() {
            // Nobody listens: entering and leaving a disabled span on every poll still costs
            // (much more with `tracing`'s `log` feature, which sqlx turns on).
            ResponseFuture::new(respond)
        } else {
            ResponseFuture::new(respond.instrument(span))
        }
    }
}

/// Saves the session if the handler loaded it, and applies the headers the save calls for.
async fn finish(lazy: &LazySession, mut response: Response) -> Response {
    let plan = match lazy.finish().await {
        Ok(Some(plan)) => plan,
        Ok(None) => return response,
        Err(error) => {
            let failure = ErrorResponse::for_error(&error);
            failure.log(&error, "saving the session");
            return render(failure);
        }
    };
    debug!(
        set_cookie = plan.set_cookie.is_some(),
        status = response.status().as_u16(),
        "session saved"
    );
    let headers = response.headers_mut();
    let vary: Vec<String> = headers
        .get_all(VARY)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect();
    for op in plan.header_ops(vary.iter().map(String::as_str)) {
        if let Err(error) = apply(headers, op) {
            let error = SessionError::Encode(Box::new(error));
            let failure = ErrorResponse::for_error(&error);
            failure.log(&error, "sending the session cookie");
            return render(failure);
        }
    }
    response
}

/// Applies one header operation: translation, nothing decided here.
fn apply(headers: &mut HeaderMap, op: HeaderOp) -> Result<(), InvalidHeaderValue> {
    let value = |value: Cow<'static, str>| {
        // A constant is used in place, a built value (the cookie) without a copy; both are
        // checked, so nothing here can panic.
        HeaderValue::from_maybe_shared(match value {
            Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
            Cow::Owned(text) => Bytes::from(text),
        })
    };
    match op {
        HeaderOp::Append { name, value: text } => {
            headers.append(HeaderName::from_static(name), value(text)?);
        }
        HeaderOp::Replace { name, value: text } => {
            headers.insert(HeaderName::from_static(name), value(text)?);
        }
    }
    Ok(())
}

impl<S: fmt::Debug> fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("config", self.manager.config())
            .finish_non_exhaustive()
    }
}
