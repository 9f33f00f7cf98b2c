//! Micro-benchmarks of the per-request work in `session-core`: ids, storage keys, the
//! session handle, and `ServerSide<MemoryStore>` load + save.
//!
//! Run with: `cargo bench -p session-bench --bench micro`
//!
//! Cookie signing, the Flask codec and SQLite/Redis round trips have their benches in
//! their own crates.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use session_core::{
    CookieUpdate, MemoryStore, ServerSide, Session, SessionBackend, SessionConfig, SessionId,
    StorageKey, Timestamp,
};

fn ids(c: &mut Criterion) {
    c.bench_function("SessionId::generate", |b| {
        b.iter(|| SessionId::generate().unwrap());
    });
    let id = SessionId::generate().unwrap();
    c.bench_function("StorageKey::hashed", |b| {
        b.iter(|| StorageKey::hashed(black_box(&id)));
    });
}

fn logged_in(config: &SessionConfig) -> Session {
    let session = Session::anonymous(config.new_record(Timestamp::now()));
    session.insert("username", "ada").unwrap();
    session.insert("counter", 41_u64).unwrap();
    session
}

fn session_handle(c: &mut Criterion) {
    let config = SessionConfig::default();
    let mut group = c.benchmark_group("Session");
    group.bench_function("insert", |b| {
        b.iter_batched(
            || Session::anonymous(config.new_record(Timestamp::now())),
            |session| session.insert("username", black_box("ada")).unwrap(),
            BatchSize::SmallInput,
        );
    });
    let session = logged_in(&config);
    group.bench_function("get", |b| {
        b.iter(|| session.get::<String>(black_box("username")).unwrap());
    });
    group.bench_function("update", |b| {
        b.iter_batched(
            || logged_in(&config),
            |session| {
                session
                    .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
                    .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn server_side(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let config = SessionConfig::default();
    let backend = ServerSide::new(MemoryStore::default());
    let cookie = runtime.block_on(async {
        let session = backend.load(None, &config).await.unwrap();
        session.insert("username", "ada").unwrap();
        match backend.save(session.finish(), &config).await.unwrap() {
            CookieUpdate::Set { value, .. } => value,
            other => panic!("a new session sets a cookie, got {other:?}"),
        }
    });
    let mut group = c.benchmark_group("ServerSide<MemoryStore>");
    group.bench_function("load+get+save", |b| {
        b.to_async(&runtime).iter(|| async {
            let session = backend.load(Some(&cookie), &config).await.unwrap();
            black_box(session.get::<String>("username").unwrap());
            backend.save(session.finish(), &config).await.unwrap()
        });
    });
    group.bench_function("load+update+save", |b| {
        b.to_async(&runtime).iter(|| async {
            let session = backend.load(Some(&cookie), &config).await.unwrap();
            session
                .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
                .unwrap();
            backend.save(session.finish(), &config).await.unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, ids, session_handle, server_side);
criterion_main!(benches);
