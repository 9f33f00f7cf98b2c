//! One async lock per session, so requests on one session inside one process run one
//! after another from load to save, while different sessions never wait on each other.
//!
//! The lock also keeps the session as its holder left it, for the next holder: a request
//! that queued behind another one on a busy session starts from that record when it is
//! younger than [`HANDOFF_WINDOW`], instead of reading the store again. Within this process
//! that record is what the store holds (every write here goes through the lock), or a view
//! queued for a group write the store will hold next (`group_commit`); another process's
//! write in the window is seen by the next load, and a save against it fails its
//! compare-and-swap and replays, as a save racing another process always does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::group_commit::WriteQueue;
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
    /// `None` when the store holds this record; `Some(epoch)` when it is a view queued for
    /// a group write in that epoch of the session's [`WriteQueue`], not stored yet.
    pub(crate) queued_in: Option<u64>,
}

/// What the lock guards: the session as its last holder left it, if known.
type Latest = Option<Snapshot>;

/// One session's shared state in this process: its lock, what the last holder left, how
/// many wait, and its queue of group writes.
pub(crate) struct SessionShared {
    /// The lock: one permit, taken by the holder and given back when its guard drops. A
    /// semaphore rather than an async mutex, so the lock, the snapshot and the queue are
    /// one allocation per busy session instead of two.
    permit: Semaphore,
    /// Read and written only by the permit's holder, so never contended.
    latest: Mutex<Latest>,
    waiting: AtomicUsize,
    writes: WriteQueue,
}

type Map = Arc<Mutex<HashMap<StorageKey, Weak<SessionShared>>>>;

/// The per-session locks of one process. The map only holds weak references, and the last
/// reference to a session removes its entry, so the map is as large as the number of
/// sessions with a request in flight.
#[derive(Default)]
pub(crate) struct SessionLocks {
    map: Map,
}

impl SessionLocks {
    /// Waits until no other request in this process holds `key`'s session.
    pub(crate) async fn lock(&self, key: &StorageKey) -> SessionLockGuard {
        let session = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            let shared = match map.get(key).and_then(Weak::upgrade) {
                Some(shared) => shared,
                None => {
                    let shared = Arc::new(SessionShared {
                        permit: Semaphore::new(1),
                        latest: Mutex::new(None),
                        waiting: AtomicUsize::new(0),
                        writes: WriteQueue::default(),
                    });
                    map.insert(key.clone(), Arc::downgrade(&shared));
                    shared
                }
            };
            SessionRef {
                shared: Some(shared),
                key: key.clone(),
                map: Arc::clone(&self.map),
            }
        };
        {
            let _waiting = Waiting::count(&session.shared().waiting);
            // The semaphore is never closed, so acquiring only ever waits; the permit is
            // given back by the guard's `drop`.
            if let Ok(permit) = session.shared().permit.acquire().await {
                permit.forget();
            }
        }
        SessionLockGuard {
            held: true,
            session,
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

/// Counts a request among a session's waiters for as long as it waits, even when its
/// future is dropped while waiting.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::AcqRel);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A reference to one session's shared state; the last one removes the session's entry
/// from the map.
pub(crate) struct SessionRef {
    /// Always `Some` until dropped (taken in `drop`, under the map's lock).
    shared: Option<Arc<SessionShared>>,
    key: StorageKey,
    map: Map,
}

impl SessionRef {
    fn shared(&self) -> &SessionShared {
        // Only `drop` takes it.
        self.shared
            .as_deref()
            .unwrap_or_else(|| unreachable!("taken only in drop"))
    }

    /// Another reference to the same session.
    pub(crate) fn clone_ref(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            key: self.key.clone(),
            map: Arc::clone(&self.map),
        }
    }

    /// The session's queue of group writes.
    pub(crate) fn writes(&self) -> &WriteQueue {
        &self.shared().writes
    }
}

impl Drop for SessionRef {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        // Every reference is dropped here, under the map's lock, where upgrades happen
        // too: when ours is the only one left, nobody can be about to use the entry.
        if let Some(shared) = self.shared.take() {
            if Arc::strong_count(&shared) == 1 {
                map.remove(&self.key);
            }
        }
    }
}

