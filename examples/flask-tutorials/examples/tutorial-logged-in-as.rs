//! Run with: `cargo run -p flask-tutorials --example tutorial-logged-in-as -- --port 5000`
//!
//! Tutorial 001 (`tests/python/tutorials/001_logged_in_as/app.py`): the index says "Logged in
//! as NAME" or "You are not logged in" with a link to log out or in; `/login` shows a form
//! posting `username` back to itself, which keeps it in the session and redirects to the
//! index; `/logout` pops it. The secret key is random, as `os.urandom(24)`: logins end
//! when the app restarts. The same app on Rocket: `tutorial-logged-in-as-rocket`.
//!
//! Where it differs from Flask on purpose: the cookie is also `Secure` and `SameSite=Lax`.

use adapter_axum::{Error, Session, SessionConfig, SessionLayer};
use axum::response::{Html, Response};
use axum::routing::get;
use axum::{Form, Router};
use flask_tutorials::{escape, redirect};
use serde::Deserialize;
use session_cookie::FlaskCookieBackend;

/// templates/login.html, as the tutorial wrote it (its `<input` tags are not closed).
const LOGIN_PAGE: &str = r#"<form action="" method="POST">
    <p><input type="text" name="username"</p>
    <p><input type="submit" value="Login"</p>
</form>"#;

/// templates/index.html: `{% if username %}` ... `{% else %}` ... `{% endif %}`.
fn index_page(username: &str) -> String {
    let body = if username.is_empty() {
        "<p>You are not logged in</p>\n    <p><a href=\"/login\">click here to log in</a></p>"
            .to_owned()
    } else {
        format!(
            "<p>Logged in as {}</p>\n    <p><a href=\"/logout\">click here to log out</a></p>",
            escape(username)
        )
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n    <meta charset=\"UTF-8\">\n    \
         <title></title>\n</head>\n<body>\n    {body}\n</body>\n</html>"
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
}

async fn index(session: Session) -> Result<Html<String>, Error> {
    let mut username = String::new();
    // if 'username' in session: username = session['username']
    if session.contains("username") {
        username = session.get::<String>("username")?.unwrap_or_default();
    }
    Ok(Html(index_page(&username)))
}

async fn login_form() -> Html<&'static str> {
    Html(LOGIN_PAGE)
}

async fn login(session: Session, Form(form): Form<LoginForm>) -> Result<Response, Error> {
    // session['username'] = request.form['username']
    session.insert("username", form.username)?;
    Ok(redirect("/"))
}

async fn logout(session: Session) -> Response {
    // remove the username from the session if it is there
    session.remove("username");
    redirect("/")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // app.secret_key = os.urandom(24)
    let mut secret_key = [0_u8; 24];
    getrandom::fill(&mut secret_key)?;
    let app = Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .layer(SessionLayer::new(
            FlaskCookieBackend::new(secret_key),
            SessionConfig::default(),
        ));
    flask_tutorials::serve(app).await
}
