//! The demo's routes, as DESIGN.md's demo contract describes them.

use std::sync::Arc;
use std::time::Duration;

use adapter_axum::Session;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, State};
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use demo_support::{TemplateError, Templates};
use serde::Deserialize;

/// The largest request body accepted: well above the 1 MiB a server-side session holds,
/// so that a session too large for its backend is refused by the session (a 413 naming
/// the session's size and limit) rather than by the body limit.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    templates: Arc<Templates>,
    /// `--remember-for`: the idle window of a session logged in with "Remember me".
    remember_for: Duration,
}

/// The demo's routes, without the session layer; `remember_for` is `--remember-for`.
pub(crate) fn router(templates: Templates, remember_for: Duration) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/show", get(show))
        .route("/counter", post(counter))
        .route("/data", post(data))
        .route("/flash", post(flash))
        .route("/logout", get(logout).post(logout))
        .route("/sessions", get(sessions_page))
        .route("/api/sessions", get(sessions_api))
        .route("/sessions/revoke", post(revoke))
        .route("/sessions/revoke-others", post(revoke_others))
        .route("/logout-everywhere", post(logout_everywhere))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(AppState {
            templates: Arc::new(templates),
            remember_for,
        })
}

/// The fields of a submitted form; `None` when the body is not a form (a missing field,
/// for the handler to refuse with 400).
fn form_fields<T>(form: Result<Form<T>, FormRejection>) -> Result<Option<T>, BodyTooLarge> {
    match form {
        Ok(Form(fields)) => Ok(Some(fields)),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(BodyTooLarge),
        Err(_) => Ok(None),
    }
}

/// A request body over [`BODY_LIMIT`].
struct BodyTooLarge;

impl IntoResponse for BodyTooLarge {
    fn into_response(self) -> Response {
        let message = format!("The request body is over the {BODY_LIMIT}-byte limit.");
        (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
    }
}

/// The home page: who is logged in, and pending flash messages (shown once).
async fn index(State(app): State<AppState>, session: Session) -> Result<Html<String>, Error> {
    let username = session.get::<String>("username")?;
    let flashes = session.take_flashes();
    Ok(Html(app.templates.index(username.as_deref(), &flashes)?))
}

/// The login form. It does not take the session: showing it costs no store access.
async fn login_form(State(app): State<AppState>) -> Result<Html<String>, Error> {
    Ok(Html(app.templates.login(None, None, None)?))
}

#[derive(Deserialize)]
struct LoginForm {
    username: Option<String>,
    /// The "Remember me" checkbox: `on` when ticked, absent otherwise.
    remember: Option<String>,
}

/// Logs in: a new session id (against session fixation), the name, a welcome flash;
/// with "Remember me", a persistent cookie and `--remember-for` as the idle window.
async fn login(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Error> {
    let fields = match form_fields(form) {
        Ok(fields) => fields,
        Err(too_large) => return Ok(too_large.into_response()),
    };
    let (submitted, remember) = fields.map_or((None, None), |f| (f.username, f.remember));
    let name = match demo_support::username(submitted.as_deref()) {
        Ok(name) => name,
        Err(invalid) => {
            let page =
                app.templates
                    .login(None, Some(&invalid.to_string()), submitted.as_deref())?;
            return Ok((StatusCode::BAD_REQUEST, Html(page)).into_response());
        }
    };
    session.regenerate();
    session.insert("username", name)?;
    demo_support::tie_login(&session, name, user_agent(&headers))?;
    if demo_support::remember_me(remember.as_deref()) {
        session.remember_for(app.remember_for)?;
    }
    session.flash(demo_support::welcome(name))?;
    Ok(Redirect::to("/").into_response())
}

/// The user name as plain text, byte for byte; 401 when nobody is logged in.
async fn show(session: Session) -> Result<Response, Error> {
    Ok(match session.get::<String>("username")? {
        Some(name) => name.into_response(),
        None => (StatusCode::UNAUTHORIZED, "Not logged in").into_response(),
    })
}

/// Adds one to the session's counter and answers the value that was stored: concurrent
/// requests all count, in this process or another one on the same store, and no two
/// answer the same value.
async fn counter(session: Session) -> Result<String, Error> {
    let value = session
        .update_committed("counter", |n: Option<i64>| n.unwrap_or(0).saturating_add(1))
        .await?;
    Ok(value.to_string())
}

#[derive(Deserialize)]
struct DataForm {
    key: Option<String>,
    value: Option<String>,
}

/// Stores a string under a key; a session too large for its backend is a 413 that says
/// so (from [`adapter_axum::Error`]).
async fn data(
    session: Session,
    form: Result<Form<DataForm>, FormRejection>,
) -> Result<Response, Error> {
    let fields = match form_fields(form) {
        Ok(fields) => fields.and_then(|fields| Some((fields.key?, fields.value?))),
        Err(too_large) => return Ok(too_large.into_response()),
    };
    let Some((key, value)) = fields.filter(|(key, _)| !key.is_empty()) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            "The form needs a non-empty `key` and a `value`.",
        )
            .into_response());
    };
    session.insert(key, value)?;
    Ok("Stored".into_response())
}

