//! The `serve` subcommand: one variant's server in this process, on one core.
//!
//! Every variant answers the same routes with the same bodies:
//!
//! | route | answer |
//! |---|---|
//! | `POST /login` | puts `username = "ada"` in a new session (new id), `ok` |
//! | `GET /show` | the user name, or 401 when there is none |
//! | `POST /counter` | increments `counter` in the session, answers the new value |
//! | `GET /counter` | the counter's value (0 when absent) |
//! | `POST /logout` | ends the session (deleted on the server, removal cookie), `ok` |

mod none;
mod ours;
mod peer;

use std::io::Write as _;

use anyhow::Context as _;
use axum::Router;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpListener;

use crate::args::ServeArgs;
use crate::variant::Variant;

/// The user name `POST /login` stores and `GET /show` answers.
pub(crate) const USER: &str = "ada";

/// The PostgreSQL server of the pg variants.
pub(crate) const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Runs the server until standard input closes (the benchmark closes it, or dies).
pub(crate) fn main(args: &ServeArgs) -> anyhow::Result<()> {
    if let Some(core) = args.core {
        crate::machine::pin_current_thread(core)?;
    }
    // One thread answers every request: the same budget for every variant, and the
    // threads sqlx starts for SQLite inherit this thread's core.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the server's runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    // The pg variants' tables go in a schema of this process, dropped when it stops.
    let schema = matches!(args.variant, Variant::OursPg | Variant::TsPg)
        .then(|| format!("session_bench_{}", std::process::id()));
    let router = router(args, schema.as_deref())
        .await
        .with_context(|| format!("setting up {}", args.variant.name()))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening {addr}")?;
        stdout.flush()?;
    }
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stdin_closed())
        .await
        .context("serving");
    if let Some(schema) = schema {
        drop_schema(&args.postgres_url, &schema).await?;
    }
    served
}

async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;

    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {url} to drop schema {schema}"))?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("dropping schema {schema}"))?;
    Ok(())
}

async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0_u8; 64];
    while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
}

async fn router(args: &ServeArgs, schema: Option<&str>) -> anyhow::Result<Router> {
    let schema = schema.unwrap_or("public");
    let sqlite_path = args.data_dir.join("sessions.db");
    Ok(match args.variant {
        Variant::None => none::router(),
        Variant::TsMemory => peer::memory(),
        Variant::TsCookie => peer::cookie(),
        Variant::TsSqlite => peer::sqlite(&sqlite_path, false).await?,
        Variant::TsSqliteWal => peer::sqlite(&sqlite_path, true).await?,
        Variant::OursMemory => ours::memory(),
        Variant::OursCookie => ours::cookie()?,
        Variant::OursFlaskCookie => ours::flask_cookie()?,
        Variant::OursSqlite => ours::sqlite(&sqlite_path).await?,
        Variant::TsRedis => peer::redis(&args.redis_url).await?,
        Variant::OursRedis => ours::redis(&args.redis_url).await?,
        Variant::TsPg => peer::postgres(&args.postgres_url, schema).await?,
        Variant::OursPg => ours::postgres(&args.postgres_url, schema).await?,
        Variant::OursFiles => ours::files(&args.data_dir.join("sessions")).await?,
    })
}

/// Why `variant` cannot run in this build, if it cannot (every variant can, now that all
/// our backends exist; kept so a variant can be added before its backend is written).
pub(crate) fn unavailable(variant: Variant) -> Option<&'static str> {
    let _ = variant;
    None
}
