//! Outages against a Redis this test runs itself (`/usr/bin/redis-server` on a free
//! port): a hung server and a dead one give errors that adapters answer with 503 (never a
//! panic, a hang, an empty session or a half-applied write), and service resumes by itself
//! once Redis is back.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use session_core::adapter::SessionManager;
use session_core::clock::ManualClock;
use session_core::{SessionConfig, SessionError};
use session_redis::RedisConfig;

use crate::common::{finish, manager, open, set_value};

const REDIS_SERVER: &str = "/usr/bin/redis-server";
/// The longest any one call may take before the test calls it a hang: far above the
/// store's 300 ms command timeout, so only a real hang trips it.
const HANG: Duration = Duration::from_secs(10);

/// A redis-server child process, killed when dropped (also when the test panics).
struct Server {
    child: Child,
    port: u16,
    running: bool,
}

impl Server {
    fn start(port: u16) -> Self {
        assert!(
            std::path::Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: install Debian's redis-server (scripts/test.sh does)"
        );
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Self {
            child,
            port,
            running: true,
        };
        server.wait_until_ready();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Waits until this very child answers on the port: the server that answers must
    /// report the child's process id, so a port another process took meanwhile fails the
    /// test with a message instead of testing someone else's server.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = self.child.id().to_string();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "redis-server on port {} exited at start ({status}): is the port taken?",
                    self.port
                );
            }
            let info = redis::Client::open(self.url())
                .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut conn| redis::cmd("INFO").arg("server").query::<String>(&mut conn));
            if let Ok(info) = info {
                assert!(
                    info.lines().any(|line| line == format!("process_id:{pid}")),
                    "another server answers on port {}: not the redis-server this test started",
                    self.port
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server on port {} did not answer within 10 s",
            self.port
        );
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    fn kill(&mut self) {
        if self.running {
            // A stopped process must be continued before it can act on the kill.
            let _ = Command::new("kill")
                .args(["-CONT", &self.child.id().to_string()])
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.running = false;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `call`, failing the test if it hangs.
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, call)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {HANG:?} instead of failing"))
}

fn assert_unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, SessionError>) {
    match result {
        Err(error) => assert!(
            error.is_unavailable(),
            "{what}: expected an unavailable error (503), got {error}"
        ),
        Ok(value) => panic!("{what} succeeded against a Redis that is down: {value:?}"),
    }
}

/// Bounded in count and time: tries a full round trip until one succeeds; the cookie of
/// the session it created.
async fn wait_for_service(manager: &SessionManager) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    for _ in 0..600 {
        let attempt = async {
            let (request, session) = open(manager, None).await?;
            session.insert("probe", true)?;
            finish(&request).await
        };
        match bounded("a probe", attempt).await {
            Ok(update) => return set_value(update),
            Err(error) if error.is_unavailable() && Instant::now() < deadline => {
                // A pause between probes, not a margin: nothing is asserted about time.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("service did not resume: {error}"),
        }
    }
    panic!("service did not resume after 600 attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outages_are_errors_and_service_resumes_by_itself() {
    let port = free_port();
    let mut server = Server::start(port);
    let store = RedisConfig::new(server.url())
        .with_command_timeout(Duration::from_millis(300))
        .with_connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    let manager = manager(
        store,
        SessionConfig::default(),
        &ManualClock::starting_now(),
    );

    let (request, session) = open(&manager, None).await.unwrap();
    session.insert("user", "ada").unwrap();
    session.insert("counter", 1).unwrap();
    let cookie = set_value(finish(&request).await.unwrap());

    // --- A hung server: commands time out instead of hanging the request. ---
    // (A loaded session holds its per-session lock until saved, so each step loads only
    // when no other request of the session is open.)
    server.signal("-STOP");
    assert_unavailable(
        "load on a hung Redis",
        bounded("load", open(&manager, Some(&cookie)))
            .await
            .map(|_| ()),
    );
    server.signal("-CONT");
    wait_for_service(&manager).await;
    let (request, before) = open(&manager, Some(&cookie)).await.unwrap();
    server.signal("-STOP");
    before
        .update("counter", |n: Option<u32>| n.unwrap_or(0) + 1)
        .unwrap();
    assert_unavailable(
        "save on a hung Redis",
        bounded("save", request.finish()).await,
    );
    server.signal("-CONT");
    wait_for_service(&manager).await;
    // The timed-out save was sent before the hang was noticed, so Redis may have applied
    // it on waking: the counter is one of the two values, never anything else.
    let (request, session) = open(&manager, Some(&cookie)).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    let counter = session.get::<u32>("counter").unwrap();
    assert!(matches!(counter, Some(1 | 2)), "counter is {counter:?}");
    session
        .update("counter", |n: Option<u32>| n.unwrap_or(0) + 10)
        .unwrap();
    finish(&request).await.unwrap();
    let counter_before_outage = counter.map(|n| n + 10);

    // --- A dead server: every store call fails as unavailable, nothing panics. ---
    let (request, loaded) = open(&manager, Some(&cookie)).await.unwrap();
    server.kill();
    loaded.insert("written during the outage", true).unwrap();
    assert_unavailable(
        "save with Redis down",
        bounded("save", request.finish()).await,
    );
    assert_unavailable(
        "load with Redis down",
        bounded("load", open(&manager, Some(&cookie)))
            .await
            .map(|_| ()),
    );
    let (request, fresh) = bounded("an anonymous load", open(&manager, None))
        .await
        .unwrap();
    fresh.insert("user", "grace").unwrap();
    assert_unavailable(
        "create with Redis down",
        bounded("create", request.finish()).await,
    );

    // --- Redis comes back (empty: no persistence); the connection re-dials by itself. ---
    // On the same port, which the client is configured with: re-checked first, as
    // another process may have taken it while Redis was down.
    assert!(
        port_is_free(port),
        "port {port} was taken while the test's Redis was down; run the test again"
    );
    let mut server = Server::start(port);
    let probe = wait_for_service(&manager).await;
    let (request, session) = open(&manager, Some(&probe)).await.unwrap();
    assert_eq!(
        session.get::<bool>("probe").unwrap(),
        Some(true),
        "service resumed with working round trips"
    );
    finish(&request).await.unwrap();
    // The restarted Redis lost everything (`--save ""`), and nothing from the outage was
    // written: the old id is unknown and is not adopted (strict mode).
    let (request, old) = open(&manager, Some(&cookie)).await.unwrap();
    assert!(
        old.is_empty(),
        "no data may appear from the failed writes (had {counter_before_outage:?})"
    );
    old.insert("user", "ada").unwrap();
    let reissued = set_value(finish(&request).await.unwrap());
    assert_ne!(reissued, cookie, "an unknown id gets a brand-new cookie");
    server.kill();
}
