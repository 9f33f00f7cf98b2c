//! Secret keys and key rings: one secret, every key the workspace needs.
//!
//! An app has one [`KeyRing`] (its secret, and older secrets that still verify);
//! [`SessionConfig::with_keys`](crate::SessionConfig::with_keys) holds it, and each
//! consumer derives its own subkey under a label of [`purpose`].
//! [`SessionSettings`](crate::SessionSettings) builds the ring from configuration.

pub mod purpose;

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest secret accepted: 256 bits.
pub const MIN_KEY_BYTES: usize = 32;

/// A secret key of at least 32 bytes with a short public id derived from it.
///
/// `Debug` prints only the id; equality is constant-time. Keys are built from bytes or a
/// string, fallibly ([`Key::try_from_bytes`], [`Key::try_from_secret`]) or, for code that
/// treats a bad key as a bug, with a panic ([`Key::from_bytes`]).
///
/// # Examples
///
/// ```
/// use session_core::keys::Key;
///
/// let key = Key::try_from_secret("correct horse battery staple, but longer than 32 bytes")?;
/// assert!(format!("{key:?}").contains("REDACTED"));
/// assert!(Key::try_from_secret("hunter2").is_err());
/// # Ok::<(), session_core::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    id: KeyId,
    bytes: Vec<u8>,
    /// HMAC-SHA256 with this key already absorbed: cloning it per signature skips the two
    /// key-padding blocks every fresh HMAC would hash again.
    mac: HmacSha256,
}

impl Key {
    /// A key from secret bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] when `bytes` is shorter than [`MIN_KEY_BYTES`].
    pub fn try_from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                actual: bytes.len(),
            });
        }
        Ok(Self::new_unchecked(bytes.to_vec()))
    }

    fn new_unchecked(bytes: Vec<u8>) -> Self {
        let mac = HmacSha256::new_from_slice(&bytes)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Self {
            id: KeyId::of(&bytes),
            bytes,
            mac,
        }
    }

    /// A key from secret bytes.
    ///
    /// # Panics
    ///
    /// When `bytes` is shorter than [`MIN_KEY_BYTES`]; use [`Key::try_from_bytes`] to
    /// handle that as an error.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match Self::try_from_bytes(bytes) {
            Ok(key) => key,
            Err(error) => panic!("{error}"),
        }
    }

    /// A key from a secret string such as an environment variable; its UTF-8 bytes are the
    /// key.
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] when the string is shorter than 32 bytes.
    pub fn try_from_secret(secret: &str) -> Result<Self, KeyError> {
        Self::try_from_bytes(secret.as_bytes())
    }

    /// A new random 64-byte key from the operating system's random source.
    ///
    /// # Errors
    ///
    /// [`KeyError::RandomSource`] when the operating system cannot supply random bytes.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0_u8; 64];
        getrandom::fill(&mut bytes).map_err(KeyError::RandomSource)?;
        Self::try_from_bytes(&bytes)
    }

    /// A subkey for one purpose, so one secret can sign and encrypt without reusing key
    /// material: HMAC-SHA256 of `purpose` under this key (HKDF-Expand for one block).
    pub fn derive(&self, purpose: &str) -> Key {
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[1]);
        Self::new_unchecked(mac.finalize().into_bytes().to_vec())
    }

    /// The key's public id: the first 4 bytes of a SHA-256 over the key, as 8 hex digits.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The secret bytes, for the signing or encryption code that needs them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// An HMAC-SHA256 over `parts`, each length-prefixed so that no two different part
    /// lists can produce the same input.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is this key's [`Key::sign`] over `parts` (or a prefix of it of at
    /// least 16 bytes), compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        if tag.len() < 16 || tag.len() > 32 {
            return false;
        }
        let expected = self.sign(parts);
        expected[..tag.len()].ct_eq(tag).into()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("bytes", &"REDACTED")
            .finish()
    }
}

/// The public id of a [`Key`]: safe to put in a cookie or a log.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 4]);

impl KeyId {
    fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"session-core key id\0")
            .chain_update(bytes)
            .finalize();
        Self([digest[0], digest[1], digest[2], digest[3]])
    }

    /// The id as 4 bytes.
    pub fn to_bytes(self) -> [u8; 4] {
        self.0
    }

    /// The id from 4 bytes, as read back from a cookie.
    pub fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "KeyId({a:02x}{b:02x}{c:02x}{d:02x})")
    }
}

