//! Figures per run, their medians, and the Markdown report.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;

use crate::args::{Route, RunArgs};
use crate::load::{Tally, Updates};
use crate::machine;
use crate::run::Cpu;
use crate::variant::Variant;

/// One variant on one workload in one round.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) variant: Variant,
    pub(crate) route: Route,
    pub(crate) round: usize,
    /// Responses per second in the measured window.
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Non-2xx responses and failed connections over the whole run.
    pub(crate) not_ok: u64,
    /// Successful increments against the counters after the run: on `POST /counter`
    /// for server-side variants, on the realistic mix for all.
    pub(crate) updates: Option<Updates>,
    /// Share of a core the server used during the measured window.
    pub(crate) server_cpu: f64,
    /// Server CPU time per answered request in the measured window (µs): less sensitive
    /// to a busy machine than requests per second.
    pub(crate) server_us_per_request: f64,
    /// Share of a core the generator used during the measured window.
    pub(crate) generator_cpu: f64,
    /// Cores' worth of CPU other processes used on cores 0 and 1 during
    /// the measured window: the machine's noise.
    pub(crate) other_cpu: f64,
}

impl Sample {
    pub(crate) fn new(
        variant: Variant,
        route: Route,
        round: usize,
        mut tally: Tally,
        window: Duration,
        updates: Option<Updates>,
        cpu: Cpu,
    ) -> Self {
        tally.latencies_us.sort_unstable();
        let seconds = window.as_secs_f64();
        Self {
            variant,
            route,
            round,
            rps: tally.latencies_us.len() as f64 / seconds,
            p50_ms: percentile(&tally.latencies_us, 0.50),
            p99_ms: percentile(&tally.latencies_us, 0.99),
            not_ok: tally.not_ok + tally.errors,
            updates,
            server_cpu: cpu.server / seconds,
            server_us_per_request: cpu.server * 1e6 / tally.latencies_us.len().max(1) as f64,
            generator_cpu: cpu.generator / seconds,
            // Tick rounding can make a quiet machine's share slightly negative.
            other_cpu: (cpu.others / seconds).max(0.0),
        }
    }

    /// Successful increments that the counters do not show.
    pub(crate) fn lost(&self) -> Option<u64> {
        self.updates.map(Updates::lost)
    }
}

fn percentile(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() as f64 * p).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

/// The median of some figures (NaN for none).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|value| !value.is_nan());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Everything measured for one variant on one workload, over all rounds.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    pub(crate) variant: Variant,
    pub(crate) route: Route,
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Median over rounds of this variant's rate over the no-session server's.
    pub(crate) vs_none: f64,
    /// The same against each tower-sessions peer.
    pub(crate) vs_peers: Vec<(Variant, f64)>,
    pub(crate) not_ok: u64,
    /// Summed over the rounds.
    pub(crate) updates: Option<Updates>,
    pub(crate) server_cpu: f64,
    pub(crate) server_us_per_request: f64,
    pub(crate) generator_cpu: f64,
}

/// Summaries in table order.
pub(crate) fn summarize(
    variants: &[Variant],
    routes: &[Route],
    samples: &[Sample],
) -> Vec<Summary> {
    let of = |variant: Variant, route: Route| -> Vec<&Sample> {
        samples
            .iter()
            .filter(|s| s.variant == variant && s.route == route)
            .collect()
    };
    let ratio = |mine: &[&Sample], theirs: Variant, route: Route| -> f64 {
        let theirs = of(theirs, route);
        median(
            mine.iter()
                .filter_map(|s| {
                    let peer = theirs.iter().find(|t| t.round == s.round)?;
                    Some(s.rps / peer.rps)
                })
                .collect(),
        )
    };
    let mut summaries = Vec::new();
    for &route in routes {
        for &variant in variants {
            let mine = of(variant, route);
            if mine.is_empty() {
                continue;
            }
            let pick = |f: fn(&Sample) -> f64| median(mine.iter().map(|s| f(s)).collect());
            let updates = mine.iter().map(|s| s.updates).sum::<Option<Updates>>();
            summaries.push(Summary {
                variant,
                route,
                rps: pick(|s| s.rps),
                p50_ms: pick(|s| s.p50_ms),
                p99_ms: pick(|s| s.p99_ms),
                vs_none: ratio(&mine, Variant::None, route),
                vs_peers: variant
                    .peers()
                    .iter()
                    .filter(|peer| variants.contains(peer))
                    .map(|&peer| (peer, ratio(&mine, peer, route)))
                    .collect(),
                not_ok: mine.iter().map(|s| s.not_ok).sum(),
                updates,
                server_cpu: pick(|s| s.server_cpu),
                server_us_per_request: pick(|s| s.server_us_per_request),
                generator_cpu: pick(|s| s.generator_cpu),
            });
        }
    }
    summaries
}

