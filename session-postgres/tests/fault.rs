//! A PostgreSQL server that goes away and comes back: a private cluster on a port of its
//! own (initdb + pg_ctl in a temp dir), stopped under a live store and started again.
//! While it is down, loads and saves are unavailable (503), never an anonymous session
//! nor a hang; once it is back, the same store serves again by itself.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use session_core::adapter::ErrorResponse;
use session_core::backend::CookieUpdate;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore, SessionId, StorageKey, StoreError};
use session_postgres::PostgresStoreOptions;

/// How to run a private server: its programs, data directory and port. PostgreSQL
/// refuses to run as root, so when the tests do, its programs run as `postgres`.
#[derive(Clone)]
struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// A private cluster in a temp dir; stopped and removed when dropped.
struct Cluster {
    server: Server,
    _dir: tempfile::TempDir,
}

/// The newest installed server's `bin` directory (Debian's layout).
fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").is_file() && bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl); \
             install them with `apt-get install -y postgresql` (scripts/test.sh does)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// initdb, then start on a free port.
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("session-postgres-fault-")
            .tempdir()
            .expect("a temp dir");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown the cluster's dir to postgres");
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let server = Server {
            bin: server_bin(),
            data: dir.path().join("data"),
            port,
            as_postgres,
        };
        server.run(
            "initdb",
            &[
                "-D",
                path(&server.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.start();
        Self { server, _dir: dir }
    }
}

impl Server {
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server's programs, as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            path(&self.data)
        );
        let log = self.data.with_file_name("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&self.data),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", path(&self.data), "-m", "fast", "-w", "stop"],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Already stopped is fine; the temp dir goes with `_dir`.
        let _ = self
            .server
            .command("pg_ctl")
            .args([
                "-D",
                path(&self.server.data),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_is_unavailable_and_a_restarted_one_serves_again() {
    let cluster = tokio::task::spawn_blocking(Cluster::new)
        .await
        .expect("the cluster starts");
    let clock = ManualClock::starting_now();
    let store = PostgresStoreOptions::default()
        .with_max_connections(3)
        .with_acquire_timeout(Duration::from_secs(1))
        .with_cleanup_interval(None)
        .connect(&cluster.server.url())
        .await
        .expect("the private cluster accepts the store");
    let manager = common::manager(store.clone(), &clock);

    // A login, and a few requests so the pool holds several connections.
    let (request, session) = common::open(&manager, None).await.expect("load");
    session.insert("user", "ada").expect("insert");
    let CookieUpdate::Set { value: cookie, .. } = common::finish(&request).await.expect("save")
    else {
        panic!("a new session sets a cookie");
    };
    let (a, b, c) = tokio::join!(
        common::read(&manager, &cookie, "user"),
        common::read(&manager, &cookie, "user"),
        common::read(&manager, &cookie, "user"),
    );
    for read in [a, b, c] {
        assert_eq!(read.expect("read"), Some(serde_json::json!("ada")));
    }

    let server = cluster.server.clone();
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("the cluster stops");

    // Down: every request on the session fails as unavailable, twice in a row (the
    // first meets a dead pooled connection, the second a refused new one).
    for _ in 0..2 {
        let error = common::open(&manager, Some(&cookie))
            .await
            .expect_err("a load while the server is down fails");
        assert_eq!(error.http_status(), 503, "{error}");
        assert_eq!(ErrorResponse::for_error(&error).status, 503);
        assert!(
            !error.to_string().is_empty() && std::error::Error::source(&error).is_some(),
            "the cause is kept: {error:?}"
        );
    }
    // A write on a new session too.
    let request = manager.request(None);
    let session = request
        .session()
        .await
        .expect("a new session needs no load");
    session.insert("user", "bob").expect("insert");
    let error = request.finish().await.expect_err("a save while down fails");
    assert_eq!(error.http_status(), 503, "{error}");
    // And the store itself says so.
    let key = StorageKey::hashed(&SessionId::generate().expect("random"));
    match store.load(&key, clock.now()).await {
        Err(StoreError::Unavailable(source)) => {
            let message = source.to_string();
            assert!(
                message.contains(&format!("127.0.0.1:{}", cluster.server.port))
                    && message.contains("load a session"),
                "the error names the server and the operation: {message}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }

    let server = cluster.server.clone();
    tokio::task::spawn_blocking(move || server.start())
        .await
        .expect("the cluster starts again");

    // Back: the same store and manager serve again, with no restart of theirs.
    assert_eq!(
        common::read(&manager, &cookie, "user")
            .await
            .expect("the first load after the restart succeeds"),
        Some(serde_json::json!("ada")),
        "the session survived the restart"
    );
    let (request, session) = common::open(&manager, Some(&cookie)).await.expect("load");
    session.insert("visits", 2).expect("insert");
    common::finish(&request)
        .await
        .expect("a save after the restart");
    assert_eq!(
        common::read(&manager, &cookie, "visits")
            .await
            .expect("read"),
        Some(serde_json::json!(2))
    );
}
