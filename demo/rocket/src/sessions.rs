//! The per-user routes: where the user is signed in, and ending some or all of those
//! sessions; the same statuses and pages as demo-axum's.

use adapter_rocket::Session;
use demo_support::Templates;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::content::{RawHtml, RawJson};
use rocket::response::Redirect;
use rocket::{Route, State};

use crate::form::Submitted;
use crate::routes::{Answer, Error};

/// The per-user routes.
pub(crate) fn routes() -> Vec<Route> {
    rocket::routes![page, api, revoke, revoke_others, logout_everywhere]
}

/// The request's `User-Agent`, for the login's entry in the user's list.
pub(crate) struct UserAgent(pub(crate) Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UserAgent {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Self(
            request.headers().get_one("User-Agent").map(str::to_owned),
        ))
    }
}

fn not_logged_in() -> Answer {
    Answer::text(Status::Unauthorized, "Not logged in")
}

/// Where the user is signed in, with revoke buttons; 501 on backends without the index
/// (the session's own error), 401 when nobody is logged in.
#[rocket::get("/sessions")]
async fn page(templates: &State<Templates>, session: Session) -> Result<Answer, Error> {
    let sessions = session.live_sessions().await?;
    let Some(principal) = session.principal() else {
        return Ok(not_logged_in());
    };
    let page = templates.sessions(principal.name(), &sessions)?;
    Ok(Answer::Page((Status::Ok, RawHtml(page))))
}

/// The same list as JSON.
#[rocket::get("/api/sessions")]
async fn api(session: Session) -> Result<Answer, Error> {
    let sessions = session.live_sessions().await?;
    if session.principal().is_none() {
        return Ok(not_logged_in());
    }
    let json = demo_support::sessions_json(&sessions);
    Ok(Answer::Json((Status::Ok, RawJson(json))))
}

#[derive(rocket::FromForm)]
struct RevokeForm {
    handle: Option<String>,
}

/// Ends one of the user's sessions; an unknown handle (or another user's) is a 404.
#[rocket::post("/sessions/revoke", data = "<form>")]
async fn revoke(session: Session, form: Submitted<RevokeForm>) -> Result<Answer, Error> {
    if let Submitted::TooLarge = form {
        return Ok(Answer::too_large());
    }
    let submitted = form.fields().and_then(|fields| fields.handle);
    // Asked first, so a backend without the index answers 501 whatever the form holds.
    session.live_sessions().await?;
    if session.principal().is_none() {
        return Ok(not_logged_in());
    }
    let Some(handle) = demo_support::handle(submitted.as_deref()) else {
        return Ok(Answer::text(Status::NotFound, "No such session"));
    };
    if !session.revoke(&handle).await? {
        return Ok(Answer::text(Status::NotFound, "No such session"));
    }
    Ok(Answer::Redirect(Redirect::to("/sessions")))
}

/// Ends every other session of the user ("sign out other devices").
#[rocket::post("/sessions/revoke-others")]
async fn revoke_others(session: Session) -> Result<Redirect, Error> {
    session.revoke_others().await?;
    Ok(Redirect::to("/sessions"))
}

/// Ends every session of the user, this one included.
#[rocket::post("/logout-everywhere")]
async fn logout_everywhere(session: Session) -> Result<Redirect, Error> {
    session.log_out_everywhere().await?;
    Ok(Redirect::to("/"))
}
