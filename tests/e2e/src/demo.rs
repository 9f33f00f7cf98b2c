//! A demo binary run as a child process on a free loopback port.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use demo_support::{CommonArgs, Secret};
use session_core::adapter::SessionManager;

use crate::{demo_binary, Backend, E2eError, Storage};

/// The secret key every demo of a test gets unless told otherwise: restarts and second
/// processes must share it to read each other's cookies.
const SECRET_KEY: &str = "e2e-secret-key: not a secret, only for tests 0123456789abcdef";
/// How long a demo may take to answer after it was started.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How many fresh ports to try when another process takes ours between probe and bind.
const PORT_ATTEMPTS: usize = 3;
/// How much of a demo's output is kept for failure messages.
const LOG_LIMIT: usize = 256 * 1024;

/// Which demo to run: the cargo package and binary, the backend, and arguments every
/// start adds (after the ones the suite passes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSpec {
    /// The cargo package, e.g. `demo-axum`.
    pub package: String,
    /// The binary in it, e.g. `demo-axum`.
    pub bin: String,
    /// The `--backend`.
    pub backend: Backend,
    /// Extra arguments for every start.
    pub extra_args: Vec<String>,
}

impl DemoSpec {
    /// A spec with no extra arguments.
    pub fn new(package: impl Into<String>, bin: impl Into<String>, backend: Backend) -> Self {
        Self {
            package: package.into(),
            bin: bin.into(),
            backend,
            extra_args: Vec::new(),
        }
    }

    /// Adds an argument to every start.
    pub fn with_arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }
}

/// How to start a demo: a spec plus a working directory (a fresh temporary directory that
/// also holds SQLite files and session directories, removed with the last clone), the
/// database URL, the secret key and the flags. Cloning
/// shares the directory, so a clone starts a second process on the same storage.
///
/// The secret key is a public test constant, so `Debug` shows it.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    spec: DemoSpec,
    dir: Arc<tempfile::TempDir>,
    database_url: Option<String>,
    secret_key: String,
    args: Vec<String>,
    /// The `--redis-prefix` of the redis backends: this configuration's own.
    redis_prefix: Option<String>,
    /// The PostgreSQL schemas of this configuration and its other store, dropped with
    /// the last clone.
    _schemas: Option<Arc<crate::postgres::Schemas>>,
    /// The keys under `redis_prefix` in both Redis databases, deleted with the last clone.
    _redis_keys: Option<Arc<crate::redis::Prefix>>,
}

impl DemoConfig {
    /// A fresh working directory and the backend's own database URL in it (see
    /// [`Backend::database_url`]); on Redis, a key prefix of its own (`--redis-prefix`,
    /// never Flask-Session's default `session:`) whose keys are deleted, in both
    /// databases, when the last clone goes; the suite's secret key; secure cookies.
    ///
    /// # Errors
    ///
    /// [`E2eError::Setup`] when no temporary directory can be made.
    pub fn new(spec: &DemoSpec) -> Result<Self, E2eError> {
        let dir = tempfile::Builder::new()
            .prefix("e2e-demo-")
            .tempdir()
            .map_err(|source| E2eError::Setup {
                what: "temporary directory",
                source,
            })?;
        let storage = spec.backend.storage();
        let schemas = (storage == Storage::Postgres).then(|| {
            Arc::new(crate::postgres::Schemas::new(vec![
                crate::postgres::schema_for(dir.path(), false),
                crate::postgres::schema_for(dir.path(), true),
            ]))
        });
        let redis_prefix =
            (storage == Storage::Redis).then(|| crate::redis::prefix_for(dir.path()));
        let redis_keys = redis_prefix.as_ref().map(|prefix| {
            Arc::new(crate::redis::Prefix::new(
                prefix.clone(),
                vec![crate::redis::url(0), crate::redis::url(1)],
            ))
        });
        Ok(Self {
            database_url: spec.backend.database_url(dir.path(), false),
            redis_prefix,
            spec: spec.clone(),
            dir: Arc::new(dir),
            secret_key: SECRET_KEY.to_owned(),
            args: Vec::new(),
            _schemas: schemas,
            _redis_keys: redis_keys,
        })
    }

    /// The same settings on a separate, empty store (another SQLite file, another session
    /// directory, another Redis database, another PostgreSQL schema): its ids are well-formed and signed with the same key, but unknown here.
    pub fn other_store(&self) -> Self {
        let mut other = self.clone();
        other.database_url = self.spec.backend.database_url(self.dir.path(), true);
        other
    }

    /// The spec.
    pub fn spec(&self) -> &DemoSpec {
        &self.spec
    }

