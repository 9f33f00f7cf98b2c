//! [`Error`]: a [`SessionError`] as an HTTP response, so handlers can use `?`; and the
//! one place that turns a session error into a status and a body.

use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use session_core::SessionError;

/// A [`SessionError`] that Rocket can answer with, so handlers can return
/// `Result<_, adapter_rocket::Error>` and use `?` on session calls.
///
/// Rocket needs a handler's error type to implement [`Responder`]; [`SessionError`]
/// lives in `session-core`, which knows no web framework, so this newtype does it here.
///
/// | error | status | body (`text/plain`) |
/// |---|---|---|
/// | [`SessionError::TooLarge`] | 413 | the error's message: the size and the limit |
/// | a store that is down ([`SessionError::is_unavailable`]) | 503 | "try again later" |
/// | anything else | 500 | a generic message |
///
/// The cause is logged with `tracing` (never a session id or a secret: no
/// [`SessionError`] carries one). The statuses and bodies are those of `adapter-axum`.
///
/// # Examples
///
/// ```
/// use adapter_rocket::{Error, Session};
/// use rocket::http::Status;
///
/// #[rocket::post("/visit")]
/// fn visit(session: Session) -> Result<String, Error> {
///     Ok(session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?.to_string())
/// }
///
/// let too_large = Error::from(adapter_rocket::SessionError::TooLarge {
///     size: 5000,
///     limit: 4093,
///     backend: "cookie",
///     advice: "store less",
/// });
/// assert_eq!(too_large.status(), Status::PayloadTooLarge);
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] pub SessionError);

impl Error {
    /// The status this error is answered with.
    pub fn status(&self) -> Status {
        status_for(&self.0)
    }

    /// The session error.
    pub fn into_inner(self) -> SessionError {
        self.0
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, _request: &'r Request<'_>) -> response::Result<'static> {
        Ok(error_response(&self.0, "handling a request"))
    }
}

/// The status for a session error: 413, 503 or 500, as [`SessionError::http_status`] says.
pub(crate) fn status_for(error: &SessionError) -> Status {
    Status::from_code(error.http_status()).unwrap_or(Status::InternalServerError)
}

/// Logs `error` (with what the adapter was `doing`) and builds the response for it: its
/// status and a message safe to show a visitor.
pub(crate) fn error_response(error: &SessionError, doing: &'static str) -> Response<'static> {
    let status = status_for(error);
    if status == Status::PayloadTooLarge {
        tracing::warn!(%error, doing, "session too large");
    } else {
        tracing::error!(%error, doing, "session error");
    }
    plain(status, error.public_message().into_owned())
}

/// A `text/plain` response.
pub(crate) fn plain(status: Status, body: String) -> Response<'static> {
    Response::build()
        .status(status)
        .header(ContentType::Plain)
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}
