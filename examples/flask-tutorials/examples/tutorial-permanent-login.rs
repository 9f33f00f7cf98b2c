//! Run with: `cargo run -p flask-tutorials --example tutorial-permanent-login -- --port 5000`
//!
//! Tutorial 003, its session half (`tests/python/tutorials/003_cookie_and_session/session_app.py`):
//! tutorial 000's login (see `tutorial-login`) with `app.permanent_session_lifetime =
//! timedelta(minutes=5)` and `session.permanent = True` at login, so the cookie outlives
//! the browser and the login ends five minutes after the last visit.
//!
//! Where it differs from Flask on purpose: `/show` before a login is a 401 (Flask: a 500),
//! the cookie is also `Secure` and `SameSite=Lax`, and an unchanged session's cookie is
//! re-sent at most once per quarter of the five minutes instead of on every request
//! (Flask's `SESSION_REFRESH_EACH_REQUEST`).

use std::time::Duration;

use adapter_axum::{Error, Session, SessionConfig, SessionLayer};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use flask_tutorials::redirect;
use serde::Deserialize;
use session_cookie::FlaskCookieBackend;

/// `app.secret_key = 'F12Zr47j\3yX R~X@H!jLwf/T'`: Python reads `\3` as the byte 3.
const SECRET_KEY: &str = "F12Zr47j\x03yX R~X@H!jLwf/T";

/// `app.permanent_session_lifetime = timedelta(minutes=5)`
const LIFETIME: Duration = Duration::from_secs(5 * 60);

const LOGIN_PAGE: &str = r#"
	<form action="/do_login" method="post">
		<p>name: <input type="text" name="user_name" /></p>
		<input type="submit" value="Submit" />
	</form>
	"#;

#[derive(Deserialize)]
struct LoginForm {
    user_name: Option<String>,
}

async fn hello_world() -> &'static str {
    "hello world"
}

async fn login() -> Html<&'static str> {
    Html(LOGIN_PAGE)
}

async fn do_login(session: Session, Form(form): Form<LoginForm>) -> Result<&'static str, Error> {
    // session.permanent = True
    session.set_permanent(true)?;
    session.insert("user_name", form.user_name)?;
    Ok("success")
}

async fn show(session: Session) -> Result<Response, Error> {
    Ok(match session.get::<String>("user_name")? {
        Some(name) => name.into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            "not logged in: post your name from /login first\n",
        )
            .into_response(),
    })
}

async fn logout(session: Session) -> Response {
    session.remove("user_name");
    redirect("/login")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/", get(hello_world))
        .route("/login", get(login))
        .route("/do_login", post(do_login))
        .route("/show", get(show))
        .route("/logout", get(logout))
        .layer(SessionLayer::new(
            FlaskCookieBackend::new(SECRET_KEY),
            SessionConfig::default().with_lifetime(LIFETIME),
        ));
    flask_tutorials::serve(app).await
}
