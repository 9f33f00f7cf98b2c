//! Three stores on one file in one process: three connections' worth of SQLite lock
//! contention on a single session, quicker to run than separate processes.

mod common;

use std::sync::Arc;

use session_core::{CookieUpdate, ServerSide, SessionBackend, SessionConfig};
use session_sqlite::{SqliteStore, SqliteStoreOptions};

const STORES: usize = 3;
const TASKS: usize = 8;
const PER_TASK: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_increment_counts_when_stores_compete_for_one_session() {
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let config = Arc::new(SessionConfig::default());
    let first = ServerSide::new(store);
    let session = first.load(None, &config).await.expect("load");
    session.insert("counter", 0).expect("insert");
    let CookieUpdate::Set { value: cookie, .. } =
        first.save(session.finish(), &config).await.expect("save")
    else {
        panic!("a new session sets a cookie");
    };

    let mut tasks = Vec::new();
    for _ in 0..STORES {
        let store = SqliteStore::connect(&common::url(&path))
            .await
            .expect("the file opens again");
        let backend = Arc::new(ServerSide::new(store));
        for _ in 0..TASKS {
            let (backend, config, cookie) =
                (Arc::clone(&backend), Arc::clone(&config), cookie.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..PER_TASK {
                    let session = backend.load(Some(&cookie), &config).await?;
                    session.update("counter", |n: Option<usize>| n.unwrap_or(0) + 1)?;
                    backend.save(session.finish(), &config).await?;
                }
                Ok::<_, session_core::SessionError>(())
            }));
        }
    }
    for task in tasks {
        task.await
            .expect("join")
            .expect("every increment is saved, none gives up");
    }

    let session = first.load(Some(&cookie), &config).await.expect("load");
    let counter = session.get::<usize>("counter").expect("counter");
    assert_eq!(
        counter,
        Some(STORES * TASKS * PER_TASK),
        "increments were lost"
    );
}
