//! The cleanup task's lifetime, which only the crate itself can observe.

use std::time::Duration;

use crate::FileStore;

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
async fn cleanup_stops_when_the_last_clone_is_dropped_or_closed(
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = FileStore::options()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .open(dir.path())
        .await?;
    let task = store.cleanup_task().ok_or("cleanup is on")?;
    let clone = store.clone();
    drop(store);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!task.is_finished(), "a clone still holds the store");
    drop(clone);
    assert!(
        wait_until_finished(&task).await,
        "dropping the last clone stops it"
    );

    let store = FileStore::options()
        .with_cleanup_interval(Some(Duration::from_millis(10)))
        .open(dir.path())
        .await?;
    let task = store.cleanup_task().ok_or("cleanup is on")?;
    store.close();
    assert!(wait_until_finished(&task).await, "close stops it");
    let off = FileStore::options()
        .with_cleanup_interval(None)
        .open(dir.path())
        .await?;
    assert!(off.cleanup_task().is_none());
    Ok(())
}

#[test]
fn open_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&FileStore::open("unused"));
}
