//! Launch: the sentinel, bad settings, unreachable stores and the secret key rule.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use adapter_rocket::{
    LaunchError, LaunchSettings, MemoryStore, Session, SessionConfig, SessionFairing,
};
use common::{app, cookie_pair, store};
use rocket::figment::Figment;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::{Build, Rocket};

const SECRET: &str = "a test secret key, not secret, at least 32 bytes long";

#[rocket::get("/maybe")]
fn maybe(session: Option<Session>) -> &'static str {
    if session.is_some() {
        "session"
    } else {
        "none"
    }
}

/// Launches `rocket`, returning the error's kind as text when launch is refused.
async fn launch(rocket: Rocket<Build>) -> Result<Client, String> {
    Client::untracked(rocket)
        .await
        .map_err(|error| format!("{:?}", error.kind()))
}

fn debug_figment() -> Figment {
    Figment::from(rocket::Config::debug_default())
}

fn release_figment() -> Figment {
    Figment::from(rocket::Config::release_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_taking_session_without_the_fairing_aborts_launch() {
    let rocket = rocket::build().mount("/", rocket::routes![maybe]);
    let error = launch(rocket).await.err().unwrap();
    assert!(error.starts_with("SentinelAborts"), "{error}");

    let with_fairing =
        rocket::build()
            .mount("/", rocket::routes![maybe])
            .attach(SessionFairing::new(
                MemoryStore::default(),
                SessionConfig::default(),
            ));
    let client = launch(with_fairing).await.unwrap();
    let body = client.get("/maybe").dispatch().await.into_string().await;
    assert_eq!(body.as_deref(), Some("session"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_config_in_code_aborts_launch() {
    let store = store();
    let config = SessionConfig::default().with_cookie_name("two words");
    let fairing = SessionFairing::new(Arc::clone(&store), config);
    let error = launch(app(&store, fairing)).await.err().unwrap();
    assert!(error.starts_with("FailedFairings"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_abort_launch_and_name_the_problem() {
    let cases: [(Figment, &str); 4] = [
        (
            debug_figment().merge(("sessions.cookie_nmae", "sid")),
            "cookie_nmae",
        ),
        (
            debug_figment().merge(("sessions.idle_timeout", -5)),
            "`idle_timeout` must be a number of seconds greater than zero",
        ),
        (
            debug_figment().merge(("sessions.same_site", "sometimes")),
            "sometimes",
        ),
        (
            debug_figment().merge(("sessions.secret_key", "short")),
            "5 bytes",
        ),
    ];
    for (figment, expected) in cases {
        let error = LaunchSettings::from_figment(&figment).err().unwrap();
        let message = chain(&error);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");

        let store = store();
        let rocket = app(&store, SessionFairing::from_figment(Arc::clone(&store)));
        let error = launch(rocket.configure(figment)).await.err().unwrap();
        assert!(error.starts_with("FailedFairings"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_store_aborts_launch() {
    let fairing = SessionFairing::connect(|settings| async move {
        let url = settings.url().unwrap_or_default().to_owned();
        Err::<MemoryStore, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            format!("nothing listens at {url}"),
        ))
    });
    let figment = debug_figment().merge(("sessions.url", "redis://127.0.0.1:1"));
    let error = launch(rocket::custom(figment).attach(fairing)).await.err();
    assert!(error.unwrap().starts_with("FailedFairings"));
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_outside_debug_need_a_secret_key() {
    // A backend that needs keys (as a cookie backend does) asks the settings for them.
    fn needs_keys() -> SessionFairing {
        SessionFairing::connect(|settings| async move {
            settings.keys()?;
            Ok::<_, LaunchError>(MemoryStore::default())
        })
    }
    let release = LaunchSettings::from_figment(&release_figment()).unwrap();
    assert!(matches!(
        release.keys(),
        Err(LaunchError::SecretKeyRequired { ref profile }) if profile == "release"
    ));
    let error = launch(rocket::custom(release_figment()).attach(needs_keys())).await;
    assert!(error.err().unwrap().starts_with("FailedFairings"));

    // A server-side store that needs no keys launches without one.
    let no_keys = rocket::custom(release_figment())
        .attach(SessionFairing::from_figment(MemoryStore::default()));
    assert!(launch(no_keys).await.is_ok());

    let with_secret = release_figment().merge(("sessions.secret_key", SECRET));
    assert!(launch(rocket::custom(with_secret).attach(needs_keys()))
        .await
        .is_ok());

    // debug: a random key.
    let debug = LaunchSettings::from_figment(&debug_figment()).unwrap();
    assert!(debug.keys().is_ok() && !debug.has_secret_key());
    assert!(launch(rocket::custom(debug_figment()).attach(needs_keys()))
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn figment_settings_shape_the_cookie_and_the_secret_signs_ids() {
    let store = store();
    let figment = |secret: &str| {
        release_figment()
            .merge(("sessions.cookie_name", "sid"))
            .merge(("sessions.same_site", "strict"))
            .merge(("sessions.lifetime", 120))
            .merge(("sessions.permanent", true))
            .merge(("sessions.secret_key", secret))
    };
    let fairing = SessionFairing::from_figment(Arc::clone(&store));
    let client = launch(app(&store, fairing).configure(figment(SECRET)))
        .await
        .unwrap();
    let login = client.post("/login/ada").dispatch().await;
    let set_cookie = login.headers().get_one("Set-Cookie").unwrap().to_owned();
    assert!(set_cookie.starts_with("sid="), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age=120"), "{set_cookie}");
    let cookie = Header::new("Cookie", cookie_pair(&login));
    let read = client.get("/read").header(cookie.clone()).dispatch().await;
    assert_eq!(read.into_string().await.as_deref(), Some("ada"));

    // Same store, another secret: the id cookie's signature no longer verifies.
    let other_secret = "another deployment's secret key, also long enough";
    let fairing = SessionFairing::from_figment(Arc::clone(&store));
    let other = launch(app(&store, fairing).configure(figment(other_secret)))
        .await
        .unwrap();
    let read = other.get("/read").header(cookie).dispatch().await;
    assert_eq!(read.status(), Status::Ok);
    assert_eq!(read.into_string().await.as_deref(), Some(""));
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    adapter_rocket::session_core::adapter::error_chain(error)
}
