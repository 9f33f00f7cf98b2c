//! What the per-user index costs: logins that tie a session to a user, listing a user's
//! sessions, logging one out, and "log out everywhere", on each server-side store (memory,
//! SQLite, files, Redis, PostgreSQL) with 10,000 users x 3 sessions in it.
//!
//! Run with: `cargo run --release -p session-bench --bin index-cost` (add `--stores
//! sqlite,redis` to choose; Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432
//! must be running, as `scripts/test.sh` starts them). No peer has a per-user index, so
//! there is nothing to compare against: the figures are absolute, per operation, through
//! a `SessionManager` as a request handler would call it, on one task (one request at a
//! time: latency, not throughput under load).

#![allow(clippy::print_stdout)]

use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use session_core::adapter::SessionManager;
use session_core::backend::{BoxedBackend, IntoSessionBackend};
use session_core::store::MemoryStore;
use session_core::{Principal, SessionConfig};
use session_files::FileStore;
use session_postgres::PostgresStoreOptions;
use session_redis::RedisConfig;
use session_sqlite::SqliteStore;

#[derive(Parser)]
#[command(about = "What the per-user index costs on each server-side store")]
struct Args {
    /// The stores to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Store::Memory, Store::Sqlite, Store::Files, Store::Redis, Store::Postgres])]
    stores: Vec<Store>,
    /// How many users hold sessions.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// How many sessions each user holds.
    #[arg(long, default_value_t = 3)]
    sessions_per_user: usize,
    /// How many users are listed, logged out of one session, and logged out everywhere.
    #[arg(long, default_value_t = 1_000)]
    samples: usize,
    /// The Redis server.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// The PostgreSQL server (a schema of this run's own is created and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Store {
    Memory,
    Sqlite,
    Files,
    Redis,
    Postgres,
}

/// Latencies of one operation, in microseconds.
struct Latencies(Vec<f64>);

impl Latencies {
    fn time<T>(&mut self, started: Instant, value: T) -> T {
        self.0.push(started.elapsed().as_secs_f64() * 1e6);
        value
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or(f64::NAN)
    }

    fn row(&self, store: Store, operation: &str) -> String {
        format!(
            "| {store:?} | {operation} | {} | {:.0} | {:.0} |",
            self.0.len(),
            self.percentile(0.5),
            self.percentile(0.99)
        )
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "{} users x {} sessions each; {} samples per operation; latencies in µs\n",
        args.users, args.sessions_per_user, args.samples
    );
    println!("| store | operation | n | p50 µs | p99 µs |");
    println!("|---|---|---|---|---|");
    for store in &args.stores {
        let dir = tempfile::tempdir()?;
        let schema = format!("session_index_cost_{}", std::process::id());
        let prefix = format!("session-index-cost-{}:", std::process::id());
        let backend = backend(*store, &args, dir.path(), &schema, &prefix).await?;
        let manager = SessionManager::new(backend, SessionConfig::default())?;
        for row in measure(*store, &manager, &args).await? {
            println!("{row}");
        }
        cleanup(*store, &args, &schema, &prefix).await?;
    }
    Ok(())
}

async fn backend(
    store: Store,
    args: &Args,
    dir: &std::path::Path,
    schema: &str,
    prefix: &str,
) -> anyhow::Result<BoxedBackend> {
    Ok(match store {
        Store::Memory => MemoryStore::with_capacity(1_000_000).into_boxed(),
        Store::Sqlite => {
            let url = format!("sqlite://{}", dir.join("index-cost.db").display());
            SqliteStore::connect(&url).await?.into_boxed()
        }
        Store::Files => FileStore::open(dir.join("sessions")).await?.into_boxed(),
        Store::Redis => RedisConfig::new(&args.redis_url)
            .with_prefix(prefix)
            .connect()
            .await
            .context("is redis-server running? (scripts/test.sh starts it)")?
            .into_boxed(),
        Store::Postgres => PostgresStoreOptions::default()
            .with_schema(schema)
            .connect(&args.postgres_url)
            .await
            .context("is PostgreSQL running? (scripts/test.sh starts it)")?
            .into_boxed(),
    })
}

/// A login as an app does it: a new session, the user's name, the tie. Its cookie.
async fn log_in(manager: &SessionManager, user: usize, device: usize) -> anyhow::Result<String> {
    let request = manager.request(None);
    let session = request.session().await?;
    session.regenerate();
    session.insert("username", format!("user{user}"))?;
    session.set_principal(
        Principal::new(format!("user{user}")).attach("user_agent", format!("device {device}")),
    )?;
    let plan = request.finish().await?.context("the session was loaded")?;
    Ok(plan
        .cookie_value()
        .context("a login sets a cookie")?
        .to_owned())
}

async fn measure(
    store: Store,
    manager: &SessionManager,
    args: &Args,
) -> anyhow::Result<Vec<String>> {
    let mut login = Latencies(Vec::new());
    let mut cookies = Vec::with_capacity(args.users);
    for user in 0..args.users {
        let mut mine = Vec::new();
        for device in 0..args.sessions_per_user {
            let started = Instant::now();
            let cookie = log_in(manager, user, device).await?;
            mine.push(login.time(started, cookie));
        }
        cookies.push(mine);
    }

    // Spread the samples over the whole population.
    let step = (args.users / args.samples.max(1)).max(1);
    let sampled: Vec<usize> = (0..args.users).step_by(step).take(args.samples).collect();

    let mut list = Latencies(Vec::new());
    for &user in &sampled {
        let started = Instant::now();
        let listed = list.time(started, manager.sessions_of(&format!("user{user}")).await?);
        anyhow::ensure!(
            listed.len() == args.sessions_per_user,
            "user{user}: {listed:?}"
        );
    }

    let mut logout = Latencies(Vec::new());
    for &user in &sampled {
        let started = Instant::now();
        let request = manager.request(Some(&cookies[user][0]));
        request.session().await?.destroy();
        request.finish().await?;
        logout.time(started, ());
    }

    let mut everywhere = Latencies(Vec::new());
    for &user in &sampled {
        let started = Instant::now();
        let request = manager.request(Some(&cookies[user][1]));
        let ended = request.session().await?.log_out_everywhere().await?;
        request.finish().await?;
        everywhere.time(started, ());
        anyhow::ensure!(
            ended as usize == args.sessions_per_user - 2,
            "user{user}: {ended}"
        );
    }
    Ok(vec![
        login.row(store, "login (tie)"),
        list.row(store, "list a user's sessions"),
        logout.row(store, "logout (one session)"),
        everywhere.row(store, "log out everywhere"),
    ])
}

async fn cleanup(store: Store, args: &Args, schema: &str, prefix: &str) -> anyhow::Result<()> {
    match store {
        Store::Postgres => {
            let pool = sqlx::PgPool::connect(&args.postgres_url).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await?;
        }
        Store::Redis => {
            let client = redis::Client::open(args.redis_url.as_str())?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut conn)
                .await?;
            for chunk in keys.chunks(1000) {
                redis::cmd("DEL")
                    .arg(chunk)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        Store::Memory | Store::Sqlite | Store::Files => {}
    }
    Ok(())
}
