//! Many requests on one session at once, split over two "processes".

use std::future::Future;

use session_core::adapter::SessionManager;
use session_core::backend::CookieUpdate;
use session_core::{Session, SessionError};

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
    let done = on_both(
        first,
        second,
        cookie,
        requests,
        move |i, session| async move {
            session.update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)?;
            if insert_own_key {
                session.insert(format!("key {i}"), i)?;
            }
            Ok(())
        },
    );
    done.await.into_iter().map(|((), update)| update).collect()
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
    let done = on_both(first, second, cookie, requests, |_, session| async move {
        session
            .update_committed("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
            .await
    });
    done.await.into_iter().map(|(answer, _)| answer).collect()
}

/// Runs `requests` requests at once on the session `cookie` names, alternating between
/// `first` and `second`: each opens the session, hands it to `body` (with its index) and
/// finishes. Returns each one's answer and cookie update, in request order.
async fn on_both<T, F, Fut>(
    first: &SessionManager,
    second: &SessionManager,
    cookie: &str,
    requests: usize,
    body: F,
) -> Vec<(T, CookieUpdate)>
where
    T: Send + 'static,
    F: Fn(usize, Session) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, SessionError>> + Send,
{
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let manager = if i % 2 == 0 { first } else { second }.clone();
        let (cookie, body) = (cookie.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let request = manager.request(Some(&cookie));
            let session = request.session().await?;
            let answer = body(i, session).await?;
            let plan = request.finish().await?;
            Ok::<_, SessionError>((answer, plan.map(|plan| plan.cookie)))
        }));
    }
    let mut done = Vec::with_capacity(requests);
    for (i, task) in tasks.into_iter().enumerate() {
        let (answer, update) = task
            .await
            .unwrap()
            .unwrap_or_else(|error| panic!("concurrent request {i} failed: {error}"));
        done.push((
            answer,
            update.expect("a loaded session has a response plan"),
        ));
    }
    done
}
