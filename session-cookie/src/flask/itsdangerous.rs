//! `itsdangerous.URLSafeTimedSerializer` as Flask's
//! `SecureCookieSessionInterface` configures it.
//!
//! Wire format: `payload.timestamp.signature`, each part URL-safe base64
//! without padding, where
//!
//! * `payload` is the serialized JSON, zlib-compressed and prefixed with `.`
//!   when that is shorter (`len(compressed) < len(json) - 1`);
//! * `timestamp` is the big-endian issue time in seconds with leading zero
//!   bytes removed;
//! * `signature` is `HMAC-SHA1(derived_key, "payload.timestamp")` with
//!   `derived_key = HMAC-SHA1(secret_key, "cookie-session")` (itsdangerous's
//!   `key_derivation="hmac"` with Flask's salt).
//!
//! Verification recomputes the signature with the current secret and then with
//! each fallback (Flask's `SECRET_KEY_FALLBACKS`) and compares in constant
//! time. The signature is checked before the payload is decoded, and the
//! decompressed size is capped so a signed zip bomb cannot exhaust memory.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::zlib::{zlib_compress, zlib_decompress};

/// Flask's salt for the session cookie serializer.
pub const SALT: &[u8] = b"cookie-session";

/// Default cap on the size of a decompressed payload (64 KiB).
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 * 1024;

/// URL-safe base64; emits no padding, accepts it with or without.
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha1 = Hmac<Sha1>;

/// Which part of a signed value failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The (possibly compressed) payload.
    Payload,
    /// The timestamp.
    Timestamp,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Payload => "payload",
            Part::Timestamp => "timestamp",
        })
    }
}

/// Errors from verifying and unpacking a signed value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ItsdangerousError {
    /// The value does not have the `payload.timestamp.signature` shape.
    #[error("malformed signed value: {0}")]
    Malformed(&'static str),
    /// No secret (current or fallback) produced the signature.
    #[error("signature does not match")]
    BadSignature,
    /// A part is not valid URL-safe base64.
    #[error("invalid base64 in {part}")]
    BadBase64 {
        /// The part that failed.
        part: Part,
        /// The decoder's error.
        #[source]
        source: base64::DecodeError,
    },
    /// The timestamp does not fit in 64 bits.
    #[error("timestamp is longer than 8 bytes")]
    BadTimestamp,
    /// The payload is not a valid zlib stream.
    #[error("invalid zlib data in payload")]
    BadZlib(#[source] flate2::DecompressError),
    /// The zlib stream ends early.
    #[error("truncated zlib data in payload")]
    TruncatedZlib,
    /// The decompressed payload is larger than the configured limit.
    #[error("decompressed payload exceeds {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The signature is older than the allowed maximum age.
    #[error("signature age {age} s exceeds max age {max_age} s")]
    Expired {
        /// Age of the signature in seconds.
        age: u64,
        /// Allowed maximum age in seconds.
        max_age: u64,
    },
    /// The signature claims to be issued after `now`.
    #[error("signature issued at {issued_at} is in the future (now {now})")]
    FromFuture {
        /// Claimed issue time (Unix seconds).
        issued_at: u64,
        /// The caller's current time (Unix seconds).
        now: u64,
    },
}

/// A verified signed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The decoded payload (decompressed if it was compressed).
    pub payload: Vec<u8>,
    /// Issue time in Unix seconds.
    pub timestamp: u64,
    /// `None` if the current secret verified it, `Some(i)` if fallback `i` did.
    pub fallback_index: Option<usize>,
}

/// Derives the signing key: `HMAC-SHA1(secret, "cookie-session")`.
pub fn derive_key(secret: &[u8]) -> [u8; 20] {
    let mut mac = new_mac(secret);
    mac.update(SALT);
    mac.finalize().into_bytes().into()
}

