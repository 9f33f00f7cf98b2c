//! A workload set up and run against one server: the hot session (one login, one
//! request repeated, the counter checked after) or the realistic mix.

use std::net::SocketAddr;

use anyhow::Context as _;
use hyper::Method;

use crate::args::Route;
use crate::load::{self, Shape, Tally, Target, Updates};
use crate::realistic;
use crate::variant::Variant;

/// A workload, set up (logged in) and ready to load.
pub(crate) enum Load {
    /// Every connection repeats one request on the one session; `read_counter` when
    /// the counter is to be checked afterwards.
    Hot {
        target: Target,
        connections: usize,
        read_counter: bool,
    },
    Realistic(realistic::Prepared),
}

impl Load {
    pub(crate) async fn prepare(
        addr: SocketAddr,
        variant: Variant,
        route: Route,
        connections: usize,
        sessions: usize,
    ) -> anyhow::Result<Self> {
        let (method, path) = match route {
            Route::Show => (Method::GET, "/show"),
            Route::Counter => (Method::POST, "/counter"),
            Route::Realistic => {
                let cookies = variant != Variant::None;
                let prepared = realistic::prepare(addr, connections, sessions, cookies).await?;
                return Ok(Self::Realistic(prepared));
            }
        };
        let target = Target {
            addr,
            method,
            path,
            cookie: login(addr, variant).await?,
        };
        // Cookie sessions live in the one cookie every connection replays: nothing to
        // check.
        let read_counter = route == Route::Counter && variant.server_side();
        Ok(Self::Hot {
            target,
            connections,
            read_counter,
        })
    }

    /// Loads for `shape`'s warm-up and duration.
    pub(crate) async fn run(self, shape: Shape) -> anyhow::Result<(Tally, Option<Updates>)> {
        match self {
            Self::Hot {
                target,
                read_counter,
                ..
            } => {
                let tally = load::run(&target, shape).await;
                let updates = check_counter(&target, read_counter, &tally).await?;
                Ok((tally, updates))
            }
            Self::Realistic(prepared) => {
                let (tally, updates) = realistic::run(prepared, shape).await?;
                Ok((tally, Some(updates)))
            }
        }
    }

    /// Sends exactly `requests` requests.
    pub(crate) async fn count(self, requests: u64) -> anyhow::Result<(Tally, Option<Updates>)> {
        match self {
            Self::Hot {
                target,
                connections,
                read_counter,
            } => {
                let tally = load::count(&target, connections, requests).await;
                let updates = check_counter(&target, read_counter, &tally).await?;
                Ok((tally, updates))
            }
            Self::Realistic(prepared) => {
                let (tally, updates) = realistic::count(prepared, requests).await?;
                Ok((tally, Some(updates)))
            }
        }
    }
}

/// `POST /login`; the `Cookie` header value to send from then on.
async fn login(addr: SocketAddr, variant: Variant) -> anyhow::Result<Option<String>> {
    let target = Target {
        addr,
        method: Method::POST,
        path: "/login",
        cookie: None,
    };
    let (status, response) = load::once(&target).await.context("POST /login")?;
    anyhow::ensure!(status.is_success(), "POST /login answered {status}");
    let cookie = response
        .set_cookie
        .as_deref()
        .and_then(|header| header.split(';').next())
        .map(str::to_owned);
    anyhow::ensure!(
        cookie.is_some() || variant == Variant::None,
        "POST /login set no cookie"
    );
    // Check the login took before loading, so a broken variant fails loudly.
    let check = Target {
        method: Method::GET,
        path: "/show",
        cookie: cookie.clone(),
        ..target
    };
    let (status, response) = load::once(&check).await.context("GET /show")?;
    anyhow::ensure!(
        status.is_success() && response.body == crate::serve::USER,
        "GET /show after login answered {status} {:?}",
        response.body
    );
    Ok(cookie)
}

/// After a hot-session load: every successful `POST /counter` answer against the
/// counter, when `read` (server-side sessions).
async fn check_counter(
    target: &Target,
    read: bool,
    tally: &Tally,
) -> anyhow::Result<Option<Updates>> {
    if !read {
        return Ok(None);
    }
    let kept = read_counter(target.addr, target.cookie.clone()).await?;
    Ok(Some(Updates {
        answered: tally.ok,
        kept,
    }))
}

async fn read_counter(addr: SocketAddr, cookie: Option<String>) -> anyhow::Result<u64> {
    let target = Target {
        addr,
        method: Method::GET,
        path: "/counter",
        cookie,
    };
    let (status, response) = load::once(&target).await.context("GET /counter")?;
    anyhow::ensure!(status.is_success(), "GET /counter answered {status}");
    let text = std::str::from_utf8(&response.body).context("GET /counter body")?;
    text.parse()
        .with_context(|| format!("GET /counter answered {text:?}"))
}
