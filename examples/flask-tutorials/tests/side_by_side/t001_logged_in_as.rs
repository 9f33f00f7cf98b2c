//! Tutorial 001 (`001_logged_in_as/app.py`) and `tutorial-logged-in-as`, on Axum and on
//! Rocket.

use crate::harness::{session_cookie_secure_and_lax_in_rust as secure_and_lax, Server, SideBySide};

/// Escaped the same way by Jinja and by the examples.
const NAME: &str = r#"Zoë <script>"&'"#;

async fn script(example: &str) {
    let both = SideBySide::new(
        Server::flask("001_logged_in_as/app.py", &[]).await,
        Server::rust(example, &[]).await,
    );
    let step = both.get("/").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(
        step.rust.page().text,
        "You are not logged in click here to log in"
    );
    assert_eq!(step.rust.page().links, ["/login"]);

    let step = both.get("/login").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.page().forms, ["POST \"\""]);
    assert_eq!(step.rust.page().fields, ["text username", "submit "]);

    let step = both.post("/login", &[("username", NAME)]).await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(
        (step.rust.status, step.rust.location.as_deref()),
        (302, Some("/"))
    );

    let step = both.get("/").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(
        step.rust.page().text,
        "Logged in as Zoë &lt;script&gt;&#34;&amp;&#39; click here to log out"
    );
    assert_eq!(step.rust.page().links, ["/logout"]);

    let step = both.get("/logout").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert!(step.rust.cookie("session").unwrap().removes());

    let step = both.get("/").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(
        step.rust.page().text,
        "You are not logged in click here to log in"
    );
}

#[tokio::test]
async fn logged_in_as_side_by_side_on_axum() {
    script("tutorial-logged-in-as").await;
}

#[tokio::test]
async fn logged_in_as_side_by_side_on_rocket() {
    script("tutorial-logged-in-as-rocket").await;
}
