//! The per-user index as a handler sees it: who a session belongs to ([`Principal`]), and
//! the sessions of one principal ([`LiveSession`], each named by a [`SessionHandle`]).

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::store::{Record, StorageKey};
use crate::SessionError;

/// The session key a session's principal is kept under, beside Flask's own underscore
/// keys (as Flask-Login keeps `_user_id`), so every store persists it with the data and a
/// replayed write keeps it.
pub(crate) const PRINCIPAL_KEY: &str = "_principal";

/// Who a session belongs to: the user id the app logs in, and what the app attaches to
/// this login (a user agent, an IP address) to show in a list of the user's sessions.
///
/// Tie a session to one with [`Session::set_principal`](crate::Session::set_principal) at
/// login; the store then indexes the session under `name`, so the app can list and end
/// that user's sessions ("log out everywhere").
///
/// # Examples
///
/// ```
/// use session_core::Principal;
///
/// let principal = Principal::new("ada").attach("user_agent", "Firefox on Linux");
/// assert_eq!(principal.name(), "ada");
/// assert_eq!(principal.attached()["user_agent"], "Firefox on Linux");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    name: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    attached: Map<String, Value>,
}

impl Principal {
    /// The longest principal name, in bytes: a user id, an email address or a UUID fits
    /// many times over, and every store can index it (PostgreSQL's B-tree entries, say,
    /// are bounded).
    pub const MAX_NAME_BYTES: usize = 1024;

    /// The principal `name` (a user id: stable, unique, not necessarily shown to anyone).
    /// [`Session::set_principal`](crate::Session::set_principal) refuses an empty name,
    /// one over [`MAX_NAME_BYTES`](Self::MAX_NAME_BYTES) or one with control characters.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            attached: Map::new(),
        }
    }

    /// Attaches `value` under `key`, shown with this session in the principal's list.
    #[must_use]
    pub fn attach(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attached.insert(key.into(), value.into());
        self
    }

    /// The principal's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the app attached at login.
    pub fn attached(&self) -> &Map<String, Value> {
        &self.attached
    }

    /// Why the name cannot be indexed, if it cannot.
    pub(crate) fn name_problem(&self) -> Option<&'static str> {
        if self.name.is_empty() {
            Some("the principal name is empty")
        } else if self.name.len() > Self::MAX_NAME_BYTES {
            Some("the principal name is longer than 1024 bytes")
        } else if self.name.chars().any(char::is_control) {
            Some("the principal name has control characters")
        } else {
            None
        }
    }

    /// The principal a record is tied to, if any (and if what is stored has its shape).
    pub(crate) fn of(record: &Record) -> Option<Self> {
        let value = record.data.get(PRINCIPAL_KEY)?;
        Self::deserialize(value).ok()
    }
}

/// An opaque public name for one session, for lists and "revoke" buttons.
///
/// It is a one-way digest of the session's storage key (itself a SHA-256 of the id), cut
/// to 128 bits: nothing a cookie could be made from, and nothing that finds the record
/// without going through its principal's list. It changes when the session id does (at
/// login, say).
///
/// # Examples
///
/// ```
/// use session_core::SessionHandle;
///
/// let handle: SessionHandle = "AAAAAAAAAAAAAAAAAAAAAA".parse()?;
/// assert_eq!(handle.as_str().len(), 22);
/// assert!("not a handle".parse::<SessionHandle>().is_err());
/// # Ok::<(), session_core::InvalidSessionHandle>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionHandle(String);

/// The digest label, so a handle can never equal another digest of the same key.
const HANDLE_LABEL: &[u8] = b"session-core/handle\0";
/// 16 bytes in URL-safe base64 without padding.
const HANDLE_CHARS: usize = 22;

impl SessionHandle {
    /// The handle of the session stored under `key`.
    pub fn for_key(key: &StorageKey) -> Self {
        let digest = Sha256::new()
            .chain_update(HANDLE_LABEL)
            .chain_update(key.as_str().as_bytes())
            .finalize();
        Self(URL_SAFE_NO_PAD.encode(&digest[..16]))
    }

    /// The handle as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text that is not a [`SessionHandle`] (22 URL-safe base64 characters).
#[derive(Debug, Clone, thiserror::Error)]
#[error("not a session handle: expected 22 URL-safe base64 characters")]
pub struct InvalidSessionHandle;

impl FromStr for SessionHandle {
    type Err = InvalidSessionHandle;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // The length first: a form field of any size is refused before it is decoded.
        if text.len() != HANDLE_CHARS {
            return Err(InvalidSessionHandle);
        }
        // 22 characters decode to 16 bytes or not at all: the engine refuses characters
        // outside the URL-safe alphabet and stray trailing bits, so only canonical text passes.
        match URL_SAFE_NO_PAD.decode(text) {
            Ok(_) => Ok(Self(text.to_owned())),
            Err(_) => Err(InvalidSessionHandle),
        }
    }
}

