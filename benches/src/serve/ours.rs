//! Ours: the crates of this workspace behind `adapter_axum::SessionLayer`.

use std::path::Path;
use std::sync::OnceLock;

use adapter_axum::{Error, Key, KeyRing, MemoryStore, Session, SessionConfig, SessionLayer};
use anyhow::Context as _;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use axum::Router;
use session_cookie::{CookieBackend, FlaskCookieBackend};
use session_files::FileStore;
use session_postgres::PostgresStoreOptions;
use session_redis::RedisConfig;
use session_sqlite::SqliteStore;

fn config() -> SessionConfig {
    // Plain http on loopback; everything else as shipped.
    SessionConfig::default().with_secure(false)
}

fn routes() -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/show", get(show))
        .route("/counter", post(increment).get(read))
        .route("/logout", post(logout))
}

async fn login(session: Session) -> Result<&'static str, Error> {
    session.regenerate();
    session.insert("username", super::USER)?;
    Ok("ok")
}

async fn logout(session: Session) -> &'static str {
    session.destroy();
    "ok"
}

async fn show(session: Session) -> Result<Response, Error> {
    Ok(match session.get::<String>("username")? {
        Some(name) => name.into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    })
}

/// `POST /counter` answers the value that was stored (`update_committed`, as the demos
/// do), unless `SESSION_BENCH_COUNTER=update` asks for the value computed before the save
/// (`update`): the two runs measure what answering the committed value costs.
async fn increment(session: Session) -> Result<String, Error> {
    let increment = |n: Option<u64>| n.unwrap_or(0) + 1;
    let n = if answer_committed() {
        session.update_committed("counter", increment).await?
    } else {
        session.update("counter", increment)?
    };
    Ok(n.to_string())
}

fn answer_committed() -> bool {
    static COMMITTED: OnceLock<bool> = OnceLock::new();
    *COMMITTED.get_or_init(|| std::env::var("SESSION_BENCH_COUNTER").as_deref() != Ok("update"))
}

async fn read(session: Session) -> Result<String, Error> {
    Ok(session.get::<u64>("counter")?.unwrap_or(0).to_string())
}

/// `MemoryStore`.
pub(super) fn memory() -> Router {
    routes().layer(SessionLayer::new(MemoryStore::default(), config()))
}

/// `CookieBackend`: signed cookies (not encrypted, as the peer's).
pub(super) fn cookie() -> anyhow::Result<Router> {
    let keys = KeyRing::new(Key::generate()?);
    Ok(routes().layer(SessionLayer::new(CookieBackend::new(keys), config())))
}

/// `FlaskCookieBackend`: Flask's cookie format, with a random 32-byte `SECRET_KEY`.
pub(super) fn flask_cookie() -> anyhow::Result<Router> {
    let secret = Key::generate()?.as_bytes().to_vec();
    Ok(routes().layer(SessionLayer::new(FlaskCookieBackend::new(secret), config())))
}

/// `SqliteStore` on a file, as shipped (WAL, `synchronous=NORMAL`).
pub(super) async fn sqlite(path: &Path) -> anyhow::Result<Router> {
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    Ok(routes().layer(SessionLayer::new(store, config())))
}

/// `FileStore` in a fresh directory, as shipped (each write fsynced before its rename).
pub(super) async fn files(dir: &Path) -> anyhow::Result<Router> {
    let store = FileStore::open(dir)
        .await
        .with_context(|| format!("opening {}", dir.display()))?;
    Ok(routes().layer(SessionLayer::new(store, config())))
}

/// `RedisStore` on the real Redis, under a prefix of its own.
pub(super) async fn redis(url: &str) -> anyhow::Result<Router> {
    let store = RedisConfig::new(url)
        .with_prefix("session-bench:")
        .connect()
        .await
        .with_context(|| format!("connecting to {url} (is redis-server running?)"))?;
    Ok(routes().layer(SessionLayer::new(store, config())))
}

/// `PostgresStore` as shipped, in a schema of this server's own.
pub(super) async fn postgres(url: &str, schema: &str) -> anyhow::Result<Router> {
    let store = PostgresStoreOptions::default()
        .with_schema(schema)
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url} (is PostgreSQL running?)"))?;
    Ok(routes().layer(SessionLayer::new(store, config())))
}
