//! A script's steps on both sides, compared, and the deliberate differences.

use super::{Browser, Reply, Server, SetCookie};

/// One step of a script, run on both sides.
pub struct Step {
    pub what: String,
    pub flask: Reply,
    pub rust: Reply,
    /// The names of the cookies each browser holds after the step.
    pub flask_jar: Vec<String>,
    pub rust_jar: Vec<String>,
}

impl Step {
    /// Same status, same `Location`, and for anything but a redirect, the same page
    /// (text, links, forms). A redirect's body is not compared: Flask's carries a small
    /// "Redirecting..." page, axum's and Rocket's are empty.
    pub fn same_answer(&self) -> &Self {
        let (flask, rust) = (&self.flask, &self.rust);
        assert_eq!(flask.status, rust.status, "{}: status", self.what);
        assert_eq!(flask.location, rust.location, "{}: Location", self.what);
        if !(300..400).contains(&flask.status) {
            assert_eq!(flask.page(), rust.page(), "{}: page", self.what);
        }
        self
    }

    /// Both browsers hold the same cookies afterwards, and both sides set (or remove) the
    /// same cookies, with the same `Path` and lifetime (to a few seconds); `attributes`
    /// asserts the `HttpOnly`, `Secure` and `SameSite` of each side, where the deliberate
    /// differences are.
    pub fn same_cookies(&self, attributes: fn(&str, &SetCookie, &SetCookie)) -> &Self {
        assert_eq!(
            self.flask_jar, self.rust_jar,
            "{}: the cookies each browser holds",
            self.what
        );
        let names = |reply: &Reply| {
            let mut set: Vec<(String, bool)> = reply
                .cookies
                .iter()
                .map(|c| (c.name.clone(), c.removes()))
                .collect();
            set.sort();
            set
        };
        assert_eq!(
            names(&self.flask),
            names(&self.rust),
            "{}: the cookies set (name, removed)\nFlask: {:?}\nRust: {:?}",
            self.what,
            self.flask.cookies,
            self.rust.cookies
        );
        for flask in &self.flask.cookies {
            let rust = self.rust.cookie(&flask.name).expect("compared above");
            let what = format!("{}: cookie {}", self.what, flask.name);
            assert_eq!(flask.path, rust.path, "{what}: Path");
            match (flask.lifetime, rust.lifetime) {
                (None, None) => {}
                (Some(f), Some(r)) if f <= 0 && r <= 0 => {}
                (Some(f), Some(r)) => assert!(
                    (f - r).abs() <= 5,
                    "{what}: lifetime, Flask {f} s, Rust {r} s\n{}\n{}",
                    flask.raw,
                    rust.raw
                ),
                _ => panic!(
                    "{what}: one is a browser-session cookie\n{}\n{}",
                    flask.raw, rust.raw
                ),
            }
            if !flask.removes() {
                attributes(&what, flask, rust);
            }
        }
        self
    }
}

/// Deliberate difference: plain cookies (`tutorial-cookies`) are `HttpOnly` and
/// `SameSite=Lax` in Rust, as the session cookie is; Flask's `set_cookie` sets neither
/// unless asked. Neither is `Secure`.
pub fn plain_cookie_http_only_and_lax_in_rust(what: &str, flask: &SetCookie, rust: &SetCookie) {
    assert_eq!(
        (flask.http_only, flask.secure, flask.same_site.as_deref()),
        (false, false, None),
        "{what}: Flask's set_cookie: no HttpOnly, Secure or SameSite: {}",
        flask.raw
    );
    assert_eq!(
        (rust.http_only, rust.secure, rust.same_site.as_deref()),
        (true, false, Some("Lax")),
        "{what}: Rust's cookie: HttpOnly and SameSite=Lax: {}",
        rust.raw
    );
}

/// Deliberate difference: the Rust session cookie is `Secure` and `SameSite=Lax` (the
/// library's defaults); Flask's defaults (`SESSION_COOKIE_SECURE = False`,
/// `SESSION_COOKIE_SAMESITE = None`) send neither. Both are `HttpOnly`.
pub fn session_cookie_secure_and_lax_in_rust(what: &str, flask: &SetCookie, rust: &SetCookie) {
    assert!(
        flask.http_only && rust.http_only,
        "{what}: HttpOnly on both"
    );
    assert_eq!(
        (flask.secure, flask.same_site.as_deref()),
        (false, None),
        "{what}: Flask's cookie is neither Secure nor SameSite: {}",
        flask.raw
    );
    assert_eq!(
        (rust.secure, rust.same_site.as_deref()),
        (true, Some("Lax")),
        "{what}: Rust's cookie is Secure and SameSite=Lax: {}",
        rust.raw
    );
}

/// Two servers, each with its own browser, driven by the same script.
pub struct SideBySide {
    pub flask: Server,
    pub rust: Server,
    flask_browser: Browser,
    rust_browser: Browser,
}

impl SideBySide {
    pub fn new(flask: Server, rust: Server) -> Self {
        Self {
            flask,
            rust,
            flask_browser: Browser::new(),
            rust_browser: Browser::new(),
        }
    }

    pub async fn get(&self, path: &str) -> Step {
        let (flask, rust) = tokio::join!(
            self.flask_browser.get(&self.flask, path),
            self.rust_browser.get(&self.rust, path)
        );
        self.step(format!("GET {path}"), flask, rust)
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Step {
        let (flask, rust) = tokio::join!(
            self.flask_browser.post(&self.flask, path, form),
            self.rust_browser.post(&self.rust, path, form)
        );
        self.step(format!("POST {path} {form:?}"), flask, rust)
    }

    fn step(&self, what: String, flask: Reply, rust: Reply) -> Step {
        Step {
            what,
            flask,
            rust,
            flask_jar: self.flask_browser.cookie_names(),
            rust_jar: self.rust_browser.cookie_names(),
        }
    }
}

/// Deliberate difference: where Flask's `session[key]` raises `KeyError` (a 500 with
/// Werkzeug's "Internal Server Error" page), Rust answers `status` with a message that
/// says what to do (`says`).
pub fn rust_answers_instead_of_a_key_error(step: &Step, status: u16, says: &str) {
    assert_eq!(
        (
            step.flask.status,
            step.flask.page().text.contains("Internal Server Error")
        ),
        (500, true),
        "{}: Flask's KeyError is a 500: {}",
        step.what,
        step.flask.body
    );
    assert_eq!(
        (step.rust.status, step.rust.body.contains(says)),
        (status, true),
        "{}: Rust answers {status} saying {says:?}: {}",
        step.what,
        step.rust.body
    );
}

/// Deliberate difference: a permanent session's cookie is re-sent by Flask on every
/// request (`SESSION_REFRESH_EACH_REQUEST`), by Rust at most once per quarter of the
/// lifetime; both browsers keep the same cookie either way.
pub fn flask_refreshes_a_permanent_cookie_on_every_request(step: &Step) {
    assert!(
        step.flask.cookie("session").is_some_and(|c| !c.removes()),
        "{}: Flask re-sends the permanent session cookie: {:?}",
        step.what,
        step.flask.cookies
    );
    assert!(
        step.rust.cookies.is_empty(),
        "{}: Rust does not re-send it this soon: {:?}",
        step.what,
        step.rust.cookies
    );
    assert_eq!(step.flask_jar, step.rust_jar, "{}: the jars", step.what);
}
