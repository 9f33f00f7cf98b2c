//! The demo's routes, as DESIGN.md's demo contract describes them; the same pages,
//! statuses and messages as demo-axum.

use std::time::Duration;

use adapter_rocket::Session;
use demo_support::{TemplateError, Templates};
use rocket::http::Status;
use rocket::response::content::{RawHtml, RawJson};
use rocket::response::{self, Redirect, Responder};
use rocket::{Catcher, Request, Route, State};

use crate::form::Submitted;
use crate::sessions::UserAgent;
use crate::BODY_LIMIT;

/// What a handler answers.
// Built once per request and moved straight into the response: boxing the redirect
// would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(rocket::Responder)]
pub(crate) enum Answer {
    Redirect(Redirect),
    Page((Status, RawHtml<String>)),
    Json((Status, RawJson<String>)),
    Text((Status, String)),
}

impl Answer {
    pub(crate) fn text(status: Status, text: impl Into<String>) -> Self {
        Self::Text((status, text.into()))
    }

    pub(crate) fn too_large() -> Self {
        let message = format!("The request body is over the {BODY_LIMIT}-byte limit.");
        Self::text(Status::PayloadTooLarge, message)
    }
}

/// The demo's routes.
pub(crate) fn routes() -> Vec<Route> {
    rocket::routes![
        index,
        login_form,
        login,
        show,
        counter,
        data,
        flash,
        logout_get,
        logout_post
    ]
    .into_iter()
    .chain(crate::sessions::routes())
    .collect()
}

/// Answers for failures Rocket reports through catchers: a session guard's 503 carries
/// adapter-axum's message.
pub(crate) fn catchers() -> Vec<Catcher> {
    rocket::catchers![unavailable]
}

/// The home page: who is logged in, and pending flash messages (shown once).
#[rocket::get("/")]
fn index(templates: &State<Templates>, session: Session) -> Result<RawHtml<String>, Error> {
    let username = session.get::<String>("username")?;
    let flashes = session.take_flashes();
    Ok(RawHtml(templates.index(username.as_deref(), &flashes)?))
}

/// The login form. It does not take the session: showing it costs no store access.
#[rocket::get("/login")]
fn login_form(templates: &State<Templates>) -> Result<RawHtml<String>, Error> {
    Ok(RawHtml(templates.login(None, None, None)?))
}

/// `--remember-for`: the idle window of a session logged in with "Remember me".
pub(crate) struct RememberFor(pub(crate) Duration);

#[derive(rocket::FromForm)]
struct LoginForm {
    username: Option<String>,
    /// The "Remember me" checkbox: `on` when ticked, absent otherwise.
    remember: Option<String>,
}

/// Logs in: a new session id (against session fixation), the name, a welcome flash;
/// with "Remember me", a persistent cookie and `--remember-for` as the idle window.
#[rocket::post("/login", data = "<form>")]
fn login(
    templates: &State<Templates>,
    remember_for: &State<RememberFor>,
    session: Session,
    user_agent: UserAgent,
    form: Submitted<LoginForm>,
) -> Result<Answer, Error> {
    if let Submitted::TooLarge = form {
        return Ok(Answer::too_large());
    }
    let (submitted, remember) = form
        .fields()
        .map_or((None, None), |fields| (fields.username, fields.remember));
    let name = match demo_support::username(submitted.as_deref()) {
        Ok(name) => name,
        Err(invalid) => {
            let page = templates.login(None, Some(&invalid.to_string()), submitted.as_deref())?;
            return Ok(Answer::Page((Status::BadRequest, RawHtml(page))));
        }
    };
    session.regenerate();
    session.insert("username", name)?;
    demo_support::tie_login(&session, name, user_agent.0.as_deref())?;
    if demo_support::remember_me(remember.as_deref()) {
        session.remember_for(remember_for.0)?;
    }
    session.flash(demo_support::welcome(name))?;
    Ok(Answer::Redirect(Redirect::to("/")))
}

/// The user name as plain text, byte for byte; 401 when nobody is logged in.
#[rocket::get("/show")]
fn show(session: Session) -> Result<Answer, Error> {
    Ok(match session.get::<String>("username")? {
        Some(name) => Answer::text(Status::Ok, name),
        None => Answer::text(Status::Unauthorized, "Not logged in"),
    })
}

/// Adds one to the session's counter and answers the value that was stored: concurrent
/// requests all count, in this process or another one on the same store, and no two
/// answer the same value.
#[rocket::post("/counter")]
async fn counter(session: Session) -> Result<String, Error> {
    let value = session
        .update_committed("counter", |n: Option<i64>| n.unwrap_or(0).saturating_add(1))
        .await?;
    Ok(value.to_string())
}

#[derive(rocket::FromForm)]
struct DataForm {
    key: Option<String>,
    value: Option<String>,
}

/// Stores a string under a key; a session too large for its backend is a 413 that says
/// so (from [`adapter_rocket::Error`]).
#[rocket::post("/data", data = "<form>")]
fn data(session: Session, form: Submitted<DataForm>) -> Result<Answer, Error> {
    if let Submitted::TooLarge = form {
        return Ok(Answer::too_large());
    }
    let fields = form
        .fields()
        .and_then(|fields| Some((fields.key?, fields.value?)));
    let Some((key, value)) = fields.filter(|(key, _)| !key.is_empty()) else {
        let message = "The form needs a non-empty `key` and a `value`.";
        return Ok(Answer::text(Status::BadRequest, message));
    };
    session.insert(key, value)?;
    Ok(Answer::text(Status::Ok, "Stored"))
}

#[derive(rocket::FromForm)]
struct FlashForm {
    message: Option<String>,
}

/// Leaves a message for the next page, as Flask's `flash`: shown once on `/`.
#[rocket::post("/flash", data = "<form>")]
fn flash(session: Session, form: Submitted<FlashForm>) -> Result<Answer, Error> {
    if let Submitted::TooLarge = form {
        return Ok(Answer::too_large());
    }
    let submitted = form.fields().and_then(|fields| fields.message);
    match demo_support::message(submitted.as_deref()) {
        Ok(message) => {
            session.flash(message)?;
            Ok(Answer::Redirect(Redirect::to("/")))
        }
        Err(invalid) => Ok(Answer::text(Status::BadRequest, invalid.to_string())),
    }
}

/// Ends the session: gone on the server, removal cookie on the client.
#[rocket::get("/logout")]
fn logout_get(session: Session) -> Redirect {
    logout(&session)
}

#[rocket::post("/logout")]
fn logout_post(session: Session) -> Redirect {
    logout(&session)
}

fn logout(session: &Session) -> Redirect {
    session.destroy();
    Redirect::to("/")
}

/// A session guard that could not load the session (the cause is logged by the adapter).
#[rocket::catch(503)]
fn unavailable() -> &'static str {
    "The session store is unavailable; please try again later."
}

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Session(#[from] adapter_rocket::Error),
    #[error("could not render a page")]
    Template(#[from] TemplateError),
}

impl From<adapter_rocket::SessionError> for Error {
    fn from(error: adapter_rocket::SessionError) -> Self {
        Self::Session(error.into())
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Self::Session(error) => error.respond_to(request),
            Self::Template(error) => {
                tracing::error!(%error, "could not render a page");
                let message = "Internal error: could not render the page.";
                (Status::InternalServerError, message).respond_to(request)
            }
        }
    }
}
