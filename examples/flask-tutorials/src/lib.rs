//! The Flask session tutorials this project grew from (`../shared/tutorials/`), each as a
//! small Axum example with the same routes, form fields and answers, tested side by side
//! with the original Flask app (kept in `tests/python/tutorials/`).
//!
//! | tutorial | example | what it teaches |
//! |---|---|---|
//! | 000 | `tutorial-login` | `app.secret_key`; a form posts a name into `session[...]`; `/show` reads it; `session.pop` at logout |
//! | 001 | `tutorial-logged-in-as`, `tutorial-logged-in-as-rocket` | `'username' in session`; "Logged in as ..." / "You are not logged in"; a random `os.urandom(24)` key; the same app on Rocket |
//! | 002 | `tutorial-set-get-del` | `session[k]` vs `session.get(k)`; `session.pop(k, None)`; `session.clear()`; `session.permanent` |
//! | 003 | `tutorial-permanent-login` | 000's app with `permanent_session_lifetime = timedelta(minutes=5)` |
//! | 003 | `tutorial-cookies` | plain cookies: `set_cookie`, `request.cookies`, deleting with `expires=0` |
//! | 004 | `tutorial-flask-session-files` | Flask-Session's `SESSION_TYPE = "filesystem"`, `SESSION_PERMANENT = False`, sharing the directory with the Flask app |
//!
//! Run one with `cargo run -p flask-tutorials --example tutorial-login -- --port 5000` (or
//! `PORT=5000`; 5000, Flask's port, when neither is given). `docs/from-flask.md` maps every
//! Flask session line of the tutorials to its Rust line.
//!
//! This library is the little the examples share: [`addr`] reads the port ([`setting`]
//! any other flag), [`serve`]
//! serves an Axum router on it, [`redirect`] is Flask's `redirect`, [`escape`] escapes
//! HTML as Jinja's autoescaping does.
//!
//! # Examples
//!
//! ```
//! assert_eq!(flask_tutorials::escape("<b>Zoë & 'co'</b>"), "&lt;b&gt;Zoë &amp; &#39;co&#39;&lt;/b&gt;");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

/// Flask's `app.run()` port.
pub const DEFAULT_PORT: u16 = 5000;

/// A `--port` flag or `PORT` variable that is not a port number.
#[derive(Debug)]
pub struct PortError {
    value: String,
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a port: use --port N or PORT=N with N in 0..=65535",
            self.value
        )
    }
}

impl std::error::Error for PortError {}

/// Where an example listens: 127.0.0.1 (as Flask's `app.run()`) and the port of the
/// `--port N` flag, else of the `PORT` environment variable, else [`DEFAULT_PORT`]. Port 0
/// picks a free one.
///
/// # Errors
///
/// [`PortError`] when the flag or the variable is not a port number.
pub fn addr() -> Result<SocketAddr, PortError> {
    let port = match setting("--port", "PORT") {
        Some(value) => value.parse().map_err(|_| PortError { value })?,
        None => DEFAULT_PORT,
    };
    Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// The value of the command-line flag `flag` (`--flag VALUE` or `--flag=VALUE`), else of
/// the environment variable `env`.
pub fn setting(flag: &str, env: &str) -> Option<String> {
    flag_value(std::env::args().skip(1), flag).or_else(|| std::env::var(env).ok())
}

fn flag_value(args: impl IntoIterator<Item = String>, flag: &str) -> Option<String> {
    let mut args = args.into_iter();
    let mut found = None;
    while let Some(arg) = args.next() {
        if arg == flag {
            found = args.next();
        } else if let Some(value) = arg.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
            found = Some(value.to_owned());
        }
    }
    found
}

/// Serves `app` on [`addr`], saying where on stderr as Flask does
/// (` * Running on http://127.0.0.1:5000`), until the process is stopped.
///
/// # Errors
///
/// A bad port ([`PortError`]), or the address cannot be bound.
pub async fn serve(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(addr()?).await?;
    eprintln!(" * Running on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Flask's `redirect(location)`: a `302 Found` to `location` (axum's `Redirect::to` answers
/// `303 See Other`; browsers follow both the same way).
pub fn redirect(location: &'static str) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        axum::http::StatusCode::FOUND,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}

/// `text` escaped for HTML as Jinja's autoescaping (markupsafe) escapes it, so a name
/// shown in a page is the same text in Flask and here, and never markup.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&#34;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_are_read_in_both_spellings() {
        assert_eq!(flag_value(args(&[]), "--port"), None);
        assert_eq!(
            flag_value(args(&["--port", "0"]), "--port").as_deref(),
            Some("0")
        );
        assert_eq!(
            flag_value(args(&["--port=7000"]), "--port").as_deref(),
            Some("7000")
        );
        assert_eq!(flag_value(args(&["--portal=1"]), "--port"), None);
        assert_eq!(flag_value(args(&["--port"]), "--port"), None);
        assert_eq!(
            flag_value(
                args(&["--session-dir", "/tmp/s", "--port", "1"]),
                "--session-dir"
            )
            .as_deref(),
            Some("/tmp/s")
        );
    }
}
