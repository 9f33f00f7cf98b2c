//! The test server and a schema of its own for each test, dropped when the test ends.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::Connection as _;

/// The server the tests use; `SESSION_TEST_POSTGRES_URL` overrides it.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// What to do when the server does not answer.
pub const HOW_TO_START: &str = "start it with `pg_ctlcluster --skip-systemctl-redirect \
     $(ls /etc/postgresql) main start` (install it with `apt-get install -y postgresql`; \
     scripts/test.sh does both), or point SESSION_TEST_POSTGRES_URL at another server \
     (trust auth, user postgres, a database `test`: `createdb -h 127.0.0.1 -U postgres test`)";

/// The test server's URL.
pub fn server_url() -> String {
    std::env::var("SESSION_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A schema name no other test (of this run or a concurrent one) uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A schema for one test: the store creates it on connect; dropping this drops it, and
/// everything in it.
pub struct TestSchema {
    pub name: String,
    url: String,
}

impl TestSchema {
    /// A new schema name on the test server, which must answer (else the test fails
    /// saying how to start it).
    pub async fn new() -> Self {
        let url = server_url();
        if let Err(error) = sqlx::PgConnection::connect(&url).await {
            panic!("PostgreSQL does not answer at {url}: {error}; {HOW_TO_START}");
        }
        Self {
            name: unique_name("sp_test"),
            url,
        }
    }

    /// The test server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's URL with this schema as the connection's `search_path`.
    pub fn url_with_search_path(&self) -> String {
        format!("{}?options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside a tokio runtime, which cannot be blocked on: a thread with a
        // runtime of its own does the work, and this one waits for it.
        let dropped = std::thread::spawn(move || drop_schema(&url, &name)).join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// `DROP SCHEMA name CASCADE` on a connection of its own; waits a few seconds for stores
/// being dropped to let go of their connections.
pub fn drop_schema(url: &str, name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query("SET lock_timeout = '5s'")
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        // A task aborted mid-statement on a runtime that is shutting down may leave its
        // connection inside a transaction holding row locks: end those connections
        // (only those holding locks in this test's schema).
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
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let result = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"))
            .execute(&mut conn)
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.close()).await;
        result.map(drop).map_err(|e| e.to_string())
    })
}
