//! [`Error`]: a [`SessionError`] as an HTTP response, so handlers can use `?`.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use session_core::adapter::ErrorResponse;
use session_core::SessionError;

/// A [`SessionError`] that axum can answer with, so handlers can return
/// `Result<_, adapter_axum::Error>` and use `?` on session calls.
///
/// axum needs a handler's error type to implement [`IntoResponse`]; [`SessionError`]
/// lives in `session-core`, which knows no web framework, so this newtype does it here.
/// The status, body and log level are `session-core`'s [`ErrorResponse`], the same as
/// `adapter-rocket`'s:
///
/// | error | status | body |
/// |---|---|---|
/// | [`SessionError::TooLarge`] | 413 | the size and the limit |
/// | a store that is down ([`SessionError::is_unavailable`]) | 503 | "try again later" |
/// | anything else | 500 | a generic message |
///
/// # Examples
///
/// ```
/// use adapter_axum::{Error, Session, SessionError};
/// use axum::response::IntoResponse as _;
///
/// async fn show(session: Session) -> Result<String, Error> {
///     Ok(session.get::<String>("username")?.unwrap_or_default())
/// }
///
/// let too_large = SessionError::TooLarge { size: 5000, limit: 4093, backend: "cookie", advice: "store less" };
/// let response = Error::from(too_large).into_response();
/// assert_eq!(response.status(), 413);
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] pub SessionError);

impl Error {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        status(&ErrorResponse::for_error(&self.0))
    }

    /// The session error.
    pub fn into_inner(self) -> SessionError {
        self.0
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let response = ErrorResponse::for_error(&self.0);
        response.log(&self.0, "handling a request");
        render(response)
    }
}

/// An [`ErrorResponse`] as an axum response: its status and its `text/plain` body.
pub(crate) fn render(response: ErrorResponse) -> Response {
    (status(&response), response.body.into_owned()).into_response()
}

fn status(response: &ErrorResponse) -> StatusCode {
    StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
