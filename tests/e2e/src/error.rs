//! What can go wrong while building, starting or talking to a demo.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;

/// Why a demo could not be built, started or reached.
///
/// `Debug` prints the same text as `Display`, with its causes, so a test that unwraps one
/// of these shows a readable message.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum E2eError {
    /// `cargo build` of the demo failed.
    #[error("`cargo build -p {package} --bin {bin}` failed ({status}):\n{output}")]
    Build {
        /// The package that was built.
        package: String,
        /// The binary that was built.
        bin: String,
        /// How cargo exited.
        status: String,
        /// What cargo printed (its diagnostics).
        output: String,
    },
    /// Cargo built the package but named no executable for the binary.
    #[error(
        "cargo built `{package}` but reported no executable named `{bin}`: is the binary declared?"
    )]
    NoExecutable {
        /// The package that was built.
        package: String,
        /// The binary that was looked for.
        bin: String,
    },
    /// A program could not be run at all.
    #[error("cannot run {}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A temporary directory or a free port could not be had.
    #[error("cannot prepare the demo's {what}")]
    Setup {
        /// What was being prepared.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The demo exited before it answered.
    #[error("{bin} exited ({status}) before it answered on {addr}; its output:\n{log}")]
    Exited {
        /// The binary.
        bin: String,
        /// The address it was given.
        addr: String,
        /// How it exited.
        status: ExitStatus,
        /// What it printed on stdout and stderr.
        log: String,
    },
    /// The demo did not answer within the start-up bound.
    #[error("{bin} did not answer on {addr} within {seconds} s; its output so far:\n{log}")]
    NotReady {
        /// The binary.
        bin: String,
        /// The address it was given.
        addr: String,
        /// The bound that passed.
        seconds: u64,
        /// What it printed on stdout and stderr.
        log: String,
    },
    /// `demo_support` could not build the demo's session manager in this process.
    #[error("could not build the session manager of --backend {backend}: {reason}")]
    Manager {
        /// The backend.
        backend: &'static str,
        /// Why, with its causes.
        reason: String,
    },
    /// A service the backend needs is not reachable.
    #[error("{service} is not reachable at {addr}: {advice}")]
    ServiceDown {
        /// The service, e.g. "Redis".
        service: &'static str,
        /// Where it was looked for.
        addr: &'static str,
        /// How to start it.
        advice: &'static str,
        /// Why the connection failed.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request to the demo failed below HTTP (connection refused, reset, timeout).
    #[error("{method} {url} failed")]
    Http {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// A program a test needs is not installed.
    #[error("{program} is not installed: {advice}")]
    MissingProgram {
        /// The program, e.g. `chromium`.
        program: &'static str,
        /// How to install it.
        advice: &'static str,
    },
    /// chromedriver could not start a browser session.
    #[error("chromedriver could not start Chromium")]
    WebDriver(#[source] Box<fantoccini::error::NewSessionError>),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl fmt::Debug for E2eError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