/// Holds one session's lock; dropping it lets the next request on that session in.
pub(crate) struct SessionLockGuard {
    held: bool,
    session: SessionRef,
}

impl SessionLockGuard {
    fn latest(&self) -> std::sync::MutexGuard<'_, Latest> {
        // Only the holder touches it, one assignment at a time: poisoning is ignored.
        self.session
            .shared()
            .latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes what the previous holder left, if it is recent: taken less than
    /// [`HANDOFF_WINDOW`] before `now`, the time the waiting request arrived. A snapshot
    /// taken after that (while it waited) is fresher still, up to [`QUEUE_ALLOWANCE`]: one
    /// further ahead comes from a clock that stepped back, and is not trusted. An old
    /// snapshot is dropped all the same, except a view still queued for a group write in
    /// flight: the store does not hold it yet, so a load could only be older.
    pub(crate) fn take_recent(&mut self, now: Timestamp) -> Option<Snapshot> {
        let latest = self.latest().take()?;
        let young = if latest.read_at <= now {
            now.duration_since(latest.read_at) < HANDOFF_WINDOW
        } else {
            latest.read_at.duration_since(now) <= QUEUE_ALLOWANCE
        };
        let pending = latest
            .queued_in
            .is_some_and(|epoch| self.session.writes().pending_in(epoch));
        (young || pending).then_some(latest)
    }

    /// Whether another request of this process waits for this session (so a snapshot is
    /// worth leaving it).
    pub(crate) fn contended(&self) -> bool {
        self.session.shared().waiting.load(Ordering::Acquire) > 0
    }

    /// Leaves `snapshot` for the next holder.
    pub(crate) fn hand_on(&mut self, snapshot: Snapshot) {
        *self.latest() = Some(snapshot);
    }

    /// Leaves `record`, as the store holds it since `read_at`, to a request of this process
    /// waiting for the session, if there is one.
    pub(crate) fn hand_on_stored(&mut self, record: Record, read_at: Timestamp) {
        if self.contended() {
            self.hand_on(Snapshot {
                record,
                read_at,
                queued_in: None,
            });
        }
    }

    /// The session this guard locks.
    pub(crate) fn session(&self) -> &SessionRef {
        &self.session
    }

    /// Lets the next request in, keeping a reference to the session (for its write queue).
    pub(crate) fn unlock(mut self) -> SessionRef {
        self.release();
        self.session.clone_ref()
    }

    fn release(&mut self) {
        if std::mem::take(&mut self.held) {
            self.session.shared().permit.add_permits(1);
        }
    }
}

impl Drop for SessionLockGuard {
    fn drop(&mut self) {
        self.release();
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
        let snapshot = Snapshot {
            record: Record::new(read_at, Timestamp::from_unix_millis(9_000)),
            read_at,
            queued_in: None,
        };
        let mut held = locks.lock(&key).await;
        assert!(
            held.take_recent(read_at).is_none(),
            "nothing to hand on yet"
        );
        assert!(!held.contended());
        held.hand_on(snapshot.clone());
        // A waiter already queued keeps the entry alive for the hand-off.
        let next = {
            let (locks, key) = (Arc::clone(&locks), key.clone());
            tokio::spawn(async move { locks.lock(&key).await })
        };
        tokio::task::yield_now().await;
        assert!(held.contended());
        drop(held);
        let mut next = next.await?;
        let just_inside = read_at.saturating_add(HANDOFF_WINDOW - Duration::from_millis(1));
        assert!(next.take_recent(just_inside).is_some());
        assert!(next.take_recent(just_inside).is_none(), "taken, not copied");
        let arrived = |ms: i64| Timestamp::from_unix_millis(read_at.as_unix_millis() - ms);
        for (now, young) in [
            (read_at.saturating_add(HANDOFF_WINDOW), false),
            (arrived(1_000), true),
            (arrived(1_001), false),
        ] {
            next.hand_on(snapshot.clone());
            assert_eq!(next.take_recent(now).is_some(), young, "at {now:?}");
            assert!(next.take_recent(read_at).is_none(), "gone either way");
        }
        next.hand_on(snapshot);
        drop(next);
        let mut last = locks.lock(&key).await;
        assert!(
            last.take_recent(read_at).is_none(),
            "nothing outlives the last holder"
        );
        Ok(())
    }
}
