//! The realistic workload, beside the hot session: many sessions logged in before the
//! measurement, each load connection working on its own share of them (so no two requests
//! ever race on one session, as with users who each have a tab open), mostly reading,
//! sometimes writing, now and then logging out and in again.
//!
//! Each connection draws its next operation from a generator seeded with its index, so
//! every variant is sent the same sequence: a session among its own (uniformly), then
//! what to do with it: of every 1,000 operations, 890 `GET /show`, 100 `POST /counter`,
//! 10 `POST /logout` followed at once by `POST /login`, whose new session takes the
//! logged-out one's place. Requests are encoded once per session; a session's are encoded
//! again only when the server sets it a different cookie (a login, or a cookie variant's
//! write), which the generator then sends back, as a browser would.
//!
//! Lost updates are counted per session. A session's successful `POST /counter` answers
//! since its login should equal its counter at the end, read with `GET /counter` after the
//! load. A session leaves the accounting (its answers and its counter both) when it is
//! logged out, and also when its state is unknown: a request on it that lost its
//! connection (the server may have applied it) or a logout that failed. The `none`
//! variant has no sessions: its one counter is checked against every successful answer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hyper::Method;

use crate::load::{self, Shape, Tally, Target, Updates};
use crate::wire::{self, RawConnection};

/// Of every 1,000 operations, how many log out and in again.
const CHURN_PER_MILLE: u64 = 10;
/// Of every 1,000 operations, how many write (after the churn's share).
const WRITES_PER_MILLE: u64 = 100;

/// The mix in words, for the report.
pub(crate) fn describe(sessions: usize, connections: usize) -> String {
    let (few, many) = (sessions / connections, sessions.div_ceil(connections));
    let share = if few == many {
        format!("{few}")
    } else {
        format!("{few} or {many}")
    };
    format!(
        "{sessions} sessions logged in before measuring, each of the {connections} connections \
         working on its own {share}; of every 1,000 operations {} `GET /show`, \
         {WRITES_PER_MILLE} `POST /counter`, {CHURN_PER_MILLE} `POST /logout` followed by a \
         new `POST /login` in its place",
        1_000 - WRITES_PER_MILLE - CHURN_PER_MILLE,
    )
}

/// Sessions logged in and connections open, ready to load.
pub(crate) struct Prepared {
    addr: SocketAddr,
    cookies: bool,
    workers: Vec<Worker>,
}

/// Logs in `sessions` sessions over `connections` connections (session `i` belongs to
/// connection `i % connections`), checking each with `GET /show`. `cookies`: whether the
/// server sets one (all but the `none` variant).
pub(crate) async fn prepare(
    addr: SocketAddr,
    connections: usize,
    sessions: usize,
    cookies: bool,
) -> anyhow::Result<Prepared> {
    anyhow::ensure!(
        sessions >= connections,
        "--sessions ({sessions}) must be at least --connections ({connections}): each \
         connection works on sessions of its own"
    );
    let tasks: Vec<_> = (0..connections)
        .map(|index| {
            let mine = (index..sessions).step_by(connections).count();
            tokio::spawn(Worker::prepare(addr, index, mine, cookies))
        })
        .collect();
    let mut workers = Vec::with_capacity(connections);
    for task in tasks {
        workers.push(task.await.context("a login task")??);
    }
    Ok(Prepared {
        addr,
        cookies,
        workers,
    })
}

/// Loads the server for `shape`'s warm-up and duration; returns when every connection has
/// had its last answer and every session's counter is read.
pub(crate) async fn run(prepared: Prepared, shape: Shape) -> anyhow::Result<(Tally, Updates)> {
    let start = Instant::now();
    let measure_from = start + shape.warmup;
    let until = Until::Window {
        measure_from,
        end: measure_from + shape.duration,
    };
    drive(prepared, &until).await
}

/// Sends exactly `requests` requests (for profiling a server started by hand).
pub(crate) async fn count(prepared: Prepared, requests: u64) -> anyhow::Result<(Tally, Updates)> {
    drive(prepared, &Until::Budget(Arc::new(AtomicU64::new(requests)))).await
}

async fn drive(prepared: Prepared, until: &Until) -> anyhow::Result<(Tally, Updates)> {
    let tasks: Vec<_> = prepared
        .workers
        .into_iter()
        .map(|worker| tokio::spawn(worker.work(until.clone())))
        .collect();
    let mut tally = Tally::default();
    let mut updates = Updates::default();
    for task in tasks {
        let (one, counted) = task.await.context("a load task")??;
        tally.merge(one);
        updates.answered += counted.answered;
        updates.kept += counted.kept;
    }
    if !prepared.cookies {
        updates.kept += read_global_counter(prepared.addr).await?;
    }
    Ok((tally, updates))
}

