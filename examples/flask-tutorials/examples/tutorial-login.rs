//! Run with: `cargo run -p flask-tutorials --example tutorial-login -- --port 5000`
//!
//! Tutorial 000 (`tests/python/tutorials/000_login/server.py`): `/login` shows a form that
//! posts `user_name` to `/do_login`, which keeps it in the session; `/show` answers it;
//! `/logout` pops it and redirects to `/login`.
//!
//! The session is Flask's own signed cookie under the tutorial's `secret_key`, so this app
//! and the Flask one read each other's cookies. Where it differs from Flask on purpose:
//! `/show` before a login is a 401 with a message (Flask: `KeyError`, a 500), and the
//! cookie is also `Secure` and `SameSite=Lax`.

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

const LOGIN_PAGE: &str = r#"
    <form action="/do_login" method="post">
        <p>name: <input type="text" name="user_name" /></p>
        <input type="submit" value="Submit" />
    </form>
    "#;

#[derive(Deserialize)]
struct LoginForm {
    /// `request.form.get('user_name')`: `None` when the field is missing.
    user_name: Option<String>,
}

async fn hello_world() -> &'static str {
    "hello world"
}

async fn login() -> Html<&'static str> {
    Html(LOGIN_PAGE)
}

async fn do_login(session: Session, Form(form): Form<LoginForm>) -> Result<&'static str, Error> {
    // session['user_name'] = name
    session.insert("user_name", form.user_name)?;
    Ok("success")
}

async fn show(session: Session) -> Result<Response, Error> {
    // return session['user_name']: Flask raises KeyError (a 500) when nobody logged in.
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
    // session.pop('user_name', None)
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
            SessionConfig::default(),
        ));
    flask_tutorials::serve(app).await
}
