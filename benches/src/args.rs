//! Command-line flags.

use std::path::PathBuf;

use crate::variant::Variant;

/// Our session backends against tower-sessions on the same axum server.
#[derive(Debug, clap::Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Serve one variant (what the benchmark re-executes itself as; prints
    /// `listening ADDR` and stops when its standard input closes).
    Serve(ServeArgs),
    /// Log in to a running server and send it a fixed number of requests, for profiling
    /// it (under `valgrind --tool=callgrind`, say): prints requests, 2xx and the counter.
    Drive(DriveArgs),
}

/// A fixed amount of load on a server started by hand.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DriveArgs {
    /// The server's address (what `serve` printed).
    #[arg(long)]
    pub(crate) addr: std::net::SocketAddr,
    /// The route to load.
    #[arg(long, value_enum, default_value_t = Route::Show)]
    pub(crate) route: Route,
    /// Requests to send in all (the realistic mix's logins before them not counted).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) requests: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    pub(crate) connections: usize,
    /// Logged-in sessions for the realistic mix.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) sessions: usize,
    /// Whether the server sets no cookie at login (the `none` variant).
    #[arg(long)]
    pub(crate) no_cookie: bool,
}

/// The benchmark run.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RunArgs {
    /// Variants to run, comma-separated (default: all that build).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub(crate) variants: Vec<Variant>,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 1.5)]
    pub(crate) duration: f64,
    /// Warm-up seconds per run, not measured (but counted for lost updates).
    #[arg(long, default_value_t = 0.5)]
    pub(crate) warmup: f64,
    /// Concurrent keep-alive connections: all on the one logged-in session for `show` and
    /// `counter`, each on its own share of `--sessions` for `realistic`.
    #[arg(long, default_value_t = 32)]
    pub(crate) connections: usize,
    /// Sessions the `realistic` workload logs in before measuring.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) sessions: usize,
    /// Rounds: each variant runs once per round, interleaved with the others.
    #[arg(long, default_value_t = 5)]
    pub(crate) rounds: usize,
    /// Workloads to load, comma-separated: `show` and `counter` on one hot session,
    /// `realistic` the mix on many (not in the default, which stays comparable with
    /// earlier runs).
    #[arg(long, value_delimiter = ',', value_enum, default_values_t = [Route::Show, Route::Counter])]
    pub(crate) routes: Vec<Route>,
    /// Where the SQLite files go (a fresh temporary folder inside it per run).
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Redis URL for the Redis variants: ours in the URL's database, under its own prefix;
    /// ts-redis in database 15 of the same server.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub(crate) redis_url: String,
    /// PostgreSQL URL for the pg variants (each server works in a schema of its own,
    /// dropped when it stops).
    #[arg(long, default_value = crate::serve::POSTGRES_URL)]
    pub(crate) postgres_url: String,
    /// Where to write `latest.md` and `latest.svg`.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/results"))]
    pub(crate) out_dir: PathBuf,
    /// Measure a run again when other processes used more than this share of a core
    /// during it (0.3 = 30 %), for shared machines; off by default.
    #[arg(long)]
    pub(crate) max_noise: Option<f64>,
    /// How many times to measure again a run that was too noisy (with `--max-noise`).
    #[arg(long, default_value_t = 2)]
    pub(crate) retries: usize,
    /// Do not pin the servers and the generator to cores 0 and 1.
    #[arg(long)]
    pub(crate) no_pin: bool,
}

/// A workload: one route on the one hot session, or the realistic mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Route {
    /// `GET /show` on one session: read the user name.
    Show,
    /// `POST /counter` on one session: increment the counter.
    Counter,
    /// Many logged-in sessions, each connection on its own: mostly `GET /show`, some
    /// `POST /counter`, a few logouts each followed by a new login (`crate::realistic`).
    Realistic,
}

impl Route {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Show => "GET /show",
            Self::Counter => "POST /counter",
            Self::Realistic => "realistic mix",
        }
    }
}

/// One server, as the benchmark starts it.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// Which server.
    #[arg(long, value_enum)]
    pub(crate) variant: Variant,
    /// Folder for the SQLite file.
    #[arg(long)]
    pub(crate) data_dir: PathBuf,
    /// Redis URL.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub(crate) redis_url: String,
    /// PostgreSQL URL.
    #[arg(long, default_value = crate::serve::POSTGRES_URL)]
    pub(crate) postgres_url: String,
    /// Core to pin the server to.
    #[arg(long)]
    pub(crate) core: Option<usize>,
}
