//! The Redis server the `redis` and `flask-redis` backends' demos use: a key prefix of
//! their own per [`DemoConfig`](crate::DemoConfig) (`--redis-prefix`), never the default
//! `session:` (Flask-Session's namespace), and every key under it deleted, in both
//! databases the suite uses, when the last configuration using it goes.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use crate::E2eError;

/// The server.
pub(crate) const ADDR: &str = "127.0.0.1:6379";

/// The URL of database `db` (the suite uses 0, and 1 for "another store").
pub(crate) fn url(db: u8) -> String {
    format!("redis://{ADDR}/{db}")
}

/// The key prefix of the demos whose files live in `dir`: the process id and the
/// directory's unique name, so no two configurations (nor two runs) share keys. Only
/// ASCII letters, digits, `_`, `-` and `:`, so it is also a literal `SCAN MATCH` pattern.
pub(crate) fn prefix_for(dir: &Path) -> String {
    let name: String = dir
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("e2e:{}:{name}:", std::process::id())
}

/// Fails fast, with the fix, when the server is down.
pub(crate) fn is_up() -> Result<(), E2eError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 6379));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map(drop)
        .map_err(|source| E2eError::ServiceDown {
            service: "Redis",
            addr: ADDR,
            advice: "start it with `redis-server --daemonize yes` (scripts/test.sh starts it)",
            source,
        })
}

/// Every key under `prefix` in the database at `url` (a Redis URL), sorted.
///
/// # Errors
///
/// The Redis client's error, as text, when the server cannot be asked.
pub fn keys_under(url: &str, prefix: &str) -> Result<Vec<String>, String> {
    let mut conn = connect(url)?;
    let mut keys = scan(&mut conn, prefix)?;
    keys.sort_unstable();
    Ok(keys)
}

fn connect(url: &str) -> Result<redis::Connection, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    client
        .get_connection_with_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())
}

/// The keys under `prefix` (which holds no glob characters: see [`prefix_for`]).
fn scan(conn: &mut redis::Connection, prefix: &str) -> Result<Vec<String>, String> {
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(conn)
            .map_err(|e| e.to_string())?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// Deletes every key under its prefix in its databases when dropped.
#[derive(Debug)]
pub(crate) struct Prefix {
    prefix: String,
    urls: Vec<String>,
}

impl Prefix {
    pub(crate) fn new(prefix: String, urls: Vec<String>) -> Self {
        Self { prefix, urls }
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let prefix = std::mem::take(&mut self.prefix);
        let urls = std::mem::take(&mut self.urls);
        // Drop may run on a tokio worker: a thread of its own does the blocking I/O.
        let deleted = std::thread::spawn(move || delete_under(&urls, &prefix)).join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete the e2e Redis keys: {deleted:?}");
        }
    }
}

fn delete_under(urls: &[String], prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Err("refusing to delete under an empty prefix".to_owned());
    }
    for url in urls {
        let mut conn = connect(url)?;
        // A killed demo writes nothing more, so one pass finds every key.
        for chunk in scan(&mut conn, prefix)?.chunks(500) {
            redis::cmd("DEL")
                .arg(chunk)
                .query::<u64>(&mut conn)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
