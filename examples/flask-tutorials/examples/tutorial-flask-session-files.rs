//! Run with: `cargo run -p flask-tutorials --example tutorial-flask-session-files -- --port 5000`
//!
//! Tutorial 004 (`tests/python/tutorials/004_flask_session/app.py`): Flask-Session with
//! `SESSION_TYPE = "filesystem"` and `SESSION_PERMANENT = False`. The index redirects to
//! `/login` until a name is in the session; `/login` stores the posted `name`; `/logout`
//! sets it to `None`.
//!
//! The sessions are files in Flask-Session's own format (`FlaskSessionFileStore`), in
//! `./flask_session` as Flask-Session's `SESSION_FILE_DIR` default, or the directory of
//! `--session-dir DIR` (or `SESSION_FILE_DIR`): point this app and the Flask one at the
//! same directory and a login in one is a login in the other.
//!
//! Where it differs from Flask on purpose: a login gets a new session id (Flask-Session
//! keeps the old one unless the app calls `session_interface.regenerate`), and the cookie
//! is also `Secure` and `SameSite=Lax`.

use adapter_axum::{Error, Session, SessionConfig, SessionLayer};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use flask_tutorials::{escape, redirect};
use serde::Deserialize;
use session_files::FlaskSessionFileStore;

/// templates/layout.html around a page's `{% block y %}`.
fn layout(block: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n\n<html lang=\"en\">\n    <head>\n        \
         <meta name=\"viewport\" content=\"initial-scale=1, width=device-width\">\n        \
         <title> flask </title>\n    </head>\n    <body>\n        {block}\n    </body>\n</html>"
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    /// `request.form.get("name")`: `None` when the field is missing.
    name: Option<String>,
}

async fn index(session: Session) -> Result<Response, Error> {
    // if not session.get("name"): return redirect("/login")
    // (`name` may hold None: `Option<Option<String>>`, flattened.)
    let name = session.get::<Option<String>>("name")?.flatten();
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return Ok(redirect("/login"));
    };
    // templates/index.html, `{% if session.name %}`
    let block = format!(
        "You are Register {} <a href=\"/logout\">logout</a>.",
        escape(&name)
    );
    Ok(layout(&block).into_response())
}

async fn login_form() -> Html<String> {
    // templates/login.html
    layout(
        "<h1> REGISTER </h1>\n\n   <form action=\"/login\" method=\"POST\">\n      \
         <input placeholder=\"Name\" autocomplete=\"off\" type=\"text\" name=\"name\">\n      \
         <input type=\"submit\" name=\"Register\">\n   </form>",
    )
}

async fn login(session: Session, Form(form): Form<LoginForm>) -> Result<Response, Error> {
    // A new session id at login, so an id planted before it is worth nothing.
    session.regenerate();
    // session["name"] = request.form.get("name")
    session.insert("name", form.name)?;
    Ok(redirect("/"))
}

async fn logout(session: Session) -> Result<Response, Error> {
    // session["name"] = None
    session.insert("name", None::<String>)?;
    Ok(redirect("/"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // app.config["SESSION_PERMANENT"] = False: browser-session cookies, the default here.
    let config = SessionConfig::default();
    // app.config["SESSION_TYPE"] = "filesystem"; SESSION_FILE_DIR
    let dir = flask_tutorials::setting("--session-dir", "SESSION_FILE_DIR")
        .unwrap_or_else(|| "flask_session".to_owned());
    let store = FlaskSessionFileStore::open(dir, &config).await?;
    let app = Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .layer(SessionLayer::new(store, config));
    flask_tutorials::serve(app).await
}
