//! Sessions configured from Rocket's own configuration: a `sessions` table in
//! `Rocket.toml` or the `ROCKET_SESSIONS` environment variable.
//!
//! Run with: cargo run -p adapter-rocket --example figment
//!
//! Then `curl -i -X POST http://127.0.0.1:8000/count` a few times with the cookie it sets.
//! Try `ROCKET_SESSIONS='{idle_timeout=-1}'` (refused at launch), or
//! `ROCKET_PROFILE=release` without `ROCKET_SESSIONS='{secret_key="..."}'`: this example's
//! store asks for keys, so launch is refused outside the debug profile.

use adapter_rocket::{Error, LaunchError, MemoryStore, Session, SessionFairing};

#[rocket::post("/count")]
fn count(session: Session) -> Result<String, Error> {
    let visits = session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    Ok(format!("{visits}\n"))
}

#[rocket::launch]
fn rocket() -> _ {
    let sessions = SessionFairing::connect(|settings| async move {
        // A cookie backend would be built from these keys; the memory store only shows
        // the rule: outside `debug`, keys need `sessions.secret_key`.
        let _keys = settings.keys()?;
        Ok::<_, LaunchError>(MemoryStore::default())
    });
    rocket::build()
        .mount("/", rocket::routes![count])
        .attach(sessions)
}
