//! The conformance kit against a real three-node Redis Cluster that this test builds from
//! `/usr/bin/redis-server` and `redis-cli --cluster create` on free ports.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::Commands as _;
use session_conformance::{backend, record_store, BackendHarness, StoreHarness};
use session_core::clock::ManualClock;
use session_core::store::ServerSide;
use session_core::SessionConfig;
use session_redis::{RedisConfig, RedisStore};

use crate::common::{finish, manager, open, unique_prefix};

/// Three cluster-enabled redis-server children, killed when dropped.
struct Cluster {
    nodes: Vec<(u16, Child)>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new("/usr/bin/redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| {
                    panic!("cannot run /usr/bin/redis-server ({error}): run scripts/test.sh")
                });
            nodes.push((port, child));
        }
        let cluster = Self { nodes, _dir: dir };
        for url in cluster.urls() {
            wait_for(&format!("{url} to answer"), || ping(&url));
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|(port, _)| format!("127.0.0.1:{port}"))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(created.success(), "redis-cli --cluster create failed");
        for url in cluster.urls() {
            wait_for(&format!("{url} to join the cluster"), || cluster_ok(&url));
        }
        cluster
    }

    fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|(port, _)| format!("redis://127.0.0.1:{port}"))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.nodes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ping(url: &str) -> bool {
    redis::Client::open(url)
        .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut conn| redis::cmd("PING").query::<String>(&mut conn))
        .is_ok()
}

fn cluster_ok(url: &str) -> bool {
    redis::Client::open(url)
        .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut conn| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut conn))
        .is_ok_and(|info| info.contains("cluster_state:ok"))
}

/// Bounded in count and time.
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for _ in 0..400 {
        if ready() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("gave up waiting for {what}");
}

struct ClusterHarness {
    urls: Vec<String>,
}

impl ClusterHarness {
    async fn connect(&self, prefix: &str) -> RedisStore {
        RedisConfig::cluster(self.urls.clone())
            .with_prefix(prefix)
            .connect()
            .await
            .unwrap()
    }
}

#[async_trait]
impl StoreHarness for ClusterHarness {
    type Store = RedisStore;

    async fn store(&self) -> RedisStore {
        self.connect(&unique_prefix("cluster")).await
    }

    /// Every node's keys under the store's prefix (SCAN is per node in a cluster).
    async fn dump(&self, store: &RedisStore) -> Vec<u8> {
        self.urls
            .iter()
            .flat_map(|url| common::dump(url, store.prefix()))
            .collect()
    }

    fn expires_natively(&self) -> bool {
        true
    }

    /// The key's `PEXPIRETIME` on the node that owns it (the others answer `MOVED`).
    async fn native_deadline(
        &self,
        store: &RedisStore,
        key: &session_core::store::StorageKey,
    ) -> Option<session_core::clock::Timestamp> {
        let key = store.redis_key(key);
        self.urls.iter().find_map(|url| {
            let mut conn = common::raw_connection(url);
            let at: i64 = redis::cmd("PEXPIRETIME").arg(&key).query(&mut conn).ok()?;
            (at >= 0).then(|| session_core::clock::Timestamp::from_unix_millis(at))
        })
    }
}

#[async_trait]
impl BackendHarness for ClusterHarness {
    type Backend = ServerSide<RedisStore>;

    async fn backend(&self) -> Self::Backend {
        ServerSide::new(self.connect(&unique_prefix("cluster")).await)
    }

    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        ServerSide::new(self.connect(first.store().prefix()).await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_conformance_kit_passes_on_a_cluster() {
    let cluster = Cluster::start();
    let harness = ClusterHarness {
        urls: cluster.urls(),
    };

    // Sessions spread over the nodes: their keys' hash tags differ.
    let store = harness.store().await;
    let mut nodes_used = 0;
    let manager = manager(
        store.clone(),
        SessionConfig::default(),
        &ManualClock::starting_now(),
    );
    for i in 0..30 {
        let (request, session) = open(&manager, None).await.unwrap();
        session.insert("i", i).unwrap();
        finish(&request).await.unwrap();
    }
    for url in cluster.urls() {
        let mut conn = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        let keys: Vec<String> = conn
            .scan_match::<_, String>(format!("{}*", store.prefix()))
            .unwrap()
            .collect();
        nodes_used += usize::from(!keys.is_empty());
    }
    assert!(
        nodes_used >= 2,
        "30 sessions should land on more than one node, used {nodes_used}"
    );

    record_store::round_trip_every_json_type(&harness).await;
    record_store::missing_key_loads_none(&harness).await;
    record_store::create_refuses_a_colliding_key(&harness).await;
    record_store::compare_and_swap_refuses_stale_versions(&harness).await;
    record_store::save_of_a_missing_record_is_a_conflict(&harness).await;
    record_store::change_key_is_atomic(&harness).await;
    record_store::delete_removes_the_record(&harness).await;
    record_store::touch_extends_expiry_without_rewriting_data(&harness).await;
    record_store::expired_records_are_never_returned(&harness).await;
    record_store::delete_expired_removes_exactly_the_expired(&harness).await;
    record_store::ids_are_stored_hashed(&harness).await;
    record_store::concurrent_updates_all_survive(&harness).await;
    record_store::store_errors_surface_as_errors(&harness).await;

    backend::regenerate_changes_the_cookie_and_keeps_data(&harness).await;
    backend::destroy_removes_the_session(&harness).await;
    backend::concurrent_updates(&harness).await;
    drop(cluster);
}
