//! Many requests on one session at once, split over two "processes".

use session_core::adapter::SessionManager;
use session_core::backend::CookieUpdate;
use session_core::SessionError;

/// Runs `requests` concurrent requests on the session `cookie` names, alternating between
/// `first` and `second` (managers of two processes sharing storage). Each increments
/// `counter` with `update` and, when `insert_own_key` is set, also inserts `key {i}` = `i`.
/// Returns each request's cookie update, in request order; any error fails the check.
pub(crate) async fn increment_concurrently(
    first: &SessionManager,
    second: &SessionManager,
    cookie: &str,
    requests: usize,
    insert_own_key: bool,
) -> Vec<CookieUpdate> {
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let manager = if i % 2 == 0 { first } else { second }.clone();
        let cookie = cookie.to_owned();
        tasks.push(tokio::spawn(async move {
            let request = manager.request(Some(&cookie));
            let session = request.session().await?;
            session.update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)?;
            if insert_own_key {
                session.insert(format!("key {i}"), i)?;
            }
            let plan = request.finish().await?;
            Ok::<_, SessionError>(plan.map(|plan| plan.cookie))
        }));
    }
    let mut updates = Vec::with_capacity(requests);
    for (i, task) in tasks.into_iter().enumerate() {
        let update = task
            .await
            .unwrap()
            .unwrap_or_else(|error| panic!("concurrent request {i} failed: {error}"));
        updates.push(update.expect("a loaded session has a response plan"));
    }
    updates
}

/// Runs `requests` concurrent requests on the session `cookie` names, alternating between
/// `first` and `second`, each incrementing `counter` with `update_committed`. Returns what
/// each answered, in request order; any error fails the check.
pub(crate) async fn increment_committed_concurrently(
    first: &SessionManager,
    second: &SessionManager,
    cookie: &str,
    requests: usize,
) -> Vec<u64> {
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let manager = if i % 2 == 0 { first } else { second }.clone();
        let cookie = cookie.to_owned();
        tasks.push(tokio::spawn(async move {
            let request = manager.request(Some(&cookie));
            let session = request.session().await?;
            let answer = session
                .update_committed("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
                .await?;
            drop(session);
            request.finish().await?;
            Ok::<_, SessionError>(answer)
        }));
    }
    let mut answers = Vec::with_capacity(requests);
    for (i, task) in tasks.into_iter().enumerate() {
        answers.push(
            task.await
                .unwrap()
                .unwrap_or_else(|error| panic!("concurrent request {i} failed: {error}")),
        );
    }
    answers
}
