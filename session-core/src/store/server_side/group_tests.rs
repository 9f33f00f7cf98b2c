//! Group commit ([`super::group_commit`]) against a store whose writes wait at a gate the
//! test opens, so which requests share a write is decided by the test, not by timing.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::test_store::Hooked;
use super::*;
use crate::adapter::SessionManager;
use crate::clock::{Clock as _, ManualClock};
use crate::store::MemoryStore;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Loads counted, saves waiting at a gate the test opens.
type Gated = Hooked<fn() -> Option<StoreError>>;

fn never_fails() -> Option<StoreError> {
    None
}

struct Setup {
    manager: SessionManager,
    store: Arc<Gated>,
    clock: ManualClock,
    cookie: String,
}

/// A session holding `counter = 0`, stored through a gated store.
async fn setup() -> Result<Setup, Box<dyn std::error::Error>> {
    let store: Arc<Gated> =
        Arc::new(Hooked::on(MemoryStore::default(), never_fails as fn() -> _).gated());
    let clock = ManualClock::starting_now();
    let manager = SessionManager::new(
        ServerSide::from_arc(Arc::clone(&store)),
        SessionConfig::default(),
    )?
    .with_clock(clock.clone());
    let create = manager.request(None);
    create.session().await?.insert("counter", 0)?;
    let cookie = create
        .finish()
        .await?
        .and_then(|plan| plan.cookie_value().map(str::to_owned))
        .ok_or("stored")?;
    Ok(Setup {
        manager,
        store,
        clock,
        cookie,
    })
}

/// A request incrementing the counter and answering the value it committed, in a task.
fn increment(setup: &Setup) -> tokio::task::JoinHandle<Result<u64, SessionError>> {
    let request = setup.manager.request(Some(&setup.cookie));
    tokio::spawn(async move {
        let session = request.session().await?;
        let n = session
            .update_committed("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
            .await?;
        drop(session);
        request.finish().await?;
        Ok(n)
    })
}

/// Lets every task run until it waits (the test runtime has one thread, run in order).
async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

/// Another process's write, past the gate: the next version, with `counter` set if given.
async fn write_elsewhere(setup: &Setup, counter: Option<u64>) -> TestResult {
    let key = StorageKey::hashed(&SessionId::parse(&setup.cookie)?);
    let now = setup.clock.now();
    let mut record = setup.store.inner.load(&key, now).await?.ok_or("stored")?;
    if let Some(n) = counter {
        record.data.insert("counter".into(), serde_json::json!(n));
    }
    record.version += 1;
    let expected = record.version - 1;
    setup.store.inner.save(&key, &record, expected, now).await?;
    Ok(())
}

async fn counter(setup: &Setup) -> Result<Option<u64>, Box<dyn std::error::Error>> {
    let key = StorageKey::hashed(&SessionId::parse(&setup.cookie)?);
    let record = setup.store.inner.load(&key, setup.clock.now()).await?;
    Ok(record.and_then(|record| record.data.get("counter").and_then(|n| n.as_u64())))
}

#[tokio::test]
async fn writes_queued_behind_one_in_flight_are_stored_together() -> TestResult {
    let setup = setup().await?;
    let requests: Vec<_> = (0..6).map(|_| increment(&setup)).collect();
    settle().await;
    // The first writer was alone when it saved, so it holds the session through its
    // write; the other five wait for the lock.
    assert_eq!(setup.store.saves.load(Ordering::SeqCst), 1);
    setup.store.open_gate(1);
    settle().await;
    // The second writer had company: it queued its write and let the others in, each
    // building on the view before it; their four writes wait behind its one.
    assert_eq!(setup.store.saves.load(Ordering::SeqCst), 2);
    setup.store.open_gate(1);
    settle().await;
    assert_eq!(
        setup.store.saves.load(Ordering::SeqCst),
        3,
        "one write for four"
    );
    setup.store.open_gate(1);
    settle().await;
    assert!(
        requests.iter().all(|request| request.is_finished()),
        "three writes did it all"
    );
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await??);
    }
    // Each request answers its own committed value, and nothing was lost.
    assert_eq!(answers, [1, 2, 3, 4, 5, 6]);
    assert_eq!(counter(&setup).await?, Some(6));
    assert_eq!(setup.store.saves.load(Ordering::SeqCst), 3);
    Ok(())
}

