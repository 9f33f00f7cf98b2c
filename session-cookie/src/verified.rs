//! [`VerifiedCache`]: cookie values this process has already verified, so the same bytes
//! arriving again skip the MAC, the base64, the decompression and the JSON parse.
//!
//! A browser sends the same cookie with every request until the session changes, so most
//! requests carry a value the server verified moments ago. Serving those from a cache is
//! safe because a hit needs the *whole value*, byte for byte, to equal one that passed
//! verification under this backend's keys: nothing unverified is ever trusted, and only
//! the cryptographic work is skipped. What depends on the clock (expiry, the skew check)
//! is judged again by the caller on every request.
//!
//! Hand-written rather than an LRU crate: what is needed is a fixed, small memory bound,
//! a constant-time comparison of the value (it is a credential, compared with
//! `constant_time_eq`), and no allocation on a hit; a 2-way set-associative table of
//! `SETS` sets does all three in a few lines.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

/// Sets in the table; with two ways, up to 2,048 values are remembered.
const SETS: usize = 1024;
/// Values longer than this are verified every time and not remembered, which bounds the
/// cache's memory to a few megabytes whatever the sessions hold.
pub(crate) const MAX_CACHED_LEN: usize = 1024;

/// Values already verified, each with what verifying it produced.
pub(crate) struct VerifiedCache<T> {
    sets: Box<[Mutex<Set<T>>]>,
    /// Keyed per process, so a client cannot aim values at one set.
    hasher: RandomState,
}

/// One set's two ways, its most recently used entry first.
type Set<T> = [Option<Entry<T>>; 2];

struct Entry<T> {
    value: Box<str>,
    verified: Arc<T>,
}

impl<T> Default for VerifiedCache<T> {
    fn default() -> Self {
        Self {
            sets: (0..SETS).map(|_| Mutex::new([None, None])).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl<T> std::fmt::Debug for VerifiedCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The entries are live sessions: never print them.
        f.debug_struct("VerifiedCache").finish_non_exhaustive()
    }
}

impl<T> VerifiedCache<T> {
    /// What `value` verifies as: remembered when this exact value verified before and
    /// `accept` still takes what it verified as, else `verify`'s answer (remembered when
    /// it is one). `accept` is for what the value alone does not decide, such as the
    /// cookie name a MAC was bound to.
    pub(crate) fn get_or_verify(
        &self,
        value: &str,
        accept: impl FnOnce(&T) -> bool,
        verify: impl FnOnce() -> Option<T>,
    ) -> Option<Arc<T>> {
        if let Some(remembered) = self.get(value).filter(|verified| accept(verified)) {
            return Some(remembered);
        }
        let verified = Arc::new(verify()?);
        self.insert(value, Arc::clone(&verified));
        Some(verified)
    }

    /// What verifying `value` produced, if this exact value was verified before.
    fn get(&self, value: &str) -> Option<Arc<T>> {
        if value.len() > MAX_CACHED_LEN {
            return None;
        }
        let mut set = self.set(value);
        let way = set
            .iter()
            .position(|entry| entry.as_ref().is_some_and(|entry| entry.holds(value)))?;
        // Most recently used first, so an insert evicts the other one.
        set.swap(0, way);
        set[0].as_ref().map(|entry| Arc::clone(&entry.verified))
    }

    /// Remembers that `value` verified as `verified`, evicting the set's least recently
    /// used entry.
    fn insert(&self, value: &str, verified: Arc<T>) {
        if value.len() > MAX_CACHED_LEN {
            return;
        }
        let mut set = self.set(value);
        set.swap(0, 1);
        set[0] = Some(Entry {
            value: value.into(),
            verified,
        });
    }