fn new_mac(key: &[u8]) -> HmacSha1 {
    // HMAC accepts keys of any length; the error arm is unreachable.
    <HmacSha1 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

/// One secret, ready to sign and verify: the key derived from it
/// (`HMAC-SHA1(secret, "cookie-session")`) and HMAC's state keyed with that, both
/// computed once. Deriving per call, as itsdangerous does, costs two HMACs of every
/// signature check.
///
/// ```
/// use session_cookie::flask::itsdangerous::{sign, sign_with, unsign_with, Signer};
///
/// let signer = Signer::new(b"a long, random secret key of 32+ bytes");
/// let value = sign_with("eyJhIjoxfQ", 1_700_000_000, &signer);
/// assert_eq!(value, sign("eyJhIjoxfQ", 1_700_000_000, b"a long, random secret key of 32+ bytes"));
/// let (payload, issued_at, fallback) = unsign_with(&value, &signer, &[])?;
/// assert_eq!((payload, issued_at, fallback), ("eyJhIjoxfQ", 1_700_000_000, None));
/// # Ok::<(), session_cookie::flask::ItsdangerousError>(())
/// ```
#[derive(Clone)]
pub struct Signer {
    keyed: HmacSha1,
}

impl Signer {
    /// The signer for `secret` (Flask's `SECRET_KEY`, or one of its fallbacks).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            keyed: new_mac(&derive_key(secret)),
        }
    }

    fn mac(&self, signed_part: &[u8]) -> HmacSha1 {
        let mut mac = self.keyed.clone();
        mac.update(signed_part);
        mac
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(REDACTED)")
    }
}

/// Encodes `timestamp` like itsdangerous: minimal big-endian bytes, base64.
pub fn encode_timestamp(timestamp: u64) -> String {
    let bytes = timestamp.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    URL_SAFE.encode(&bytes[first..])
}

/// Decodes an itsdangerous timestamp part.
pub fn decode_timestamp(part: &str) -> Result<u64, ItsdangerousError> {
    let bytes = URL_SAFE
        .decode(part)
        .map_err(|source| ItsdangerousError::BadBase64 {
            part: Part::Timestamp,
            source,
        })?;
    if bytes.len() > 8 {
        return Err(ItsdangerousError::BadTimestamp);
    }
    Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Payloads shorter than this are sent as they are, not offered to zlib (with the
/// `zlib-compat` feature, which asks for CPython's exact bytes, every payload is).
///
/// Setting up deflate zeroes about 300 KB of tables: 76% of the instructions of a Flask
/// cookie save, for a payload of a hundred bytes (callgrind, `benches/scripts/profile.sh
/// ours-flask-cookie counter`). What it can save below this size is a couple of hundred
/// bytes at most, and only on repetitive data; whether a session fits its cookie never
/// depends on it, since the limit is judged before compression.
pub const MIN_COMPRESSED_LEN: usize = if cfg!(feature = "zlib-compat") {
    0
} else {
    256
};

/// Encodes serialized JSON as an itsdangerous URL-safe payload, compressing
/// (and prefixing `.`) when zlib saves more than one byte, as itsdangerous does; payloads
/// shorter than [`MIN_COMPRESSED_LEN`] are not compressed.
pub fn encode_payload(json: &[u8]) -> String {
    let compressed = (json.len() >= MIN_COMPRESSED_LEN)
        .then(|| zlib_compress(json))
        .flatten();
    match compressed {
        Some(compressed) if compressed.len() + 1 < json.len() => {
            let mut out = String::with_capacity(compressed.len() * 4 / 3 + 2);
            out.push('.');
            URL_SAFE.encode_string(&compressed, &mut out);
            out
        }
        _ => URL_SAFE.encode(json),
    }
}

/// Decodes a payload part, decompressing it if it starts with `.`; the
/// decompressed size is limited to `max_decompressed` bytes.
pub fn decode_payload(
    payload: &str,
    max_decompressed: usize,
) -> Result<Vec<u8>, ItsdangerousError> {
    let (compressed, b64) = match payload.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, payload),
    };
    let bytes = URL_SAFE
        .decode(b64)
        .map_err(|source| ItsdangerousError::BadBase64 {
            part: Part::Payload,
            source,
        })?;
    if compressed {
        zlib_decompress(&bytes, max_decompressed)
    } else {
        Ok(bytes)
    }
}

/// Signs an already encoded payload: returns `payload.timestamp.signature`.
pub fn sign(payload: &str, timestamp: u64, secret: &[u8]) -> String {
    sign_with(payload, timestamp, &Signer::new(secret))
}