#[tokio::test]
async fn a_group_write_that_loses_to_another_process_replays_every_member() -> TestResult {
    let setup = setup().await?;
    let requests: Vec<_> = (0..4).map(|_| increment(&setup)).collect();
    settle().await;
    setup.store.open_gate(1);
    settle().await;
    // The second writer's group write waits at the gate, two views queued behind it.
    // Another process writes meanwhile.
    assert_eq!(counter(&setup).await?, Some(1));
    write_elsewhere(&setup, Some(101)).await?;
    // The group write fails its compare-and-swap; each of its members reloads and
    // replays its own increment, one write each.
    setup.store.open_gate(16);
    settle().await;
    assert!(requests.iter().all(|request| request.is_finished()));
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await??);
    }
    answers.sort_unstable();
    assert_eq!(answers, [1, 102, 103, 104]);
    assert_eq!(counter(&setup).await?, Some(104));
    Ok(())
}

/// A request reading the counter, in a task.
fn read(setup: &Setup) -> tokio::task::JoinHandle<Result<Option<u64>, SessionError>> {
    let request = setup.manager.request(Some(&setup.cookie));
    tokio::spawn(async move {
        let session = request.session().await?;
        let n = session.get::<u64>("counter")?;
        drop(session);
        request.finish().await?;
        Ok(n)
    })
}

#[tokio::test]
async fn a_reader_of_a_queued_view_answers_once_it_is_stored_and_never_if_it_is_not() -> TestResult
{
    let setup = setup().await?;
    // A writer alone, then a second writer with a reader behind it.
    let first = increment(&setup);
    settle().await;
    let second = increment(&setup);
    let reader = read(&setup);
    settle().await;
    setup.store.open_gate(1);
    settle().await;
    // The second writer's view (2) is queued, not stored: the reader, built on it, waits.
    assert!(!reader.is_finished());
    setup.store.open_gate(1);
    settle().await;
    assert!(reader.is_finished() && second.is_finished());
    assert_eq!(reader.await??, Some(2));
    assert_eq!((first.await??, second.await??), (1, 2));

    // The same, but the queued view is never stored: the reader fails instead of
    // answering with it.
    let third = increment(&setup);
    settle().await;
    let fourth = increment(&setup);
    let reader = read(&setup);
    settle().await;
    setup.store.open_gate(1);
    settle().await;
    write_elsewhere(&setup, None).await?;
    setup.store.open_gate(16);
    settle().await;
    assert!(reader.is_finished() && fourth.is_finished());
    assert!(matches!(
        reader.await?,
        Err(SessionError::Conflict { attempts: 1 })
    ));
    let mut answers = [third.await??, fourth.await??];
    answers.sort_unstable();
    assert_eq!(answers, [3, 4], "the writers replayed: nothing lost");
    assert_eq!(counter(&setup).await?, Some(4));
    Ok(())
}

#[tokio::test]
async fn a_view_queued_behind_a_slow_write_is_taken_however_old() -> TestResult {
    let setup = setup().await?;
    let first = increment(&setup);
    settle().await;
    let (second, third) = (increment(&setup), increment(&setup));
    settle().await;
    setup.store.open_gate(1);
    settle().await;
    // The second writer's write is in flight, the third's view queued behind it; the store
    // is slow, and a fourth request arrives later than the hand-off window.
    setup.clock.advance(locks::HANDOFF_WINDOW * 2);
    let loads = setup.store.loads.load(Ordering::SeqCst);
    let fourth = increment(&setup);
    settle().await;
    // It built on the queued view instead of loading what the store still held.
    assert_eq!(setup.store.loads.load(Ordering::SeqCst), loads);
    setup.store.open_gate(2);
    settle().await;
    assert!(
        fourth.is_finished(),
        "joined the batch: no conflict, no retry"
    );
    let answers = [first.await??, second.await??, third.await??, fourth.await??];
    assert_eq!(answers, [1, 2, 3, 4]);
    assert_eq!(counter(&setup).await?, Some(4));
    Ok(())
}
