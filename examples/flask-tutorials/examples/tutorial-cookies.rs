//! Run with: `cargo run -p flask-tutorials --example tutorial-cookies -- --port 5000`
//!
//! Tutorial 003, its cookie half (`tests/python/tutorials/003_cookie_and_session/cookie_app.py`):
//! plain cookies, no session. `/add` sets `name=letian` for six minutes, `/show` answers the
//! cookies the browser sent (as Flask prints `request.cookies`), `/del` deletes `name` by
//! setting it empty with an expiry in 1970. The cookies are made with the `cookie` crate,
//! the one the session cookies are made with.
//!
//! Where it differs from Flask on purpose: the cookie is `HttpOnly` and `SameSite=Lax`, as
//! the session cookie is (Flask's `set_cookie` sets neither unless asked).

use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use cookie::time::{Duration, OffsetDateTime};
use cookie::{Cookie, SameSite};

async fn hello_world() -> &'static str {
    "hello world"
}

async fn add() -> impl IntoResponse {
    // res.set_cookie(key='name', value='letian', expires=time.time()+6*60)
    let cookie = Cookie::build(("name", "letian"))
        .path("/")
        .expires(OffsetDateTime::now_utc() + Duration::minutes(6))
        .http_only(true)
        .same_site(SameSite::Lax);
    ([(header::SET_COOKIE, cookie.to_string())], "add cookies")
}

async fn show(headers: HeaderMap) -> String {
    // return request.cookies.__str__(): werkzeug's `ImmutableMultiDict([('name', 'letian')])`
    let cookies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .map(|c| format!("({}, {})", py_repr(c.name()), py_repr(c.value())))
        .collect();
    format!("ImmutableMultiDict([{}])", cookies.join(", "))
}

async fn del() -> impl IntoResponse {
    // res.set_cookie('name', '', expires=0)
    let cookie = Cookie::build(("name", ""))
        .path("/")
        .expires(OffsetDateTime::UNIX_EPOCH)
        .http_only(true)
        .same_site(SameSite::Lax);
    ([(header::SET_COOKIE, cookie.to_string())], "delete cookies")
}

/// A string as Python's `repr` writes it: in single quotes, unless it holds a single
/// quote and no double one.
fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut repr = String::from(quote);
    for c in text.chars() {
        if c == quote || c == '\\' {
            repr.push('\\');
        }
        repr.push(c);
    }
    repr.push(quote);
    repr
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/", get(hello_world))
        .route("/add", get(add))
        .route("/show", get(show))
        .route("/del", get(del));
    flask_tutorials::serve(app).await
}
