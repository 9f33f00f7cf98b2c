//! [`CookieStore`]: the whole session in a signed, optionally encrypted cookie.

mod payload;

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Capabilities, CookieUpdate, IntoSessionBackend, KeyRing, Outcome, Record, Session,
    SessionBackend, SessionConfig, SessionError, SizeLimit, Timestamp,
};
use tracing::debug;

use crate::plan::{cookie_len, plan, too_large, Loaded, Plan};
use crate::secure::CookieCodec;
use crate::DEFAULT_MAX_COOKIE_BYTES;

/// The name [`SessionError::TooLarge`] gives this backend.
const BACKEND: &str = "cookie";

/// Client-side session storage: the session's data, its creation time and its
/// permanence, sealed into the cookie by a [`CookieCodec`] (HMAC-SHA256, optionally
/// AES-256-GCM; layout in [`secure`](crate::secure)).
///
/// - **Expiry** is judged on every load from the signed timestamps, to the millisecond:
///   idle timeout from the issue time, absolute timeout from the creation time, lifetime
///   from the issue time. An unchanged session is re-issued (rolling refresh) once a
///   quarter of its idle window (or lifetime) has passed.
/// - **Rotation**: the ring's signing key signs; every key verifies. A cookie signed by an
///   older key is re-signed with the newest when its response is saved.
/// - **Size**: a write that would make the cookie (`name=value`) longer than the limit
///   (default 4093 bytes) fails with [`SessionError::TooLarge`] and changes nothing.
/// - **No revocation**: see the [crate docs](crate#what-a-cookie-session-cannot-do).
///
/// # Examples
///
/// ```
/// use session_core::{CookieUpdate, Key, KeyRing, SessionBackend, SessionConfig};
/// use session_cookie::CookieStore;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let keys = KeyRing::new(Key::try_from_secret("a secret key of at least 32 bytes!!")?);
/// let store = CookieStore::new(keys).with_encryption(true);
/// let config = SessionConfig::default();
///
/// let session = store.load(None, &config).await?;
/// session.insert("user", "ada")?;
/// let CookieUpdate::Set { value, .. } = store.save(session.finish(), &config).await? else {
///     panic!("a write sets the cookie");
/// };
/// assert!(!value.contains("ada"), "encrypted");
///
/// let again = store.load(Some(&value), &config).await?;
/// assert_eq!(again.get::<String>("user")?.as_deref(), Some("ada"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CookieStore {
    codec: Arc<CookieCodec>,
    max_cookie_bytes: usize,
}

impl CookieStore {
    /// A store signing with `keys`' signing key (its `session-cookie/sign` subkey) and
    /// verifying with every key of the ring; encryption off.
    pub fn new(keys: KeyRing) -> Self {
        Self {
            codec: Arc::new(CookieCodec::new(&keys)),
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
        }
    }

    /// Encrypts cookies with AES-256-GCM (the `session-cookie/encrypt` subkeys), so the
    /// browser cannot read the session. Cookies of either kind are read either way.
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

    /// The record a cookie value holds, if it is genuine and not expired at `now` under
    /// `config`. Its `last_active` is the cookie's issue time.
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
    ) -> Option<(Record, Loaded)> {
        let opened = match self.codec.open(config.cookie_name(), value) {
            Ok(opened) => opened,
            Err(error) => {
                debug!(%error, "ignoring a session cookie that does not verify");
                return None;
            }
        };
        let Some(record) = payload::from_json(&opened.plaintext, opened.issued_at, config) else {
            debug!("ignoring a verified session cookie with an unreadable payload");
            return None;
        };
        if config.is_expired(&record, now) {
            debug!("session cookie expired");
            return None;
        }
        let loaded = Loaded {
            issued_at: opened.issued_at,
            stale_key: !opened.by_signing_key,
        };
        Some((record, loaded))
    }

    /// The check every write must pass: the cookie fits the limit, or at least grows no
    /// larger than the `loaded_len` bytes the browser sent (so a session over a since
    /// lowered limit can still shrink, and its flashes can still be taken).
    fn size_limit(&self, cookie_name: &str, loaded_len: usize) -> SizeLimit {
        let store = self.clone();
        let name = cookie_name.to_owned();
        Arc::new(move |record: &Record| {
            let size = store.cookie_len(record, &name);
            if size <= store.max_cookie_bytes || size <= loaded_len {
                Ok(())
            } else {
                Err(too_large(size, store.max_cookie_bytes, BACKEND))
            }
        })
    }
}

#[async_trait]
impl SessionBackend for CookieStore {
    async fn load(
        &self,
        cookie: Option<&str>,
        config: &SessionConfig,
    ) -> Result<Session, SessionError> {
        let now = Timestamp::now();
        let name = config.cookie_name();
        let opened = cookie
            .filter(|value| !value.is_empty())
            .and_then(|value| Some((value.len(), self.open(value, config, now)?)));
        Ok(match opened {
            Some((len, (record, loaded))) => Session::loaded(None, record)
                .with_size_limit(self.size_limit(name, cookie_len(name, len)))
                .with_origin(Arc::new(loaded)),
            None => {
                Session::anonymous(config.new_record(now)).with_size_limit(self.size_limit(name, 0))
            }
        })
    }

    async fn save(
        &self,
        outcome: Outcome,
        config: &SessionConfig,
    ) -> Result<CookieUpdate, SessionError> {
        let now = Timestamp::now();
        let loaded = outcome
            .origin
            .as_ref()
            .and_then(|origin| origin.downcast_ref::<Loaded>())
            .copied();
        match plan(outcome, loaded, config, now)? {
            Plan::Unchanged => Ok(CookieUpdate::Unchanged),
            Plan::Remove => Ok(CookieUpdate::Remove),
            Plan::Issue {
                record, issued_at, ..
            } => {
                let value = self.encode(&record, config.cookie_name(), issued_at)?;
                Ok(CookieUpdate::Set {
                    value,
                    persistent: record.permanent,
                })
            }
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::client_side(self.max_cookie_bytes)
    }
}

/// Lets [`SessionManager::new`](session_core::SessionManager::new) take the store as is.
impl IntoSessionBackend for CookieStore {
    type Backend = Self;

    fn into_backend(self) -> Self {
        self
    }
}
