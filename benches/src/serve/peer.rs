//! The peer: tower-sessions, wired as its README shows, with the handlers its users write
//! (`get` then `insert` for the counter).
//!
//! tower-sessions 0.15 serves the memory variant. Its SQLite and PostgreSQL store
//! (tower-sessions-sqlx-store 0.15), the signed-cookie store
//! (tower-sessions-cookie-store 0.5) and the Redis store (tower-sessions-redis-store 0.16)
//! are built on tower-sessions-core 0.14, so those variants run tower-sessions 0.14; both
//! versions link side by side.

use std::path::Path;

use anyhow::Context as _;
use axum::http::StatusCode;
use axum::Router;
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

/// The five routes for one tower-sessions `Session` type (0.14 and 0.15 differ).
macro_rules! routes {
    ($session:ty) => {{
        use axum::response::{IntoResponse as _, Response};
        use axum::routing::{get, post};

        async fn login(session: $session) -> Result<&'static str, StatusCode> {
            session.cycle_id().await.map_err(internal)?;
            session
                .insert("username", super::USER)
                .await
                .map_err(internal)?;
            Ok("ok")
        }

        async fn logout(session: $session) -> Result<&'static str, StatusCode> {
            session.flush().await.map_err(internal)?;
            Ok("ok")
        }

        async fn show(session: $session) -> Result<Response, StatusCode> {
            Ok(
                match session.get::<String>("username").await.map_err(internal)? {
                    Some(name) => name.into_response(),
                    None => StatusCode::UNAUTHORIZED.into_response(),
                },
            )
        }

        async fn increment(session: $session) -> Result<String, StatusCode> {
            let n = session
                .get::<u64>("counter")
                .await
                .map_err(internal)?
                .unwrap_or(0)
                + 1;
            session.insert("counter", n).await.map_err(internal)?;
            Ok(n.to_string())
        }

        async fn read(session: $session) -> Result<String, StatusCode> {
            let n = session.get::<u64>("counter").await.map_err(internal)?;
            Ok(n.unwrap_or(0).to_string())
        }

        Router::new()
            .route("/login", post(login))
            .route("/show", get(show))
            .route("/counter", post(increment).get(read))
            .route("/logout", post(logout))
    }};
}

fn internal<E>(_: E) -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

/// tower-sessions 0.15 with its memory store.
pub(super) fn memory() -> Router {
    let layer = tower_sessions::SessionManagerLayer::new(tower_sessions::MemoryStore::default())
        .with_secure(false);
    routes!(tower_sessions::Session).layer(layer)
}

/// tower-sessions-cookie-store: the whole session in a signed cookie.
pub(super) fn cookie() -> Router {
    use tower_sessions_cookie_store::{CookieSessionConfig, CookieSessionManagerLayer, Key};

    let config = CookieSessionConfig::default().with_secure(false);
    let layer = CookieSessionManagerLayer::signed(Key::generate()).with_config(config);
    routes!(tower_sessions_cookie_store::Session).layer(layer)
}

/// tower-sessions-sqlx-store's SQLite store on a file, with sqlx's default pool (rollback
/// journal, `synchronous=FULL`), or with `wal` our durability setting (WAL,
/// `synchronous=NORMAL`).
pub(super) async fn sqlite(path: &Path, wal: bool) -> anyhow::Result<Router> {
    let mut options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    if wal {
        options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
    }
    let pool = SqlitePool::connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
    store.migrate().await.context("creating the table")?;
    let layer = tower_sessions_014::SessionManagerLayer::new(store).with_secure(false);
    Ok(routes!(tower_sessions_014::Session).layer(layer))
}

/// tower-sessions-sqlx-store's PostgreSQL store, on sqlx's default pool as its README
/// builds it, in a schema of this server's own.
pub(super) async fn postgres(url: &str, schema: &str) -> anyhow::Result<Router> {
    let pool = PgPool::connect(url)
        .await
        .with_context(|| format!("connecting to {url} (is PostgreSQL running?)"))?;
    let store = tower_sessions_sqlx_store::PostgresStore::new(pool)
        .with_schema_name(schema)
        .map_err(anyhow::Error::msg)?;
    store.migrate().await.context("creating the table")?;
    let layer = tower_sessions_014::SessionManagerLayer::new(store).with_secure(false);
    Ok(routes!(tower_sessions_014::Session).layer(layer))
}

/// The Redis logical database the peer's sessions go in, on the server of `--redis-url`.
/// tower-sessions-redis-store names each key by the bare session id, with no prefix to
/// set, so a database of its own keeps its keys apart from ours (under `session-bench:`
/// in the URL's database) and from anything else there. Nothing is flushed: every key
/// expires by itself (see [`redis()`]).
pub(crate) const REDIS_DATABASE: u8 = 15;

/// tower-sessions-redis-store 0.16 on fred 10, wired as its README shows: a fred `Pool`
/// of 6 clients (the README's size), `connect`, `wait_for_connect`, `RedisStore::new`.
///
/// The pool is the README's, not one client: a user copying it gets 6 connections. That
/// is fair to compare with our `session_redis::RedisStore`, which multiplexes the whole
/// process over one `redis::aio::ConnectionManager`, because each fred client also
/// pipelines every caller's commands over its one connection: the pool adds connections
/// for Redis to read from, not a way to run commands that ours lacks, and both answer on
/// the one server thread every variant gets.
///
/// The expiry is what a user sets (the README sets one too): a day of inactivity. The
/// store writes every session with `SET ... EXAT <expiry date>`, so each key it leaves
/// in [`REDIS_DATABASE`] after a run expires on its own, as ours do: the benchmark never
/// needs to `FLUSHDB`, which could take someone else's keys with it.
pub(super) async fn redis(url: &str) -> anyhow::Result<Router> {
    use time::Duration;
    use tower_sessions_014::Expiry;
    use tower_sessions_redis_store::fred::prelude::{ClientLike as _, Config, Pool};
    use tower_sessions_redis_store::RedisStore;

    let mut config = Config::from_url(url).with_context(|| format!("parsing {url}"))?;
    config.database = Some(REDIS_DATABASE);
    let pool = Pool::new(config, None, None, None, 6).context("building the fred pool")?;
    // Each client's connection task is spawned on the runtime and outlives its handle.
    let _connections = pool.connect();
    pool.wait_for_connect()
        .await
        .with_context(|| format!("connecting to {url} (is redis-server running?)"))?;
    let layer = tower_sessions_014::SessionManagerLayer::new(RedisStore::new(pool))
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(Duration::days(1)));
    Ok(routes!(tower_sessions_014::Session).layer(layer))
}
