//! [`CookieCodec`]: the versioned layout of a native session cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use session_core::clock::Timestamp;
use session_core::keys::{KeyId, KeyRing};

use super::keys::{Entry, KeySet};
use super::private::{self, NONCE_LEN, TAG_LEN};
use super::{OpenError, Part, SealError};

/// The version prefix of signed cookies.
const SIGNED: &str = "s1";
/// The version prefix of signed and encrypted cookies.
const ENCRYPTED: &str = "e1";
/// `s1.` / `e1.`, the 4-byte key id (6 characters), the 8-byte timestamp (11) and their dots.
const HEADER_CHARS: usize = 2 + 1 + 6 + 1 + 11 + 1;
/// A full HMAC-SHA256 tag and the dot before it.
const TAG_CHARS: usize = 1 + 43;
/// The longest value [`CookieCodec::open`] looks at: twice what any browser stores.
pub const MAX_VALUE_LEN: usize = 8 * 1024;

/// Seals bytes into a cookie value and opens them again: signed with HMAC-SHA256 and,
/// optionally, encrypted with AES-256-GCM.
///
/// The keys are subkeys of a [`KeyRing`]: each of its keys
/// [`derive`](session_core::keys::Key::derive)d under
/// [`purpose::COOKIE_SIGNING`](session_core::keys::purpose::COOKIE_SIGNING) and
/// [`purpose::COOKIE_ENCRYPTION`](session_core::keys::purpose::COOKIE_ENCRYPTION). The ring's signing key
/// seals; every key of the ring opens, chosen by the key id in the value, so keys rotate
/// without logging anyone out. See the [module docs](super) for the layout.
///
/// # Examples
///
/// ```
/// use session_core::clock::Timestamp;
/// use session_core::keys::{Key, KeyRing};
/// use session_cookie::secure::CookieCodec;
///
/// let ring = KeyRing::new(Key::try_from_secret("a secret of at least thirty-two bytes!")?);
/// let codec = CookieCodec::new(&ring).with_encryption(true);
/// let issued = Timestamp::from_unix_millis(1_700_000_000_123);
/// let value = codec.seal("session", br#"{"user":"ada"}"#, issued)?;
/// assert!(value.starts_with("e1.") && !value.contains("ada"));
///
/// let opened = codec.open("session", &value)?;
/// assert_eq!(opened.plaintext, br#"{"user":"ada"}"#);
/// assert_eq!(opened.issued_at, issued);
/// assert!(codec.open("other", &value).is_err(), "bound to the cookie name");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CookieCodec {
    keys: KeySet,
    encrypt: bool,
}

/// A verified (and decrypted) cookie value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Opened {
    /// The bytes that were sealed.
    pub plaintext: Vec<u8>,
    /// When the value was sealed, to the millisecond.
    pub issued_at: Timestamp,
    /// The id of the signing subkey that sealed it.
    pub key_id: KeyId,
    /// Whether the ring's current signing key sealed it; `false` means an older key did,
    /// and the value should be re-sealed.
    pub by_signing_key: bool,
    /// Whether the payload was encrypted.
    pub encrypted: bool,
}

impl CookieCodec {
    /// A codec signing with `keys`' signing key and verifying with all of them; encryption
    /// off.
    pub fn new(keys: &KeyRing) -> Self {
        Self {
            keys: KeySet::new(keys),
            encrypt: false,
        }
    }

    /// Turns AES-256-GCM encryption of sealed payloads on or off. Either way, [`open`]
    /// accepts both kinds, so switching logs nobody out.
    ///
    /// [`open`]: Self::open
    pub fn with_encryption(mut self, encrypt: bool) -> Self {
        self.encrypt = encrypt;
        self
    }

    /// Whether sealed payloads are encrypted.
    pub fn encrypts(&self) -> bool {
        self.encrypt
    }

    /// The key id new values carry.
    pub fn signing_key_id(&self) -> KeyId {
        self.keys.signing().id()
    }