/// [`sign`] with a prepared [`Signer`].
pub fn sign_with(payload: &str, timestamp: u64, signer: &Signer) -> String {
    let mut out = String::with_capacity(payload.len() + 40);
    out.push_str(payload);
    out.push('.');
    out.push_str(&encode_timestamp(timestamp));
    let tag = signer.mac(out.as_bytes()).finalize().into_bytes();
    out.push('.');
    URL_SAFE.encode_string(tag, &mut out);
    out
}

/// Verifies `value` with `secret`, then each of `fallbacks`, and returns the
/// still-encoded payload part, the timestamp and which fallback matched.
/// Does not check the age; see [`check_max_age`].
pub fn unsign<'v, S: AsRef<[u8]>>(
    value: &'v str,
    secret: &[u8],
    fallbacks: &[S],
) -> Result<(&'v str, u64, Option<usize>), ItsdangerousError> {
    let fallbacks: Vec<Signer> = fallbacks
        .iter()
        .map(|key| Signer::new(key.as_ref()))
        .collect();
    unsign_with(value, &Signer::new(secret), &fallbacks)
}

/// [`unsign`] with prepared [`Signer`]s.
pub fn unsign_with<'v>(
    value: &'v str,
    signer: &Signer,
    fallbacks: &[Signer],
) -> Result<(&'v str, u64, Option<usize>), ItsdangerousError> {
    let (signed_part, signature) = value
        .rsplit_once('.')
        .ok_or(ItsdangerousError::Malformed("no separator found"))?;
    // itsdangerous treats undecodable signatures as mismatches.
    let signature = URL_SAFE
        .decode(signature)
        .map_err(|_| ItsdangerousError::BadSignature)?;
    // `verify_slice` compares in constant time.
    let verifies = |signer: &Signer| {
        signer
            .mac(signed_part.as_bytes())
            .verify_slice(&signature)
            .is_ok()
    };
    let fallback_index = if verifies(signer) {
        None
    } else {
        let index = fallbacks.iter().position(verifies);
        Some(index.ok_or(ItsdangerousError::BadSignature)?)
    };
    let (payload, timestamp) = signed_part
        .rsplit_once('.')
        .ok_or(ItsdangerousError::Malformed("timestamp missing"))?;
    Ok((payload, decode_timestamp(timestamp)?, fallback_index))
}

/// Checks a signature's age like `TimestampSigner.unsign(max_age=...)`:
/// fails if `now - issued_at > max_age` or if `issued_at` is after `now`.
pub fn check_max_age(issued_at: u64, max_age: u64, now: u64) -> Result<(), ItsdangerousError> {
    let age = now
        .checked_sub(issued_at)
        .ok_or(ItsdangerousError::FromFuture { issued_at, now })?;
    if age > max_age {
        return Err(ItsdangerousError::Expired { age, max_age });
    }
    Ok(())
}

/// `URLSafeTimedSerializer.dumps` for already serialized JSON.
pub fn dumps(json: &[u8], timestamp: u64, secret: &[u8]) -> String {
    sign(&encode_payload(json), timestamp, secret)
}

/// [`dumps`] with a prepared [`Signer`].
pub fn dumps_with(json: &[u8], timestamp: u64, signer: &Signer) -> String {
    sign_with(&encode_payload(json), timestamp, signer)
}

/// `URLSafeTimedSerializer.loads` up to (not including) JSON parsing:
/// verifies the signature, optionally the age, and decodes the payload.
pub fn loads<S: AsRef<[u8]>>(
    value: &str,
    secret: &[u8],
    fallbacks: &[S],
    max_age: Option<u64>,
    now: u64,
    max_decompressed: usize,
) -> Result<Verified, ItsdangerousError> {
    let fallbacks: Vec<Signer> = fallbacks
        .iter()
        .map(|key| Signer::new(key.as_ref()))
        .collect();
    let limits = Limits {
        max_age,
        now,
        max_decompressed,
    };
    loads_with(value, &Signer::new(secret), &fallbacks, limits)
}

/// What [`loads_with`] checks besides the signature.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The oldest signature accepted, in seconds; `None` for any age.
    pub max_age: Option<u64>,
    /// The current time, in Unix seconds (for `max_age`).
    pub now: u64,
    /// The cap on a decompressed payload, in bytes.
    pub max_decompressed: usize,
}

