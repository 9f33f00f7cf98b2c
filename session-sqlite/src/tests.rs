//! The cleanup task's lifetime, which only the crate itself can observe.

use std::time::Duration;

use crate::SqliteStoreOptions;

async fn wait_until_finished(task: &tokio::task::AbortHandle) -> bool {
    // Poll rather than assume how soon the runtime reaps an aborted task; 5 s at most.
    for _ in 0..500 {
        if task.is_finished() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn cleanup_stops_when_the_last_clone_is_dropped() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .connect("sqlite::memory:")
        .await?;
    let task = store.cleanup_task().ok_or("cleanup is on")?;
    let clone = store.clone();
    drop(store);
    // Let the runtime run anything a wrong abort would have scheduled.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!task.is_finished(), "a clone still holds the store");
    drop(clone);
    assert!(
        wait_until_finished(&task).await,
        "dropping the last clone stops the task"
    );
    Ok(())
}

#[tokio::test]
async fn cleanup_stops_on_close_and_can_be_turned_off() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStoreOptions::default()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .connect("sqlite::memory:")
        .await?;
    let task = store.cleanup_task().ok_or("cleanup is on")?;
    store.close().await;
    assert!(wait_until_finished(&task).await, "close stops the task");

    let off = SqliteStoreOptions::default()
        .with_cleanup_interval(None)
        .connect("sqlite::memory:")
        .await?;
    assert!(off.cleanup_task().is_none());
    Ok(())
}

#[test]
fn connect_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let connect = crate::SqliteStore::connect("sqlite::memory:");
    assert_send(&connect);
}
