//! Why a cookie could not be sealed or opened.

/// A part of a sealed cookie value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The key id.
    KeyId,
    /// The issue timestamp.
    Timestamp,
    /// The (possibly encrypted) payload.
    Payload,
    /// The HMAC tag.
    Tag,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::KeyId => "key id",
            Part::Timestamp => "timestamp",
            Part::Payload => "payload",
            Part::Tag => "tag",
        })
    }
}

/// Why a cookie value was refused by [`CookieCodec::open`](super::CookieCodec::open).
/// Backends treat every one of them as "no session": the visitor is anonymous.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The value is longer than any cookie this codec writes could be.
    #[error("cookie value is {len} bytes, longer than the {max}-byte maximum")]
    TooLong {
        /// The value's length.
        len: usize,
        /// The longest value looked at.
        max: usize,
    },
    /// The value does not have the `<version>.<kid>.<ts>.<payload>.<tag>` shape.
    #[error("malformed cookie value: {0}")]
    Malformed(&'static str),
    /// The version prefix is not one this codec reads.
    #[error("unknown cookie format version")]
    UnknownVersion,
    /// No key of the ring has the cookie's key id (it was signed by a retired or foreign key).
    #[error("the cookie was signed by a key this ring does not hold")]
    UnknownKey,
    /// A part is not valid URL-safe base64, or has the wrong length.
    #[error("invalid {part}")]
    BadBase64 {
        /// The part that failed.
        part: Part,
        /// The decoder's error, if it was a decoding error rather than a length mismatch.
        #[source]
        source: Option<base64::DecodeError>,
    },
    /// The HMAC does not match: the value was altered, forged, or belongs to another cookie
    /// name.
    #[error("cookie signature does not match")]
    BadSignature,
    /// The signature matched but the payload did not decrypt (a bug or a key mix-up).
    #[error("cookie payload did not decrypt")]
    Decrypt(#[source] aes_gcm::Error),
}

/// Why a cookie could not be sealed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The OS random source failed to supply a nonce.
    #[error("the operating system's random source failed")]
    Random(#[source] getrandom::Error),
    /// AES-GCM refused the payload (only possible for payloads of gigabytes).
    #[error("AES-GCM encryption failed")]
    Encrypt(#[source] aes_gcm::Error),
}
