//! Run with: cargo bench -p session-sqlite -- --warm-up-time 1 --measurement-time 3
//!
//! Latency of one load, save and conflicting save on a file with 10 000 sessions, then
//! throughput with 32 concurrent tasks, and (with `--bench`) the process CPU time one
//! load and one save cost, which is what bounds a server's request rate.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, Criterion};
use session_core::adapter::SessionManager;
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, ServerSide, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;
use session_sqlite::SqliteStore;

const SEEDED: usize = 10_000;
const TASKS: u64 = 32;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    manager: SessionManager,
    cookie: String,
    key: StorageKey,
    record: Record,
    /// Stands still: every operation runs at one instant, so nothing expires or is
    /// refreshed while the bench runs.
    now: Timestamp,
}

fn record(now: Timestamp) -> Record {
    let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
    record.data.insert("username".into(), "ada lovelace".into());
    record
        .data
        .insert("csrf".into(), "0123456789abcdef0123456789abcdef".into());
    record.data.insert("counter".into(), 41.into());
    record.version = 1;
    record
}

fn fixture(rt: &tokio::runtime::Runtime) -> Fixture {
    let clock = ManualClock::starting_now();
    let now = clock.now();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = Arc::new(SqliteStore::connect(&url).await.unwrap());
        for _ in 0..SEEDED {
            let key = StorageKey::hashed(&SessionId::generate().unwrap());
            store.create(&key, &record(now), now).await.unwrap();
        }
        let backend = ServerSide::from_arc(Arc::clone(&store));
        let manager = SessionManager::new(backend, SessionConfig::default())
            .unwrap()
            .with_clock(clock);
        let request = manager.request(None);
        let session = request.session().await.unwrap();
        for (key, value) in record(now).data {
            session.insert(key, value).unwrap();
        }
        let plan = request.finish().await.unwrap().unwrap();
        let cookie = plan.cookie_value().unwrap().to_owned();
        let key = StorageKey::hashed(&SessionId::generate().unwrap());
        store.create(&key, &record(now), now).await.unwrap();
        Fixture {
            _dir: dir,
            store,
            manager,
            cookie,
            key,
            record: record(now),
            now,
        }
    })
}

fn latency(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = fixture(&rt);
    let now = f.now;
    let missing = StorageKey::hashed(&SessionId::generate().unwrap());

    let mut group = c.benchmark_group("latency");
    group.bench_function("load (RecordStore)", |b| {
        b.to_async(&rt)
            .iter(|| async { f.store.load(&f.key, now).await.unwrap().unwrap() })
    });
    group.bench_function("load miss (RecordStore)", |b| {
        b.to_async(&rt)
            .iter(|| async { assert!(f.store.load(&missing, now).await.unwrap().is_none()) })
    });
    group.bench_function("load (SessionManager, cookie to Session)", |b| {
        b.to_async(&rt).iter(|| async {
            let request = f.manager.request(Some(&f.cookie));
            let session = request.session().await.unwrap();
            assert!(!session.is_empty());
        })
    });
    let version = AtomicU64::new(f.record.version);
    group.bench_function("save (compare-and-swap succeeds)", |b| {
        b.to_async(&rt).iter(|| async {
            let current = version.fetch_add(1, Ordering::Relaxed);
            let mut record = f.record.clone();
            record.version = current + 1;
            f.store.save(&f.key, &record, current, now).await.unwrap();
        })
    });
    group.bench_function("save (stale version, conflict)", |b| {
        b.to_async(&rt).iter(|| async {
            let result = f.store.save(&f.key, &f.record, 0, now).await;
            assert!(matches!(result, Err(StoreError::Conflict)));
        })
    });
    group.bench_function("touch", |b| {
        b.to_async(&rt).iter(|| async {
            f.store
                .touch(&f.key, now, now.saturating_add(Duration::from_secs(3600)))
                .await
                .unwrap();
        })
    });
    let f = &f;
    group.bench_function("create + delete", |b| {
        b.to_async(&rt).iter_batched(
            || StorageKey::hashed(&SessionId::generate().unwrap()),
            |key| async move {
                f.store.create(&key, &f.record, now).await.unwrap();
                f.store.delete(&key).await.unwrap();
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// `TASKS` tasks share `iters` operations; the time per operation is the inverse of
/// throughput on this machine.
async fn spread<F, Fut>(iters: u64, op: F) -> Duration
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let op = Arc::clone(&op);
            let n = iters / TASKS + u64::from(t < iters % TASKS);
            tokio::spawn(async move {
                for _ in 0..n {
                    op().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    start.elapsed()
}

fn throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let f = fixture(&rt);
    let now = f.now;
    let mut group = c.benchmark_group("32 tasks, 1 runtime thread");
    let (store, key) = (Arc::clone(&f.store), f.key.clone());
    group.bench_function("load", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (store, key) = (Arc::clone(&store), key.clone());
            async move {
                spread(iters, move || {
                    let (store, key) = (Arc::clone(&store), key.clone());
                    async move {
                        store.load(&key, now).await.unwrap();
                    }
                })
                .await
            }
        })
    });
    let (manager, cookie) = (f.manager.clone(), f.cookie.clone());
    group.bench_function("increment one session (SessionManager)", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (manager, cookie) = (manager.clone(), cookie.clone());
            async move { spread(iters, move || increment(manager.clone(), cookie.clone())).await }
        })
    });
    group.finish();
}