    fn set(&self, value: &str) -> std::sync::MutexGuard<'_, Set<T>> {
        // The hash is only an index: reduce it to the table's size.
        let index = (self.hasher.hash_one(value) % SETS as u64) as usize;
        // Each critical section swaps or replaces whole entries: a panic leaves none half
        // written, so poisoning is ignored.
        self.sets[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> Entry<T> {
    /// Whether this entry is for `value`: compared in constant time, as the stored value
    /// is someone's live session. A word at a time: `subtle`'s byte-at-a-time comparison
    /// cost more than everything else a cookie request does here.
    fn holds(&self, value: &str) -> bool {
        constant_time_eq::constant_time_eq(self.value.as_bytes(), value.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_found_only_byte_for_byte() {
        let cache = VerifiedCache::default();
        cache.insert("s1.abc.def", Arc::new(7));
        assert_eq!(cache.get("s1.abc.def").as_deref(), Some(&7));
        assert_eq!(cache.get("s1.abc.deF"), None);
        assert_eq!(cache.get("s1.abc.de"), None);
        assert_eq!(cache.get(""), None);
    }

    #[test]
    fn a_value_is_verified_once_then_remembered_while_accepted() {
        let cache = VerifiedCache::default();
        let verifications = std::cell::Cell::new(0);
        let verify = |answer| {
            verifications.set(verifications.get() + 1);
            answer
        };
        let first = cache.get_or_verify("v", |_| true, || verify(Some(1)));
        assert_eq!(first.as_deref(), Some(&1));
        let again = cache.get_or_verify("v", |_| true, || verify(Some(2)));
        assert_eq!((again.as_deref(), verifications.get()), (Some(&1), 1));
        // Refused by `accept`: verified afresh, and the new answer is the one remembered.
        let refused = cache.get_or_verify("v", |n| *n != 1, || verify(Some(3)));
        assert_eq!((refused.as_deref(), verifications.get()), (Some(&3), 2));
        assert_eq!(cache.get("v").as_deref(), Some(&3));
    }

    #[test]
    fn a_value_that_fails_verification_is_not_remembered() {
        let cache: VerifiedCache<u8> = VerifiedCache::default();
        assert_eq!(cache.get_or_verify("bad", |_| true, || None), None);
        assert_eq!(cache.get("bad"), None);
    }

    #[test]
    fn debug_output_names_no_value() {
        let cache = VerifiedCache::default();
        cache.insert("s1.secret-session.tag", Arc::new(1));
        assert_eq!(format!("{cache:?}"), "VerifiedCache { .. }");
    }

    #[test]
    fn long_values_are_never_remembered() {
        let cache = VerifiedCache::default();
        let long = "a".repeat(MAX_CACHED_LEN + 1);
        cache.insert(&long, Arc::new(1));
        assert_eq!(cache.get(&long), None);
        let longest = "a".repeat(MAX_CACHED_LEN);
        cache.insert(&longest, Arc::new(2));
        assert_eq!(cache.get(&longest).as_deref(), Some(&2));
    }

    #[test]
    fn memory_stays_bounded_and_recent_values_stay() {
        let cache = VerifiedCache::default();
        let values: Vec<String> = (0..20 * SETS).map(|i| format!("value-{i}")).collect();
        for (i, value) in values.iter().enumerate() {
            cache.insert(value, Arc::new(i));
            // The value just verified is found on the very next request.
            assert_eq!(cache.get(value).as_deref(), Some(&i));
        }
        let remembered = values.iter().filter(|v| cache.get(v).is_some()).count();
        assert!(remembered <= 2 * SETS, "{remembered} values remembered");
        assert!(remembered > 0);
    }

    #[test]
    fn the_least_recently_used_way_is_evicted() {
        // Three values in one set: find them by their index.
        let cache = VerifiedCache::default();
        let index = |v: &str| cache.hasher.hash_one(v) % SETS as u64;
        let mut same = (0..)
            .map(|i| format!("v{i}"))
            .filter(|v| index(v) == index("v0"));
        let (a, b, c) = (same.next(), same.next(), same.next());
        let (Some(a), Some(b), Some(c)) = (a, b, c) else {
            unreachable!("an endless iterator");
        };
        cache.insert(&a, Arc::new('a'));
        cache.insert(&b, Arc::new('b'));
        assert!(cache.get(&a).is_some(), "a is now the most recent");
        cache.insert(&c, Arc::new('c'));
        assert!(cache.get(&a).is_some());
        assert!(cache.get(&c).is_some());
        assert!(cache.get(&b).is_none(), "b was the least recently used");
    }
}