/// The `none` variant's one counter.
async fn read_global_counter(addr: SocketAddr) -> anyhow::Result<u64> {
    let target = Target {
        addr,
        method: Method::GET,
        path: "/counter",
        cookie: None,
    };
    let (status, response) = load::once(&target).await.context("GET /counter")?;
    anyhow::ensure!(status.is_success(), "GET /counter answered {status}");
    number(&response.body)
}

/// When a connection stops.
#[derive(Clone)]
enum Until {
    /// At `end`; answers after `measure_from` are timed.
    Window { measure_from: Instant, end: Instant },
    /// When the shared count of requests left runs out; every answer is timed.
    Budget(Arc<AtomicU64>),
}

impl Until {
    /// Whether to send one more request (taking it from the budget).
    fn more(&self) -> bool {
        match self {
            Self::Window { end, .. } => Instant::now() < *end,
            Self::Budget(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }

    fn measured(&self, sent: Instant, done: Instant) -> bool {
        match self {
            Self::Window { measure_from, end } => sent >= *measure_from && done <= *end,
            Self::Budget(_) => true,
        }
    }
}

/// One logged-in session and its requests, encoded for its cookie.
struct Session {
    /// `name=value`, as the server last set it (none for the `none` variant).
    cookie: Option<String>,
    show: Vec<u8>,
    counter: Vec<u8>,
    logout: Vec<u8>,
    /// Successful `POST /counter` answers since the login.
    answered: u64,
}

impl Session {
    fn new(cookie: Option<String>) -> Self {
        let encode = |method: &Method, path| wire::encode(method, path, cookie.as_deref());
        Self {
            show: encode(&Method::GET, "/show"),
            counter: encode(&Method::POST, "/counter"),
            logout: encode(&Method::POST, "/logout"),
            cookie,
            answered: 0,
        }
    }

    fn cookie(&self) -> Option<&[u8]> {
        self.cookie.as_deref().map(str::as_bytes)
    }

    /// Sends `cookie` from now on, as a browser would.
    fn adopt(&mut self, cookie: String) {
        let answered = self.answered;
        *self = Self::new(Some(cookie));
        self.answered = answered;
    }
}

/// One load connection and the sessions it works on.
struct Worker {
    link: Link,
    /// Its sessions; `None` where a logout left no session (the next operation drawn
    /// there logs in).
    slots: Vec<Option<Session>>,
    rng: Rng,
    login: Vec<u8>,
    cookies: bool,
    /// Successful `POST /counter` answers on every session, logged out since or not:
    /// what the `none` variant's one counter should show.
    answered_all: u64,
}

impl Worker {
    async fn prepare(
        addr: SocketAddr,
        index: usize,
        sessions: usize,
        cookies: bool,
    ) -> anyhow::Result<Self> {
        let mut conn = RawConnection::open(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        let login = wire::encode(&Method::POST, "/login", None);
        let mut slots = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            slots.push(Some(log_in_checked(&mut conn, &login, cookies).await?));
        }
        Ok(Self {
            link: Link {
                addr,
                conn: Some(conn),
                tally: Tally::default(),
            },
            slots,
            rng: Rng::seeded(index),
            login,
            cookies,
            answered_all: 0,
        })
    }

    async fn work(mut self, until: Until) -> anyhow::Result<(Tally, Updates)> {
        while until.more() {
            let slot = self.rng.below(self.slots.len() as u64) as usize;
            let Some(session) = &mut self.slots[slot] else {
                self.slots[slot] = self.link.log_in(&self.login, self.cookies, &until).await;
                continue;
            };
            let draw = self.rng.below(1_000);
            if draw < CHURN_PER_MILLE {
                // Whatever the answer, the session leaves the accounting: logged out, or
                // in a state unknown after a failure.
                let _ = self.link.send(&session.logout, None, &until).await;
                self.slots[slot] = None;
                if until.more() {
                    self.slots[slot] = self.link.log_in(&self.login, self.cookies, &until).await;
                }
            } else if draw < CHURN_PER_MILLE + WRITES_PER_MILLE {
                match self
                    .link
                    .send(&session.counter, session.cookie(), &until)
                    .await
                {
                    Some(outcome) => {
                        if outcome.ok {
                            session.answered += 1;
                            self.answered_all += 1;
                        }
                        outcome.follow(session);
                    }
                    // Applied or not, nobody knows: the session leaves the accounting.
                    None => self.slots[slot] = None,
                }
            } else if let Some(outcome) = self
                .link
                .send(&session.show, session.cookie(), &until)
                .await
            {
                outcome.follow(session);
            }
        }
        let updates = self.read_counters().await?;
        Ok((self.link.tally, updates))
    }

    /// Every live session's answers against its counter, read after the load.
    async fn read_counters(&mut self) -> anyhow::Result<Updates> {
        if !self.cookies {
            return Ok(Updates {
                answered: self.answered_all,
                kept: 0,
            });
        }
        let mut conn = match self.link.conn.take() {
            Some(conn) => conn,
            None => RawConnection::open(self.link.addr).await?,
        };
        let mut updates = Updates::default();
        for session in self.slots.iter().flatten() {
            let read = wire::encode(&Method::GET, "/counter", session.cookie.as_deref());
            let answer = conn.exchange(&read).await.context("GET /counter")?;
            anyhow::ensure!(answer.ok(), "GET /counter answered {}", answer.status);
            updates.answered += session.answered;
            updates.kept += number(answer.body)?;
        }
        Ok(updates)
    }
}

/// `POST /login` then `GET /show`, every answer checked, so a broken variant fails loudly
/// before the load.
async fn log_in_checked(
    conn: &mut RawConnection,
    login: &[u8],
    cookies: bool,
) -> anyhow::Result<Session> {
    let answer = conn.exchange(login).await.context("POST /login")?;
    anyhow::ensure!(answer.ok(), "POST /login answered {}", answer.status);
    let cookie = answer
        .cookie
        .map(|cookie| String::from_utf8_lossy(cookie).into_owned());
    anyhow::ensure!(cookie.is_some() || !cookies, "POST /login set no cookie");
    let session = Session::new(cookie);
    let answer = conn.exchange(&session.show).await.context("GET /show")?;
    anyhow::ensure!(
        answer.ok() && answer.body == crate::serve::USER.as_bytes(),
        "GET /show after login answered {} {:?}",
        answer.status,
        String::from_utf8_lossy(answer.body)
    );
    Ok(session)
}

/// A connection under load: reopened after a failure, every answer counted and timed.
struct Link {
    addr: SocketAddr,
    conn: Option<RawConnection>,
    tally: Tally,
}

/// What the load loop keeps of an answer (owned, so the connection can be dropped).
struct Outcome {
    ok: bool,
    /// A cookie the server set that differs from the one sent.
    cookie: Option<String>,
}

impl Outcome {
    fn follow(self, session: &mut Session) {
        if let (true, Some(cookie)) = (self.ok, self.cookie) {
            session.adopt(cookie);
        }
    }
}

impl Link {
    /// Sends `request` (sent with cookie `sent`); `None` when the connection failed (the
    /// next request opens a new one).
    async fn send(
        &mut self,
        request: &[u8],
        sent: Option<&[u8]>,
        until: &Until,
    ) -> Option<Outcome> {
        if self.conn.is_none() {
            match RawConnection::open(self.addr).await {
                Ok(conn) => self.conn = Some(conn),
                Err(_) => {
                    self.tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    return None;
                }
            }
        }
        let conn = self.conn.as_mut()?;
        let started = Instant::now();
        let result = conn.exchange(request).await.map(|answer| Outcome {
            ok: answer.ok(),
            cookie: answer
                .cookie
                .filter(|cookie| Some(*cookie) != sent)
                .map(|cookie| String::from_utf8_lossy(cookie).into_owned()),
        });
        let done = Instant::now();
        let Ok(outcome) = result else {
            self.tally.errors += 1;
            self.conn = None;
            return None;
        };
        if outcome.ok {
            self.tally.ok += 1;
        } else {
            self.tally.not_ok += 1;
        }
        if until.measured(started, done) {
            let micros = done.duration_since(started).as_micros();
            self.tally
                .latencies_us
                .push(u32::try_from(micros).unwrap_or(u32::MAX));
        }
        Some(outcome)
    }

    /// `POST /login`: the new session, or `None` when the login failed.
    async fn log_in(&mut self, login: &[u8], cookies: bool, until: &Until) -> Option<Session> {
        let outcome = self.send(login, None, until).await?;
        (outcome.ok && (outcome.cookie.is_some() || !cookies)).then(|| Session::new(outcome.cookie))
    }
}

/// xorshift64*: enough to spread sessions and operations, and reproducible.
struct Rng(u64);

impl Rng {
    /// Seeds through splitmix64, so neighbouring indexes give unrelated sequences.
    fn seeded(index: usize) -> Self {
        let mut z = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % n
    }
}

fn number(body: &[u8]) -> anyhow::Result<u64> {
    let text = std::str::from_utf8(body).context("GET /counter body")?;
    text.parse()
        .with_context(|| format!("GET /counter answered {text:?}"))
}