    /// The working directory (the demo's current directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `--database-url` the demo gets, if any.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// The `--secret-key` the demo gets.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The `--redis-prefix` the demo gets (the redis backends only): every key it writes,
    /// in either Redis database, starts with it.
    pub fn redis_prefix(&self) -> Option<&str> {
        self.redis_prefix.as_deref()
    }

    /// The session manager the demo builds for this configuration's backend, store, key
    /// prefix and secret, built in this process by the demo's own code
    /// (`demo_support::session_manager`): to write sessions as another process of the
    /// demo would, or to ask the backend what it can do. Only the flags above are passed,
    /// not [`with_arg`](Self::with_arg)'s.
    ///
    /// # Errors
    ///
    /// [`E2eError::ServiceDown`] when the backend's Redis or PostgreSQL is not reachable;
    /// [`E2eError::Manager`] when `demo_support` cannot build the manager.
    pub async fn session_manager(&self) -> Result<SessionManager, E2eError> {
        service_is_up(self.spec.backend)?;
        let mut args = vec![
            "demo".to_owned(),
            "--backend".to_owned(),
            self.spec.backend.flag().to_owned(),
        ];
        args.extend(self.store_arguments());
        let flags = Flags::try_parse_from(args).map_err(|error| E2eError::Manager {
            backend: self.spec.backend.flag(),
            reason: error.to_string(),
        })?;
        let failed = |error: &(dyn std::error::Error + 'static)| E2eError::Manager {
            backend: self.spec.backend.flag(),
            reason: demo_support::error_chain(error),
        };
        let secret = Secret::new(Some(&self.secret_key)).map_err(|error| failed(&error))?;
        demo_support::session_manager(&flags.common, &secret)
            .await
            .map_err(|error| failed(&error))
    }

    /// `--database-url` and `--redis-prefix`, when the backend takes them.
    fn store_arguments(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".to_owned(), url.clone()]);
        }
        if let Some(prefix) = &self.redis_prefix {
            args.extend(["--redis-prefix".to_owned(), prefix.clone()]);
        }
        args
    }

    /// Replaces the `--database-url` (`None`: pass none, so the demo's default applies).
    pub fn with_database_url(mut self, url: Option<String>) -> Self {
        self.database_url = url;
        self
    }

    /// Replaces the `--secret-key`.
    pub fn with_secret_key(mut self, key: impl Into<String>) -> Self {
        self.secret_key = key.into();
        self
    }

    /// Adds `--insecure-cookie`.
    pub fn insecure_cookie(self) -> Self {
        self.with_arg("--insecure-cookie")
    }

    /// Adds `--idle-timeout SECS`.
    pub fn idle_timeout(self, secs: u64) -> Self {
        self.with_arg("--idle-timeout").with_arg(secs.to_string())
    }

    /// Adds `--absolute-timeout SECS`.
    pub fn absolute_timeout(self, secs: u64) -> Self {
        self.with_arg("--absolute-timeout")
            .with_arg(secs.to_string())
    }

    /// Adds `--lifetime SECS`.
    pub fn lifetime(self, secs: u64) -> Self {
        self.with_arg("--lifetime").with_arg(secs.to_string())
    }

    /// Adds `--remember-for SECS`.
    pub fn remember_for(self, secs: u64) -> Self {
        self.with_arg("--remember-for").with_arg(secs.to_string())
    }

    /// Adds `--max-sessions-per-user N`.
    pub fn max_sessions_per_user(self, n: u64) -> Self {
        self.with_arg("--max-sessions-per-user")
            .with_arg(n.to_string())
    }

    /// Adds any argument.
    pub fn with_arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Builds (once per process) and starts the demo; see [`Demo::start`].
    ///
    /// # Errors
    ///
    /// As [`Demo::start`].
    pub async fn start(&self) -> Result<Demo, E2eError> {
        Demo::start(self).await
    }

    /// The command line after the binary, for `addr`.
    fn arguments(&self, addr: SocketAddr) -> Vec<String> {
        let mut args = vec![
            "--addr".to_owned(),
            addr.to_string(),
            "--backend".to_owned(),
            self.spec.backend.flag().to_owned(),
            "--secret-key".to_owned(),
            self.secret_key.clone(),
        ];
        args.extend(self.store_arguments());
        args.extend(self.args.iter().cloned());
        args.extend(self.spec.extra_args.iter().cloned());
        args
    }
}

