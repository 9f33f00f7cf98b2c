//! What a store keeps for one session.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Timestamp;

/// The data of one session and the metadata its expiry and compare-and-swap need.
///
/// Stores persist every field as given and hand it back unchanged; the generic
/// server-side layer ([`ServerSide`](crate::store::ServerSide)) decides timestamps and versions.
///
/// # Examples
///
/// ```
/// use session_core::clock::Timestamp;
/// use session_core::store::Record;
///
/// let now = Timestamp::from_unix_millis(1_000);
/// let record = Record::new(now, Timestamp::from_unix_millis(2_000));
/// assert!(record.data.is_empty());
/// assert!(!record.is_expired_at(now));
/// assert!(record.is_expired_at(Timestamp::from_unix_millis(2_000)));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The session's values under their keys.
    pub data: Map<String, Value>,
    /// When the session was first created; the absolute timeout counts from here.
    pub created_at: Timestamp,
    /// When the session was last saved or touched; the idle timeout counts from here.
    pub last_active: Timestamp,
    /// The server-side deadline: from this instant on the record must never be returned.
    pub expires_at: Timestamp,
    /// Whether the client holds a persistent cookie (Flask's `session.permanent`).
    pub permanent: bool,
    /// Incremented by every data write, for compare-and-swap; a fresh record has 0.
    pub version: u64,
}

impl Record {
    /// An empty record created at `now` that expires at `expires_at`.
    pub fn new(now: Timestamp, expires_at: Timestamp) -> Self {
        Self {
            data: Map::new(),
            created_at: now,
            last_active: now,
            expires_at,
            permanent: false,
            version: 0,
        }
    }

    /// The idle window of a remembered session
    /// ([`Session::remember_for`](crate::Session::remember_for)), if it is one.
    pub fn remember_for(&self) -> Option<std::time::Duration> {
        self.data
            .get(crate::session::REMEMBER_KEY)
            .and_then(Value::as_u64)
            .map(std::time::Duration::from_millis)
    }

    /// The principal the session is tied to
    /// ([`Session::set_principal`](crate::Session::set_principal)), if any: what a store
    /// that keeps the per-user index indexes the record under.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use session_core::clock::Timestamp;
    /// use session_core::store::Record;
    ///
    /// let mut record = Record::new(Timestamp::from_unix_millis(0), Timestamp::from_unix_millis(1));
    /// assert_eq!(record.principal(), None);
    /// record.data.insert("_principal".into(), json!({"name": "ada"}));
    /// assert_eq!(record.principal(), Some("ada"));
    /// ```
    pub fn principal(&self) -> Option<&str> {
        self.data
            .get(crate::session::PRINCIPAL_KEY)?
            .get("name")?
            .as_str()
    }

    /// Whether the record's server-side deadline has passed at `now`.
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}
