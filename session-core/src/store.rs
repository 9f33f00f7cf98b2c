//! The two contracts: what an adapter needs, and what a server-side store needs.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    KeyScheme, Outcome, Record, Session, SessionConfig, SessionError, StorageKey, StoreError,
    Timestamp,
};

/// What a framework adapter drives: a request's cookie value in, a loaded [`Session`]
/// out; a finished session in, the cookie to send out.
///
/// Client-side storage (a signed cookie) implements this directly; server-side stores
/// implement the smaller [`RecordStore`] and are wrapped in
/// [`ServerSide`](crate::ServerSide), which does ids, hashing, expiry and retries.
#[async_trait]
pub trait SessionBackend: Send + Sync + 'static {
    /// Loads the session named by the request's cookie value. A missing, malformed,
    /// forged, unknown or expired cookie gives an anonymous session, never an error.
    ///
    /// A server-side session holds its per-session lock until it is saved (or dropped):
    /// requests on one session in one process run one after the other. Do not load the
    /// same cookie twice in one task before saving the first; adapters cache the session
    /// per request for this reason.
    ///
    /// # Errors
    ///
    /// Only when the backend itself fails (a store that is down): never log the user out
    /// silently because of an outage.
    async fn load(
        &self,
        cookie: Option<&str>,
        config: &SessionConfig,
    ) -> Result<Session, SessionError>;

    /// Persists what the request did and says what cookie to send.
    ///
    /// # Errors
    ///
    /// When the store fails or concurrent writers could not be reconciled: the request's
    /// writes did not stick, and the client must learn that.
    async fn save(
        &self,
        outcome: Outcome,
        config: &SessionConfig,
    ) -> Result<CookieUpdate, SessionError>;

    /// What this backend can and cannot do, for the conformance kit and for users.
    fn capabilities(&self) -> Capabilities;
}

/// What the response must do with the session cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieUpdate {
    /// Send nothing: the browser's cookie is still right.
    Unchanged,
    /// Send a cookie with this value; `persistent` cookies get `Max-Age` = the lifetime.
    Set {
        /// The cookie value.
        value: String,
        /// Whether the cookie outlives the browser.
        persistent: bool,
    },
    /// Send a removal cookie.
    Remove,
}

/// What a backend can do by its nature. The conformance kit checks each claim both ways,
/// so a backend can neither skip a check nor claim what it cannot do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// A destroyed session is gone on the server: replaying its old cookie gives an
    /// anonymous session. Client-side cookies cannot be revoked once issued.
    pub server_side_revocation: bool,
    /// Concurrent requests on one session never lose each other's writes. A client-side
    /// cookie is overwritten by whichever response the browser receives last.
    pub merges_concurrent_writes: bool,
    /// The largest session the backend can hold, in its own encoding.
    pub max_session_bytes: Option<usize>,
}

impl Capabilities {
    /// A server-side store: revocable, merging, limited to `max_session_bytes`.
    pub const fn server_side(max_session_bytes: Option<usize>) -> Self {
        Self {
            server_side_revocation: true,
            merges_concurrent_writes: true,
            max_session_bytes,
        }
    }

    /// A client-side cookie: not revocable, last write wins, limited to `max_cookie_bytes`.
    pub const fn client_side(max_cookie_bytes: usize) -> Self {
        Self {
            server_side_revocation: false,
            merges_concurrent_writes: false,
            max_session_bytes: Some(max_cookie_bytes),
        }
    }
}

/// A small id-keyed record store: what a server-side backend must provide.
///
/// Stores are handed [`StorageKey`]s (hashes of session ids), never ids, so nothing a
/// store keeps can be replayed as a cookie. The conformance kit (`session-conformance`)
/// checks every rule below.
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    /// The record under `key`, or `None` when there is none or it has expired
    /// (`expires_at <= now`): an expired record is never returned.
    async fn load(&self, key: &StorageKey) -> Result<Option<Record>, StoreError>;

    /// Stores a new record. An expired record under `key` counts as absent.
    ///
    /// # Errors
    ///
    /// [`StoreError::KeyCollision`] when a live record exists under `key`.
    async fn create(&self, key: &StorageKey, record: &Record) -> Result<(), StoreError>;

    /// Replaces the record under `key` with `record` (whose `version` the caller has
    /// already advanced) if the stored version is `expected_version`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the stored version differs or the record is gone;
    /// nothing is changed then.
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
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
    ) -> Result<(), StoreError>;

    /// Removes the record under `key`, if any.
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError>;

    /// Sets `last_active` and `expires_at` of a live record without rewriting its data or
    /// changing its version; does nothing when there is no live record.
    async fn touch(
        &self,
        key: &StorageKey,
        last_active: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Removes every expired record and returns how many it removed.
    async fn delete_expired(&self) -> Result<u64, StoreError>;

    /// How [`ServerSide`](crate::ServerSide) derives this store's keys from session ids:
    /// hashed, unless the store shares records with Flask-Session and must see raw ids.
    /// Declared by the store, so a compatibility store cannot be wrapped the wrong way.
    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::Hashed
    }
}

#[async_trait]
impl<S: RecordStore + ?Sized> RecordStore for Arc<S> {
    async fn load(&self, key: &StorageKey) -> Result<Option<Record>, StoreError> {
        (**self).load(key).await
    }
    async fn create(&self, key: &StorageKey, record: &Record) -> Result<(), StoreError> {
        (**self).create(key, record).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        (**self).save(key, record, expected_version).await
    }
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        (**self)
            .change_key(old, new, record, expected_version)
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
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        (**self).delete_expired().await
    }
    fn key_scheme(&self) -> KeyScheme {
        (**self).key_scheme()
    }
}

/// Anything an adapter can serve sessions from: a [`SessionBackend`], or a
/// [`RecordStore`], which is wrapped in [`ServerSide`](crate::ServerSide) with its
/// defaults.
///
/// Every `RecordStore` gets this for free. A type that implements [`SessionBackend`]
/// directly (a cookie backend) implements it too, as `type Backend = Self`; a blanket
/// impl for both kinds cannot exist, as a type could be both.
pub trait IntoSessionBackend {
    /// The backend this turns into.
    type Backend: SessionBackend;

    /// Turns `self` into a backend.
    fn into_backend(self) -> Self::Backend;
}

impl<S: RecordStore> IntoSessionBackend for S {
    type Backend = crate::ServerSide<S>;

    fn into_backend(self) -> Self::Backend {
        crate::ServerSide::new(self)
    }
}
