//! Run with: `cargo run -p adapter-axum --example axum_runtime_backend`
//!
//! The backend is chosen when the server starts, from `SESSION_BACKEND` (`memory`,
//! `sqlite` or `cookie`), and every option from the `SESSION_*` variables the library's
//! `SessionSettings` reads:
//!
//! ```sh
//! SESSION_BACKEND=cookie SESSION_SECRET_KEY="$(openssl rand -base64 48)" \
//!     cargo run -p adapter-axum --example axum_runtime_backend
//! curl -i -X POST http://127.0.0.1:3000/visit
//! ```

use std::error::Error as StdError;

use adapter_axum::{BoxedBackend, Error, MemoryStore, Session, SessionLayer, SessionSettings};
use axum::routing::post;
use axum::Router;
use session_cookie::CookieBackend;
use session_sqlite::SqliteStore;

/// Every arm has the same type: a boxed backend.
async fn backend(
    kind: &str,
    settings: &SessionSettings,
) -> Result<BoxedBackend, Box<dyn StdError>> {
    Ok(match kind {
        "memory" => BoxedBackend::new(MemoryStore::default()),
        "sqlite" => {
            let url = settings.url().unwrap_or("sqlite://sessions.db");
            BoxedBackend::new(SqliteStore::connect(url).await?)
        }
        "cookie" => {
            let keys = settings
                .keys()?
                .ok_or("the cookie backend needs SESSION_SECRET_KEY")?;
            BoxedBackend::new(CookieBackend::new(keys))
        }
        other => {
            return Err(format!("SESSION_BACKEND={other}: use memory, sqlite or cookie").into())
        }
    })
}

async fn visit(session: Session) -> Result<String, Error> {
    let visits = session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    Ok(format!("visit number {visits}\n"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    let settings = SessionSettings::from_env()?;
    let kind = std::env::var("SESSION_BACKEND").unwrap_or_else(|_| "memory".to_owned());
    let layer = SessionLayer::try_new(backend(&kind, &settings).await?, settings.config()?)?;
    let app = Router::new().route("/visit", post(visit)).layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    eprintln!("sessions in the {kind} backend; try: curl -i -X POST http://127.0.0.1:3000/visit");
    axum::serve(listener, app).await?;
    Ok(())
}
