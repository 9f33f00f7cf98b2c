//! What the tests share: the real Redis at 127.0.0.1:6379, a fresh key prefix per store,
//! and cleanup of what a test stored.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Mutex;

use redis::Commands as _;
// The kit's request helpers; not every test file uses every one.
#[allow(unused_imports)]
pub use session_conformance::requests::{finish, open};
use session_core::adapter::SessionManager;
use session_core::backend::{CookieUpdate, IntoSessionBackend};
use session_core::clock::{ManualClock, Timestamp};
use session_core::SessionConfig;
use session_redis::{FlaskSessionStore, RedisConfig, RedisStore};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

const START_REDIS: &str =
    "start it with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\"` \
     (or run scripts/test.sh, which installs and starts it)";

/// A key prefix no other test (or earlier run) uses.
pub fn unique_prefix(tag: &str) -> String {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("test:{tag}:{hex}:")
}

/// A store on the shared Redis under `prefix`; fails the test with how to start Redis.
pub async fn store(prefix: &str) -> RedisStore {
    RedisConfig::new(REDIS_URL)
        .with_prefix(prefix)
        .connect()
        .await
        .unwrap_or_else(|error| {
            panic!("Redis is not reachable at {REDIS_URL} ({error}); {START_REDIS}")
        })
}

/// A Flask-Session store on the shared Redis under `prefix`.
pub async fn flask_store(prefix: &str, config: &SessionConfig) -> FlaskSessionStore {
    RedisConfig::new(REDIS_URL)
        .with_prefix(prefix)
        .connect_flask_session(config)
        .await
        .unwrap_or_else(|error| {
            panic!("Redis is not reachable at {REDIS_URL} ({error}); {START_REDIS}")
        })
}

/// A plain blocking connection, for inspecting Redis behind the store's back.
pub fn raw_connection(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .and_then(|client| client.get_connection())
        .unwrap_or_else(|error| panic!("Redis is not reachable at {url} ({error}); {START_REDIS}"))
}

/// Every key under `prefix` with its contents (hash fields or string value), as bytes.
pub fn dump(url: &str, prefix: &str) -> Vec<u8> {
    let mut conn = raw_connection(url);
    let keys: Vec<String> = conn
        .scan_match::<_, String>(format!("{prefix}*"))
        .unwrap()
        .collect();
    let mut out = Vec::new();
    for key in keys {
        out.extend_from_slice(key.as_bytes());
        out.push(b'\n');
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut conn).unwrap();
        if kind == "hash" {
            let fields: Vec<Vec<u8>> = conn.hgetall(&key).unwrap();
            for field in fields {
                out.extend_from_slice(&field);
                out.push(b'\n');
            }
        } else if kind == "string" {
            let value: Vec<u8> = conn.get(&key).unwrap();
            out.extend_from_slice(&value);
            out.push(b'\n');
        }
    }
    out
}

/// Deletes every key under `prefix`.
pub fn delete_prefix(url: &str, prefix: &str) {
    let Ok(mut conn) = redis::Client::open(url).and_then(|client| client.get_connection()) else {
        return;
    };
    let keys: Vec<String> = match conn.scan_match::<_, String>(format!("{prefix}*")) {
        Ok(keys) => keys.collect(),
        Err(_) => return,
    };
    if !keys.is_empty() {
        let _: Result<(), _> = conn.del(keys);
    }
}

/// The prefixes a harness handed out, deleted from Redis when the harness is dropped, so
/// the tests leave the shared Redis as they found it.
#[derive(Default)]
pub struct Cleanup {
    prefixes: Mutex<Vec<String>>,
}

impl Cleanup {
    pub fn track(&self, prefix: &str) {
        self.prefixes.lock().unwrap().push(prefix.to_owned());
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for prefix in self.prefixes.get_mut().unwrap().drain(..) {
            delete_prefix(REDIS_URL, &prefix);
        }
    }
}

/// A manager serving `backend` (a store, or a `ServerSide`) with `config`, reading time
/// from `clock`.
pub fn manager(
    backend: impl IntoSessionBackend,
    config: SessionConfig,
    clock: &ManualClock,
) -> SessionManager {
    SessionManager::new(backend, config)
        .unwrap()
        .with_clock(clock.clone())
}

/// The value of a cookie that is set.
pub fn set_value(update: CookieUpdate) -> String {
    match update {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie to be set, got {other:?}"),
    }
}

/// The deadline Redis itself holds for `key` (`PEXPIRETIME`, Redis 7), or `None` when the
/// key has no TTL or does not exist.
pub fn native_deadline(key: &str) -> Option<Timestamp> {
    let mut conn = raw_connection(REDIS_URL);
    let at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(&mut conn).unwrap();
    (at >= 0).then(|| Timestamp::from_unix_millis(at))
}

/// A `RedisStore` whose server is gone: it connects to the shared Redis through a proxy
/// on a port of its own, and the proxy (listener and every forwarded connection) is shut
/// down before the store is returned, so each command meets a closed connection and
/// every re-dial a closed port.
pub async fn broken_store(prefix: &str) -> RedisStore {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let mut forwarding = tokio::task::JoinSet::new();
    let connecting = RedisConfig::new(url).with_prefix(prefix).connect();
    tokio::pin!(connecting);
    let store = loop {
        tokio::select! {
            store = &mut connecting => break store.unwrap(),
            accepted = listener.accept() => {
                let (mut inbound, _) = accepted.unwrap();
                forwarding.spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect("127.0.0.1:6379").await?;
                    tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                });
            }
        }
    };
    drop(listener);
    // Aborts every forwarding task and waits until each has dropped its sockets.
    forwarding.shutdown().await;
    store
}