/// [`loads`] with prepared [`Signer`]s.
pub fn loads_with(
    value: &str,
    signer: &Signer,
    fallbacks: &[Signer],
    limits: Limits,
) -> Result<Verified, ItsdangerousError> {
    let (payload, timestamp, fallback_index) = unsign_with(value, signer, fallbacks)?;
    if let Some(max_age) = limits.max_age {
        check_max_age(timestamp, max_age, limits.now)?;
    }
    Ok(Verified {
        payload: decode_payload(payload, limits.max_decompressed)?,
        timestamp,
        fallback_index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_round_trip_and_minimal_bytes() {
        assert_eq!(encode_timestamp(0), "");
        assert_eq!(encode_timestamp(1), "AQ");
        for ts in [0, 1, 255, 256, 1_700_000_000, u64::MAX] {
            assert_eq!(decode_timestamp(&encode_timestamp(ts)).ok(), Some(ts));
        }
        assert!(matches!(
            decode_timestamp("AAAAAAAAAAAA"),
            Err(ItsdangerousError::BadTimestamp)
        ));
    }

    #[test]
    fn a_prepared_signer_signs_and_verifies_as_the_secret_does() {
        let signer = Signer::new(b"secret");
        assert_eq!(sign_with("e30", 7, &signer), sign("e30", 7, b"secret"));
        let other = Signer::new(b"other");
        assert_ne!(sign_with("e30", 7, &other), sign("e30", 7, b"secret"));
        let signed = sign("e30", 7, b"secret");
        assert!(unsign_with(&signed, &other, &[]).is_err());
        let found = unsign_with(&signed, &other, &[Signer::new(b"x"), signer]);
        assert_eq!(found.ok(), Some(("e30", 7, Some(1))));
        assert_eq!(format!("{other:?}"), "Signer(REDACTED)");
    }

    #[test]
    fn sign_then_unsign_with_fallbacks() {
        let signed = sign("eyJhIjoxfQ", 42, b"old");
        let none: [&[u8]; 0] = [];
        assert!(matches!(
            unsign(&signed, b"new", &none),
            Err(ItsdangerousError::BadSignature)
        ));
        let (payload, ts, fallback) =
            unsign(&signed, b"new", &[b"x".as_slice(), b"old"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((payload, ts, fallback), ("eyJhIjoxfQ", 42, Some(1)));
    }

    #[test]
    fn payload_compression_threshold() {
        let small = br#"{"a":1}"#;
        assert!(!encode_payload(small).starts_with('.'));
        let big = vec![b'a'; 1000];
        let encoded = encode_payload(&big);
        assert!(encoded.starts_with('.'));
        assert_eq!(decode_payload(&encoded, 1000).ok(), Some(big));
        assert!(matches!(
            decode_payload(&encoded, 999),
            Err(ItsdangerousError::TooLarge { limit: 999 })
        ));
        // Compressible, but under the threshold: sent as it is (`zlib-compat` has none).
        if let Some(under) = MIN_COMPRESSED_LEN.checked_sub(1) {
            assert!(!encode_payload(&vec![b'a'; under]).starts_with('.'));
        }
        let at_threshold = vec![b'a'; MIN_COMPRESSED_LEN.max(16)];
        assert!(encode_payload(&at_threshold).starts_with('.'));
    }

    #[test]
    fn truncated_and_garbage_zlib_fail() {
        let encoded = encode_payload(&vec![b'z'; 5000]);
        let truncated = &encoded[..encoded.len() - 4];
        assert!(decode_payload(truncated, 1 << 20).is_err());
        assert!(decode_payload(".AAAA", 1 << 20).is_err());
        assert!(decode_payload(".", 1 << 20).is_err());
    }

    #[test]
    fn max_age() {
        assert!(check_max_age(100, 10, 110).is_ok());
        assert!(matches!(
            check_max_age(100, 10, 111),
            Err(ItsdangerousError::Expired {
                age: 11,
                max_age: 10
            })
        ));
        assert!(matches!(
            check_max_age(100, 10, 99),
            Err(ItsdangerousError::FromFuture { .. })
        ));
    }
}
