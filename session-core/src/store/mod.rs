//! The store room: what a server-side store implements ([`RecordStore`]) and the generic
//! piece that turns any such store into a backend ([`ServerSide`]).
//!
//! A store author implements [`RecordStore`] and nothing else: load, create, a
//! compare-and-swap save, an atomic change of key, delete, touch and delete-expired, all
//! keyed by [`StorageKey`] (a hash of the session id, never the id). [`ServerSide`] does
//! the rest: ids, cookies, strict mode, expiry, per-session locks and retries. The
//! conformance kit (`session-conformance`) checks every rule on a store.
//!
//! # Examples
//!
//! ```
//! use session_core::clock::{Clock, SystemClock};
//! use session_core::store::{MemoryStore, RecordStore, SessionId, StorageKey};
//! use session_core::SessionConfig;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let store = MemoryStore::default();
//! let now = SystemClock.now();
//! let key = StorageKey::hashed(&SessionId::generate()?);
//! let record = SessionConfig::default().new_record(now);
//! store.create(&key, &record, now).await?;
//! assert_eq!(store.load(&key, now).await?, Some(record));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod id;
mod memory;
mod record;
mod redact;
mod server_side;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::id::{InvalidSessionId, RandomSourceError, SessionId, StorageKey};
pub use self::memory::MemoryStore;
pub use self::record::Record;
pub use self::redact::redact_url;
pub use self::server_side::{KeyScheme, ServerSide};
use crate::backend::IntoSessionBackend;
use crate::clock::Timestamp;
pub use crate::error::{BoxError, StoreError};

/// A small id-keyed record store: what a server-side backend must provide.
///
/// Stores are handed [`StorageKey`]s (hashes of session ids), never ids, so nothing a
/// store keeps can be replayed as a cookie. The conformance kit (`session-conformance`)
/// checks every rule below.
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    /// The record under `key`, or `None` when there is none or it has expired
    /// (`expires_at <= now`): an expired record is never returned.
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError>;

    /// Stores a new record. An expired record under `key` counts as absent.
    ///
    /// # Errors
    ///
    /// [`StoreError::KeyCollision`] when a live record exists under `key`.
    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Replaces the record under `key` with `record` (whose `version` the caller has
    /// already advanced) if the stored version is `expected_version`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the stored version differs or the record is gone
    /// (expired at `now` counts as gone); nothing is changed then.
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Atomically moves the session from `old` to `new`, storing `record` there, if the
    /// record under `old` has `expected_version`: afterwards `old` is gone and `new` holds
    /// `record`, or nothing changed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] as for `save`; [`StoreError::KeyCollision`] when `new`
    /// is taken.
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Removes the record under `key`, if any.
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError>;

    /// Sets `last_active` and `expires_at` of a live record (live at `last_active`, which
    /// is the current time) without rewriting its data or changing its version; does
    /// nothing when there is no live record.
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Removes every record expired at `now` and returns how many it removed.
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// Whether this store keeps the per-user index: every live record whose
    /// [`Record::principal`] is set is findable by [`sessions_of`](Self::sessions_of), and
    /// leaves the index when it is deleted, renamed away from or expires. Kept in the same
    /// transaction (or script) as the write that sets it, so no session escapes
    /// "log out everywhere". `false` by default; the conformance kit checks the claim both
    /// ways.
    fn indexes_principals(&self) -> bool {
        false
    }

    /// The live records (at `now`) tied to `principal`, with their keys, found through the
    /// index: never a scan of every session.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsupported`] from a store that does not keep the index (the default).
    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        let _ = (principal, now);
        Err(StoreError::Unsupported("the per-user index"))
    }

    /// How [`ServerSide`] derives this store's keys from session ids:
    /// hashed, unless the store shares records with Flask-Session and must see raw ids.
    /// Declared by the store, so a compatibility store cannot be wrapped the wrong way.
    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::Hashed
    }
}

/// A shared store is a store, for code that keeps a handle (a maintenance task, say).
/// [`ServerSide::from_arc`] calls the store itself, not this forwarder.
#[async_trait]
impl<S: RecordStore + ?Sized> RecordStore for Arc<S> {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        (**self).load(key, now).await
    }
    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).create(key, record, now).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).save(key, record, expected_version, now).await
    }
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self)
            .change_key(old, new, record, expected_version, now)
            .await
    }
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        (**self).delete(key).await
    }
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).touch(key, last_active, expires_at).await
    }
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        (**self).delete_expired(now).await
    }
    fn indexes_principals(&self) -> bool {
        (**self).indexes_principals()
    }
    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StorageKey, Record)>, StoreError> {
        (**self).sessions_of(principal, now).await
    }
    fn key_scheme(&self) -> KeyScheme {
        (**self).key_scheme()
    }
}

impl<S: RecordStore> IntoSessionBackend for S {
    type Backend = ServerSide<S>;

    fn into_backend(self) -> Self::Backend {
        ServerSide::new(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::SessionConfig;

    /// Calls go through `Arc<MemoryStore>`'s own `RecordStore` impl, not the store's.
    #[tokio::test]
    async fn a_shared_store_answers_as_the_store_does() -> Result<(), Box<dyn std::error::Error>> {
        let shared = Arc::new(MemoryStore::default());
        let now = Timestamp::from_unix_millis(1_000);
        let key = StorageKey::hashed(&SessionId::generate()?);
        let mut record = SessionConfig::default().new_record(now);
        record.expires_at = now.saturating_add(Duration::from_secs(60));
        record.data.insert(
            crate::session::PRINCIPAL_KEY.to_owned(),
            serde_json::json!({"name": "ada"}),
        );
        RecordStore::create(&shared, &key, &record, now).await?;

        assert!(RecordStore::indexes_principals(&shared));
        let listed = RecordStore::sessions_of(&shared, "ada", now).await?;
        assert_eq!(listed, vec![(key.clone(), record)]);
        assert_eq!(RecordStore::key_scheme(&shared), KeyScheme::Hashed);
        let later = now.saturating_add(Duration::from_secs(61));
        assert_eq!(RecordStore::delete_expired(&shared, later).await?, 1);
        assert_eq!(RecordStore::delete_expired(&shared, later).await?, 0);
        Ok(())
    }
}
