//! [`Submitted`]: a form body as the demo's handlers want it, never a guard failure.

use std::convert::Infallible;

use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;

/// A submitted form: its fields, or why there are none. Unlike Rocket's `Form`, it never
/// fails or forwards, so a missing or malformed body is the handler's 400 (as on axum),
/// and a body over the `form` limit its 413.
pub(crate) enum Submitted<T> {
    /// The parsed fields (missing ones are `None` in `T`).
    Fields(T),
    /// The body is not a form (wrong content type, or fields that do not parse).
    NotAForm,
    /// The body is over Rocket's `form` limit.
    TooLarge,
}

impl<T> Submitted<T> {
    /// The fields, if the body was a form.
    pub(crate) fn fields(self) -> Option<T> {
        match self {
            Self::Fields(fields) => Some(fields),
            Self::NotAForm | Self::TooLarge => None,
        }
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send + 'r> FromData<'r> for Submitted<T> {
    type Error = Infallible;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        Outcome::Success(match Form::<T>::from_data(request, data).await {
            Outcome::Success(form) => Self::Fields(form.into_inner()),
            Outcome::Error((Status::PayloadTooLarge, _)) => Self::TooLarge,
            Outcome::Error(_) | Outcome::Forward(_) => Self::NotAForm,
        })
    }
}
