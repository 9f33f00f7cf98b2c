//! Building a demo binary once per test process and finding its executable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::E2eError;

/// What one `cargo build` gave: the executable, or (status, diagnostics).
type Built = Result<PathBuf, (String, String)>;

/// Builds of this process, by (package, bin). A failed build is remembered too, so a broken
/// demo costs one build per test process, not one per test.
static BUILDS: OnceLock<Mutex<HashMap<(String, String), Built>>> = OnceLock::new();

/// The workspace root: this crate lives in `<root>/tests/e2e`. (Cargo finds the workspace
/// from any directory inside it; the root keeps its messages' paths short.)
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// Builds `bin` of `package` (debug profile) with the cargo that runs the tests, once per
/// process, and returns the path of the executable cargo reports.
///
/// Cargo is asked for `--message-format=json`, so the path is the one cargo wrote,
/// wherever `CARGO_TARGET_DIR` or `.cargo/config.toml` put the target directory.
///
/// This blocks while cargo builds (other tests asking for the same binary wait for it).
///
/// # Errors
///
/// [`E2eError::Build`] with cargo's diagnostics when the build fails,
/// [`E2eError::NoExecutable`] when cargo names no such binary, [`E2eError::Spawn`] when
/// cargo cannot be run.
pub fn demo_binary(package: &str, bin: &str) -> Result<PathBuf, E2eError> {
    let builds = BUILDS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means another test panicked while building; the map is still
    // consistent (entries are inserted whole).
    let mut builds = builds
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = (package.to_owned(), bin.to_owned());
    if !builds.contains_key(&key) {
        let built = build(package, bin)?;
        builds.insert(key.clone(), built);
    }
    match builds.get(&key) {
        Some(Ok(path)) => Ok(path.clone()),
        Some(Err((status, output))) => Err(E2eError::Build {
            package: package.to_owned(),
            bin: bin.to_owned(),
            status: status.clone(),
            output: output.clone(),
        }),
        None => Err(E2eError::NoExecutable {
            package: package.to_owned(),
            bin: bin.to_owned(),
        }),
    }
}

/// Runs cargo; `Err` only when cargo could not be run or named no executable.
fn build(package: &str, bin: &str) -> Result<Built, E2eError> {
    // `cargo test` sets CARGO to its own binary; fall back to the one on PATH.
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let output = Command::new(&cargo)
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .arg("--message-format=json-render-diagnostics")
        .output()
        .map_err(|source| E2eError::Spawn {
            program: cargo.clone(),
            source,
        })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stdout));
        return Ok(Err((output.status.to_string(), text)));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    match executable_in(&stdout, bin) {
        Some(path) => Ok(Ok(path)),
        None => Err(E2eError::NoExecutable {
            package: package.to_owned(),
            bin: bin.to_owned(),
        }),
    }
}

/// The `executable` of the `compiler-artifact` message for binary `bin`.
fn executable_in(messages: &str, bin: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == bin
        })
        .filter(|message| {
            message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"))
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_of_the_named_binary() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"support","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"demo-axum","kind":["bin"]},"executable":"/t/debug/demo-axum"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable_in(messages, "demo-axum"),
            Some(PathBuf::from("/t/debug/demo-axum"))
        );
        assert_eq!(executable_in(messages, "demo-rocket"), None);
    }
}
