//! Flask's signed cookie session format.
//!
//! A Flask `session` cookie (`SecureCookieSessionInterface`) is
//! `payload.timestamp.signature` as produced by itsdangerous's
//! `URLSafeTimedSerializer` (see [`itsdangerous`]) around Flask's
//! `TaggedJSONSerializer` (see [`tagged_json`]). [`FlaskCodec`] does both
//! steps; the submodules expose each step as pure functions.
//!
//! ```
//! use serde_json::json;
//! use session_cookie::flask::{FlaskCodec, FlaskSession};
//!
//! let codec = FlaskCodec::new("a long, random secret key of 32+ bytes")
//!     .with_fallbacks(["the previous secret key"]);
//! let mut session = FlaskSession::new();
//! session.insert("user_id", json!(42));
//! session.set_permanent(true);
//! let cookie = codec.encode(&session, 1_700_000_000);
//!
//! let (decoded, issued_at) = codec.decode(&cookie, Some(3600), 1_700_000_100)?;
//! assert_eq!(decoded.get("user_id"), Some(&json!(42)));
//! assert!(decoded.is_permanent());
//! assert_eq!(issued_at, 1_700_000_000);
//! # Ok::<(), session_cookie::flask::FlaskError>(())
//! ```
//!
//! # Python values as JSON
//!
//! Decoding gives *natural* [`serde_json::Value`]s:
//!
//! | Python value (tag)            | natural `Value`                                   |
//! |-------------------------------|---------------------------------------------------|
//! | `dict`, `list`, `str`, `int`, `float`, `bool`, `None` | the same JSON                |
//! | `tuple` (` t`)                | array                                             |
//! | `bytes` (` b`)                | string: standard base64, padded (`"AAE="`)        |
//! | `Markup` (` m`)               | string: the HTML                                  |
//! | `UUID` (` u`)                 | string: lowercase hyphenated (`"1234abcd-...-..."`) |
//! | `datetime` (` d`)             | string: RFC 3339 UTC, whole seconds (`"2015-10-21T07:28:00Z"`); `null` if unparsable, as Flask's `parse_date` gives `None` |
//! | dict whose only key is a tag (` di`) | that dict (`{" t": 1}`); escaped again on write |
//!
//! # Lossless round trips
//!
//! [`FlaskSession`] keeps, for every top-level key, the tagged JSON text it
//! was decoded with next to the natural value. When encoding, a key whose
//! natural value is unchanged is written with its original text, so a tuple
//! stays a tuple, bytes stay bytes, a datetime stays a datetime, and integers
//! beyond 64 bits keep their digits. A key that Rust adds or changes is written
//! as plain JSON (arrays, strings), escaping tag-like dicts with ` di`, unless
//! it is set with [`FlaskSession::insert_tagged`] and the constructors in
//! [`tagged_json`]. Originals are per top-level key: changing anything inside
//! a key re-encodes that whole key as plain JSON.
//!
//! Plain JSON is written byte-for-byte as Flask writes it inside a request:
//! keys sorted, compact separators, non-ASCII escaped, Python float `repr`.
//! Compressed payloads use flate2's deflate, whose bytes can differ from
//! CPython's zlib while decompressing to the same JSON.
//!
//! Flask's special keys: `_permanent` ([`FlaskSession::is_permanent`],
//! [`set_permanent`](FlaskSession::set_permanent),
//! [`take_permanent`](FlaskSession::take_permanent)) and `_flashes`, a list of
//! `(category, message)` tuples ([`FlaskSession::flashes`],
//! [`push_flash`](FlaskSession::push_flash),
//! [`take_flashes`](FlaskSession::take_flashes)).
//!
//! Not supported: `NaN`/`Infinity` floats (Python's json writes them;
//! decoding fails) and custom tags an application registers itself (their
//! objects decode as ordinary dicts and are written back unchanged).

pub mod itsdangerous;
mod pyjson;
mod session;
pub mod tagged_json;
mod zlib;

pub use itsdangerous::{ItsdangerousError, DEFAULT_MAX_DECOMPRESSED};
pub use session::{FlaskSession, FLASHES_KEY, PERMANENT_KEY};
pub use tagged_json::TaggedJsonError;

/// Secrets shorter than this are reported weak by [`is_weak_secret`].
pub const MIN_STRONG_SECRET_LEN: usize = 32;

