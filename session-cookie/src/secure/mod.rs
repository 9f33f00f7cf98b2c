//! Signing and encryption of native session cookies, kept small and apart.
//!
//! A sealed value has five parts, each URL-safe base64 without padding, joined by dots:
//!
//! ```text
//! s1.<kid>.<ts>.<payload>.<tag>      signed
//! e1.<kid>.<ts>.<payload>.<tag>      signed and encrypted
//! ```
//!
//! | part | bytes | what it is |
//! |---|---|---|
//! | version | `s1` / `e1` | the format version; `e` when the payload is encrypted |
//! | `kid` | 4 | [`KeyId`](session_core::keys::KeyId) of the signing subkey, so any key of the ring can be picked to verify |
//! | `ts` | 8 | issue time, Unix milliseconds, big-endian `i64` |
//! | `payload` | n | the plaintext (`s1`), or `nonce(12) ‖ AES-256-GCM ciphertext ‖ GCM tag(16)` with the cookie name as associated data (`e1`) |
//! | `tag` | 32 | HMAC-SHA256 ([`Key::sign`](session_core::keys::Key::sign), length-prefixed parts) over the cookie name and the text before the last dot |
//!
//! The MAC covers the cookie name, the version, the key id, the timestamp and the payload,
//! so none of them can be changed, nor the value moved to a cookie of another name. It is
//! checked (in constant time) before anything else is decoded. Encryption adds secrecy:
//! the payload is unreadable without the key; the random 96-bit nonce makes every
//! encrypted value different even for the same data and time.
//!
//! Keys: [`CookieCodec::new`] takes a [`KeyRing`](session_core::keys::KeyRing) (the app's
//! master ring) and uses each key's subkeys derived under
//! [`purpose::COOKIE_SIGNING`](session_core::keys::purpose::COOKIE_SIGNING) and
//! [`purpose::COOKIE_ENCRYPTION`](session_core::keys::purpose::COOKIE_ENCRYPTION), so the
//! same master secret can serve other purposes (signing id cookies) without key reuse.
//!
//! ```
//! use session_core::clock::Timestamp;
//! use session_core::keys::{Key, KeyRing};
//! use session_cookie::secure::{CookieCodec, OpenError};
//!
//! let old = Key::try_from_secret("last year's secret, at least 32 bytes long")?;
//! let new = Key::try_from_secret("this year's secret, also 32 bytes or more")?;
//! let before = CookieCodec::new(&KeyRing::new(old.clone()));
//! let after = CookieCodec::new(&KeyRing::new(new).with_verifying(old));
//!
//! let value = before.seal("session", b"{}", Timestamp::from_unix_millis(1))?;
//! let opened = after.open("session", &value)?;
//! assert!(!opened.by_signing_key, "an old key verified it: re-seal with the new one");
//!
//! let mut forged = value.into_bytes();
//! forged[12] ^= 1;
//! let forged = String::from_utf8(forged)?;
//! assert!(after.open("session", &forged).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod codec;
mod error;
mod keys;
mod private;

pub(crate) use self::codec::base64_len;
pub use self::codec::{CookieCodec, Opened, MAX_VALUE_LEN};
pub use self::error::{OpenError, Part, SealError};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use session_core::clock::Timestamp;
    use session_core::keys::{Key, KeyRing};

    use super::*;

    fn ring(byte: u8) -> KeyRing {
        KeyRing::new(Key::from_bytes(&[byte; 32]))
    }

    const AT: Timestamp = Timestamp::from_unix_millis(1_700_000_000_123);

    #[test]
    fn sealed_len_is_exact_for_every_remainder() {
        for encrypt in [false, true] {
            let codec = CookieCodec::new(&ring(1)).with_encryption(encrypt);
            for n in 0..10 {
                let value = codec.seal("s", &vec![b'x'; n], AT).unwrap();
                assert_eq!(
                    value.len(),
                    codec.sealed_len(n),
                    "n = {n}, encrypt = {encrypt}"
                );
            }
        }
    }

    /// Computed independently (Python's `hmac`/`hashlib`) from the layout in the module
    /// docs and session-core's key derivation: any change to the wire format breaks it.
    const VECTOR: &str = "s1.ZkYmpg.AAABi8_laHs.e30.7lX81vTMPSvHbllUd36X5l31XYSP3k_WLoWxS6Hh2T8";

    #[test]
    fn fixed_key_vector_pins_the_signed_layout() {
        let codec = CookieCodec::new(&ring(7));
        assert_eq!(codec.seal("session", b"{}", AT).unwrap(), VECTOR);
        let opened = codec.open("session", VECTOR).unwrap();
        assert_eq!(
            (opened.plaintext.as_slice(), opened.issued_at),
            (&b"{}"[..], AT)
        );
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let codec = CookieCodec::new(&ring(1));
        let value = codec.seal("session", b"{}", AT).unwrap();
        let stranger = CookieCodec::new(&ring(2));
        assert!(matches!(
            stranger.open("session", &value),
            Err(OpenError::UnknownKey)
        ));
        assert!(matches!(
            codec.open("cart", &value),
            Err(OpenError::BadSignature)
        ));
        let v2 = value.replacen("s1", "s2", 1);
        assert!(matches!(
            codec.open("session", &v2),
            Err(OpenError::UnknownVersion)
        ));
        assert!(matches!(
            codec.open("session", "s1.a.b"),
            Err(OpenError::Malformed(_))
        ));
        let long = "a".repeat(MAX_VALUE_LEN + 1);
        assert!(matches!(
            codec.open("session", &long),
            Err(OpenError::TooLong { .. })
        ));
        let downgraded = value.replacen("s1", "e1", 1);
        assert!(matches!(
            codec.open("session", &downgraded),
            Err(OpenError::BadSignature)
        ));
    }

    #[test]
    fn encryption_hides_the_payload_and_differs_every_time() {
        let codec = CookieCodec::new(&ring(3)).with_encryption(true);
        let a = codec.seal("session", b"secret-data", AT).unwrap();
        let b = codec.seal("session", b"secret-data", AT).unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        for value in [&a, &b] {
            assert!(value.starts_with("e1."));
            let opened = codec.open("session", value).unwrap();
            assert_eq!(opened.plaintext, b"secret-data");
            assert!(opened.encrypted && opened.by_signing_key);
        }
        // A codec with encryption off still opens encrypted values, and vice versa.
        let plain = CookieCodec::new(&ring(3));
        assert_eq!(plain.open("session", &a).unwrap().plaintext, b"secret-data");
        let signed = plain.seal("session", b"x", AT).unwrap();
        assert_eq!(codec.open("session", &signed).unwrap().plaintext, b"x");
    }
}
