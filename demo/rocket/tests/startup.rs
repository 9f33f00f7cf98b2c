//! The binary's start-up checks, as a user meets them.

#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn a_short_secret_is_refused_at_startup_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    for short in ["", "hunter2"] {
        let output = Command::new(env!("CARGO_BIN_EXE_demo-rocket"))
            .args([
                "--addr",
                "127.0.0.1:0",
                "--backend",
                "memory",
                "--secret-key",
                short,
            ])
            .current_dir(dir.path())
            .env_remove("SESSION_SECRET_KEY")
            .env_remove("ROCKET_PROFILE")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{short:?} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("openssl rand"), "{short:?}: {stderr}");
    }
}
