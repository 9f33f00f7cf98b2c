//! The sessions demo on Rocket: log in and out, a counter, flash messages, on any backend.
//!
//! Run with: cargo run -p demo-rocket
//!
//! Then open <http://127.0.0.1:8000/>. Flags (`--help` lists them) choose the address,
//! backend, secret and timeouts; the routes are in `routes.rs` and follow the demo contract
//! of the workspace's `DESIGN.md`, exactly as demo-axum does.
//!
//! Rocket is configured from the flags alone (no `Rocket.toml`, no `ROCKET_*`), quietly
//! (warnings and errors only, no colours), and stops gracefully on Ctrl-C or SIGTERM:
//! in-flight requests get 2 s to finish and save their sessions, connections 1 s more.
//! Rocket's `secrets` feature is off: the demo uses no private cookies (sessions are
//! signed with keys derived from `--secret-key`), so Rocket needs no `secret_key`.

#![forbid(unsafe_code)]

mod form;
mod routes;
mod sessions;

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use adapter_rocket::SessionFairing;
use clap::Parser;
use demo_support::{describe, error_chain, session_manager, CommonArgs, Secret, Templates};
use rocket::config::{LogLevel, Shutdown};
use rocket::data::{Limits, ToByteUnit};
use rocket::error::ErrorKind;
use rocket::fairing::AdHoc;
use tracing_subscriber::EnvFilter;

/// The largest form accepted: well above the 1 MiB a server-side session holds, so that a
/// session too large for its backend is refused by the session (a 413 naming the
/// session's size and limit) rather than by the body limit.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The sessions demo on Rocket.
#[derive(Parser)]
#[command(name = "demo-rocket", version, about)]
struct Cli {
    /// The address to listen on (port 0: any free port, printed at startup).
    #[arg(
        long,
        env = "DEMO_ADDR",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:8000"
    )]
    addr: String,

    #[command(flatten)]
    common: CommonArgs,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("`{0}` is not a HOST:PORT address")]
    Addr(String, #[source] Option<std::io::Error>),
    #[error(transparent)]
    Settings(#[from] adapter_rocket::SettingsError),
    #[error(transparent)]
    Startup(#[from] demo_support::StartupError),
    #[error("could not listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("Rocket could not launch ({0}); see the log above")]
    Launch(&'static str),
}

#[rocket::main]
async fn main() -> ExitCode {
    // Not `.init()`: that would route Rocket's own `log` records into tracing too. Rocket
    // keeps its logger (warnings and errors); the sessions code logs through tracing.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .finish();
    if let Err(error) = tracing::subscriber::set_global_default(subscriber) {
        eprintln!("demo-rocket: no log output: {error}");
    }
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo-rocket: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let addr = resolve(&cli.addr)?;
    let secret = Secret::new(cli.common.secret_key.as_deref())?;
    if secret.is_random() {
        tracing::warn!("no --secret-key (or SESSION_SECRET_KEY) given: using a random key, so sessions end when the demo restarts");
    }
    let manager = session_manager(&cli.common, &secret).await?;
    let backend = describe(&cli.common);

    let rocket = rocket::custom(rocket_config(addr))
        .manage(Templates::new("rocket", backend.clone()))
        .manage(routes::RememberFor(cli.common.remember_for))
        .mount("/", routes::routes())
        .register("/", routes::catchers())
        .attach(SessionFairing::from_manager(manager))
        .attach(AdHoc::on_liftoff("Announce", move |rocket| {
            Box::pin(async move {
                let bound = SocketAddr::new(rocket.config().address, rocket.config().port);
                announce(&format!(
                    "demo-rocket: open http://{bound}/ ({backend}); Ctrl-C stops"
                ));
            })
        }));
    match rocket.launch().await {
        Ok(_) => {
            tracing::info!("stopped");
            Ok(())
        }
        Err(error) => match error.kind() {
            ErrorKind::Bind(source) => Err(Error::Bind {
                addr,
                source: std::io::Error::new(source.kind(), source.to_string()),
            }),
            _ => Err(Error::Launch(error.pretty_print())),
        },
    }
}

/// Rocket's configuration, from the flags alone.
fn rocket_config(addr: SocketAddr) -> rocket::Config {
    rocket::Config {
        address: addr.ip(),
        port: addr.port(),
        limits: Limits::default()
            .limit("form", BODY_LIMIT.bytes())
            .limit("data-form", BODY_LIMIT.bytes()),
        // Quick and graceful: in-flight requests finish (and save their sessions), idle
        // connections close at once.
        shutdown: Shutdown {
            grace: 2,
            mercy: 1,
            ..Shutdown::default()
        },
        // Rocket's launch banner would bury the one line that says where to go.
        log_level: LogLevel::Critical,
        cli_colors: false,
        ..rocket::Config::default()
    }
}

/// `HOST:PORT` (a name, an IPv4 address or a bracketed IPv6 address) as a socket address.
fn resolve(addr: &str) -> Result<SocketAddr, Error> {
    let mut found = addr
        .to_socket_addrs()
        .map_err(|source| Error::Addr(addr.to_owned(), Some(source)))?;
    found
        .next()
        .ok_or_else(|| Error::Addr(addr.to_owned(), None))
}

/// Tells the user where to go, on stdout, where they (and scripts waiting for the port)
/// look.
#[allow(clippy::print_stdout)]
fn announce(line: &str) {
    println!("{line}");
}
