//! A small Rocket app over the adapter, a store that can be made to fail, and helpers to
//! read cookies off responses.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;

use adapter_rocket::{Error, MemoryStore, Session, SessionConfig, SessionFairing};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::{Build, Rocket, State};
use session_conformance::FaultyStore;

/// The store the app uses, shared with the routes so a test can make it fail mid-request.
pub type Store = Arc<FaultyStore<MemoryStore>>;

/// A store that works until told otherwise.
pub fn store() -> Store {
    Arc::new(FaultyStore::new(MemoryStore::default()))
}

#[rocket::get("/untouched")]
fn untouched() -> &'static str {
    "no session here"
}

#[rocket::get("/read")]
fn read(session: Session) -> Result<String, Error> {
    Ok(session.get::<String>("name")?.unwrap_or_default())
}

#[rocket::post("/login/<name>")]
fn login(session: Session, name: &str) -> Result<&'static str, Error> {
    session.regenerate();
    session.insert("name", name)?;
    Ok("logged in")
}

#[rocket::post("/count")]
fn count(session: Session) -> Result<String, Error> {
    Ok(session
        .update("count", |n: Option<u64>| n.unwrap_or(0) + 1)?
        .to_string())
}

/// Two guards in one request: a write through the first is seen by the second.
#[rocket::post("/twice")]
fn twice(first: Session, second: Session) -> Result<String, Error> {
    first.insert("twice", 2_u32)?;
    Ok(second.get::<u32>("twice")?.unwrap_or(0).to_string())
}

#[rocket::post("/logout")]
fn logout(session: Session) -> &'static str {
    session.destroy();
    "bye"
}

#[rocket::post("/big")]
fn big(session: Session) -> Result<&'static str, Error> {
    session.insert("big", "x".repeat(2 * 1024 * 1024))?;
    Ok("stored")
}

/// A body that already varies on `Accept-Encoding` and asks to be cached.
#[derive(rocket::Responder)]
struct Cached {
    body: String,
    vary: Header<'static>,
    cache_control: Header<'static>,
}

#[rocket::get("/cached")]
fn cached(session: Session) -> Cached {
    let name = session.get::<String>("name").ok().flatten();
    Cached {
        body: name.unwrap_or_default(),
        vary: Header::new("Vary", "Accept-Encoding"),
        cache_control: Header::new("Cache-Control", "max-age=60"),
    }
}

/// Writes, then the store goes down before the fairing saves.
#[rocket::post("/write-then-fail")]
fn write_then_fail(session: Session, store: &State<Store>) -> Result<&'static str, Error> {
    session.insert("lost", true)?;
    store.set_failing(true);
    Ok("handler succeeded")
}

/// The app with `fairing` attached and `store` managed for the failure routes.
pub fn app(store: &Store, fairing: SessionFairing) -> Rocket<Build> {
    rocket::build()
        .mount(
            "/",
            rocket::routes![
                untouched,
                read,
                login,
                count,
                twice,
                logout,
                big,
                cached,
                write_then_fail
            ],
        )
        .manage(Arc::clone(store))
        .attach(fairing)
}

/// A client of the app on `store` with `config`.
pub async fn client_with(store: &Store, config: SessionConfig) -> Client {
    let fairing = SessionFairing::new(Arc::clone(store), config);
    Client::untracked(app(store, fairing)).await.unwrap()
}

/// A client of the app on a fresh store with the default configuration.
pub async fn client(store: &Store) -> Client {
    client_with(store, SessionConfig::default()).await
}

/// Every `Set-Cookie` of a response.
pub fn set_cookies(response: &LocalResponse<'_>) -> Vec<String> {
    response
        .headers()
        .get("Set-Cookie")
        .map(str::to_owned)
        .collect()
}

/// The `name=value` part of the only `Set-Cookie` of a response.
pub fn cookie_pair(response: &LocalResponse<'_>) -> String {
    let cookies = set_cookies(response);
    assert_eq!(cookies.len(), 1, "expected one Set-Cookie, got {cookies:?}");
    cookies[0].split(';').next().unwrap().trim().to_owned()
}

/// Logs in as `name` and returns the `Cookie` header to send afterwards.
pub async fn log_in(client: &Client, name: &str) -> Header<'static> {
    let response = client.post(format!("/login/{name}")).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    Header::new("Cookie", cookie_pair(&response))
}
