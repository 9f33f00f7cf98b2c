//! [`CookieBackend`]: the whole session in a signed, optionally encrypted cookie.

mod payload;

use std::fmt;
use std::sync::Arc;

use session_core::backend::{
    Capabilities, Context, CookieUpdate, IntoSessionBackend, Loaded, Outcome, Saved,
    SessionBackend, SizeLimit,
};
use session_core::clock::Timestamp;
use session_core::keys::KeyRing;
use session_core::store::Record;
use session_core::{ConfigError, SessionConfig, SessionError};
use tracing::debug;

use self::payload::Payload;
use crate::plan::{cookie_len, decide, is_from_future, too_large, Plan, Received};
use crate::secure::CookieCodec;
use crate::verified::VerifiedCache;
use crate::DEFAULT_MAX_COOKIE_BYTES;

/// The name [`SessionError::TooLarge`] and [`ConfigError::KeysDiffer`] give this backend.
const BACKEND: &str = "cookie";

/// Client-side sessions: the session's data, its creation time and its permanence,
/// sealed into the cookie by a [`CookieCodec`] (HMAC-SHA256, optionally AES-256-GCM;
/// layout in [`secure`](crate::secure)). A [`SessionBackend`], not a record store:
/// nothing is kept on the server.
///
/// - **Keys**: built from the app's master [`KeyRing`] (the one
///   [`SessionConfig::with_keys`] takes), signing with its
///   [`COOKIE_SIGNING`](session_core::keys::purpose::COOKIE_SIGNING) subkeys and
///   encrypting with its [`COOKIE_ENCRYPTION`](session_core::keys::purpose::COOKIE_ENCRYPTION)
///   ones. A configuration with other keys is refused when the manager is built
///   ([`ConfigError::KeysDiffer`]), so neither ring is silently ignored.
/// - **Expiry** is judged on every load from the signed timestamps, to the millisecond:
///   idle timeout from the issue time, absolute timeout from the creation time, lifetime
///   from the issue time. A cookie whose issue or creation time is more than
///   [`MAX_CLOCK_SKEW`](crate::MAX_CLOCK_SKEW) ahead of the clock is refused, as it would
///   outlive every timeout. An unchanged session is re-issued (rolling refresh) once a
///   quarter of its idle window (or lifetime) has passed. A permanent session's cookie
///   lives until the session's deadline (the earliest of the three), not for the whole
///   lifetime.
/// - **Rotation**: the ring's signing key signs; every key verifies. A cookie signed by an
///   older key is re-signed with the newest when its response is saved.
/// - **Size**: a write that would make the cookie (`name=value`) longer than the limit
///   (default 4093 bytes) fails with [`SessionError::TooLarge`] and changes nothing.
/// - **No revocation**: see the [crate docs](crate#what-a-cookie-session-cannot-do).
/// - **Speed**: a cookie value verified once is remembered (up to 2,048 values of at
///   most 1 KiB, compared byte for byte in constant time), so the requests a browser
///   repeats with the same cookie skip the MAC, the decryption and the parse; expiry and
///   the clock-skew check are judged every time.
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::keys::{Key, KeyRing};
/// use session_core::SessionConfig;
/// use session_cookie::CookieBackend;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let keys = KeyRing::new(Key::try_from_secret("a secret key of at least 32 bytes!!")?);
/// let backend = CookieBackend::new(keys.clone()).with_encryption(true);
/// let manager = SessionManager::new(backend, SessionConfig::default().with_keys(keys))?;
///
/// let request = manager.request(None);
/// request.session().await?.insert("user", "ada")?;
/// let plan = request.finish().await?.ok_or("the session was loaded")?;
/// let value = plan.cookie_value().ok_or("a write sets the cookie")?;
/// assert!(!value.contains("ada"), "encrypted");
///
/// let again = manager.request(Some(value));
/// assert_eq!(again.session().await?.get::<String>("user")?.as_deref(), Some("ada"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CookieBackend {
    codec: Arc<CookieCodec>,
    /// The master ring the codec's subkeys come from, to compare with the configuration's.
    keys: Arc<KeyRing>,
    max_cookie_bytes: usize,
    verified: Arc<VerifiedCache<Verified>>,
}

