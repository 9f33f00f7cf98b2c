//! Tutorial 003's session app (`003_cookie_and_session/session_app.py`) and
//! `tutorial-permanent-login`: tutorial 000 with a five-minute permanent session.

use crate::harness::{
    flask_refreshes_a_permanent_cookie_on_every_request, rust_answers_instead_of_a_key_error,
    session_cookie_secure_and_lax_in_rust as secure_and_lax, Server, SideBySide,
};

#[tokio::test]
async fn a_five_minute_login_side_by_side() {
    let both = SideBySide::new(
        Server::flask("003_cookie_and_session/session_app.py", &[]).await,
        Server::rust("tutorial-permanent-login", &[]).await,
    );
    both.get("/")
        .await
        .same_answer()
        .same_cookies(secure_and_lax);
    both.get("/login")
        .await
        .same_answer()
        .same_cookies(secure_and_lax);
    let step = both.get("/show").await;
    step.same_cookies(secure_and_lax);
    rust_answers_instead_of_a_key_error(&step, 401, "not logged in");

    let step = both.post("/do_login", &[("user_name", "ada")]).await;
    step.same_answer().same_cookies(secure_and_lax);
    // permanent_session_lifetime = timedelta(minutes=5): Flask says it with Expires, Rust
    // with Max-Age (and Expires); same_cookies compared the two to a few seconds.
    let lifetime = step.rust.cookie("session").unwrap().lifetime.unwrap();
    assert!((295..=300).contains(&lifetime), "{lifetime}");

    let step = both.get("/show").await;
    step.same_answer();
    assert_eq!(step.rust.body, "ada");
    flask_refreshes_a_permanent_cookie_on_every_request(&step);

    // Deliberate difference: logging out of a permanent session. Flask pops `user_name`
    // but keeps `_permanent`, so the browser keeps a cookie holding only that flag; Rust
    // deletes the emptied session and its cookie.
    let step = both.get("/logout").await;
    step.same_answer();
    let flask = step.flask.cookie("session").unwrap();
    let rust = step.rust.cookie("session").unwrap();
    assert!(!flask.removes() && rust.removes(), "{flask:?}\n{rust:?}");
    assert_eq!((step.flask_jar.len(), step.rust_jar.len()), (1, 0));

    let step = both.get("/show").await;
    rust_answers_instead_of_a_key_error(&step, 401, "not logged in");
}
