//! Three stores on one file in one process: three connections' worth of SQLite lock
//! contention on a single session, quicker to run than separate processes.

mod common;

use session_core::clock::ManualClock;
use session_sqlite::{SqliteStore, SqliteStoreOptions};

const STORES: usize = 3;
const TASKS: usize = 8;
const PER_TASK: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_increment_counts_when_stores_compete_for_one_session() {
    let clock = ManualClock::starting_now();
    let (_dir, path, store) = common::temp_store(SqliteStoreOptions::default()).await;
    let first = common::manager(store, &clock);
    let cookie = common::new_counter(&first).await;

    let mut tasks = Vec::new();
    for _ in 0..STORES {
        let store = SqliteStore::connect(&common::url(&path))
            .await
            .expect("the file opens again");
        // Each store has its own manager, so its own per-session locks: only SQLite and
        // compare-and-swap keep the three apart.
        let manager = common::manager(store, &clock);
        for _ in 0..TASKS {
            let (manager, cookie) = (manager.clone(), cookie.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..PER_TASK {
                    common::increment(&manager, &cookie).await?;
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

    let counter = common::read(&first, &cookie, "counter")
        .await
        .expect("read");
    assert_eq!(
        counter,
        Some((STORES * TASKS * PER_TASK).into()),
        "increments were lost"
    );
}
