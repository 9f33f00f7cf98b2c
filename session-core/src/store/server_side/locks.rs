//! One async lock per session, so requests on one session inside one process run one
//! after another from load to save, while different sessions never wait on each other.
//!
//! The lock also keeps the session as its holder left it, for the next holder: a request
//! that queued behind another one on a busy session starts from that record when it is
//! younger than [`HANDOFF_WINDOW`], instead of reading the store again. Within this process
//! that record is exactly what the store holds (every write here goes through the lock);
//! another process's write in the window is seen by the next load, and a save against it
//! fails its compare-and-swap and replays, as a save racing another process always does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::clock::Timestamp;
use crate::store::{Record, StorageKey};

/// How old a handed-on record may be and still be used instead of a load: 2 ms, a load's
/// worth of a network store's round trip, and far less than a person can notice.
pub(crate) const HANDOFF_WINDOW: Duration = Duration::from_millis(2);

/// How long after a request arrived a snapshot handed to it may have been taken: a
/// request waits in the queue while the ones before it run, and what they left is newer
/// than its arrival; a second is far more than a queue of requests takes.
const QUEUE_ALLOWANCE: Duration = Duration::from_secs(1);

/// A session as a request of this process read or committed it, and when.
#[derive(Clone)]
pub(crate) struct Snapshot {
    pub(crate) record: Record,
    pub(crate) read_at: Timestamp,
}

/// What the lock guards: the session as its last holder left it, if known.
type Latest = Option<Snapshot>;
type Entry = Weak<AsyncMutex<Latest>>;

/// The per-session locks of one process. The map only holds weak references, and the last
/// guard of a session removes its entry, so the map is as large as the number of sessions
/// with a request in flight.
#[derive(Default)]
pub(crate) struct SessionLocks {
    map: Arc<Mutex<HashMap<StorageKey, Entry>>>,
}

impl SessionLocks {
    /// Waits until no other request in this process holds `key`'s session.
    pub(crate) async fn lock(&self, key: &StorageKey) -> SessionLockGuard {
        let lock = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            match map.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(None));
                    map.insert(key.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        let guard = Arc::clone(&lock).lock_owned().await;
        SessionLockGuard {
            guard: Some(guard),
            lock,
            key: key.clone(),
            map: Arc::clone(&self.map),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Holds one session's lock; dropping it lets the next request on that session in.
pub(crate) struct SessionLockGuard {
    guard: Option<OwnedMutexGuard<Latest>>,
    lock: Arc<AsyncMutex<Latest>>,
    key: StorageKey,
    map: Arc<Mutex<HashMap<StorageKey, Entry>>>,
}

impl SessionLockGuard {
    /// The session as the previous holder left it, if that was less than
    /// [`HANDOFF_WINDOW`] before `now`, the time the waiting request arrived. A snapshot
    /// taken after that (while it waited) is fresher still, up to [`QUEUE_ALLOWANCE`]: one
    /// further ahead comes from a clock that stepped back, and is not trusted.
    pub(crate) fn recent(&self, now: Timestamp) -> Option<&Snapshot> {
        let latest = self.guard.as_deref()?.as_ref()?;
        let young = if latest.read_at <= now {
            now.duration_since(latest.read_at) < HANDOFF_WINDOW
        } else {
            latest.read_at.duration_since(now) <= QUEUE_ALLOWANCE
        };
        young.then_some(latest)
    }

    /// Hands `snapshot` to the next holder; `None` when this holder no longer knows what
    /// the store holds (after a delete, a rename, a touch or a failed save).
    pub(crate) fn remember(&mut self, snapshot: Option<Snapshot>) {
        if let Some(latest) = self.guard.as_deref_mut() {
            *latest = snapshot;
        }
    }
}

impl Drop for SessionLockGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        // Waiters hold strong references; when ours is the last, nobody needs the entry.
        // Upgrades happen under the map lock, so this check cannot race with one.
        if Arc::strong_count(&self.lock) == 1 {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::SessionId;

    #[tokio::test]
    async fn same_session_waits_other_sessions_do_not() -> Result<(), Box<dyn std::error::Error>> {
        let locks = Arc::new(SessionLocks::default());
        let a = StorageKey::hashed(&SessionId::generate()?);
        let b = StorageKey::hashed(&SessionId::generate()?);
        let held = locks.lock(&a).await;
        // Another session is not blocked.
        let other = tokio::time::timeout(Duration::from_secs(60), locks.lock(&b)).await;
        assert!(other.is_ok());
        drop(other);
        // The same session is.
        let waiter = {
            let locks = Arc::clone(&locks);
            let a = a.clone();
            tokio::spawn(async move { locks.lock(&a).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        let second = waiter.await?;
        drop(second);
        assert_eq!(
            locks.len(),
            0,
            "entries are removed when the last guard drops"
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_next_holder_gets_a_recent_snapshot_and_nothing_older(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let locks = Arc::new(SessionLocks::default());
        let key = StorageKey::hashed(&SessionId::generate()?);
        let read_at = Timestamp::from_unix_millis(1_000);
        let record = Record::new(read_at, Timestamp::from_unix_millis(9_000));
        let mut held = locks.lock(&key).await;
        assert!(held.recent(read_at).is_none(), "nothing to hand on yet");
        held.remember(Some(Snapshot { record, read_at }));
        // A waiter already queued keeps the entry alive for the hand-off.
        let queued = {
            let (locks, key) = (Arc::clone(&locks), key.clone());
            tokio::spawn(async move { locks.lock(&key).await })
        };
        tokio::task::yield_now().await;
        drop(held);
        let next = queued.await?;
        let just_inside = read_at.saturating_add(HANDOFF_WINDOW - Duration::from_millis(1));
        assert!(next.recent(read_at).is_some());
        assert!(next.recent(just_inside).is_some());
        assert!(next
            .recent(read_at.saturating_add(HANDOFF_WINDOW))
            .is_none());
        let arrived = |ms: i64| Timestamp::from_unix_millis(read_at.as_unix_millis() - ms);
        assert!(
            next.recent(arrived(1_000)).is_some(),
            "taken while it waited"
        );
        assert!(
            next.recent(arrived(1_001)).is_none(),
            "from a clock that stepped back"
        );
        drop(next);
        assert!(
            locks.lock(&key).await.recent(read_at).is_none(),
            "nothing outlives the last holder"
        );
        Ok(())
    }
}
