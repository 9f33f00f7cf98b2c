//! Two "processes" (each its own connection, manager, `ServerSide` and per-session locks)
//! hammer one session on the shared Redis: every update counts, every distinct write
//! survives, and a login (id regeneration) in the middle loses nothing.

#![allow(clippy::unwrap_used)]

mod common;

use session_core::backend::CookieUpdate;
use session_core::clock::ManualClock;
use session_core::{SessionConfig, SessionError};

use crate::common::{finish, manager, open, set_value, store, unique_prefix, Cleanup};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_lose_each_others_writes() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("processes");
    cleanup.track(&prefix);
    let config = SessionConfig::default();
    let clock = ManualClock::starting_now();
    let first = manager(store(&prefix).await, config.clone(), &clock);
    let second = manager(store(&prefix).await, config, &clock);

    let (request, session) = open(&first, None).await.unwrap();
    session.insert("counter", 0).unwrap();
    let cookie = set_value(finish(&request).await.unwrap());

    let mut tasks = Vec::new();
    for i in 0..200_u32 {
        let manager = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let (request, session) = open(&manager, Some(&cookie)).await?;
            session.update("counter", |n: Option<u32>| n.unwrap_or(0) + 1)?;
            session.insert(format!("writer {i}"), i)?;
            finish(&request).await
        }));
    }
    for task in tasks {
        let update: Result<CookieUpdate, SessionError> = task.await.unwrap();
        assert_eq!(
            update.unwrap(),
            CookieUpdate::Unchanged,
            "updates to an existing session keep its cookie"
        );
    }

    // A login on the second process: new id, all data carried over, old id dead.
    let (request, session) = open(&second, Some(&cookie)).await.unwrap();
    session.regenerate();
    session.insert("user", "ada").unwrap();
    let new_cookie = set_value(finish(&request).await.unwrap());
    assert_ne!(new_cookie, cookie);

    let (request, session) = open(&first, Some(&new_cookie)).await.unwrap();
    assert_eq!(
        session.get::<u32>("counter").unwrap(),
        Some(200),
        "every update counts"
    );
    for i in 0..200_u32 {
        assert_eq!(
            session.get::<u32>(&format!("writer {i}")).unwrap(),
            Some(i),
            "write {i} was lost"
        );
    }
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    finish(&request).await.unwrap();
    let (_request, old) = open(&first, Some(&cookie)).await.unwrap();
    assert!(old.is_empty(), "the pre-login id is dead");
}
