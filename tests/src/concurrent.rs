//! Many requests on one session at once, split over two "processes".

use std::sync::Arc;

use session_core::{CookieUpdate, SessionBackend, SessionConfig};

/// Runs `requests` concurrent requests on the session `cookie` names, alternating between
/// `first` and `second` (two processes sharing storage). Each increments `counter` with
/// `update` and, when `insert_own_key` is set, also inserts `key {i}` = `i`. Returns each
/// request's cookie update, in request order; any error fails the check.
pub(crate) async fn increment_concurrently<B: SessionBackend>(
    first: &Arc<B>,
    second: &Arc<B>,
    config: &Arc<SessionConfig>,
    cookie: &str,
    requests: usize,
    insert_own_key: bool,
) -> Vec<CookieUpdate> {
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let backend = Arc::clone(if i % 2 == 0 { first } else { second });
        let (config, cookie) = (Arc::clone(config), cookie.to_owned());
        tasks.push(tokio::spawn(async move {
            let session = backend.load(Some(&cookie), &config).await?;
            session.update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)?;
            if insert_own_key {
                session.insert(format!("key {i}"), i)?;
            }
            backend.save(session.finish(), &config).await
        }));
    }
    let mut updates = Vec::with_capacity(requests);
    for task in tasks {
        updates.push(task.await.unwrap().unwrap());
    }
    updates
}
