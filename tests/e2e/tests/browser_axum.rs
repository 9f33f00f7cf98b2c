//! A real Chromium (Debian's `chromium` + `chromedriver`) logs in and out on `demo-axum`
//! with the SQLite backend, and, signed in from two browsers, revokes the other one from
//! `/sessions`. Fails, saying how to install them, when they are missing.
//! Run with: `cargo test -p session-e2e --test browser_axum`.

use session_e2e::{webdriver, Backend, DemoSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_logs_in_and_out() {
    webdriver::browser_logs_in_and_out(&DemoSpec::new("demo-axum", "demo-axum", Backend::Sqlite))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_revokes_the_other_browser() {
    webdriver::browser_revokes_another_browser(&DemoSpec::new(
        "demo-axum",
        "demo-axum",
        Backend::Sqlite,
    ))
    .await;
}