/// What a cookie value opened as, for the cookie it was sealed for.
struct Verified {
    cookie_name: Box<str>,
    payload: Payload,
    issued_at: Timestamp,
    by_signing_key: bool,
}

/// What [`CookieBackend`] carries from load to save: when the browser's cookie was issued
/// and whether a retired key signed it (nothing for a new session).
#[derive(Clone, Copy)]
pub struct CookieState {
    received: Option<Received>,
}

impl fmt::Debug for CookieState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieState")
            .field("issued_at", &self.received.map(|r| r.issued_at))
            .field("stale_key", &self.received.map(|r| r.stale_key))
            .finish()
    }
}

impl CookieBackend {
    /// A backend signing with the signing key of `keys` (the app's master ring; its
    /// [`COOKIE_SIGNING`](session_core::keys::purpose::COOKIE_SIGNING) subkey) and
    /// verifying with every key of the ring; encryption off.
    pub fn new(keys: KeyRing) -> Self {
        Self {
            codec: Arc::new(CookieCodec::new(&keys)),
            keys: Arc::new(keys),
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            verified: Arc::default(),
        }
    }

    /// Encrypts cookies with AES-256-GCM (the
    /// [`COOKIE_ENCRYPTION`](session_core::keys::purpose::COOKIE_ENCRYPTION) subkeys), so
    /// the browser cannot read the session. Cookies of either kind are read either way.
    pub fn with_encryption(mut self, encrypt: bool) -> Self {
        self.codec = Arc::new((*self.codec).clone().with_encryption(encrypt));
        self
    }

    /// Sets the longest cookie (`name=value`, in bytes) a write may produce (default
    /// [`DEFAULT_MAX_COOKIE_BYTES`]).
    pub fn with_max_cookie_bytes(mut self, limit: usize) -> Self {
        self.max_cookie_bytes = limit;
        self
    }

    /// The codec that seals and opens the cookies.
    pub fn codec(&self) -> &CookieCodec {
        &self.codec
    }

    /// The master key ring the backend was built from.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The cookie value holding `record`, for the cookie `cookie_name`, issued at
    /// `issued_at` (the session's last activity).
    ///
    /// # Errors
    ///
    /// [`SessionError::Encode`] when the record cannot be serialized or the random
    /// source fails (encryption).
    pub fn encode(
        &self,
        record: &Record,
        cookie_name: &str,
        issued_at: Timestamp,
    ) -> Result<String, SessionError> {
        let json = payload::to_json(record).map_err(|error| SessionError::Encode(error.into()))?;
        self.codec
            .seal(cookie_name, &json, issued_at)
            .map_err(|error| SessionError::Encode(error.into()))
    }

    /// The record a cookie value holds, if it is genuine, not stamped in the future (issue
    /// and creation time at most [`MAX_CLOCK_SKEW`](crate::MAX_CLOCK_SKEW) after `now`)
    /// and not expired at `now` under `config`. Its `last_active` is the cookie's issue
    /// time.
    pub fn decode(&self, value: &str, config: &SessionConfig, now: Timestamp) -> Option<Record> {
        self.open(value, config, now).map(|(record, _)| record)
    }

    /// The `name=value` length of the cookie that would hold `record`, computed without
    /// encoding it.
    pub fn cookie_len(&self, record: &Record, cookie_name: &str) -> usize {
        cookie_len(
            cookie_name,
            self.codec.sealed_len(payload::json_len(record)),
        )
    }

