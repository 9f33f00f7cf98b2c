//! Micro-benchmarks of the per-request work in `session-core`: ids, storage keys, the
//! session handle, and a manager's load + save over `ServerSide<MemoryStore>`.
//!
//! Run with: `cargo bench -p session-bench --bench micro`
//!
//! Cookie signing, the Flask codec and SQLite/Redis round trips have their benches in
//! their own crates.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use session_core::adapter::SessionManager;
use session_core::store::{MemoryStore, SessionId, StorageKey};
use session_core::{Session, SessionConfig};

fn ids(c: &mut Criterion) {
    c.bench_function("SessionId::generate", |b| {
        b.iter(|| SessionId::generate().unwrap());
    });
    let id = SessionId::generate().unwrap();
    c.bench_function("StorageKey::hashed", |b| {
        b.iter(|| StorageKey::hashed(black_box(&id)));
    });
}

fn logged_in() -> Session {
    let session = Session::default();
    session.insert("username", "ada").unwrap();
    session.insert("counter", 41_u64).unwrap();
    session
}

fn session_handle(c: &mut Criterion) {
    let mut group = c.benchmark_group("Session");
    group.bench_function("insert", |b| {
        b.iter_batched(
            Session::default,
            |session| session.insert("username", black_box("ada")).unwrap(),
            BatchSize::SmallInput,
        );
    });
    let session = logged_in();
    group.bench_function("get", |b| {
        b.iter(|| session.get::<String>(black_box("username")).unwrap());
    });
    group.bench_function("update", |b| {
        b.iter_batched(
            logged_in,
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
    let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default()).unwrap();
    let cookie = runtime.block_on(async {
        let request = manager.request(None);
        request
            .session()
            .await
            .unwrap()
            .insert("username", "ada")
            .unwrap();
        let plan = request.finish().await.unwrap().unwrap();
        plan.cookie_value().unwrap().to_owned()
    });
    let mut group = c.benchmark_group("SessionManager<ServerSide<MemoryStore>>");
    group.bench_function("load+get+save", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = manager.request(Some(&cookie));
            let session = request.session().await.unwrap();
            black_box(session.get::<String>("username").unwrap());
            request.finish().await.unwrap()
        });
    });
    group.bench_function("load+update+save", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = manager.request(Some(&cookie));
            let session = request.session().await.unwrap();
            session
                .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
                .unwrap();
            request.finish().await.unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, ids, session_handle, server_side);
criterion_main!(benches);