impl TryFrom<String> for SessionHandle {
    type Error = InvalidSessionHandle;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<SessionHandle> for String {
    fn from(handle: SessionHandle) -> Self {
        handle.0
    }
}

impl fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionHandle").field(&self.0).finish()
    }
}

/// One live session of a principal, as a "where you are signed in" page shows it.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use session_core::adapter::SessionManager;
/// use session_core::store::MemoryStore;
/// use session_core::{Principal, SessionConfig};
///
/// let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
/// let request = manager.request(None);
/// let session = request.session().await?;
/// session.set_principal(Principal::new("ada").attach("user_agent", "curl"))?;
/// request.finish().await?;
///
/// let sessions = manager.sessions_of("ada").await?;
/// assert_eq!(sessions.len(), 1);
/// assert_eq!(sessions[0].attached["user_agent"], "curl");
/// assert!(!sessions[0].current); // the manager is nobody's request
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LiveSession {
    /// The session's public name, for [`Session::revoke`](crate::Session::revoke).
    pub handle: SessionHandle,
    /// Whether it is the session of the request that asked.
    pub current: bool,
    /// When the session began.
    pub created_at: Timestamp,
    /// When it was last saved or refreshed (refreshes may be throttled, see
    /// [`Refresh`](crate::Refresh)).
    pub last_active: Timestamp,
    /// What the app attached at login ([`Principal::attach`]).
    pub attached: Map<String, Value>,
}

impl LiveSession {
    /// The entry for the record stored under `key` (not the caller's: `current` is false).
    pub(crate) fn new(key: &StorageKey, record: &Record) -> Self {
        Self {
            handle: SessionHandle::for_key(key),
            current: false,
            created_at: record.created_at,
            last_active: record.last_active,
            attached: Principal::of(record)
                .map(|principal| principal.attached)
                .unwrap_or_default(),
        }
    }
}

/// The error of a per-user index operation on a backend that keeps no index.
pub(crate) fn index_unsupported() -> SessionError {
    SessionError::Unsupported {
        feature: "the per-user session index",
        reason: "this backend keeps no index of sessions by user (a cookie session lives in \
                 the browser, where the server cannot list or end it; a Flask-Session \
                 compatible store keeps only what Flask-Session keeps); use a server-side \
                 store such as SQLite, Redis, PostgreSQL or memory",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionId;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn handles_are_22_url_safe_characters_and_parse_back() -> TestResult {
        let key = StorageKey::hashed(&SessionId::generate()?);
        let handle = SessionHandle::for_key(&key);
        assert_eq!(handle.as_str().len(), 22);
        assert_eq!(handle.as_str().parse::<SessionHandle>()?, handle);
        assert_eq!(handle.to_string(), handle.as_str());
        assert!(format!("{handle:?}").contains(handle.as_str()));
        assert_ne!(
            handle,
            SessionHandle::for_key(&StorageKey::hashed(&SessionId::generate()?))
        );
        Ok(())
    }

    #[test]
    fn text_that_is_not_a_handle_is_refused() {
        for bad in [
            "",
            "AAAAAAAAAAAAAAAAAAAAA",    // 21
            "AAAAAAAAAAAAAAAAAAAAAAAA", // 24
            "AAAAAAAAAAAAAAAAAAAAA+",   // standard, not URL-safe, base64
            "AAAAAAAAAAAAAAAAAAAAAB",   // stray trailing bits
            "../../../../etc/passwd..",
        ] {
            assert!(bad.parse::<SessionHandle>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn handles_serialize_as_their_text_and_refuse_bad_text() -> TestResult {
        let handle: SessionHandle = "AAAAAAAAAAAAAAAAAAAAAA".parse()?;
        let json = serde_json::to_string(&handle)?;
        assert_eq!(json, r#""AAAAAAAAAAAAAAAAAAAAAA""#);
        assert_eq!(serde_json::from_str::<SessionHandle>(&json)?, handle);
        assert!(serde_json::from_str::<SessionHandle>(r#""short""#).is_err());
        Ok(())
    }

    #[test]
    fn principals_keep_what_the_app_attached() {
        let principal = Principal::new("ada")
            .attach("user_agent", "curl")
            .attach("n", 1);
        assert_eq!(principal.name(), "ada");
        assert_eq!(principal.attached().len(), 2);
        assert_eq!(principal.attached()["user_agent"], "curl");
    }
}