    fn open(
        &self,
        value: &str,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Option<(Record, Received)> {
        let opened = self.verify(config.cookie_name(), value)?;
        let claimed = opened.issued_at.max(opened.payload.created_at);
        if is_from_future(claimed, now) {
            debug!(
                issued_at = opened.issued_at.as_unix_millis(),
                created_at = opened.payload.created_at.as_unix_millis(),
                now = now.as_unix_millis(),
                "ignoring a verified session cookie stamped in the future"
            );
            return None;
        }
        let record = opened.payload.to_record(opened.issued_at, config);
        if config.is_expired(&record, now) {
            debug!("session cookie expired");
            return None;
        }
        let received = Received {
            issued_at: opened.issued_at,
            stale_key: !opened.by_signing_key,
        };
        Some((record, received))
    }

    /// What `value`, sent as the cookie `name`, opens as: remembered, or opened now (and
    /// remembered).
    fn verify(&self, name: &str, value: &str) -> Option<Arc<Verified>> {
        // The MAC binds the cookie's name: a value is only good under the one it was
        // verified for.
        let same_name = |verified: &Verified| *verified.cookie_name == *name;
        self.verified.get_or_verify(value, same_name, || {
            let opened = match self.codec.open(name, value) {
                Ok(opened) => opened,
                Err(error) => {
                    debug!(%error, "ignoring a session cookie that does not verify");
                    return None;
                }
            };
            let Some(payload) = payload::from_json(&opened.plaintext) else {
                debug!("ignoring a verified session cookie with an unreadable payload");
                return None;
            };
            Some(Verified {
                cookie_name: name.into(),
                payload,
                issued_at: opened.issued_at,
                by_signing_key: opened.by_signing_key,
            })
        })
    }

    /// The check every write must pass: the cookie fits the limit, or at least grows no
    /// larger than the `loaded_len` bytes the browser sent (so a session over a since
    /// lowered limit can still shrink, and its flashes can still be taken).
    fn size_limit(&self, cookie_name: &str, loaded_len: usize) -> SizeLimit {
        let codec = Arc::clone(&self.codec);
        let max_cookie_bytes = self.max_cookie_bytes;
        // The name's share of the length, not a copy of it: one allocation fewer per request.
        let name_len = cookie_len(cookie_name, 0);
        Arc::new(move |record: &Record| {
            let size = name_len + codec.sealed_len(payload::json_len(record));
            if size <= max_cookie_bytes || size <= loaded_len {
                Ok(())
            } else {
                Err(too_large(size, max_cookie_bytes, BACKEND))
            }
        })
    }
}

impl SessionBackend for CookieBackend {
    type State = CookieState;

    async fn load(
        &self,
        cookie: Option<&str>,
        cx: Context<'_>,
    ) -> Result<Loaded<CookieState>, SessionError> {
        let (config, now) = (cx.config(), cx.now());
        let name = config.cookie_name();
        let opened = cookie
            .filter(|value| !value.is_empty())
            .and_then(|value| Some((value.len(), self.open(value, config, now)?)));
        Ok(match opened {
            Some((len, (record, received))) => Loaded::existing(
                record,
                CookieState {
                    received: Some(received),
                },
            )
            .with_size_limit(self.size_limit(name, cookie_len(name, len))),
            None => Loaded::new_session(config.new_record(now), CookieState { received: None })
                .with_size_limit(self.size_limit(name, 0)),
        })
    }

    async fn save(
        &self,
        outcome: Outcome<CookieState>,
        cx: Context<'_>,
    ) -> Result<Saved, SessionError> {
        let (config, now) = (cx.config(), cx.now());
        let (outcome, CookieState { received }) = outcome.split();
        match decide(outcome, received, config, now)? {
            Plan::Unchanged => Ok(Saved::new(CookieUpdate::Unchanged)),
            Plan::Remove => Ok(Saved::new(CookieUpdate::Remove)),
            Plan::Issue {
                record, issued_at, ..
            } => {
                let value = self.encode(&record, config.cookie_name(), issued_at)?;
                Ok(Saved::new(CookieUpdate::set_for(value, &record)))
            }
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::client_side(self.max_cookie_bytes)
    }

    /// Refuses a configuration whose [`keys`](SessionConfig::keys) are set and are not the
    /// ring this backend was built from.
    fn check(&self, config: &SessionConfig) -> Result<(), ConfigError> {
        match config.keys() {
            Some(keys) if keys != &*self.keys => Err(ConfigError::KeysDiffer { backend: BACKEND }),
            _ => Ok(()),
        }
    }
}

/// Lets [`SessionManager::new`](session_core::adapter::SessionManager::new) take the
/// backend as is.
impl IntoSessionBackend for CookieBackend {
    type Backend = Self;

    fn into_backend(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_debugs_as_its_times() {
        let received = Received {
            issued_at: Timestamp::from_unix_millis(5),
            stale_key: true,
        };
        let state = CookieState {
            received: Some(received),
        };
        let debug = format!("{state:?}");
        assert!(
            debug.starts_with("CookieState { issued_at: Some("),
            "{debug}"
        );
        assert!(debug.ends_with("stale_key: Some(true) }"), "{debug}");
    }
}