/// A line on stderr.
pub(crate) fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "session-bench: {message}");
}

/// One finished run, on stderr.
pub(crate) fn progress(done: usize, total: usize, s: &Sample) {
    let lost = s
        .lost()
        .map_or(String::new(), |lost| format!(", lost {lost}"));
    note(&format!(
        "[{done}/{total}] {} {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}{lost}, cpu server {:.0}% generator {:.0}% others {:.0}%",
        s.variant.name(),
        s.route.label(),
        s.rps,
        s.p50_ms,
        s.p99_ms,
        s.not_ok,
        s.server_cpu * 100.0,
        s.generator_cpu * 100.0,
        s.other_cpu * 100.0,
    ));
}

/// Prints the report and writes `latest.md` and `latest.svg`.
pub(crate) fn write(
    args: &RunArgs,
    variants: &[Variant],
    samples: &[Sample],
) -> anyhow::Result<()> {
    let summaries = summarize(variants, &args.routes, samples);
    let markdown = markdown(args, &summaries, samples);
    std::io::stdout().write_all(markdown.as_bytes())?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let md_path = args.out_dir.join("latest.md");
    std::fs::write(&md_path, &markdown)
        .with_context(|| format!("writing {}", md_path.display()))?;
    let svg_path = args.out_dir.join("latest.svg");
    crate::chart::draw(&svg_path, &summaries, &args.routes)?;
    note(&format!(
        "wrote {} and {}",
        md_path.display(),
        svg_path.display()
    ));
    Ok(())
}

fn markdown(args: &RunArgs, summaries: &[Summary], samples: &[Sample]) -> String {
    let mut out = String::new();
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let command = format!("cargo run --release -p session-bench -- {command}");
    let _ = writeln!(out, "# Session benchmark\n");
    let _ = writeln!(out, "- date: {}", machine::today());
    let _ = writeln!(
        out,
        "- command: `{}`",
        command.trim_end_matches(" -- ").trim()
    );
    let _ = writeln!(
        out,
        "- machine: {} cores, {}",
        machine::cores(),
        machine::cpu_model()
    );
    let _ = writeln!(
        out,
        "- load: {} keep-alive connections, sharing one logged-in session on `GET /show` and `POST /counter`; {} rounds of {} s measured after {} s warm-up, variants interleaved; medians over rounds, ratios are medians of per-round ratios",
        args.connections, args.rounds, args.duration, args.warmup
    );
    if args.routes.contains(&Route::Realistic) {
        let _ = writeln!(
            out,
            "- realistic mix: {}",
            crate::realistic::describe(args.sessions, args.connections)
        );
    }
    let _ = writeln!(
        out,
        "- server: one single-threaded tokio runtime pinned to core 0; generator (in-process: pre-encoded requests, answers parsed with httparse) pinned to core 1"
    );
    let noise = median(samples.iter().map(|s| s.other_cpu).collect());
    let worst = samples.iter().map(|s| s.other_cpu).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "- noise: other processes used {:.0} % of a core in the median run, {:.0} % at worst{}\n",
        noise * 100.0,
        worst * 100.0,
        if worst > 0.25 {
            " — the machine was busy: ratios hold better than absolute figures"
        } else {
            ""
        }
    );
    for &route in &args.routes {
        let rows: Vec<&Summary> = summaries.iter().filter(|s| s.route == route).collect();
        table(&mut out, args, route, &rows);
    }
    legend(&mut out);
    out
}

