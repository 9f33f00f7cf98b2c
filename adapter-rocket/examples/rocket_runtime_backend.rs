//! Run with: `cargo run -p adapter-rocket --example rocket_runtime_backend`
//!
//! The backend is chosen at ignition from `sessions.url` in Rocket's configuration
//! (`memory:`, `sqlite://...`, or `cookie:` for the whole session in a signed cookie); the
//! rest of the `sessions` table is `session-core`'s `SessionSettings`:
//!
//! ```sh
//! ROCKET_SESSIONS='{url="cookie:"}' cargo run -p adapter-rocket --example rocket_runtime_backend
//! curl -i -X POST http://127.0.0.1:8000/visit
//! ```

use adapter_rocket::{BoxedBackend, Error, LaunchError, MemoryStore, Session, SessionFairing};
use session_cookie::CookieBackend;
use session_sqlite::SqliteStore;

#[rocket::post("/visit")]
fn visit(session: Session) -> Result<String, Error> {
    let visits = session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    Ok(format!("visit number {visits}\n"))
}

#[rocket::launch]
fn rocket() -> _ {
    // Every arm has the same type: a boxed backend.
    let sessions = SessionFairing::connect(|settings| async move {
        let backend = match settings.url().unwrap_or("memory:") {
            "memory:" => BoxedBackend::new(MemoryStore::default()),
            "cookie:" => BoxedBackend::new(CookieBackend::new(settings.keys()?)),
            url if url.starts_with("sqlite:") => BoxedBackend::new(
                SqliteStore::connect(url)
                    .await
                    .map_err(|error| LaunchError::Connect(error.into()))?,
            ),
            other => {
                let message =
                    format!("sessions.url = {other:?}: use memory:, cookie: or sqlite://...");
                return Err(LaunchError::Connect(message.into()));
            }
        };
        Ok::<_, LaunchError>(backend)
    });
    rocket::build()
        .mount("/", rocket::routes![visit])
        .attach(sessions)
}
