//! The demo binary as a user runs it: started as a process on a free port, driven over
//! real HTTP, stopped with SIGTERM. (The full contract suite lives in
//! `session-e2e`; this checks the binary's own startup,
//! shutdown and a walk through every route.)

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::{Client, StatusCode};

/// A running demo, stopped when dropped.
struct Demo {
    child: Child,
    base: String,
}

impl Demo {
    fn start(dir: &Path, flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_demo-axum"))
            .args(["--addr", "127.0.0.1:0"])
            .args(flags)
            .current_dir(dir)
            .env_remove("DEMO_ADDR")
            .env_remove("SESSION_BACKEND")
            .env_remove("DATABASE_URL")
            .env_remove("SESSION_SECRET_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in the startup line {line:?}"));
        Self {
            base: format!("http://{addr}"),
            child,
        }
    }

    /// Sends SIGTERM and waits: a graceful stop exits with success.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // Only if the test failed before `stop`: this process is ours, by its id.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get("set-cookie")?.to_str().unwrap();
    Some(value.split(';').next().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_on_the_memory_backend() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path(), &["--backend", "memory", "--insecure-cookie"]);
    let (client, base) = (client(), demo.base.clone());

    let home = client.get(format!("{base}/")).send().await.unwrap();
    assert!(home.headers().get("set-cookie").is_none());
    assert!(home.text().await.unwrap().contains("You are not logged in"));

    let form = client.get(format!("{base}/login")).send().await.unwrap();
    assert!(form.text().await.unwrap().contains(r#"name="username""#));

    let blank = client
        .post(format!("{base}/login"))
        .form(&[("username", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(blank.status(), StatusCode::BAD_REQUEST);

    let login = client
        .post(format!("{base}/login"))
        .form(&[("username", "<ada>")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        !set_cookie.contains("Secure"),
        "--insecure-cookie: {set_cookie}"
    );
    let session = cookie(&login).unwrap();

    let home = client
        .get(format!("{base}/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let html = home.text().await.unwrap();
    assert!(
        html.contains("Logged in as &lt;ada&gt;") && html.contains("Welcome, &lt;ada&gt;!"),
        "{html}"
    );
    let again = client
        .get(format!("{base}/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert!(
        !again.text().await.unwrap().contains("Welcome"),
        "a flash is shown once"
    );

    let show = client
        .get(format!("{base}/show"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(show.bytes().await.unwrap(), "<ada>");

    for expected in ["1", "2"] {
        let counter = client
            .post(format!("{base}/counter"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(counter.text().await.unwrap(), expected);
    }

    let data = client
        .post(format!("{base}/data"))
        .header("cookie", &session)
        .form(&[("key", "blob"), ("value", &"x".repeat(2 * 1024 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(data.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let message = data.text().await.unwrap();
    assert!(message.contains("65536-byte limit"), "{message}");

    let logout = client
        .get(format!("{base}/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert!(logout.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let show = client
        .get(format!("{base}/show"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        show.status(),
        StatusCode::UNAUTHORIZED,
        "the old cookie is dead"
    );

    assert!(demo.stop().success(), "SIGTERM stops the demo gracefully");
}

#[tokio::test(flavor = "multi_thread")]
async fn default_sqlite_file_keeps_sessions_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--secret-key", "any string of at least 32 bytes will do"];
    let demo = Demo::start(dir.path(), &flags);
    assert!(
        dir.path().join("demo-sessions.db").exists(),
        "sqlite://demo-sessions.db by default"
    );
    let login = client()
        .post(format!("{}/login", demo.base))
        .form(&[("username", "ada")])
        .send()
        .await
        .unwrap();
    let session = cookie(&login).unwrap();
    assert!(demo.stop().success());

    let demo = Demo::start(dir.path(), &flags);
    let show = client()
        .get(format!("{}/show", demo.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(show.text().await.unwrap(), "ada");
    assert!(demo.stop().success());
}

#[test]
fn a_short_secret_is_refused_at_startup_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    for short in ["", "hunter2"] {
        let output = Command::new(env!("CARGO_BIN_EXE_demo-axum"))
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
            .output()
            .unwrap();
        assert!(!output.status.success(), "{short:?} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("openssl rand"), "{short:?}: {stderr}");
        assert!(
            !stderr.contains(short) || short.is_empty(),
            "the secret is not echoed"
        );
    }
}