/// One request as an adapter runs it: load, one `update`, save.
async fn increment(manager: SessionManager, cookie: String) {
    let request = manager.request(Some(&cookie));
    let session = request.session().await.unwrap();
    session
        .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
        .unwrap();
    request.finish().await.unwrap();
}

/// User + system CPU time so far of this process's threads, by kind: the tokio runtime
/// threads and sqlx's SQLite worker threads (Linux /proc; empty elsewhere).
fn thread_cpu() -> BTreeMap<&'static str, Duration> {
    let mut by_kind = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_kind;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let kind = match head.split_once(" (").map(|(_, name)| name) {
            Some(name) if name.starts_with("sqlx") => "sqlx-sqlite workers",
            Some(name) if name.starts_with("tokio") => "tokio runtime",
            _ => "other",
        };
        // utime and stime are the 12th and 13th fields after the command name, in
        // USER_HZ (100 per second on Linux).
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
            .sum();
        *by_kind.entry(kind).or_insert(Duration::ZERO) += Duration::from_millis(ticks * 10);
    }
    by_kind
}

/// CPU time per operation (runtime thread, sqlx workers, total) and throughput with 32
/// tasks on one runtime thread: what bounds a one-worker server's request rate.
fn cpu_report() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let f = fixture(&rt);
    let now = f.now;
    const OPS: u64 = 200_000;
    let (store, key) = (Arc::clone(&f.store), f.key.clone());
    let measure = |name: &str, run: &dyn Fn() -> Duration| {
        let before = thread_cpu();
        let wall = run();
        let after = thread_cpu();
        let per_op = |d: Duration| d.as_secs_f64() * 1e6 / OPS as f64;
        let mut total = Duration::ZERO;
        let mut parts = Vec::new();
        for (kind, cpu) in &after {
            let spent = cpu.saturating_sub(before.get(kind).copied().unwrap_or_default());
            total += spent;
            parts.push(format!("{kind} {:.1}", per_op(spent)));
        }
        eprintln!(
            "cpu report: {name}: {:.1} µs CPU/op ({}), {:.0} ops/s",
            per_op(total),
            parts.join(", "),
            OPS as f64 / wall.as_secs_f64()
        );
    };
    measure("load, 32 tasks", &|| {
        let (store, key) = (Arc::clone(&store), key.clone());
        rt.block_on(spread(OPS, move || {
            let (store, key) = (Arc::clone(&store), key.clone());
            async move {
                store.load(&key, now).await.unwrap();
            }
        }))
    });
    let (manager, cookie) = (f.manager.clone(), f.cookie.clone());
    measure("SessionManager increment of one session, 32 tasks", &|| {
        let (manager, cookie) = (manager.clone(), cookie.clone());
        rt.block_on(spread(OPS, move || {
            increment(manager.clone(), cookie.clone())
        }))
    });
}

criterion_group!(benches, latency, throughput);

fn main() {
    benches();
    if std::env::args().any(|arg| arg == "--bench") {
        cpu_report();
    }
    Criterion::default().configure_from_args().final_summary();
}
