//! The server without sessions: the ceiling every other variant is measured against.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;

use super::USER;

/// The routes with no session machinery: the counter is one process-wide atomic.
pub(super) fn router() -> Router {
    Router::new()
        .route("/login", post(|| async { "ok" }))
        .route("/show", get(|| async { USER }))
        .route("/counter", post(increment).get(read))
        // Nothing to end: the workloads that log out still get the same answer.
        .route("/logout", post(|| async { "ok" }))
        .with_state(Arc::new(AtomicU64::new(0)))
}

async fn increment(State(counter): State<Arc<AtomicU64>>) -> String {
    (counter.fetch_add(1, Ordering::Relaxed) + 1).to_string()
}

async fn read(State(counter): State<Arc<AtomicU64>>) -> String {
    counter.load(Ordering::Relaxed).to_string()
}
