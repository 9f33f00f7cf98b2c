//! The PostgreSQL server the `postgres` backend's demos use: a schema of their own per
//! [`DemoConfig`](crate::DemoConfig), named in the URL's `search_path` (the store creates
//! it), dropped when the last configuration using it goes.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use sqlx::Connection as _;

use crate::E2eError;

/// The server; `SESSION_TEST_POSTGRES_URL` overrides it (a database, not a schema).
const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn server_url() -> String {
    std::env::var("SESSION_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
}

/// The schema of the demos whose files live in `dir` (`other`: the separate store).
pub(crate) fn schema_for(dir: &Path, other: bool) -> String {
    let name: String = dir
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let suffix = if other { "_other" } else { "" };
    format!("e2e_{}_{name}{suffix}", std::process::id())
}

/// The server's URL with `schema` as the connection's `search_path`.
pub(crate) fn url(schema: &str) -> String {
    format!("{}?options=-c%20search_path%3D{schema}", server_url())
}

/// Fails fast, with the fix, when the server is down.
pub(crate) fn is_up() -> Result<(), E2eError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 5432));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map(drop)
        .map_err(|source| E2eError::ServiceDown {
            service: "PostgreSQL",
            addr: "127.0.0.1:5432",
            advice: "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) \
                     main start` (scripts/test.sh starts it, and installs it when missing)",
            source,
        })
}

/// Drops its schemas (and every table in them) when dropped.
#[derive(Debug)]
pub(crate) struct Schemas {
    names: Vec<String>,
}

impl Schemas {
    pub(crate) fn new(names: Vec<String>) -> Self {
        Self { names }
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.names);
        // Drop may run inside a tokio runtime, which cannot be blocked on: a thread with
        // a runtime of its own does the work.
        let dropped = std::thread::spawn(move || drop_schemas(&names)).join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the e2e PostgreSQL schemas: {dropped:?}");
        }
    }
}

fn drop_schemas(names: &[String]) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&server_url())
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query("SET lock_timeout = '5s'")
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        for name in names {
            // The demos were killed; a backend of theirs that still holds a lock goes.
            sqlx::query(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l
                 JOIN pg_class c ON c.oid = l.relation
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()",
            )
            .bind(name)
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
            let statement = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
            sqlx::query(&statement)
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.close()).await;
        Ok(())
    })
}
