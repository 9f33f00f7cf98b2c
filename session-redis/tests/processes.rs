//! Two "processes" (each its own connection, `ServerSide` and per-session locks) hammer
//! one session on the shared Redis: every update counts, every distinct write survives,
//! and a login (id regeneration) in the middle loses nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use session_core::{SessionConfig, SessionError, SessionManager};

use crate::common::{store, unique_prefix, Cleanup};

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_lose_each_others_writes() {
    let cleanup = Cleanup::default();
    let prefix = unique_prefix("processes");
    cleanup.track(&prefix);
    let config = SessionConfig::default();
    let first = SessionManager::new(store(&prefix).await, config.clone()).unwrap();
    let second = SessionManager::new(store(&prefix).await, config).unwrap();

    let session = first.load(None).await.unwrap();
    session.insert("counter", 0).unwrap();
    let cookie = cookie_value(&first.save(&session).await.unwrap().set_cookie.unwrap());
    let cookie = Arc::new(cookie);

    let mut tasks = Vec::new();
    for i in 0..200_u32 {
        let manager = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let cookie = Arc::clone(&cookie);
        tasks.push(tokio::spawn(async move {
            let session = manager.load(Some(&cookie)).await?;
            session.update("counter", |n: Option<u32>| n.unwrap_or(0) + 1)?;
            session.insert(format!("writer {i}"), i)?;
            Ok::<_, SessionError>(manager.save(&session).await?.set_cookie)
        }));
    }
    for task in tasks {
        let set_cookie = task.await.unwrap().unwrap();
        assert_eq!(
            set_cookie, None,
            "updates to an existing session keep its cookie"
        );
    }

    // A login on the second process: new id, all data carried over, old id dead.
    let session = second.load(Some(&cookie)).await.unwrap();
    session.regenerate();
    session.insert("user", "ada").unwrap();
    let new_cookie = cookie_value(&second.save(&session).await.unwrap().set_cookie.unwrap());
    assert_ne!(new_cookie, *cookie);

    let session = first.load(Some(&new_cookie)).await.unwrap();
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
    drop(session);
    assert!(
        first.load(Some(&cookie)).await.unwrap().is_empty(),
        "the pre-login id is dead"
    );
}
