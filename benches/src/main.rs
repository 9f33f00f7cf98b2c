//! Load benchmark: the same tiny axum 0.8 server with no sessions, with tower-sessions'
//! stores, and with ours, measured in one run on one machine.
//!
//! Run with: `cargo run --release -p session-bench` (about four minutes with the
//! defaults; `--help` lists the flags). The table goes to stdout and
//! `benches/results/latest.md`, the chart to `benches/results/latest.svg`.
//!
//! To profile one server: `session-bench serve --variant ours-sqlite --data-dir /tmp/x`
//! under a profiler (`valgrind --tool=callgrind`), then `session-bench drive --addr ADDR
//! --route counter --requests 20000` against it (`--route realistic` logs in
//! `--sessions` first, then sends the mix).
//!
//! # What is measured
//!
//! Every variant serves the same five routes: `POST /login` (puts a user name in a new
//! session), `GET /show` (reads it), `POST /counter` (increments an integer in the
//! session: ours with `session.update`, tower-sessions with `get` then `insert`, as its
//! users write it), `GET /counter` (reads the counter once the load is over) and `POST
//! /logout` (ours `session.destroy()`, tower-sessions `session.flush()`).
//!
//! Two kinds of workload (`--routes`):
//!
//! - `show` and `counter`, the default: one login cookie is shared by every load
//!   connection, so all of them hit one session: the worst case for lost updates, and the
//!   case a user with many tabs (or a single-page app firing requests in parallel)
//!   creates. Lost updates are the successful `POST /counter` responses minus the
//!   counter's final value.
//! - `realistic`: `--sessions` sessions (1,000) logged in before measuring, each
//!   connection working on its own share; 89 % reads, 10 % writes, 1 % a logout followed
//!   by a new login. Lost updates are counted per session (see `realistic.rs`).
//!
//! # How
//!
//! - Each server is a child process (this binary, re-executed as `serve`) running a
//!   single-threaded tokio runtime pinned to core 0, so every variant gets exactly one
//!   core; threads it starts (sqlx's SQLite workers) inherit the pin. Redis and
//!   PostgreSQL (127.0.0.1:5432, `--postgres-url`) run where the OS puts them; each pg
//!   server works in a schema of its own (`session_bench_PID`), dropped when it stops.
//! - The load generator runs in this process, pinned to core 1, on a single-threaded
//!   runtime: `--connections` keep-alive HTTP/1.1 connections, one task each, each
//!   sending its next request as soon as the last answer is in, for a warm-up and then
//!   `--duration` seconds. Requests are encoded once (per session, and again when the
//!   server sets that session a new cookie); answers are parsed with httparse (hyper's
//!   own parser). Logins are set-up: done before the warm-up, not measured.
//! - Variants are interleaved (A B C A B C ...) for `--rounds` rounds, each run on a
//!   fresh server (a fresh SQLite file); medians are reported, and the ratios are
//!   medians of per-round ratios, so slow drifts of the machine cancel out.
//!
//! # Why an in-process generator rather than `wrk`
//!
//! `wrk` is the classic, but the lost-update check needs the exact number of successful
//! `POST /counter` answers, warm-up included, and `wrk` stops at its deadline with
//! requests in flight that the server may have applied but `wrk` never counts (up to one
//! per connection per run: enough to hide a few lost updates). It also needs a Lua
//! script for the POST and the cookie, and one more install. The generator here counts
//! every answer, and a run ends only when every connection has its last answer.
//!
//! It is deliberately lean: a first version used hyper's client, which spent as much CPU
//! per request as the no-session server and so capped the fastest variants (the
//! generator's core at 98 % while the server's idled). Writing pre-encoded requests and
//! parsing answers with httparse costs about half as much: the no-session server now
//! saturates its core with the generator's at about 60 %. Each run reports both cores'
//! use, and the report warns when the generator's core, not the server's, was the limit.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod args;
mod chart;
mod load;
mod machine;
mod realistic;
mod report;
mod run;
mod serve;
mod variant;
mod wire;
mod workload;

use clap::Parser as _;

use crate::args::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(serve)) => serve::main(&serve),
        Some(Command::Drive(drive)) => run::drive(&drive),
        None => run::main(&cli.run),
    }
}