#[derive(Deserialize)]
struct FlashForm {
    message: Option<String>,
}

/// Leaves a message for the next page, as Flask's `flash`: shown once on `/`.
async fn flash(
    session: Session,
    form: Result<Form<FlashForm>, FormRejection>,
) -> Result<Response, Error> {
    let submitted = match form_fields(form) {
        Ok(fields) => fields.and_then(|fields| fields.message),
        Err(too_large) => return Ok(too_large.into_response()),
    };
    match demo_support::message(submitted.as_deref()) {
        Ok(message) => {
            session.flash(message)?;
            Ok(Redirect::to("/").into_response())
        }
        Err(invalid) => Ok((StatusCode::BAD_REQUEST, invalid.to_string()).into_response()),
    }
}

/// Ends the session: gone on the server, removal cookie on the client.
async fn logout(session: Session) -> Redirect {
    session.destroy();
    Redirect::to("/")
}

/// The request's `User-Agent`, when it is text.
fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(USER_AGENT)?.to_str().ok()
}

/// 401 for the per-user routes when nobody is logged in.
fn not_logged_in() -> Response {
    (StatusCode::UNAUTHORIZED, "Not logged in").into_response()
}

/// Where the user is signed in, with revoke buttons; 501 on backends without the index
/// (the session's own error), 401 when nobody is logged in.
async fn sessions_page(State(app): State<AppState>, session: Session) -> Result<Response, Error> {
    let sessions = session.live_sessions().await?;
    let Some(principal) = session.principal() else {
        return Ok(not_logged_in());
    };
    let page = app.templates.sessions(principal.name(), &sessions)?;
    Ok(Html(page).into_response())
}

/// The same list as JSON.
async fn sessions_api(session: Session) -> Result<Response, Error> {
    let sessions = session.live_sessions().await?;
    if session.principal().is_none() {
        return Ok(not_logged_in());
    }
    let json = demo_support::sessions_json(&sessions);
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}

#[derive(Deserialize)]
struct RevokeForm {
    handle: Option<String>,
}

/// Ends one of the user's sessions; an unknown handle (or another user's) is a 404.
async fn revoke(
    session: Session,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Result<Response, Error> {
    let submitted = match form_fields(form) {
        Ok(fields) => fields.and_then(|fields| fields.handle),
        Err(too_large) => return Ok(too_large.into_response()),
    };
    // Asked first, so a backend without the index answers 501 whatever the form holds.
    session.live_sessions().await?;
    if session.principal().is_none() {
        return Ok(not_logged_in());
    }
    let Some(handle) = demo_support::handle(submitted.as_deref()) else {
        return Ok((StatusCode::NOT_FOUND, "No such session").into_response());
    };
    if !session.revoke(&handle).await? {
        return Ok((StatusCode::NOT_FOUND, "No such session").into_response());
    }
    Ok(Redirect::to("/sessions").into_response())
}

/// Ends every other session of the user ("sign out other devices").
async fn revoke_others(session: Session) -> Result<Redirect, Error> {
    session.revoke_others().await?;
    Ok(Redirect::to("/sessions"))
}

/// Ends every session of the user, this one included.
async fn logout_everywhere(session: Session) -> Result<Redirect, Error> {
    session.log_out_everywhere().await?;
    Ok(Redirect::to("/"))
}

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Session(#[from] adapter_axum::Error),
    #[error("could not render a page")]
    Template(#[from] TemplateError),
}

impl From<adapter_axum::SessionError> for Error {
    fn from(error: adapter_axum::SessionError) -> Self {
        Self::Session(error.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::Session(error) => error.into_response(),
            Self::Template(error) => {
                tracing::error!(%error, "could not render a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error: could not render the page.",
                )
                    .into_response()
            }
        }
    }
}
