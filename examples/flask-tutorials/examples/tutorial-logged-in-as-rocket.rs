//! Run with: `cargo run -p flask-tutorials --example tutorial-logged-in-as-rocket -- --port 5000`
//!
//! Tutorial 001 (`tests/python/tutorials/001_logged_in_as/app.py`) on Rocket: the same
//! routes and answers as `tutorial-logged-in-as`, with a `SessionFairing` instead of a
//! `SessionLayer` and a `Session` request guard instead of an extractor.
//!
//! Where it differs from Flask on purpose: the cookie is also `Secure` and `SameSite=Lax`.

use adapter_rocket::{Error, Session, SessionConfig, SessionFairing};
use flask_tutorials::escape;
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::form::Form;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
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

#[derive(rocket::FromForm)]
struct LoginForm {
    username: String,
}

#[rocket::get("/")]
fn index(session: Session) -> Result<RawHtml<String>, Error> {
    let mut username = String::new();
    // if 'username' in session: username = session['username']
    if session.contains("username") {
        username = session.get::<String>("username")?.unwrap_or_default();
    }
    Ok(RawHtml(index_page(&username)))
}

#[rocket::get("/login")]
fn login_form() -> RawHtml<&'static str> {
    RawHtml(LOGIN_PAGE)
}

#[rocket::post("/login", data = "<form>")]
fn login(session: Session, form: Form<LoginForm>) -> Result<Redirect, Error> {
    // session['username'] = request.form['username']
    session.insert("username", &form.username)?;
    Ok(Redirect::found("/"))
}

#[rocket::get("/logout")]
fn logout(session: Session) -> Redirect {
    // remove the username from the session if it is there
    session.remove("username");
    Redirect::found("/")
}

#[rocket::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // app.secret_key = os.urandom(24)
    let mut secret_key = [0_u8; 24];
    getrandom::fill(&mut secret_key)?;
    let addr = flask_tutorials::addr()?;
    let config = rocket::Config {
        address: addr.ip(),
        port: addr.port(),
        log_level: LogLevel::Critical,
        ..rocket::Config::default()
    };
    rocket::custom(config)
        .mount("/", rocket::routes![index, login_form, login, logout])
        .attach(SessionFairing::new(
            FlaskCookieBackend::new(secret_key),
            SessionConfig::default(),
        ))
        .attach(AdHoc::on_liftoff("Running on", |rocket| {
            Box::pin(async move {
                let config = rocket.config();
                eprintln!(" * Running on http://{}:{}", config.address, config.port);
            })
        }))
        .launch()
        .await?;
    Ok(())
}
