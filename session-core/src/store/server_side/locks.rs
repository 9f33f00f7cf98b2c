//! One async lock per session, so requests on one session inside one process run one
//! after another from load to save, while different sessions never wait on each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::store::StorageKey;

type Entry = Weak<AsyncMutex<()>>;

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
                    let lock = Arc::new(AsyncMutex::new(()));
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
    guard: Option<OwnedMutexGuard<()>>,
    lock: Arc<AsyncMutex<()>>,
    key: StorageKey,
    map: Arc<Mutex<HashMap<StorageKey, Entry>>>,
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
        let other = tokio::time::timeout(Duration::from_millis(100), locks.lock(&b)).await;
        assert!(other.is_ok());
        drop(other);
        // The same session is.
        let waiter = {
            let locks = Arc::clone(&locks);
            let a = a.clone();
            tokio::spawn(async move { locks.lock(&a).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
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
}
