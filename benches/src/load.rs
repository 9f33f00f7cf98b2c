//! The load generator on the hot session: keep-alive HTTP/1.1 connections, each sending
//! the one request over and over (its next as soon as the previous answer is in), for a
//! fixed time; and the figures every workload collects. The realistic mix is in
//! `crate::realistic`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::wire::{self, RawConnection};

/// What to send: one request, repeated.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    /// The `Cookie` header value (`session=...`), when logged in.
    pub(crate) cookie: Option<String>,
}

/// How long to load and with how many connections.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub(crate) connections: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
}

/// What one run of the generator saw.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// Latencies (µs) of the responses completed inside the measured window.
    pub(crate) latencies_us: Vec<u32>,
    /// 2xx responses over the whole run, warm-up included.
    pub(crate) ok: u64,
    /// Other responses over the whole run.
    pub(crate) not_ok: u64,
    /// Connections that failed (refused, reset) over the whole run.
    pub(crate) errors: u64,
}

impl Tally {
    pub(crate) fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        self.not_ok += other.not_ok;
        self.errors += other.errors;
    }
}

/// Successful `POST /counter` answers against what the counters show after the load.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Updates {
    /// Successful answers (each one an increment the client was told of).
    pub(crate) answered: u64,
    /// The counters' final values, summed.
    pub(crate) kept: u64,
}

impl Updates {
    /// Increments answered but not kept.
    pub(crate) fn lost(self) -> u64 {
        self.answered.saturating_sub(self.kept)
    }
}

impl std::iter::Sum for Updates {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |all, one| Self {
            answered: all.answered + one.answered,
            kept: all.kept + one.kept,
        })
    }
}

/// Loads `target` with `shape.connections` connections; returns when every connection
/// has had its last answer, so nothing is left in flight.
pub(crate) async fn run(target: &Target, shape: Shape) -> Tally {
    let start = Instant::now();
    let window = (start + shape.warmup, start + shape.warmup + shape.duration);
    let tasks: Vec<_> = (0..shape.connections)
        .map(|_| tokio::spawn(connection(target.clone(), window)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        match task.await {
            Ok(one) => tally.merge(one),
            Err(_) => tally.errors += 1,
        }
    }
    tally
}

/// Sends exactly `requests` requests over `connections` connections.
pub(crate) async fn count(target: &Target, connections: usize, requests: u64) -> Tally {
    let left = Arc::new(AtomicU64::new(requests));
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(counted(target.clone(), Arc::clone(&left))))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        match task.await {
            Ok(one) => tally.merge(one),
            Err(_) => tally.errors += 1,
        }
    }
    tally
}

async fn counted(target: Target, left: Arc<AtomicU64>) -> Tally {
    let mut tally = Tally::default();
    let request = encode(&target);
    let Ok(mut conn) = RawConnection::open(target.addr).await else {
        tally.errors += 1;
        return tally;
    };
    let take = || left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    while take().is_ok() {
        match conn.exchange(&request).await.map(|answer| answer.ok()) {
            Ok(true) => tally.ok += 1,
            Ok(_) => tally.not_ok += 1,
            Err(_) => {
                tally.errors += 1;
                return tally;
            }
        }
    }
    tally
}

async fn connection(target: Target, (measure_from, end): (Instant, Instant)) -> Tally {
    let mut tally = Tally::default();
    let request = encode(&target);
    while Instant::now() < end {
        let Ok(mut conn) = RawConnection::open(target.addr).await else {
            tally.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        loop {
            let sent = Instant::now();
            if sent >= end {
                return tally;
            }
            let Ok(ok) = conn.exchange(&request).await.map(|answer| answer.ok()) else {
                tally.errors += 1;
                break;
            };
            let done = Instant::now();
            if ok {
                tally.ok += 1;
            } else {
                tally.not_ok += 1;
            }
            if sent >= measure_from && done <= end {
                let micros = done.duration_since(sent).as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
        }
    }
    tally
}

/// The one request a hot-session connection repeats, encoded once.
fn encode(target: &Target) -> Vec<u8> {
    wire::encode(&target.method, target.path, target.cookie.as_deref())
}

fn build(target: &Target) -> hyper::http::Result<Request<Empty<Bytes>>> {
    let mut request = Request::builder()
        .method(target.method.clone())
        .uri(target.path)
        .header(HOST, "127.0.0.1");
    if let Some(cookie) = &target.cookie {
        request = request.header(COOKIE, cookie);
    }
    request.body(Empty::new())
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one request and reads the whole answer.
async fn exchange(
    sender: &mut SendRequest<Empty<Bytes>>,
    request: Request<Empty<Bytes>>,
) -> anyhow::Result<(StatusCode, Response)> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, Response { set_cookie, body }))
}

/// The parts of an answer the setup requests look at.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) set_cookie: Option<String>,
    pub(crate) body: Bytes,
}

/// One request on a connection of its own (login, the final counter read).
pub(crate) async fn once(target: &Target) -> anyhow::Result<(StatusCode, Response)> {
    let mut sender = connect(target.addr)
        .await
        .with_context(|| format!("connecting to {}", target.addr))?;
    exchange(&mut sender, build(target)?).await
}
