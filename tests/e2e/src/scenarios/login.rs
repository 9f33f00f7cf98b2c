//! Anonymous visits, logging in, the session cookie's attributes, the flash message and
//! the user name shown back.

use super::{assert_anonymous, assert_logged_in, config, login, session_cookie, start, NAME};
use crate::{text_after, DemoSpec, Visitor};

/// A name with spaces, non-ASCII text and every HTML special character.
const TRICKY_NAME: &str = "Zoë 山田 <b>&\"' O'Neil";

/// A first visit: `/` says "You are not logged in" and links to `/login`, `/show` is 401,
/// `/login` is a form posting `username` (and a "Remember me" checkbox, `remember`) to
/// `/login`; reading sets no cookie.
pub async fn anonymous_visitor(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    let index = visitor.get("/").await.unwrap();
    assert_eq!(index.status, 200, "GET /: {}", index.summary());
    let html = index.text();
    assert!(
        html.contains("You are not logged in"),
        "GET / anonymous: {}",
        index.summary()
    );
    assert!(
        normalized(&html).contains("href=\"/login\""),
        "GET / anonymous has no link to /login: {}",
        index.summary()
    );
    assert!(
        index.set_cookies.is_empty(),
        "GET / only reads the session, yet set a cookie: {}",
        index.summary()
    );

    let show = visitor.get("/show").await.unwrap();
    assert_eq!(show.status, 401, "GET /show anonymous: {}", show.summary());
    assert!(
        show.set_cookies.is_empty(),
        "GET /show anonymous set a cookie: {}",
        show.summary()
    );

    let form = visitor.get("/login").await.unwrap();
    assert_eq!(form.status, 200, "GET /login: {}", form.summary());
    let form_html = normalized(&form.text());
    for needle in [
        "<form",
        "method=\"post\"",
        "action=\"/login\"",
        "name=\"username\"",
        "name=\"remember\"",
    ] {
        assert!(
            form_html.contains(needle),
            "GET /login: the form lacks `{needle}`: {}",
            form.summary()
        );
    }
}

/// `POST /login`: 303 to `/` with a `session` cookie that is `HttpOnly`, `SameSite=Lax`,
/// `Path=/`, `Secure` (no `--insecure-cookie`), and no `Max-Age`/`Expires` (no
/// `--lifetime`: the session ends with the browser); `/show` then answers the name.
pub async fn login_sets_the_session_cookie(spec: &DemoSpec) {
    login_cookie(spec, true).await;
}

/// With `--insecure-cookie`, the same cookie without `Secure`.
pub async fn insecure_cookie_drops_secure(spec: &DemoSpec) {
    login_cookie(spec, false).await;
}

async fn login_cookie(spec: &DemoSpec, secure: bool) {
    let config = if secure {
        config(spec)
    } else {
        config(spec).insecure_cookie()
    };
    let (_demo, mut visitor) = start(&config).await;
    let reply = login(&mut visitor, NAME).await;
    let cookie = session_cookie(&reply, "POST /login");
    assert!(
        !cookie.value.is_empty(),
        "empty session cookie: {}",
        cookie.raw
    );
    assert!(
        cookie.http_only,
        "the session cookie must be HttpOnly: {}",
        cookie.raw
    );
    assert_eq!(
        cookie.same_site.as_deref(),
        Some("Lax"),
        "SameSite must be Lax: {}",
        cookie.raw
    );
    assert_eq!(
        cookie.path.as_deref(),
        Some("/"),
        "Path must be /: {}",
        cookie.raw
    );
    assert_eq!(
        cookie.secure,
        secure,
        "Secure must be {} {} --insecure-cookie: {}",
        if secure { "present" } else { "absent" },
        if secure { "without" } else { "with" },
        cookie.raw
    );
    assert!(
        !cookie.is_persistent(),
        "without --lifetime the cookie must end with the browser: {}",
        cookie.raw
    );
    assert_logged_in(&mut visitor, NAME, "after login").await;
}