    /// The exact length of the value [`seal`](Self::seal) makes for a plaintext of
    /// `plaintext_len` bytes, computed without sealing.
    pub fn sealed_len(&self, plaintext_len: usize) -> usize {
        let body = if self.encrypt {
            NONCE_LEN + plaintext_len + TAG_LEN
        } else {
            plaintext_len
        };
        HEADER_CHARS + base64_len(body) + TAG_CHARS
    }

    /// Seals `plaintext` for the cookie `name`, issued at `issued_at`.
    ///
    /// # Errors
    ///
    /// Only with encryption on: when the OS random source cannot supply a nonce.
    pub fn seal(
        &self,
        name: &str,
        plaintext: &[u8],
        issued_at: Timestamp,
    ) -> Result<String, SealError> {
        let entry = self.keys.signing();
        let mut value = String::with_capacity(self.sealed_len(plaintext.len()));
        value.push_str(if self.encrypt { ENCRYPTED } else { SIGNED });
        value.push('.');
        URL_SAFE_NO_PAD.encode_string(entry.id().to_bytes(), &mut value);
        value.push('.');
        URL_SAFE_NO_PAD.encode_string(issued_at.as_unix_millis().to_be_bytes(), &mut value);
        value.push('.');
        if self.encrypt {
            let sealed = private::encrypt(&entry.cipher, name, plaintext)?;
            URL_SAFE_NO_PAD.encode_string(sealed, &mut value);
        } else {
            URL_SAFE_NO_PAD.encode_string(plaintext, &mut value);
        }
        let tag = entry.sign.sign(&[name.as_bytes(), value.as_bytes()]);
        value.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut value);
        Ok(value)
    }

    /// Verifies a value sealed for the cookie `name` by any key of the ring and returns
    /// what was sealed. The signature is checked before anything else is decoded.
    ///
    /// # Errors
    ///
    /// An [`OpenError`] saying why the value is not genuine.
    pub fn open(&self, name: &str, value: &str) -> Result<Opened, OpenError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(OpenError::TooLong {
                len: value.len(),
                max: MAX_VALUE_LEN,
            });
        }
        let (signed, tag) = value
            .rsplit_once('.')
            .ok_or(OpenError::Malformed("no signature"))?;
        let mut parts = signed.splitn(4, '.');
        let (Some(version), Some(kid), Some(ts), Some(payload)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Malformed("expected five dot-separated parts"));
        };
        let encrypted = match version {
            SIGNED => false,
            ENCRYPTED => true,
            _ => return Err(OpenError::UnknownVersion),
        };
        let entry = self.entry(kid)?;
        let tag = decode_exact::<32>(tag, Part::Tag)?;
        if !entry
            .sign
            .verify(&[name.as_bytes(), signed.as_bytes()], &tag)
        {
            return Err(OpenError::BadSignature);
        }
        // Genuine from here on: only this codec's keys could have produced the parts.
        let issued_at = Timestamp::from_unix_millis(i64::from_be_bytes(decode_exact::<8>(
            ts,
            Part::Timestamp,
        )?));
        let body = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|source| bad(Part::Payload, Some(source)))?;
        let plaintext = if encrypted {
            private::decrypt(&entry.cipher, name, &body)?
        } else {
            body
        };
        Ok(Opened {
            plaintext,
            issued_at,
            key_id: entry.id(),
            by_signing_key: entry.id() == self.keys.signing().id(),
            encrypted,
        })
    }

    fn entry(&self, kid: &str) -> Result<&Entry, OpenError> {
        let kid = KeyId::from_bytes(decode_exact::<4>(kid, Part::KeyId)?);
        self.keys.find(kid).ok_or(OpenError::UnknownKey)
    }
}

/// Decodes a part that must be exactly `N` bytes.
fn decode_exact<const N: usize>(text: &str, part: Part) -> Result<[u8; N], OpenError> {
    if text.len() != base64_len(N) {
        return Err(bad(part, None));
    }
    // One spare byte: the decoder's size estimate rounds up.
    let mut buffer = [0_u8; 64];
    let written = URL_SAFE_NO_PAD
        .decode_slice(text, &mut buffer)
        .map_err(|source| bad(part, Some(source_of(source))))?;
    let mut out = [0_u8; N];
    match buffer.get(..written) {
        Some(bytes) if written == N => out.copy_from_slice(bytes),
        _ => return Err(bad(part, None)),
    }
    Ok(out)
}

