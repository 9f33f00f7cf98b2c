//! Run with: `cargo run -p flask-tutorials --example tutorial-set-get-del -- --port 5000`
//!
//! Tutorial 002 (`tests/python/tutorials/002_set_get_del/app.py`): `/set_session` stores
//! `name` and `password` in a permanent session (five minutes); `/get_session` reads
//! `session['name']` (an error when missing) and `session.get('haha')` (`None` when
//! missing) and answers `name:python`; `/del_session` pops `name`, clears the session and
//! answers what it popped.
//!
//! Where it differs from Flask on purpose: `/get_session` without a `name` is a 404 that
//! says so, where Flask's `session['name']` raises `KeyError`, a 500; the cookie is also
//! `Secure` and `SameSite=Lax`; and an unchanged session's cookie is re-sent at most once
//! per quarter of the five minutes instead of on every request.

use std::time::Duration;

use adapter_axum::{Error, Session, SessionConfig, SessionLayer};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use session_cookie::FlaskCookieBackend;

/// `app.config['SECRET_KEY'] = 'qweqwr^%%&123?><\'][ddd'`
const SECRET_KEY: &str = r"qweqwr^%%&123?><'][ddd";

/// `app.permanent_session_lifetime = timedelta(minutes=5)`
const LIFETIME: Duration = Duration::from_secs(5 * 60);

async fn set_session(session: Session) -> Result<&'static str, Error> {
    // session.permanent = True
    session.set_permanent(true)?;
    // session['name'] = 'python'; session['password'] = '123456'
    session.insert("name", "python")?;
    session.insert("password", "123456")?;
    Ok("session")
}

async fn get_session(session: Session) -> Result<Response, Error> {
    // name = session['name']: Flask raises KeyError (a 500) when it is missing.
    let Some(name) = session.get::<String>("name")? else {
        return Ok((
            StatusCode::NOT_FOUND,
            "the session has no 'name': visit /set_session first\n",
        )
            .into_response());
    };
    eprintln!("{name}");
    // pwd = session.get('haha'): None when missing.
    let pwd = session.get::<String>("haha")?;
    eprintln!("{}", pwd.as_deref().unwrap_or("None"));
    Ok(format!("name:{name}").into_response())
}

async fn del_session(session: Session) -> Result<String, Error> {
    // result = session.pop('name', None)
    let result = session.pop::<String>("name")?;
    // session.clear()
    session.clear();
    Ok(format!(
        "删除session {} ",
        result.as_deref().unwrap_or("None")
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/set_session", get(set_session))
        .route("/get_session", get(get_session))
        .route("/del_session", get(del_session))
        .layer(SessionLayer::new(
            FlaskCookieBackend::new(SECRET_KEY),
            SessionConfig::default().with_lifetime(LIFETIME),
        ));
    flask_tutorials::serve(app).await
}
