//! The benchmark run: start each variant's server, log in, load it, check the counters,
//! stop it; round after round; then the report.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::args::{DriveArgs, Route, RunArgs};
use crate::load::Shape;
use crate::machine;
use crate::report::{self, Sample};
use crate::variant::Variant;
use crate::workload::Load;

const SERVER_CORE: usize = 0;
const GENERATOR_CORE: usize = 1;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs every selected variant on every route for every round, then writes the report.
pub(crate) fn main(args: &RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.duration > 0.0 && args.warmup >= 0.0,
        "--duration must be positive"
    );
    anyhow::ensure!(
        args.connections > 0 && args.rounds > 0,
        "--connections and --rounds must be at least 1"
    );
    anyhow::ensure!(
        !args.routes.contains(&Route::Realistic) || args.sessions >= args.connections,
        "--sessions must be at least --connections: each connection works on sessions of its own"
    );
    let variants = select(&args.variants)?;
    let pin = !args.no_pin && machine::cores() >= 2;
    if pin {
        // Before the runtime starts, so its thread (the generator) stays on this core.
        machine::pin_current_thread(GENERATOR_CORE)?;
    } else {
        report::note("not pinning: the servers and the generator share the cores");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let samples = runtime.block_on(run_all(args, &variants, pin))?;
    report::write(args, &variants, &samples)
}

/// The `drive` subcommand: log in, send a fixed number of requests, report.
pub(crate) fn drive(args: &DriveArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let variant = if args.no_cookie {
            Variant::None
        } else {
            Variant::OursMemory
        };
        let load = Load::prepare(
            args.addr,
            variant,
            args.route,
            args.connections,
            args.sessions,
        )
        .await?;
        let started = std::time::Instant::now();
        let (tally, updates) = load.count(args.requests).await?;
        let seconds = started.elapsed().as_secs_f64();
        report::note(&format!(
            "{} requests in {seconds:.1} s: {} 2xx, {} other, {} connection errors; {updates:?}",
            args.requests, tally.ok, tally.not_ok, tally.errors
        ));
        Ok(())
    })
}

fn select(requested: &[Variant]) -> anyhow::Result<Vec<Variant>> {
    if requested.is_empty() {
        let mut chosen = Vec::new();
        for variant in Variant::ALL {
            match variant.unavailable() {
                None => chosen.push(variant),
                Some(why) => report::note(&format!("skipping {}: {why}", variant.name())),
            }
        }
        return Ok(chosen);
    }
    let mut chosen: Vec<Variant> = Variant::ALL
        .into_iter()
        .filter(|variant| requested.contains(variant))
        .collect();
    chosen.dedup();
    for variant in &chosen {
        if let Some(why) = variant.unavailable() {
            anyhow::bail!("{} cannot run in this build: {why}", variant.name());
        }
    }
    Ok(chosen)
}

async fn run_all(args: &RunArgs, variants: &[Variant], pin: bool) -> anyhow::Result<Vec<Sample>> {
    let data_root = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir(),
    };
    let mut samples = Vec::new();
    let total = args.rounds * args.routes.len() * variants.len();
    for round in 0..args.rounds {
        for &route in &args.routes {
            for &variant in variants {
                let mut tries = 0;
                let sample = loop {
                    let sample = run_one(args, variant, route, round, &data_root, pin)
                        .await
                        .with_context(|| format!("{} on {}", variant.name(), route.label()))?;
                    tries += 1;
                    let busy = args
                        .max_noise
                        .is_some_and(|max| sample.other_cpu > max || sample.other_cpu.is_nan());
                    if !busy || tries > args.retries {
                        break sample;
                    }
                    report::note(&format!(
                        "{} {}: other processes used {:.0} % of a core; measuring again",
                        variant.name(),
                        route.label(),
                        sample.other_cpu * 100.0
                    ));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                };
                report::progress(samples.len() + 1, total, &sample);
                samples.push(sample);
            }
        }
    }
    Ok(samples)
}

