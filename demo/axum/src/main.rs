//! The sessions demo on axum: log in and out, a counter, flash messages, on any backend.
//!
//! Run with: cargo run -p demo-axum
//!
//! Then open <http://127.0.0.1:3000/>. Flags (`--help` lists them) choose the address,
//! backend, secret and timeouts; the routes are in `routes.rs` and follow the demo contract
//! of the workspace's `DESIGN.md`.

#![forbid(unsafe_code)]

mod routes;
mod shutdown;

use std::process::ExitCode;

use adapter_axum::SessionLayer;
use anyhow::Context as _;
use clap::Parser;
use demo_support::{describe, error_chain, session_manager, CommonArgs, Secret, Templates};
use tracing_subscriber::EnvFilter;

/// The sessions demo on axum.
#[derive(Parser)]
#[command(name = "demo-axum", version, about)]
struct Cli {
    /// The address to listen on (port 0: any free port, printed at startup).
    #[arg(
        long,
        env = "DEMO_ADDR",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:3000"
    )]
    addr: String,

    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo-axum: {}", error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let secret = Secret::new(cli.common.secret_key.as_deref())?;
    if secret.is_random() {
        tracing::warn!("no --secret-key (or SESSION_SECRET_KEY) given: using a random key, so sessions end when the demo restarts");
    }
    let manager = session_manager(&cli.common, &secret).await?;
    let templates = Templates::new("axum", describe(&cli.common));
    let app = routes::router(templates, cli.common.remember_for)
        .layer(SessionLayer::from_manager(manager));

    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .with_context(|| format!("could not listen on {}", cli.addr))?;
    let addr = listener.local_addr()?;
    announce(&format!(
        "demo-axum: open http://{addr}/ ({}); Ctrl-C stops",
        describe(&cli.common)
    ));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown::signal())
        .await
        .context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Tells the user where to go, on stdout, where they (and scripts waiting for the port)
/// look.
#[allow(clippy::print_stdout)]
fn announce(line: &str) {
    println!("{line}");
}
