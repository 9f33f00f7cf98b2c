//! Session ids and the storage keys derived from them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How many random bytes a generated id holds: 256 bits, twice OWASP's 128-bit floor.
const ID_BYTES: usize = 32;
/// The shortest id [`SessionId::parse`] accepts: 22 URL-safe characters carry 128 bits.
const MIN_ID_CHARS: usize = 22;
/// The longest id [`SessionId::parse`] accepts, so a hostile cookie cannot make us hash
/// megabytes.
const MAX_ID_CHARS: usize = 256;

/// A session id: 256 bits from the operating system's random source, as URL-safe base64.
///
/// The id is the bearer credential of a session, so it is handled like a secret: its
/// `Debug` output is redacted, it has no `Display`, equality is constant-time, and a
/// server-side store never sees it (stores are handed a [`StorageKey`] instead).
///
/// # Examples
///
/// ```
/// use session_core::store::SessionId;
///
/// let id = SessionId::generate()?;
/// assert_eq!(id.as_str().len(), 43);
/// assert_eq!(format!("{id:?}"), "SessionId(REDACTED)");
/// assert_eq!(SessionId::parse(id.as_str())?, id);
/// assert!(SessionId::parse("../../etc/passwd").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// Draws a fresh id from the operating system's random source.
    ///
    /// # Errors
    ///
    /// [`RandomSourceError`] when the operating system cannot supply random bytes; no id
    /// is ever made from a weaker source.
    pub fn generate() -> Result<Self, RandomSourceError> {
        let mut bytes = [0_u8; ID_BYTES];
        getrandom::fill(&mut bytes).map_err(RandomSourceError)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Parses an id received from a client.
    ///
    /// Accepts 22 to 256 characters of the URL-safe base64 alphabet (`A-Z a-z 0-9 - _`), so
    /// ids issued by Flask-Session (`secrets.token_urlsafe`) parse too.
    ///
    /// # Errors
    ///
    /// [`InvalidSessionId`] for anything else; parsing never panics.
    pub fn parse(text: &str) -> Result<Self, InvalidSessionId> {
        let well_formed = (MIN_ID_CHARS..=MAX_ID_CHARS).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidSessionId { len: text.len() })
        }
    }

    /// The id as it travels in the cookie. Treat the result as a secret: do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(REDACTED)")
    }
}

impl FromStr for SessionId {
    type Err = InvalidSessionId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The text was not a well-formed session id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed session id ({len} bytes): expected {MIN_ID_CHARS} to {MAX_ID_CHARS} URL-safe base64 characters"
)]
pub struct InvalidSessionId {
    len: usize,
}

/// The operating system's random source failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomSourceError(getrandom::Error);

/// The name under which a server-side store keeps a session.
///
/// Derived from the [`SessionId`] by the generic server-side layer, never by the store:
/// a store only ever holds `StorageKey`s, so a leaked database or Redis dump holds no
/// usable session cookie.
///
/// # Examples
///
/// ```
/// use session_core::store::{SessionId, StorageKey};
///
/// let id = SessionId::generate()?;
/// let key = StorageKey::hashed(&id);
/// assert_eq!(key.as_str().len(), 64);
/// assert!(!key.as_str().contains(id.as_str()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StorageKey {
    /// Shared, not copied: a request's key is cloned into the lock map, the lock guard and
    /// the loaded session, and a clone should cost a reference count, not an allocation.
    text: Arc<str>,
    holds_raw_id: bool,
}

impl StorageKey {
    /// The lowercase hex SHA-256 of the id: the key every store uses by default.
    pub fn hashed(id: &SessionId) -> Self {
        let digest = Sha256::digest(id.as_str().as_bytes());
        // Into a buffer on the stack, then one allocation for the shared text: pushing
        // `char`s onto a `String` cost as much as the hash itself.
        let mut hex = [0_u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        Self {
            // Always borrowed, never lossy: every byte came from `HEX`.
            text: Arc::from(&*String::from_utf8_lossy(&hex)),
            holds_raw_id: false,
        }
    }

    /// The raw id itself, for compatibility with Flask-Session, which stores sessions
    /// under `session:<raw id>`.
    ///
    /// This is the one documented exception to hashing ids at rest: use it only to share
    /// records with a Flask-Session application.
    pub fn raw_for_flask_session_compat(id: &SessionId) -> Self {
        Self {
            text: id.as_str().into(),
            holds_raw_id: true,
        }
    }

    /// A hashed key as a store wrote it out ([`as_str`](Self::as_str)): 64 lowercase hex
    /// digits. For stores that read keys back from an index; `None` for anything else.
    ///
    /// # Examples
    ///
    /// ```
    /// use session_core::store::{SessionId, StorageKey};
    ///
    /// let key = StorageKey::hashed(&SessionId::generate()?);
    /// assert_eq!(StorageKey::parse_hashed(key.as_str()), Some(key));
    /// assert_eq!(StorageKey::parse_hashed("session:raw-id"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_hashed(text: &str) -> Option<Self> {
        let hex = text.len() == 64 && text.bytes().all(|b| HEX.contains(&b));
        hex.then(|| Self {
            text: text.into(),
            holds_raw_id: false,
        })
    }

    /// The key as text, for the store to use as its row key or key suffix.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.holds_raw_id {
            f.write_str("StorageKey(REDACTED)")
        } else {
            f.debug_tuple("StorageKey").field(&self.text).finish()
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hashed_key_parses_as_one() -> Result<(), Box<dyn std::error::Error>> {
        let id = SessionId::generate()?;
        assert_eq!(format!("{id:?}"), "SessionId(REDACTED)");
        let key = StorageKey::hashed(&id);
        assert_eq!(StorageKey::parse_hashed(key.as_str()), Some(key.clone()));
        let hex = key.as_str();
        for not_a_key in [
            &hex[1..],
            &format!("{hex}0"),
            &hex.to_ascii_uppercase(),
            &format!("{}g", &hex[1..]),
            "session:raw-id",
        ] {
            assert_eq!(StorageKey::parse_hashed(not_a_key), None, "{not_a_key}");
        }
        Ok(())
    }

    #[test]
    fn generated_ids_are_distinct_and_parse_back() -> Result<(), Box<dyn std::error::Error>> {
        let a = SessionId::generate()?;
        let b = SessionId::generate()?;
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str())?, a);
        Ok(())
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "short",
            "has space in it but is long enough",
            "emoji😀emoji😀emoji😀emoji😀",
            "padding=padding=padding=",
            &"a".repeat(MAX_ID_CHARS + 1),
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn storage_key_is_sha256_hex() -> Result<(), Box<dyn std::error::Error>> {
        let id = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")?;
        let key = StorageKey::hashed(&id);
        let expected: String = Sha256::digest(id.as_str())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(key.as_str(), expected);
        Ok(())
    }

    #[test]
    fn debug_never_shows_raw_ids() -> Result<(), Box<dyn std::error::Error>> {
        let id = SessionId::generate()?;
        let compat = StorageKey::raw_for_flask_session_compat(&id);
        assert!(!format!("{id:?}{compat:?}").contains(id.as_str()));
        Ok(())
    }
}
