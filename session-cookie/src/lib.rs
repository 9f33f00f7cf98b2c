//! Cookie session wire formats.
//!
//! * [`flask`]: Flask's signed cookie session format (`itsdangerous`'s
//!   `URLSafeTimedSerializer` around Flask's tagged JSON), so a Rust service
//!   can read and write the same `session` cookie as a Flask application.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod flask;
