//! One secret, one store, two frameworks: an Axum service and a Rocket service built from
//! the same `SessionSettings` share one SQLite file and read each other's logins, over
//! real HTTP on loopback.

use std::net::SocketAddr;

use adapter_axum::SessionLayer;
use adapter_rocket::SessionFairing;
use axum::routing::{get, post};
use rocket::fairing::AdHoc;
use session_core::SessionSettings;
use session_sqlite::SqliteStore;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What an operator would put in both services' environments.
const ENV: [(&str, &str); 3] = [
    (
        "SESSION_SECRET_KEY",
        "cross-framework test secret, not secret, 32+ bytes",
    ),
    ("SESSION_IDLE_TIMEOUT", "1800"),
    ("SESSION_COOKIE_NAME", "shared_session"),
];

async fn axum_login(
    session: adapter_axum::Session,
    name: String,
) -> Result<&'static str, adapter_axum::Error> {
    session.regenerate();
    session.insert("username", name)?;
    Ok("logged in")
}

async fn axum_show(session: adapter_axum::Session) -> Result<String, adapter_axum::Error> {
    Ok(session.get::<String>("username")?.unwrap_or_default())
}

#[rocket::post("/login", data = "<name>")]
fn rocket_login(
    session: adapter_rocket::Session,
    name: String,
) -> Result<&'static str, adapter_rocket::Error> {
    session.regenerate();
    session.insert("username", name)?;
    Ok("logged in")
}

#[rocket::get("/show")]
fn rocket_show(session: adapter_rocket::Session) -> Result<String, adapter_rocket::Error> {
    Ok(session.get::<String>("username")?.unwrap_or_default())
}

/// The Axum service on a free port.
async fn serve_axum(url: &str) -> Result<SocketAddr, Box<dyn std::error::Error>> {
    let settings = SessionSettings::from_vars(ENV)?;
    let store = SqliteStore::connect(url).await?;
    let app = axum::Router::new()
        .route("/login", post(axum_login))
        .route("/show", get(axum_show))
        .layer(SessionLayer::try_new(store, settings.config()?)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// The Rocket service on a free port, its settings read from the figment's `sessions`
/// table (what `Rocket.toml` or `ROCKET_SESSIONS` hold).
async fn serve_rocket(url: &str) -> Result<SocketAddr, Box<dyn std::error::Error>> {
    let mut figment = rocket::Config::figment()
        .merge(("port", 0))
        .merge(("address", "127.0.0.1"))
        .merge(("log_level", "off"));
    for (name, value) in ENV {
        let key = name.trim_start_matches("SESSION_").to_ascii_lowercase();
        figment = figment.merge((format!("sessions.{key}"), value));
    }
    let url = url.to_owned();
    let fairing =
        SessionFairing::connect(move |_settings| async move { SqliteStore::connect(&url).await });
    let (port_tx, port_rx) = tokio::sync::oneshot::channel();
    let port_tx = std::sync::Mutex::new(Some(port_tx));
    let rocket = rocket::custom(figment)
        .mount("/", rocket::routes![rocket_login, rocket_show])
        .attach(fairing)
        .attach(AdHoc::on_liftoff("report the port", move |rocket| {
            let port = rocket.config().port;
            Box::pin(async move {
                if let Some(tx) = port_tx.lock().ok().and_then(|mut tx| tx.take()) {
                    let _ = tx.send(port);
                }
            })
        }));
    tokio::spawn(async move { rocket.launch().await });
    let port = port_rx.await?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The `name=value` of the session cookie a response sets.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("shared_session="))
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
}

async fn login(
    client: &reqwest::Client,
    at: SocketAddr,
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let response = client
        .post(format!("http://{at}/login"))
        .body(name.to_owned())
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    Ok(session_cookie(&response).ok_or("a login sets the session cookie")?)
}

async fn show(
    client: &reqwest::Client,
    at: SocketAddr,
    cookie: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let response = client
        .get(format!("http://{at}/show"))
        .header("cookie", cookie)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    Ok(response.text().await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn axum_and_rocket_read_each_others_logins() -> TestResult {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let axum_at = serve_axum(&url).await?;
    let rocket_at = serve_rocket(&url).await?;
    let client = reqwest::Client::new();

    let on_axum = login(&client, axum_at, "ada").await?;
    assert_eq!(
        show(&client, rocket_at, &on_axum).await?,
        "ada",
        "Rocket reads Axum's login"
    );

    let on_rocket = login(&client, rocket_at, "grace").await?;
    assert_eq!(
        show(&client, axum_at, &on_rocket).await?,
        "grace",
        "Axum reads Rocket's login"
    );

    // The id cookies are signed with the key both derive from the one secret: a cookie
    // whose signature is broken is a stranger on both.
    let forged = format!("{}x", on_axum.trim_end_matches(|c: char| c != '.'));
    assert_eq!(show(&client, rocket_at, &forged).await?, "");
    assert_eq!(show(&client, axum_at, &forged).await?, "");
    Ok(())
}