async fn run_one(
    args: &RunArgs,
    variant: Variant,
    route: Route,
    round: usize,
    data_root: &Path,
    pin: bool,
) -> anyhow::Result<Sample> {
    let dir = tempfile::Builder::new()
        .prefix("session-bench-")
        .tempdir_in(data_root)
        .with_context(|| format!("creating a folder in {}", data_root.display()))?;
    let mut server = Server::start(variant, dir.path(), args, pin).await?;
    let result = measure(args, variant, route, round, &server).await;
    server.stop().await;
    result
}

async fn measure(
    args: &RunArgs,
    variant: Variant,
    route: Route,
    round: usize,
    server: &Server,
) -> anyhow::Result<Sample> {
    // Logins are set-up, before the CPU and the time are measured.
    let load = Load::prepare(server.addr, variant, route, args.connections, args.sessions).await?;
    let shape = Shape {
        connections: args.connections,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.duration),
    };
    // CPU use over the measured window, to tell a busy server from a starved one, and a
    // quiet machine from a busy one. Redis works for the Redis variant: not noise.
    let server_pid = server.pid;
    let helpers = match variant {
        Variant::OursRedis | Variant::TsRedis => machine::pids_named("redis-server"),
        Variant::OursPg | Variant::TsPg => machine::pids_named("postgres"),
        _ => Vec::new(),
    };
    let cpu = tokio::spawn(async move {
        tokio::time::sleep(shape.warmup).await;
        let before = cpu_now(server_pid, &helpers);
        tokio::time::sleep(shape.duration).await;
        let after = cpu_now(server_pid, &helpers);
        Cpu {
            server: after.server - before.server,
            generator: after.generator - before.generator,
            helpers: after.helpers - before.helpers,
            others: (after.all - before.all)
                - (after.server - before.server)
                - (after.generator - before.generator)
                - (after.helpers - before.helpers),
            all: f64::NAN,
        }
    });
    let (tally, updates) = load.run(shape).await?;
    let cpu = cpu.await.unwrap_or(Cpu::UNKNOWN);
    Ok(Sample::new(
        variant,
        route,
        round,
        tally,
        shape.duration,
        updates,
        cpu,
    ))
}

/// CPU seconds: the server's, the generator's, the variant's helpers' (Redis), everyone's
/// on the two cores, and (for a difference) everyone else's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cpu {
    pub(crate) server: f64,
    pub(crate) generator: f64,
    pub(crate) helpers: f64,
    pub(crate) others: f64,
    all: f64,
}

impl Cpu {
    const UNKNOWN: Self = Self {
        server: f64::NAN,
        generator: f64::NAN,
        helpers: f64::NAN,
        others: f64::NAN,
        all: f64::NAN,
    };
}

fn cpu_now(server: Option<u32>, helpers: &[u32]) -> Cpu {
    let nan = f64::NAN;
    Cpu {
        server: machine::process_cpu_seconds(server).unwrap_or(nan),
        generator: machine::process_cpu_seconds(None).unwrap_or(nan),
        helpers: helpers
            .iter()
            .map(|pid| machine::process_cpu_seconds(Some(*pid)).unwrap_or(nan))
            .sum(),
        others: nan,
        all: machine::busy_seconds(&[SERVER_CORE, GENERATOR_CORE]).unwrap_or(nan),
    }
}

/// A child process serving one variant.
struct Server {
    child: Child,
    addr: SocketAddr,
    pid: Option<u32>,
}

impl Server {
    async fn start(
        variant: Variant,
        data_dir: &Path,
        args: &RunArgs,
        pin: bool,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this program")?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .arg("--variant")
            .arg(variant.name())
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--redis-url")
            .arg(&args.redis_url)
            .arg("--postgres-url")
            .arg(&args.postgres_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if pin {
            command.arg("--core").arg(SERVER_CORE.to_string());
        }
        let mut child = command.spawn().context("starting the server")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(STARTUP_TIMEOUT, lines.next_line())
            .await
            .context("the server did not start in time")??
            .context("the server stopped before listening")?;
        let addr = line
            .strip_prefix("listening ")
            .with_context(|| format!("unexpected line from the server: {line:?}"))?
            .parse()?;
        let pid = child.id();
        Ok(Self { child, addr, pid })
    }

    /// Closes the server's stdin (its signal to stop) and waits; kills it if it hangs.
    async fn stop(&mut self) {
        drop(self.child.stdin.take());
        let waited = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        if waited.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
