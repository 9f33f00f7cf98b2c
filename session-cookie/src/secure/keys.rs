//! The signing and encryption subkeys of a [`KeyRing`], paired per master key.

use std::fmt;

use aes_gcm::{Aes256Gcm, KeyInit};
use session_core::keys::{purpose, Key, KeyId, KeyRing};

/// The subkeys derived from one master key of the ring.
#[derive(Clone)]
pub(crate) struct Entry {
    /// Signs and verifies; its id is the key id written into cookies.
    pub(crate) sign: Key,
    /// AES-256-GCM with the encryption subkey, its key schedule computed once.
    pub(crate) cipher: Aes256Gcm,
}

impl Entry {
    fn new(sign: Key, encrypt: &Key) -> Self {
        // A derived key is one HMAC-SHA256 output: exactly the 32 bytes AES-256 takes.
        let mut bytes = [0_u8; 32];
        for (slot, byte) in bytes.iter_mut().zip(encrypt.as_bytes()) {
            *slot = *byte;
        }
        Self {
            sign,
            cipher: Aes256Gcm::new(&bytes.into()),
        }
    }

    /// The id cookies carry to name this entry.
    pub(crate) fn id(&self) -> KeyId {
        self.sign.id()
    }
}

/// The entry that signs new cookies and the older ones that still open them.
#[derive(Clone)]
pub(crate) struct KeySet {
    signing: Entry,
    older: Vec<Entry>,
}

impl KeySet {
    pub(crate) fn new(ring: &KeyRing) -> Self {
        let signs = ring.derive(purpose::COOKIE_SIGNING);
        let encrypts = ring.derive(purpose::COOKIE_ENCRYPTION);
        let mut entries = signs
            .iter()
            .zip(encrypts.iter())
            .map(|(sign, encrypt)| Entry::new(sign.clone(), encrypt));
        let signing = entries
            .next()
            .unwrap_or_else(|| Entry::new(signs.signing().clone(), encrypts.signing()));
        Self {
            signing,
            older: entries.collect(),
        }
    }

    /// The newest key's entry: it signs and encrypts every cookie written.
    pub(crate) fn signing(&self) -> &Entry {
        &self.signing
    }

    /// The entry whose signing subkey has `id`.
    pub(crate) fn find(&self, id: KeyId) -> Option<&Entry> {
        std::iter::once(&self.signing)
            .chain(&self.older)
            .find(|entry| entry.id() == id)
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("signing", &self.signing.id())
            .field(
                "older",
                &self.older.iter().map(Entry::id).collect::<Vec<_>>(),
            )
            .finish()
    }
}
