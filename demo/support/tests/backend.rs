//! Backend selection against real stores: a SQLite file created on first use, memory, and
//! the backends not wired in yet.

#![allow(clippy::unwrap_used)]

use clap::Parser;
use demo_support::{session_manager, CommonArgs, Secret, StartupError};
use session_core::adapter::SessionManager;

const SECRET: &str = "a demo secret for the tests, at least 32 bytes";
const OTHER_SECRET: &str = "another deployment's secret, also 32+ bytes";

/// One request that stores `username = ada`; the session cookie's value.
async fn log_in(manager: &SessionManager) -> Option<String> {
    let request = manager.request(None);
    request
        .session()
        .await
        .unwrap()
        .insert("username", "ada")
        .unwrap();
    let plan = request.finish().await.unwrap().unwrap();
    plan.cookie_value().map(str::to_owned)
}

/// The user name the session under `cookie` holds.
async fn username(manager: &SessionManager, cookie: Option<&str>) -> Option<String> {
    let request = manager.request(cookie);
    request
        .session()
        .await
        .unwrap()
        .get::<String>("username")
        .unwrap()
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn args(flags: &[&str]) -> CommonArgs {
    Cli::try_parse_from(std::iter::once("demo").chain(flags.iter().copied()))
        .unwrap()
        .common
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_creates_a_missing_file_and_sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let url = format!("sqlite://{}", path.display());
    assert!(url.starts_with("sqlite:///"), "an absolute path: {url}");
    let flags = [
        "--backend",
        "sqlite",
        "--database-url",
        &url,
        "--secret-key",
        SECRET,
    ];

    let manager = session_manager(&args(&flags), &Secret::new(Some(SECRET)).unwrap())
        .await
        .unwrap();
    assert!(path.exists(), "the database file is created");
    let value = log_in(&manager).await.unwrap();
    drop(manager);

    // A restart with the same secret: the signed cookie still names the session.
    let manager = session_manager(&args(&flags), &Secret::new(Some(SECRET)).unwrap())
        .await
        .unwrap();
    assert_eq!(
        username(&manager, Some(&value)).await.as_deref(),
        Some("ada")
    );

    // Another secret cannot use it: the visitor is anonymous.
    let other = session_manager(&args(&flags), &Secret::new(Some(OTHER_SECRET)).unwrap())
        .await
        .unwrap();
    assert_eq!(username(&other, Some(&value)).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_backend_starts_and_keeps_a_session() {
    let secret = Secret::new(Some(SECRET)).unwrap();
    for backend in ["memory", "cookie", "flask-cookie", "redis", "flask-redis"] {
        let manager = session_manager(&args(&["--backend", backend]), &secret)
            .await
            .unwrap_or_else(|e| {
                panic!("{backend} (is Redis running? `scripts/test.sh` starts it): {e}")
            });
        let value = log_in(&manager).await;
        assert_eq!(
            username(&manager, value.as_deref()).await.as_deref(),
            Some("ada"),
            "{backend}"
        );
        if backend == "flask-redis" {
            assert!(
                !value.unwrap_or_default().contains('.'),
                "Flask-Session ids are bare"
            );
        }
    }
}

/// `--backend postgres` keeps sessions in the URL's `search_path` schema, created on
/// first use; a restart with the same secret reads them. The schema is this test's own,
/// dropped at the end. Needs PostgreSQL at 127.0.0.1:5432 (`scripts/test.sh` starts it).
#[tokio::test(flavor = "multi_thread")]
async fn postgres_keeps_sessions_in_the_urls_schema_across_a_restart() {
    use sqlx::Connection as _;

    let server = std::env::var("SESSION_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("demo_support_{}", std::process::id());
    let url = format!("{server}?options=-c%20search_path%3D{schema}");
    let flags = [
        "--backend",
        "postgres",
        "--database-url",
        &url,
        "--secret-key",
        SECRET,
    ];
    let result = async {
        let manager = session_manager(&args(&flags), &Secret::new(Some(SECRET))?).await?;
        let value = log_in(&manager).await.ok_or("a login sets a cookie")?;
        drop(manager);
        let manager = session_manager(&args(&flags), &Secret::new(Some(SECRET))?).await?;
        Ok::<_, Box<dyn std::error::Error>>(username(&manager, Some(&value)).await)
    }
    .await;
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {server}: {e} (`scripts/test.sh` starts it)"));
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'session_records'",
    )
    .bind(&schema)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(result.unwrap().as_deref(), Some("ada"));
    assert_eq!(tables, 1, "the table is in the URL's schema");
}

#[tokio::test]
async fn an_unreachable_store_is_a_startup_error_naming_the_backend() {
    let flags = [
        "--backend",
        "redis",
        "--database-url",
        "redis://127.0.0.1:1",
    ];
    let error = session_manager(&args(&flags), &Secret::new(None).unwrap())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, StartupError::Connect { .. }), "{error:?}");
    assert!(error.to_string().contains("`redis`"), "{error}");
}

#[tokio::test]
async fn an_unopenable_database_is_a_startup_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A directory is no database file.
    let url = format!("sqlite://{}", dir.path().display());
    let error = session_manager(
        &args(&["--database-url", &url]),
        &Secret::new(None).unwrap(),
    )
    .await
    .err()
    .unwrap();
    let message = demo_support::error_chain(&error);
    assert!(
        message.starts_with("could not start the `sqlite` session backend"),
        "{message}"
    );
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}

#[test]
fn a_short_or_empty_secret_is_refused_and_says_how_to_make_one() {
    for short in ["", "k", "hunter2"] {
        let error = Secret::new(Some(short)).err().unwrap();
        let message = demo_support::error_chain(&error);
        assert!(message.contains("openssl rand"), "{short:?}: {message}");
    }
}