/// The flash `Welcome, NAME!` shows on the first `/` after login, and only there.
pub async fn flash_is_shown_once(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let first = visitor.get("/").await.unwrap();
    let html = first.text();
    assert_eq!(
        text_after(&html, "Logged in as ")
            .as_deref()
            .map(|t| t.starts_with(NAME)),
        Some(true),
        "GET /: {}",
        first.summary()
    );
    assert_eq!(
        text_after(&html, "Welcome, ").map(|t| t.starts_with(&format!("{NAME}!"))),
        Some(true),
        "the first GET / after login should show `Welcome, {NAME}!`: {}",
        first.summary()
    );
    let second = visitor.get("/").await.unwrap();
    let html = second.text();
    assert!(
        html.contains("Logged in as "),
        "second GET /: {}",
        second.summary()
    );
    assert!(
        !html.contains("Welcome, "),
        "the flash must show once; the second GET / shows it again: {}",
        second.summary()
    );
}

/// A name with spaces, unicode and `<b>&"'`: `/show` answers it byte for byte as
/// `text/plain` with no trailing newline; `/` shows it HTML-escaped in
/// `Logged in as NAME` and `Welcome, NAME!`.
pub async fn show_is_byte_exact(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, TRICKY_NAME).await;
    let index = visitor.get("/").await.unwrap();
    let html = index.text();
    let shown = text_after(&html, "Logged in as ").unwrap_or_default();
    assert!(
        shown.starts_with(TRICKY_NAME),
        "GET / should show `Logged in as {TRICKY_NAME}` (escaped, no tags inside); read {shown:?} in {}",
        index.summary()
    );
    assert!(
        !html.contains("<b>&"),
        "GET / shows the name unescaped: {}",
        index.summary()
    );
    let welcome = text_after(&html, "Welcome, ").unwrap_or_default();
    assert!(
        welcome.starts_with(&format!("{TRICKY_NAME}!")),
        "GET / should show `Welcome, {TRICKY_NAME}!`; read {welcome:?} in {}",
        index.summary()
    );
    let show = visitor.get("/show").await.unwrap();
    assert_eq!(show.status, 200, "GET /show: {}", show.summary());
    assert_eq!(
        show.body,
        TRICKY_NAME.as_bytes(),
        "GET /show must answer the name byte for byte: {}",
        show.summary()
    );
    let content_type = show.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "GET /show must be text/plain, is {content_type:?}"
    );
}

/// An empty or whitespace-only `username` is 400 with a message; a missing field is 400
/// or 422; none of them logs anyone in.
pub async fn empty_usernames_are_refused(spec: &DemoSpec) {
    let (demo, mut visitor) = start(&config(spec)).await;
    for name in ["", "   ", " \t\n "] {
        let reply = visitor
            .post_form("/login", &[("username", name)])
            .await
            .unwrap();
        assert_eq!(
            reply.status,
            400,
            "POST /login username={name:?}: expected 400; {}",
            reply.summary()
        );
        assert!(
            !reply.text().trim().is_empty(),
            "the 400 for username={name:?} should say why: {}",
            reply.summary()
        );
    }
    for fields in [&[][..], &[("name", NAME)][..]] {
        let reply = visitor.post_form("/login", fields).await.unwrap();
        assert!(
            [400, 422].contains(&reply.status),
            "POST /login without `username` ({fields:?}): expected 400 or 422; {}",
            reply.summary()
        );
    }
    assert_anonymous(&mut visitor, "after refused logins").await;
    let mut fresh = Visitor::new(&demo).unwrap();
    assert_anonymous(&mut fresh, "a new visitor after refused logins").await;
}

/// Lower case, with single quotes turned into double ones, so attribute checks need not
/// care how the template quotes.
fn normalized(html: &str) -> String {
    html.to_lowercase().replace('\'', "\"")
}
