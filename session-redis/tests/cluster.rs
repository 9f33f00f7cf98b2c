//! The conformance kit against a real three-node Redis Cluster that this test builds from
//! `/usr/bin/redis-server` and `redis-cli --cluster create` on free ports, and the
//! per-user index there: one principal's sorted set on one node, its sessions on others.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::Commands as _;
use session_conformance::{backend, index, record_store, BackendHarness, StoreHarness};
use session_core::clock::ManualClock;
use session_core::store::ServerSide;
use session_core::SessionConfig;
use session_redis::{RedisConfig, RedisStore};

use crate::common::{finish, manager, open, unique_prefix};

/// A free port whose cluster bus port (the port + 10000, where nodes talk to each other)
/// is free too; a node whose bus port is taken cannot join the cluster.
fn port_with_free_bus_port() -> u16 {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bus_free = port
            .checked_add(10_000)
            .is_some_and(|bus| TcpListener::bind(("127.0.0.1", bus)).is_ok());
        if bus_free {
            return port;
        }
    }
    panic!("found no free port whose cluster bus port (port + 10000) was free too");
}

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
            let port = port_with_free_bus_port();
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
    record_store::principal_index_follows_every_write(&harness).await;

    backend::regenerate_changes_the_cookie_and_keeps_data(&harness).await;
    backend::destroy_removes_the_session(&harness).await;
    backend::concurrent_updates(&harness).await;

    index::per_user_index_matches_the_declaration(&harness).await;
    index::a_principal_lists_its_sessions(&harness).await;
    index::revoke_one_others_and_all(&harness).await;
    index::the_cap_ends_the_least_recently_active(&harness).await;
    index::expired_sessions_leave_the_list(&harness).await;
    index::regeneration_keeps_the_tie(&harness).await;
    index::revocation_reaches_every_process(&harness).await;
    index::racing_logins_and_revocations_lose_nothing(&harness).await;
    drop(cluster);
}

/// The node urls that hold `key` (the others answer `MOVED`, or nothing).
fn nodes_holding(urls: &[String], key: &str) -> Vec<String> {
    urls.iter()
        .filter(|url| {
            let mut conn = common::raw_connection(url);
            redis::cmd("EXISTS")
                .arg(key)
                .query::<i64>(&mut conn)
                .is_ok_and(|n| n == 1)
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_user_index_works_across_cluster_slots() {
    use std::collections::BTreeSet;

    use session_core::clock::{Clock as _, Timestamp};
    use session_core::store::{Record, RecordStore as _, SessionId, StorageKey};

    let cluster = Cluster::start();
    let urls = cluster.urls();
    let harness = ClusterHarness { urls: urls.clone() };
    let store = harness.store().await;
    let now = ManualClock::starting_now().now();
    let tied = |now: Timestamp| {
        let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
        record
            .data
            .insert("_principal".into(), serde_json::json!({ "name": "ada" }));
        record.version = 1;
        record
    };
    let new_key = || StorageKey::hashed(&SessionId::generate().unwrap());

    // Logins racing revokes of everything listed, as in the single-server test; the
    // records land on several nodes, the index on one.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            let key = new_key();
            store.create(&key, &tied(now), now).await.unwrap();
            if i % 3 == 0 {
                store.delete(&key).await.unwrap();
            }
            vec![key]
        });
    }
    for _ in 0..2 {
        let store = store.clone();
        tasks.spawn(async move {
            tokio::task::yield_now().await;
            for (key, _) in store.sessions_of("ada", now).await.unwrap() {
                store.delete(&key).await.unwrap();
            }
            Vec::new()
        });
    }
    let mut created = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        created.extend(joined.unwrap());
    }
    // Renames on a cluster go across slots: the entry must follow.
    let mut live = BTreeSet::new();
    for key in &created {
        if store.load(key, now).await.unwrap().is_some() {
            let renamed = new_key();
            let mut record = tied(now);
            record.version = 2;
            store
                .change_key(key, &renamed, &record, 1, now)
                .await
                .unwrap();
            live.insert(renamed.as_str().to_owned());
        }
    }
    let login = new_key();
    store.create(&login, &tied(now), now).await.unwrap();
    live.insert(login.as_str().to_owned());

    let index = store.principal_key("ada");
    let owners = nodes_holding(&urls, &index);
    assert_eq!(owners.len(), 1, "one principal's index lives on one node");
    let mut conn = common::raw_connection(&owners[0]);
    let members: BTreeSet<String> = conn.zrange(&index, 0, -1).unwrap();
    assert_eq!(
        members, live,
        "the index holds exactly the live records' keys: none lost, none dangling"
    );
    let listed: BTreeSet<String> = store
        .sessions_of("ada", now)
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key.as_str().to_owned())
        .collect();
    assert_eq!(listed, live, "listing loads records from every node");
    let record_nodes: BTreeSet<String> = live
        .iter()
        .flat_map(|key| nodes_holding(&urls, &format!("{}{{{key}}}", store.prefix())))
        .collect();
    assert!(
        live.len() < 4 || record_nodes.len() >= 2,
        "the records spread over the nodes: {record_nodes:?}"
    );

    // Log out everywhere: nothing left, in the records or the index.
    for (key, _) in store.sessions_of("ada", now).await.unwrap() {
        store.delete(&key).await.unwrap();
    }
    assert!(store.sessions_of("ada", now).await.unwrap().is_empty());
    let left: bool = conn.exists(&index).unwrap();
    assert!(!left, "the emptied index is gone");
    drop(cluster);
}