/// One key that signs and older keys that still verify, so keys rotate without logging
/// everyone out.
///
/// # Examples
///
/// ```
/// use session_core::keys::{Key, KeyRing};
///
/// let old = Key::try_from_secret("the secret we used until last month, 32+ bytes")?;
/// let new = Key::try_from_secret("the secret we use from now on, also 32+ bytes")?;
/// let ring = KeyRing::new(new.clone()).with_verifying(old.clone());
/// assert_eq!(ring.signing(), &new);
/// assert_eq!(ring.find(old.id()), Some(&old));
/// # Ok::<(), session_core::keys::KeyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl KeyRing {
    /// A ring whose only key signs and verifies.
    pub fn new(signing: Key) -> Self {
        Self {
            keys: vec![signing],
        }
    }

    /// Adds an older key that still verifies but no longer signs.
    pub fn with_verifying(mut self, key: Key) -> Self {
        if !self.keys.iter().any(|k| k.id == key.id) {
            self.keys.push(key);
        }
        self
    }

    /// The key that signs new values.
    pub fn signing(&self) -> &Key {
        &self.keys[0]
    }

    /// The key with this id, if the ring holds it.
    pub fn find(&self, id: KeyId) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Every key, the signing one first.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// The same ring with every key replaced by its [`Key::derive`] subkey for `purpose`.
    pub fn derive(&self, purpose: &str) -> KeyRing {
        Self {
            keys: self.keys.iter().map(|k| k.derive(purpose)).collect(),
        }
    }
}

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is too short to resist guessing.
    #[error(
        "secret key is {actual} bytes, at least {MIN_KEY_BYTES} are required; generate one with `openssl rand -base64 48`"
    )]
    TooShort {
        /// How many bytes the secret had.
        actual: usize,
    },
    /// The operating system's random source failed.
    #[error("the operating system's random source failed: {0}")]
    RandomSource(getrandom::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::from_bytes(&[byte; 32])
    }

    #[test]
    fn short_secret_error_says_how_to_make_a_good_one() {
        let error = Key::try_from_secret("too short")
            .err()
            .map(|e| e.to_string());
        let message = error.unwrap_or_default();
        assert!(message.contains("9 bytes"), "{message}");
        assert!(message.contains("openssl rand"), "{message}");
    }

    #[test]
    fn signatures_verify_only_with_their_key_and_parts() {
        let (a, b) = (key(1), key(2));
        let tag = a.sign(&[b"session", b"payload"]);
        assert!(a.verify(&[b"session", b"payload"], &tag));
        assert!(a.verify(&[b"session", b"payload"], &tag[..16]));
        assert!(!a.verify(&[b"session", b"payload"], &tag[..8]));
        assert!(!b.verify(&[b"session", b"payload"], &tag));
        assert!(!a.verify(&[b"sessionp", b"ayload"], &tag));
    }

    #[test]
    fn derived_keys_differ_per_purpose_and_from_the_master() {
        let master = key(7);
        let (sign, encrypt) = (master.derive("sign"), master.derive("encrypt"));
        assert_ne!(sign, encrypt);
        assert_ne!(sign, master);
        assert_eq!(sign, master.derive("sign"));
    }

    #[test]
    fn a_key_holds_exactly_its_bytes_and_derives_as_hkdf_expand() -> Result<(), KeyError> {
        assert_eq!(key(3).as_bytes(), [3; 32]);
        assert_eq!(Key::generate()?.as_bytes().len(), 64);
        // HMAC-SHA256(key, purpose || 0x01), computed with Python's hmac module.
        let expected = "414faecca659295ae850e1759a265871438703f3a5bb2390529c43ab536004ef";
        let derived: String = key(7)
            .derive("sign")
            .as_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(derived, expected);
        Ok(())
    }

    #[test]
    fn debug_redacts_secret_bytes() {
        assert!(!format!("{:?}", key(0x41)).contains("65"));
    }

    #[test]
    fn a_key_is_named_by_its_public_id() {
        // SHA-256 of "session-core key id\0" and the key, first 4 bytes (Python hashlib).
        let id = key(3).id();
        assert_eq!(id.to_bytes(), [0xd4, 0x58, 0xea, 0xaf]);
        assert_eq!(KeyId::from_bytes(id.to_bytes()), id);
        assert_eq!(format!("{id:?}"), "KeyId(d458eaaf)");
        assert_eq!(
            format!("{:?}", key(3)),
            "Key { id: KeyId(d458eaaf), bytes: \"REDACTED\" }"
        );
    }

    #[test]
    fn a_ring_finds_each_of_its_keys_by_id_and_signs_with_the_first() {
        let (new, old, stranger) = (key(1), key(2), key(3));
        let ring = KeyRing::new(new.clone())
            .with_verifying(old.clone())
            .with_verifying(old.clone());
        assert_eq!(ring.signing(), &new);
        assert_eq!(ring.find(new.id()), Some(&new));
        assert_eq!(ring.find(old.id()), Some(&old));
        assert_eq!(ring.find(stranger.id()), None);
        let keys: Vec<&Key> = ring.iter().collect();
        assert_eq!(keys, [&new, &old], "signing first, each key once");

        let derived = ring.derive("purpose");
        let old_derived = old.derive("purpose");
        assert_eq!(derived.signing(), &new.derive("purpose"));
        assert_eq!(derived.find(old_derived.id()), Some(&old_derived));
    }
}