/// A running demo process. Dropping it kills the process; when that happens during a
/// panic (a failed assertion), the demo's output is printed to stderr, which the test
/// harness shows with the failure.
#[derive(Debug)]
pub struct Demo {
    config: DemoConfig,
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Demo {
    /// Builds the binary (once per process), starts it on a free 127.0.0.1 port and waits
    /// until it answers HTTP (at most 60 s). A port taken by another process between
    /// probe and bind is retried on a fresh port.
    ///
    /// # Errors
    ///
    /// [`E2eError::ServiceDown`] when the backend's Redis or PostgreSQL is not reachable,
    /// the build's errors, [`E2eError::Exited`] or [`E2eError::NotReady`] with the demo's
    /// output.
    pub async fn start(config: &DemoConfig) -> Result<Demo, E2eError> {
        service_is_up(config.spec.backend)?;
        let binary = demo_binary(&config.spec.package, &config.spec.bin)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let addr = free_port()?;
            let mut command = Command::new(&binary);
            command
                .args(config.arguments(addr))
                .current_dir(config.dir())
                .env("RUST_BACKTRACE", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // The contract's environment variables would override nothing (flags win), but
            // a stray one must not change what a test thinks it started.
            for var in [
                "DEMO_ADDR",
                "SESSION_BACKEND",
                "DATABASE_URL",
                "SESSION_SECRET_KEY",
                "SESSION_REDIS_PREFIX",
            ] {
                command.env_remove(var);
            }
            let mut child = command.spawn().map_err(|source| E2eError::Spawn {
                program: binary.clone(),
                source,
            })?;
            let log = Arc::new(Mutex::new(Vec::new()));
            capture(child.stdout.take(), &log);
            capture(child.stderr.take(), &log);
            let mut demo = Demo {
                config: config.clone(),
                child,
                addr,
                log,
            };
            match demo.wait_until_ready().await {
                Err(E2eError::Exited { log, .. })
                    if attempt < PORT_ATTEMPTS && port_was_taken(&log) =>
                {
                    continue
                }
                Err(error) => return Err(error),
                Ok(()) => return Ok(demo),
            }
        }
    }

    /// Kills the process and starts it again with the same configuration (on a new port).
    ///
    /// # Errors
    ///
    /// As [`Demo::start`].
    pub async fn restart(&mut self) -> Result<(), E2eError> {
        self.kill();
        let fresh = Demo::start(&self.config).await?;
        *self = fresh;
        Ok(())
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &DemoConfig {
        &self.config
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the demo printed so far (stdout and stderr, the last 256 KiB).
    pub fn log(&self) -> String {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&log).into_owned()
    }

    /// Polls until any HTTP answer comes, the process exits, or the bound passes.
    async fn wait_until_ready(&mut self) -> Result<(), E2eError> {
        let probe = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(E2eError::Client)?;
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(E2eError::Exited {
                    bin: self.config.spec.bin.clone(),
                    addr: self.addr.to_string(),
                    status,
                    log: self.log(),
                });
            }
            if probe.get(self.url("/")).send().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(E2eError::NotReady {
            bin: self.config.spec.bin.clone(),
            addr: self.addr.to_string(),
            seconds: READY_WITHIN.as_secs(),
            log: self.log(),
        })
    }

    fn kill(&mut self) {
        // Errors mean it already exited, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- output of {} (--backend {}) on {} ----\n{}",
                self.config.spec.bin,
                self.config.spec.backend,
                self.addr,
                self.log()
            );
        }
    }
}

/// A port that was free a moment ago: bind port 0, read it, let it go.
pub(crate) fn free_port() -> Result<SocketAddr, E2eError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| E2eError::Setup {
        what: "free port",
        source,
    })?;
    listener.local_addr().map_err(|source| E2eError::Setup {
        what: "free port",
        source,
    })
}

fn port_was_taken(log: &str) -> bool {
    let log = log.to_ascii_lowercase();
    log.contains("address already in use")
        || log.contains("addrinuse")
        || log.contains("os error 98")
}

/// Fails fast, with the fix, when the Redis or PostgreSQL a backend needs is down.
fn service_is_up(backend: Backend) -> Result<(), E2eError> {
    match backend.storage() {
        Storage::Redis => crate::redis::is_up(),
        Storage::Postgres => crate::postgres::is_up(),
        Storage::Process | Storage::Cookie | Storage::SqliteFile | Storage::Directory => Ok(()),
    }
}

/// The demo's flags, as `demo_support` reads them.
#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    common: CommonArgs,
}

/// Copies a pipe into the shared log on a thread of its own, keeping the last
/// `LOG_LIMIT` bytes; the thread ends when the process closes the pipe.
fn capture(pipe: Option<impl Read + Send + 'static>, log: &Arc<Mutex<Vec<u8>>>) {
    let Some(mut pipe) = pipe else { return };
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 8192];
        while let Ok(read @ 1..) = pipe.read(&mut buffer) {
            let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            log.extend_from_slice(&buffer[..read]);
            if log.len() > LOG_LIMIT {
                let excess = log.len() - LOG_LIMIT;
                log.drain(..excess);
            }
        }
    });
}
