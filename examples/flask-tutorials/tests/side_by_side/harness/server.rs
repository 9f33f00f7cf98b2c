//! The servers: the Flask originals and the Rust examples, as processes on 127.0.0.1.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::WAIT;

/// What a server prints once it listens.
const READY: &str = "Running on http://127.0.0.1:";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with Flask and Flask-Session: `$SESSION_TEST_PYTHON`, else the workspace's
/// `.venv`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("SESSION_TEST_PYTHON") {
        return python.into();
    }
    let venv = workspace().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with Flask at {} and SESSION_TEST_PYTHON is not set: run scripts/test.sh \
         (it creates the venv from tests/python/requirements.txt), or \
         `python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt`",
        venv.display()
    );
    venv
}

/// The examples' executables by name, built once per test run by
/// `cargo build -p flask-tutorials --examples`.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<HashMap<String, PathBuf>, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = std::process::Command::new(cargo)
            .current_dir(workspace())
            .args(["build", "--quiet", "-p", "flask-tutorials", "--examples"])
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit())
            .output()
            .map_err(|error| format!("could not run cargo: {error}"))?;
        if !output.status.success() {
            return Err(format!("cargo build failed: {}", output.status));
        }
        let mut found = HashMap::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if let (Some(name), Some(exe)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) {
                found.insert(name.to_owned(), PathBuf::from(exe));
            }
        }
        Ok(found)
    });
    match built {
        Ok(found) => found
            .get(name)
            .unwrap_or_else(|| panic!("cargo built no example {name}: {found:?}"))
            .clone(),
        Err(error) => panic!("{error}"),
    }
}

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    name: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// The Flask original `app` (a path under `tests/python/tutorials/`), with `env`.
    pub async fn flask(app: &str, env: &[(&str, &Path)]) -> Self {
        let tutorials = workspace().join("tests/python/tutorials");
        let mut command = Command::new(python());
        command
            .arg(tutorials.join("serve.py"))
            .arg(tutorials.join(app))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())));
        Self::start(format!("Flask {app}"), command).await
    }

    /// The Rust example `name`, with `args`.
    pub async fn rust(name: &str, args: &[&str]) -> Self {
        let mut command = Command::new(example(name));
        command.args(args);
        Self::start(format!("Rust {name}"), command).await
    }

    async fn start(name: String, mut command: Command) -> Self {
        command
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "could not start {name}: {error} (the Flask apps need the venv of \
                     scripts/test.sh, or SESSION_TEST_PYTHON naming a Python with \
                     tests/python/requirements.txt installed)"
            )
        });
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let ready = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some((_, port)) = line.split_once(READY) {
                    return port.trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await;
        let Ok(Some(port)) = ready else {
            let _ = child.start_kill();
            panic!(
                "{name} did not say it was running within {WAIT:?}:\n{}",
                log.lock().unwrap()
            );
        };
        // Keep reading, so the server never blocks on a full pipe; kept for failures.
        let rest = Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                rest.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            name,
            log,
        }
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        format!("{}:\n{}", self.name, self.log.lock().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