fn source_of(error: base64::DecodeSliceError) -> base64::DecodeError {
    match error {
        base64::DecodeSliceError::DecodeError(error) => error,
        // The buffer is far larger than any part decoded into it.
        base64::DecodeSliceError::OutputSliceTooSmall => base64::DecodeError::InvalidLength(0),
    }
}

fn bad(part: Part, source: Option<base64::DecodeError>) -> OpenError {
    OpenError::BadBase64 { part, source }
}

/// The length of `n` bytes in unpadded base64.
pub(crate) const fn base64_len(n: usize) -> usize {
    n / 3 * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use session_core::keys::Key;

    use super::*;

    const AT: Timestamp = Timestamp::from_unix_millis(1_700_000_000_123);

    fn codec() -> CookieCodec {
        CookieCodec::new(&KeyRing::new(Key::from_bytes(&[5; 32])))
    }

    /// `value`'s first three parts with `version` in place of its own, signed again with
    /// the codec's key: genuine, whatever its body holds.
    fn resigned(codec: &CookieCodec, value: &str, version: &str) -> String {
        let (signed, _tag) = value.rsplit_once('.').unwrap();
        let body = format!("{version}{}", &signed[2..]);
        let tag = codec
            .keys
            .signing()
            .sign
            .sign(&[b"session", body.as_bytes()]);
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    #[test]
    fn a_genuine_encrypted_value_too_short_for_nonce_and_tag_is_malformed() {
        let codec = codec();
        for len in [0, 3, NONCE_LEN, NONCE_LEN + TAG_LEN - 1] {
            let short = codec.seal("session", &vec![b'x'; len], AT).unwrap();
            let value = resigned(&codec, &short, ENCRYPTED);
            assert!(
                matches!(codec.open("session", &value), Err(OpenError::Malformed(_))),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn an_empty_payload_round_trips_encrypted() {
        let codec = codec().with_encryption(true);
        assert!(codec.encrypts());
        assert!(!codec.clone().with_encryption(false).encrypts());
        let value = codec.seal("session", b"", AT).unwrap();
        assert_eq!(codec.open("session", &value).unwrap().plaintext, b"");
    }

    #[test]
    fn the_length_limit_refuses_only_what_is_longer() {
        let codec = codec();
        let at_limit = "a".repeat(MAX_VALUE_LEN);
        assert!(!matches!(
            codec.open("session", &at_limit),
            Err(OpenError::TooLong { .. })
        ));
        let over = "a".repeat(MAX_VALUE_LEN + 1);
        assert!(matches!(
            codec.open("session", &over),
            Err(OpenError::TooLong { len, max }) if len == MAX_VALUE_LEN + 1 && max == MAX_VALUE_LEN
        ));
    }

    #[test]
    fn errors_name_the_part_and_debug_shows_key_ids_only() {
        let codec = codec();
        let value = codec.seal("session", b"{}", AT).unwrap();
        let parts: Vec<&str> = value.split('.').collect();
        let error = |value: &str| codec.open("session", value).unwrap_err().to_string();
        // A genuine value whose part `index` is not base64.
        let broken = |index: usize| {
            let mut body = parts[..4].to_vec();
            body[index] = "!!";
            let body = body.join(".");
            let tag = codec
                .keys
                .signing()
                .sign
                .sign(&[b"session", body.as_bytes()]);
            error(&format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag)))
        };
        assert_eq!(broken(1), "invalid key id");
        assert_eq!(broken(2), "invalid timestamp");
        assert_eq!(broken(3), "invalid payload");
        assert_eq!(
            error(&format!("{}.!!", parts[..4].join("."))),
            "invalid tag"
        );
        let debug = format!("{codec:?}");
        let kid = URL_SAFE_NO_PAD.encode(codec.signing_key_id().to_bytes());
        assert!(debug.contains("KeySet { signing: "), "{debug}");
        assert!(debug.contains("older: []"), "{debug}");
        assert!(!debug.contains("[5, 5"), "no key bytes: {debug}");
        let _ = kid;
    }
}
