//! Tutorial 000 (`000_login/server.py`) and `tutorial-login`.

use crate::harness::{
    rust_answers_instead_of_a_key_error, session_cookie_secure_and_lax_in_rust as secure_and_lax,
    Browser, Server, SideBySide,
};

const NAME: &str = "Ada <b>&</b>";

#[tokio::test]
async fn login_show_logout_side_by_side() {
    let both = SideBySide::new(
        Server::flask("000_login/server.py", &[]).await,
        Server::rust("tutorial-login", &[]).await,
    );
    both.get("/")
        .await
        .same_answer()
        .same_cookies(secure_and_lax);
    let step = both.get("/login").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.page().forms, ["POST \"/do_login\""]);
    assert_eq!(step.rust.page().fields, ["text user_name", "submit "]);

    let step = both.get("/show").await;
    step.same_cookies(secure_and_lax);
    rust_answers_instead_of_a_key_error(&step, 401, "not logged in");

    let step = both.post("/do_login", &[("user_name", NAME)]).await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.body, "success");
    assert_eq!(
        step.rust.cookie("session").unwrap().lifetime,
        None,
        "a browser-session cookie"
    );

    let step = both.get("/show").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(
        (step.flask.body.as_str(), step.rust.body.as_str()),
        (NAME, NAME)
    );
    // Deliberate difference: a plain string is text/plain in Rust, so the name is shown as
    // text; Flask sends every str as text/html, so the browser would render the <b>.
    assert_eq!(
        (
            step.flask.content_type.as_deref(),
            step.rust.content_type.as_deref()
        ),
        (
            Some("text/html; charset=utf-8"),
            Some("text/plain; charset=utf-8")
        )
    );

    let step = both.get("/logout").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.location.as_deref(), Some("/login"));
    assert!(
        step.rust.cookie("session").unwrap().removes(),
        "the emptied session's cookie goes"
    );

    let step = both.get("/show").await;
    step.same_cookies(secure_and_lax);
    rust_answers_instead_of_a_key_error(&step, 401, "not logged in");
}

/// Same `secret_key`, same cookie format: one browser logged in by either app is logged
/// in to the other.
#[tokio::test]
async fn the_flask_app_and_the_rust_app_read_each_others_login() {
    let flask = Server::flask("000_login/server.py", &[]).await;
    let rust = Server::rust("tutorial-login", &[]).await;
    let browser = Browser::new();

    browser
        .post(&flask, "/do_login", &[("user_name", "ada")])
        .await;
    assert_eq!(browser.get(&rust, "/show").await.body, "ada");

    browser
        .post(&rust, "/do_login", &[("user_name", "grace")])
        .await;
    assert_eq!(browser.get(&flask, "/show").await.body, "grace");

    // Flask's logout pops the name; the cookie stays (it still holds the `_rs_ts`
    // timestamps the Rust side added, which Flask carries along), without a login.
    let logout = browser.get(&flask, "/logout").await;
    assert_eq!(logout.location.as_deref(), Some("/login"));
    assert_eq!(browser.get(&rust, "/show").await.status, 401);
}
