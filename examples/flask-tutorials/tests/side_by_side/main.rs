//! Each tutorial of `../shared/tutorials/` side by side: the Flask original
//! (`tests/python/tutorials/`, real Flask from the workspace's `.venv` or
//! `$SESSION_TEST_PYTHON`) and its Rust example, as processes on free loopback ports,
//! driven by the same requests. Each step compares the status, `Location`, page and the
//! cookies both browsers are left with; where Rust differs on purpose, the step asserts
//! the difference on both sides by name (`harness::rust_answers_instead_of_a_key_error`,
//! `harness::session_cookie_secure_and_lax_in_rust`, ...).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod harness;

mod t000_login;
mod t001_logged_in_as;
mod t002_set_get_del;
mod t003_cookies;
mod t003_permanent_login;
mod t004_flask_session_files;