fn table(out: &mut String, args: &RunArgs, route: Route, rows: &[&Summary]) {
    let counter = route != Route::Show;
    match route {
        Route::Realistic => {
            let _ = writeln!(
                out,
                "## {}: {} sessions, each connection on its own\n",
                route.label(),
                args.sessions
            );
        }
        _ => {
            let _ = writeln!(out, "## {} (one hot session)\n", route.label());
        }
    }
    let _ = write!(
        out,
        "| variant | req/s | × none | × tower-sessions | p50 ms | p99 ms | non-2xx |"
    );
    let _ = writeln!(
        out,
        "{} server CPU | CPU µs/req |",
        if counter { " lost updates |" } else { "" }
    );
    let _ = write!(out, "|---|---:|---:|---|---:|---:|---:|");
    let _ = writeln!(out, "{}---:|---:|", if counter { "---:|" } else { "" });
    for s in rows {
        let peers = s
            .vs_peers
            .iter()
            .map(|(peer, ratio)| format!("{ratio:.2}× {}", peer.name()))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            "| {} | {:.0} | {} | {} | {:.2} | {:.2} | {} |",
            s.variant.name(),
            s.rps,
            times(s.vs_none),
            if peers.is_empty() {
                "–".to_owned()
            } else {
                peers
            },
            s.p50_ms,
            s.p99_ms,
            s.not_ok,
        );
        if counter {
            let lost = match s.updates {
                Some(updates) => format!(
                    "{} of {} ({:.1} %)",
                    updates.lost(),
                    updates.answered,
                    percent(updates.lost(), updates.answered)
                ),
                None => "n/a (client-side)".to_owned(),
            };
            let _ = write!(out, " {lost} |");
        }
        let _ = writeln!(
            out,
            " {:.0} % | {:.1} |",
            s.server_cpu * 100.0,
            s.server_us_per_request
        );
    }
    let starved: Vec<&str> = rows
        .iter()
        .filter(|s| s.generator_cpu > 0.9 && s.server_cpu < 0.85)
        .map(|s| s.variant.name())
        .collect();
    if !starved.is_empty() {
        let _ = writeln!(
            out,
            "\nWarning: the generator's core was saturated while the server's was not for {}: \
             those figures are the generator's limit, not the server's.",
            starved.join(", ")
        );
    }
    if route == Route::Realistic {
        realistic_legend(out);
    }
    let _ = writeln!(out);
}

/// How the realistic mix counts lost updates, under its table.
fn realistic_legend(out: &mut String) {
    let _ = writeln!(
        out,
        "\nLost updates on the realistic mix are counted per session: a session's successful \
         `POST /counter` answers since its login against its counter read with `GET /counter` \
         after the load, summed over the sessions still logged in then (all rounds, warm-up \
         included). A session leaves the count, answers and counter both, when it is logged \
         out, or when a request on it lost its connection or its logout failed (its state is \
         then unknown); so the count is exact, and any loss is the server's. No two requests \
         ever race on one session here, so every variant should lose none. The generator \
         sends back the cookie the server last set, as a browser does, so cookie variants are \
         counted too; `none` has no sessions: its one counter against every successful \
         answer. Requests: each login, logout, read and write counts as one."
    );
}

fn times(ratio: f64) -> String {
    if ratio.is_nan() {
        "–".to_owned()
    } else {
        format!("{ratio:.2}×")
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn legend(out: &mut String) {
    let _ = writeln!(
        out,
        "Lost updates on `POST /counter`: successful answers (all rounds, warm-up included) \
         minus the counters' final values. Cookie variants keep the counter in the one cookie every \
         connection replays, so it has nothing to lose or keep. Server CPU: share of core 0 \
         the server used while measured (below 100 % means it waited: on disk, on Redis, on \
         the generator, or for other processes on a busy machine). CPU µs/req: the server's \
         CPU time per answered request, which a busy machine disturbs less than req/s \
         (but which leaves out time spent waiting on disk or Redis).\n"
    );
    let _ = writeln!(out, "| variant | what |\n|---|---|");
    for (name, what) in [
        ("none", "axum without sessions"),
        ("ts-memory", "tower-sessions 0.15, `MemoryStore`"),
        ("ts-cookie", "tower-sessions-cookie-store 0.5 (tower-sessions 0.14), signed"),
        ("ts-sqlite", "tower-sessions-sqlx-store 0.15 (tower-sessions 0.14), sqlx's default pool: rollback journal, `synchronous=FULL`"),
        ("ts-sqlite-wal", "the same store on a pool with our durability setting: WAL, `synchronous=NORMAL`"),
        ("ours-memory", "`adapter_axum::SessionLayer` + `session_core::store::MemoryStore`"),
        ("ours-cookie", "`session_cookie::CookieBackend` (signed)"),
        ("ours-flask-cookie", "`session_cookie::FlaskCookieBackend`"),
        ("ours-sqlite", "`session_sqlite::SqliteStore` (WAL, `synchronous=NORMAL`)"),
        ("ours-files", "`session_files::FileStore` (a file per session, fsynced before each rename; no tower-sessions peer)"),
        ("ts-redis", "tower-sessions-redis-store 0.16 (tower-sessions 0.14), a fred 10 `Pool` of 6 as its README builds it, sessions expiring after a day of inactivity, in database 15 of the same Redis"),
        ("ours-redis", "`session_redis::RedisStore`, Redis on 127.0.0.1:6379"),
        ("ts-pg", "tower-sessions-sqlx-store 0.15 `PostgresStore` (tower-sessions 0.14), sqlx's default pool, PostgreSQL on 127.0.0.1:5432"),
        ("ours-pg", "`session_postgres::PostgresStore`, PostgreSQL on 127.0.0.1:5432"),
    ] {
        let _ = writeln!(out, "| {name} | {what} |");
    }
}
