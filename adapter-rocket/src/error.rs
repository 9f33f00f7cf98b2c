//! [`Error`]: a [`SessionError`] as an HTTP response, so handlers can use `?`.

use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use session_core::adapter::ErrorResponse;
use session_core::SessionError;

/// A [`SessionError`] that Rocket can answer with, so handlers can return
/// `Result<_, adapter_rocket::Error>` and use `?` on session calls.
///
/// Rocket needs a handler's error type to implement [`Responder`]; [`SessionError`]
/// lives in `session-core`, which knows no web framework, so this newtype does it here.
/// The status, body and log level are `session-core`'s [`ErrorResponse`], the same as
/// `adapter-axum`'s:
///
/// | error | status | body (`text/plain`) |
/// |---|---|---|
/// | [`SessionError::TooLarge`] | 413 | the size and the limit |
/// | a store that is down ([`SessionError::is_unavailable`]) | 503 | "try again later" |
/// | anything else | 500 | a generic message |
///
/// # Examples
///
/// ```
/// use adapter_rocket::{Error, Session, SessionError};
/// use rocket::http::Status;
///
/// #[rocket::post("/visit")]
/// fn visit(session: Session) -> Result<String, Error> {
///     Ok(session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?.to_string())
/// }
///
/// let too_large = Error::from(SessionError::TooLarge { size: 5000, limit: 4093, backend: "cookie", advice: "store less" });
/// assert_eq!(too_large.status(), Status::PayloadTooLarge);
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] pub SessionError);

impl Error {
    /// The status this error is answered with.
    pub fn status(&self) -> Status {
        status(&ErrorResponse::for_error(&self.0))
    }

    /// The session error.
    pub fn into_inner(self) -> SessionError {
        self.0
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, _request: &'r Request<'_>) -> response::Result<'static> {
        let response = ErrorResponse::for_error(&self.0);
        response.log(&self.0, "handling a request");
        Ok(render(response))
    }
}

/// An [`ErrorResponse`] as a Rocket response: its status and its `text/plain` body.
pub(crate) fn render(response: ErrorResponse) -> Response<'static> {
    let body = response.body.into_owned();
    Response::build()
        .status(Status::new(response.status))
        .header(ContentType::Plain)
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

pub(crate) fn status(response: &ErrorResponse) -> Status {
    Status::new(response.status)
}
