//! Tutorial 004 (`004_flask_session/app.py`, Flask-Session's filesystem sessions) and
//! `tutorial-flask-session-files` on `FlaskSessionFileStore`: side by side, each on its own
//! directory, then both on one directory, sharing the login.

use std::path::Path;

use crate::harness::{
    session_cookie_secure_and_lax_in_rust as secure_and_lax, Browser, Server, SideBySide,
};

async fn flask(dir: &Path) -> Server {
    Server::flask("004_flask_session/app.py", &[("SESSION_FILE_DIR", dir)]).await
}

async fn rust(dir: &Path) -> Server {
    Server::rust(
        "tutorial-flask-session-files",
        &["--session-dir", dir.to_str().unwrap()],
    )
    .await
}

/// cachelib's count file: the SHA-256 of `__wz_cache_count`.
const COUNT_FILE: &str = "79bc207ee04a581ab2348ca1f3494e64cd0ec36128735b8c6bc85ddd8fe1938c";

/// How many session files `dir` holds: files named by a SHA-256, the count file aside.
fn session_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| {
                    name.len() == 64
                        && name.bytes().all(|b| b.is_ascii_hexdigit())
                        && name != COUNT_FILE
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn register_logout_side_by_side() {
    let dirs = tempfile::tempdir().unwrap();
    let (flask_dir, rust_dir) = (dirs.path().join("flask"), dirs.path().join("rust"));
    let both = SideBySide::new(flask(&flask_dir).await, rust(&rust_dir).await);

    // if not session.get("name"): return redirect("/login") (nothing stored, no cookie)
    let step = both.get("/").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.location.as_deref(), Some("/login"));

    let step = both.get("/login").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.page().forms, ["POST \"/login\""]);
    assert_eq!(step.rust.page().fields, ["text name", "submit Register"]);

    // session["name"] = request.form.get("name"): a file on each side, a browser-session
    // cookie (SESSION_PERMANENT = False).
    let step = both.post("/login", &[("name", "ada")]).await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.cookie("session").unwrap().lifetime, None);
    let first_sid = (
        step.flask.cookie("session").unwrap().value.clone(),
        step.rust.cookie("session").unwrap().value.clone(),
    );
    assert_eq!(
        (session_files(&flask_dir), session_files(&rust_dir)),
        (1, 1)
    );

    let step = both.get("/").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.page().text, "flask You are Register ada logout .");
    assert_eq!(step.rust.page().links, ["/logout"]);

    // session["name"] = None. Deliberate difference: Flask-Session re-sends the same
    // cookie whenever the session changes; Rust only when the id or the expiry does.
    let step = both.get("/logout").await;
    step.same_answer();
    let resent = step.flask.cookie("session").unwrap();
    assert_eq!(resent.value, first_sid.0, "Flask re-sends the same sid");
    assert!(step.rust.cookies.is_empty(), "{:?}", step.rust.cookies);
    assert_eq!(step.flask_jar, step.rust_jar);

    let step = both.get("/").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.location.as_deref(), Some("/login"));

    // Deliberate difference: a second login keeps Flask-Session's sid, and gives the Rust
    // session a new one (so an id planted before the login is worth nothing).
    let step = both.post("/login", &[("name", "grace")]).await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.flask.cookie("session").unwrap().value, first_sid.0);
    assert_ne!(step.rust.cookie("session").unwrap().value, first_sid.1);
    assert_eq!(
        (session_files(&flask_dir), session_files(&rust_dir)),
        (1, 1)
    );
}

/// One browser, one directory, two apps: a login in either is a login in the other.
#[tokio::test]
async fn the_flask_app_and_the_rust_app_share_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().join("flask_session");
    let (flask, rust) = (flask(&dir).await, rust(&dir).await);
    let browser = Browser::new();

    assert_eq!(browser.get(&flask, "/").await.status, 302);
    browser.post(&flask, "/login", &[("name", "ada")]).await;
    let page = browser.get(&rust, "/").await;
    assert_eq!(page.status, 200, "Rust reads Flask's login: {}", rust.log());
    assert!(page.body.contains("You are Register ada"), "{}", page.body);

    // Rust logs out (name = None); Flask sees it.
    browser.get(&rust, "/logout").await;
    let index = browser.get(&flask, "/").await;
    assert_eq!(
        (index.status, index.location.as_deref()),
        (302, Some("/login"))
    );

    // Rust logs in (a new sid, the old file gone); Flask sees it.
    browser.post(&rust, "/login", &[("name", "grace")]).await;
    let page = browser.get(&flask, "/").await;
    assert_eq!(
        page.status,
        200,
        "Flask reads Rust's login: {}",
        flask.log()
    );
    assert!(
        page.body.contains("You are Register grace"),
        "{}",
        page.body
    );
    assert_eq!(session_files(&dir), 1);
}
