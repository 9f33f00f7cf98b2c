//! `RedisStore` load and save over loopback against the Redis at 127.0.0.1:6379.
//!
//! Run with: cargo bench -p session-redis --bench redis
//!
//! - `store/load`: one `HMGET` and the JSON decode of a small session.
//! - `store/save`: one compare-and-swap `EVALSHA` (the version advances each time).
//! - `store/touch`: the expiry-only script.
//! - `manager/load+update+save`: a full request through `SessionManager` (load, one
//!   `update`, save), as an adapter runs it.
//!
//! Time comes from a `ManualClock` that stands still, so nothing expires or is refreshed
//! while a bench runs.
//! - `flask/load`, `flask/load+save`: the Flask-Session mode (atomic `GET`+`PTTL`,
//!   msgpack, fingerprint compare-and-swap).

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use session_core::adapter::SessionManager;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore, SessionId, StorageKey};
use session_core::SessionConfig;
use session_redis::RedisConfig;
use tokio::runtime::Runtime;

const URL: &str = "redis://127.0.0.1:6379";
const PREFIX: &str = "bench:session:";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn store_benches(c: &mut Criterion) {
    let rt = runtime();
    let store = rt
        .block_on(RedisConfig::new(URL).with_prefix(PREFIX).connect())
        .unwrap_or_else(|error| panic!("benchmarks need Redis at {URL}: {error}"));
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let key = StorageKey::hashed(&SessionId::generate().unwrap());
    let mut record = SessionConfig::default().new_record(now);
    record.data.insert("user".into(), "ada".into());
    record.data.insert("counter".into(), 41.into());
    record.data.insert(
        "cart".into(),
        serde_json::json!(["apple", "pear", {"qty": 3}]),
    );
    record.version = 1;
    rt.block_on(store.create(&key, &record, now)).unwrap();

    let mut group = c.benchmark_group("store");
    group.bench_function("load", |b| {
        b.to_async(&rt)
            .iter(|| async { store.load(&key, now).await.unwrap().unwrap() });
    });
    let mut version = 1;
    group.bench_function("save", |b| {
        b.iter(|| {
            let mut next = record.clone();
            next.version = version + 1;
            rt.block_on(store.save(&key, &next, version, now)).unwrap();
            version += 1;
        });
    });
    group.bench_function("touch", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .touch(&key, now, now.saturating_add(Duration::from_secs(3600)))
                .await
                .unwrap();
        });
    });
    group.finish();
    rt.block_on(store.delete(&key)).unwrap();

    let manager = SessionManager::new(store, SessionConfig::default())
        .unwrap()
        .with_clock(clock);
    let cookie = rt.block_on(async {
        let request = manager.request(None);
        request
            .session()
            .await
            .unwrap()
            .insert("counter", 0)
            .unwrap();
        let plan = request.finish().await.unwrap().unwrap();
        plan.cookie_value().unwrap().to_owned()
    });
    c.bench_function("manager/load+update+save", |b| {
        b.to_async(&rt).iter(|| async {
            let request = manager.request(Some(&cookie));
            let session = request.session().await.unwrap();
            session
                .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
                .unwrap();
            request.finish().await.unwrap()
        });
    });
    rt.block_on(async {
        let request = manager.request(Some(&cookie));
        request.session().await.unwrap().destroy();
        request.finish().await.unwrap();
    });
}

fn flask_benches(c: &mut Criterion) {
    let rt = runtime();
    let clock = ManualClock::starting_now();
    let now = clock.now();
    let config = SessionConfig::default();
    let store = rt
        .block_on(
            RedisConfig::new(URL)
                .with_prefix(PREFIX)
                .connect_flask_session(&config),
        )
        .unwrap();
    let manager = SessionManager::new(store.clone(), config)
        .unwrap()
        .with_clock(clock);
    let sid = rt.block_on(async {
        let request = manager.request(None);
        let session = request.session().await.unwrap();
        session.insert("user", "ada").unwrap();
        session.insert("counter", 0).unwrap();
        let plan = request.finish().await.unwrap().unwrap();
        plan.cookie_value().unwrap().to_owned()
    });
    let key = StorageKey::raw_for_flask_session_compat(&SessionId::parse(&sid).unwrap());

    let mut group = c.benchmark_group("flask");
    group.bench_function("load", |b| {
        b.to_async(&rt)
            .iter(|| async { store.load(&key, now).await.unwrap().unwrap() });
    });
    group.bench_function("load+save", |b| {
        b.to_async(&rt).iter(|| async {
            let mut record = store.load(&key, now).await.unwrap().unwrap();
            let expected = record.version;
            record
                .data
                .insert("counter".into(), (expected % 1000).into());
            store.save(&key, &record, expected, now).await.unwrap();
        });
    });
    group.finish();
    rt.block_on(store.delete(&key)).unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3));
    targets = store_benches, flask_benches
}
criterion_main!(benches);
