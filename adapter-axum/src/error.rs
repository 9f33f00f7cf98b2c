//! [`Error`]: a [`SessionError`] as an HTTP response, so handlers can use `?`.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use session_core::SessionError;

/// A [`SessionError`] that axum can answer with, so handlers can return
/// `Result<_, adapter_axum::Error>` and use `?` on session calls.
///
/// axum needs a handler's error type to implement [`IntoResponse`]; [`SessionError`]
/// lives in `session-core`, which knows no web framework, so this newtype does it here.
///
/// | error | status | body |
/// |---|---|---|
/// | [`SessionError::TooLarge`] | 413 | the error's message: the size and the limit |
/// | a store that is down ([`SessionError::is_unavailable`]) | 503 | "try again later" |
/// | anything else | 500 | a generic message |
///
/// The cause is logged with `tracing` (never a session id or a secret: no
/// [`SessionError`] carries one).
///
/// # Examples
///
/// ```
/// use adapter_axum::{Error, Session};
/// use axum::response::IntoResponse as _;
///
/// async fn show(session: Session) -> Result<String, Error> {
///     Ok(session.get::<String>("username")?.unwrap_or_default())
/// }
///
/// let too_large = adapter_axum::SessionError::TooLarge {
///     size: 5000,
///     limit: 4093,
///     backend: "cookie",
///     advice: "store less",
/// };
/// let response = Error::from(too_large).into_response();
/// assert_eq!(response.status(), 413);
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] pub SessionError);

impl Error {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        status_for(&self.0)
    }

    /// The session error.
    pub fn into_inner(self) -> SessionError {
        self.0
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        respond(&self.0, "handling a request")
    }
}

/// The status for a session error: 413, 503 or 500, as [`SessionError::http_status`] says.
pub(crate) fn status_for(error: &SessionError) -> StatusCode {
    StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Logs `error` (what the adapter was doing when it happened) and answers with its status
/// and a message safe to show a visitor.
pub(crate) fn respond(error: &SessionError, doing: &'static str) -> Response {
    let status = status_for(error);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        tracing::warn!(%error, doing, "session too large");
    } else {
        tracing::error!(%error, doing, "session error");
    }
    (status, error.public_message().into_owned()).into_response()
}