/// Whether `secret` is too short to be a good `SECRET_KEY` (fewer than
/// [`MIN_STRONG_SECRET_LEN`] bytes). Flask accepts any length; callers can
/// warn.
pub fn is_weak_secret(secret: &[u8]) -> bool {
    secret.len() < MIN_STRONG_SECRET_LEN
}

/// Errors from decoding a Flask session cookie.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlaskError {
    /// The signed value is malformed, forged, expired or undecodable.
    #[error("invalid signed session cookie")]
    Signed(#[from] ItsdangerousError),
    /// The verified payload is not a valid Flask session.
    #[error("invalid session payload")]
    Payload(#[from] TaggedJsonError),
}

/// A decoded cookie with details about its signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The session data.
    pub session: FlaskSession,
    /// When the cookie was signed (Unix seconds).
    pub issued_at: u64,
    /// `Some(i)` if fallback secret `i` verified it (re-sign with the
    /// current secret to rotate), `None` for the current secret.
    pub fallback_index: Option<usize>,
}

/// Encodes and decodes Flask session cookies for one `SECRET_KEY` and its
/// `SECRET_KEY_FALLBACKS`.
#[derive(Clone)]
pub struct FlaskCodec {
    signer: itsdangerous::Signer,
    weak_secret: bool,
    fallbacks: Vec<itsdangerous::Signer>,
    max_decompressed: usize,
}

impl std::fmt::Debug for FlaskCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlaskCodec")
            .field("secret", &"<redacted>")
            .field("fallbacks", &self.fallbacks.len())
            .field("max_decompressed", &self.max_decompressed)
            .finish()
    }
}

impl FlaskCodec {
    /// A codec signing with `secret` (Flask's `SECRET_KEY`; a `str` secret
    /// is its UTF-8 bytes).
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let secret = secret.into();
        Self {
            signer: itsdangerous::Signer::new(&secret),
            weak_secret: is_weak_secret(&secret),
            fallbacks: Vec::new(),
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }

    /// Adds secrets accepted when verifying (Flask's `SECRET_KEY_FALLBACKS`).
    pub fn with_fallbacks<I>(mut self, fallbacks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Vec<u8>>,
    {
        self.fallbacks.extend(
            fallbacks
                .into_iter()
                .map(|secret| itsdangerous::Signer::new(&secret.into())),
        );
        self
    }

    /// Sets the cap on decompressed payload size (default 64 KiB).
    pub fn with_max_decompressed(mut self, limit: usize) -> Self {
        self.max_decompressed = limit;
        self
    }

    /// Whether the signing secret is weak (see [`is_weak_secret`]).
    pub fn has_weak_secret(&self) -> bool {
        self.weak_secret
    }

    /// The cookie value for `session`, signed at `now_secs` (Unix seconds).
    pub fn encode(&self, session: &FlaskSession, now_secs: u64) -> String {
        itsdangerous::dumps_with(session.to_tagged_json().as_bytes(), now_secs, &self.signer)
    }

    /// Verifies and decodes a cookie value. With `max_age`, fails if the
    /// cookie is older than `max_age` seconds at `now_secs` or issued after
    /// it (Flask passes `PERMANENT_SESSION_LIFETIME`). Returns the session
    /// and its issue time.
    pub fn decode(
        &self,
        cookie: &str,
        max_age: Option<u64>,
        now_secs: u64,
    ) -> Result<(FlaskSession, u64), FlaskError> {
        let decoded = self.decode_detailed(cookie, max_age, now_secs)?;
        Ok((decoded.session, decoded.issued_at))
    }

    /// Like [`decode`](Self::decode), also telling which secret verified it.
    pub fn decode_detailed(
        &self,
        cookie: &str,
        max_age: Option<u64>,
        now_secs: u64,
    ) -> Result<Decoded, FlaskError> {
        let limits = itsdangerous::Limits {
            max_age,
            now: now_secs,
            max_decompressed: self.max_decompressed,
        };
        let verified = itsdangerous::loads_with(cookie, &self.signer, &self.fallbacks, limits)?;
        let json = std::str::from_utf8(&verified.payload).map_err(TaggedJsonError::from)?;
        Ok(Decoded {
            session: FlaskSession::from_tagged_json(json)?,
            issued_at: verified.timestamp,
            fallback_index: verified.fallback_index,
        })
    }
}
