//! The peer: tower-sessions, wired as its README shows, with the handlers its users write
//! (`get` then `insert` for the counter).
//!
//! tower-sessions 0.15 serves the memory variant. Its SQLite store
//! (tower-sessions-sqlx-store 0.15) and the signed-cookie store
//! (tower-sessions-cookie-store 0.5) are built on tower-sessions-core 0.14, so those
//! variants run tower-sessions 0.14; both versions link side by side.

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
