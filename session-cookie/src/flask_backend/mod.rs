//! [`FlaskCookieBackend`]: sessions in Flask's own `session` cookie, shared with a Flask
//! app.

mod mapping;

use std::fmt;
use std::sync::Arc;

use session_core::backend::{
    Capabilities, Context, CookieUpdate, IntoSessionBackend, Loaded, Outcome, Saved,
    SessionBackend, SizeLimit,
};
use session_core::clock::Timestamp;
use session_core::store::Record;
use session_core::{SessionConfig, SessionError};
use tracing::{debug, warn};

pub use self::mapping::TIMES_KEY;
use self::mapping::{apply, latest_claim, times, to_record, Times};
use crate::flask::itsdangerous::encode_timestamp;
use crate::flask::{FlaskCodec, FlaskSession, MIN_STRONG_SECRET_LEN};
use crate::plan::{cookie_len, decide, is_from_future, too_large, Plan, Received};
use crate::secure::base64_len;
use crate::verified::VerifiedCache;
use crate::DEFAULT_MAX_COOKIE_BYTES;

/// The name [`SessionError::TooLarge`] gives this backend.
const BACKEND: &str = "flask-cookie";
/// An itsdangerous signature: HMAC-SHA1 (20 bytes) in unpadded base64, and its dot.
const SIGNATURE_CHARS: usize = 1 + 27;

/// Client-side sessions in exactly the cookie Flask's `SecureCookieSessionInterface`
/// reads and writes (see [`flask`](crate::flask)), so a Rust service and a Flask app
/// share one login. A [`SessionBackend`], not a record store: nothing is kept on the
/// server.
///
/// - **Keys**: Flask's `SECRET_KEY` as is ([`new`](Self::new)) and its
///   `SECRET_KEY_FALLBACKS` ([`with_fallbacks`](Self::with_fallbacks)), derived as
///   itsdangerous derives them, so Flask reads what Rust signs; a cookie a fallback
///   verified is re-signed with the current secret when saved. This is the one
///   exception to the workspace's keys: the app's [`KeyRing`](session_core::keys::KeyRing)
///   given to [`SessionConfig::with_keys`] does not apply to this backend (it neither
///   signs nor verifies its cookies, and is not compared with the secret).
/// - **Data**: the Flask session dict. `_permanent` is
///   [`Session::is_permanent`](session_core::Session::is_permanent); `_flashes` are
///   [`Session::take_flashes`](session_core::Session::take_flashes) /
///   [`Session::flash`](session_core::Session::flash) (written as Flask's
///   `(category, message)` tuples); every key Rust leaves alone is written back with
///   Flask's original encoding (tuples, bytes, datetimes...).
/// - **Expiry**: Flask's rule (the signature is at most `PERMANENT_SESSION_LIFETIME`,
///   here [`SessionConfig::lifetime`], old), plus the idle and absolute timeouts to the
///   millisecond. itsdangerous timestamps are whole seconds, so this backend adds one
///   key, [`TIMES_KEY`] (`_rs_ts`: `[created_at, issued_at]` in Unix milliseconds).
///   Flask keeps unknown keys, so it survives Flask's writes; when Flask re-signs a cookie
///   later, its second counts as the last activity. A cookie Flask created counts as
///   created when it was signed. A cookie signed, or claiming to be created, more than
///   [`MAX_CLOCK_SKEW`](crate::MAX_CLOCK_SKEW) ahead of the clock is refused (Flask
///   refuses any signature from the future), as it would outlive every timeout. A
///   permanent session's cookie lives until the session's deadline (the earliest of
///   lifetime, idle and absolute timeout).
/// - **Size**: a write that would make the cookie (`name=value`) longer than the limit
///   (default 4093 bytes) *before compression* fails with [`SessionError::TooLarge`]
///   (backend `flask-cookie`) and changes nothing. Measuring before compression keeps the
///   limit predictable; the cookie sent is compressed when that is shorter, as Flask does,
///   for payloads of 256 bytes and more
///   ([`MIN_COMPRESSED_LEN`](crate::flask::itsdangerous::MIN_COMPRESSED_LEN)): below, deflate's
///   set-up cost more than the rest of the save.
/// - **Revocation**: none, as for [`CookieBackend`](crate::CookieBackend).
///
/// # Examples
///
/// ```
/// use session_core::adapter::SessionManager;
/// use session_core::SessionConfig;
/// use session_cookie::flask::FlaskCodec;
/// use session_cookie::FlaskCookieBackend;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let backend = FlaskCookieBackend::new("the Flask app's SECRET_KEY, same string");
/// let manager = SessionManager::new(backend, SessionConfig::default())?;
/// let request = manager.request(None);
/// let session = request.session().await?;
/// session.insert("user_id", 42)?;
/// session.flash("Welcome!")?;
/// let plan = request.finish().await?.ok_or("the session was loaded")?;
/// let value = plan.cookie_value().ok_or("a write sets the cookie")?;
///
/// // What Flask's `session` holds for that cookie:
/// let (flask, _) = FlaskCodec::new("the Flask app's SECRET_KEY, same string").decode(value, None, 0)?;
/// assert_eq!(flask.get("user_id"), Some(&serde_json::json!(42)));
/// assert!(flask.tagged_json("_flashes").is_some_and(|t| t.contains(r#"" t""#)), "tuples");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct FlaskCookieBackend {
    codec: Arc<FlaskCodec>,
    max_cookie_bytes: usize,
    verified: Arc<VerifiedCache<Verified>>,
}

/// What a cookie value verified as: the session and when, and by which secret, it was
/// signed.
struct Verified {
    session: Arc<FlaskSession>,
    signed_at: u64,
    by_fallback: bool,
}

/// What [`FlaskCookieBackend`] carries from load to save: the Flask session as the
/// browser's cookie held it (empty for a new session), so keys Rust leaves alone keep
/// Flask's encoding, and when and how that cookie was signed.
pub struct FlaskOrigin {
    session: Arc<FlaskSession>,
    received: Option<Received>,
}

impl fmt::Debug for FlaskOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Session values may be private: name the keys only.
        f.debug_struct("FlaskOrigin")
            .field("keys", &self.session.data().keys().collect::<Vec<_>>())
            .field("issued_at", &self.received.map(|r| r.issued_at))
            .field("stale_key", &self.received.map(|r| r.stale_key))
            .finish()
    }
}

impl FlaskCookieBackend {
    /// A backend using Flask's `SECRET_KEY` (a `str` secret is its UTF-8 bytes). Flask
    /// accepts any length, and so does this; a secret shorter than 32 bytes is logged as a
    /// warning (without the secret).
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let codec = FlaskCodec::new(secret);
        if codec.has_weak_secret() {
            warn!(
                min_len = MIN_STRONG_SECRET_LEN,
                "the Flask SECRET_KEY is short and may be guessed; use 32+ random bytes"
            );
        }
        Self {
            codec: Arc::new(codec),
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            verified: Arc::default(),
        }
    }

    /// Adds secrets that still verify (Flask's `SECRET_KEY_FALLBACKS`).
    pub fn with_fallbacks<I>(mut self, fallbacks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Vec<u8>>,
    {
        self.codec = Arc::new((*self.codec).clone().with_fallbacks(fallbacks));
        // Values were remembered with the secret that verified them: start over.
        self.verified = Arc::default();
        self
    }

    /// Sets the longest cookie (`name=value`, in bytes) a write may produce (default
    /// [`DEFAULT_MAX_COOKIE_BYTES`]).
    pub fn with_max_cookie_bytes(mut self, limit: usize) -> Self {
        self.max_cookie_bytes = limit;
        self
    }

    /// The codec that reads and writes the cookies.
    pub fn codec(&self) -> &FlaskCodec {
        &self.codec
    }

    /// The check every write must pass: the cookie, measured before compression, fits the
    /// limit, or at least grows no larger than the one the browser sent (so a session a
    /// Flask app made large can still shrink, and its flashes can still be taken).
    ///
    /// Lengths are measured as if issued at `now`, the time of the load: an itsdangerous
    /// timestamp's length does not change for centuries.
    fn size_limit(&self, cookie_name: &str, base: Arc<FlaskSession>, now: Timestamp) -> SizeLimit {
        let name = cookie_name.to_owned();
        let max_cookie_bytes = self.max_cookie_bytes;
        Arc::new(move |record: &Record| {
            let mut merged = (*base).clone();
            let times = Times {
                created_at: record.created_at,
                issued_at: now,
            };
            apply(&mut merged, record, times);
            let size = uncompressed_len(&merged, &name, now);
            if size <= max_cookie_bytes || size <= uncompressed_len(&base, &name, now) {
                Ok(())
            } else {
                Err(too_large(size, max_cookie_bytes, BACKEND))
            }
        })
    }

    /// What `value` verifies as: remembered, or checked now (and remembered).
    fn verify(&self, value: &str) -> Option<Arc<Verified>> {
        self.verified.get_or_verify(
            value,
            |_| true,
            || {
                // The signature's age is judged by `load`, to the millisecond: no max_age here.
                let decoded = match self.codec.decode_detailed(value, None, 0) {
                    Ok(decoded) => decoded,
                    Err(error) => {
                        debug!(%error, "ignoring a Flask session cookie that does not verify");
                        return None;
                    }
                };
                Some(Verified {
                    session: Arc::new(decoded.session),
                    signed_at: decoded.issued_at,
                    by_fallback: decoded.fallback_index.is_some(),
                })
            },
        )
    }

    /// `loaded` with the size check for its Flask session.
    fn limited(
        &self,
        loaded: Loaded<FlaskOrigin>,
        config: &SessionConfig,
        now: Timestamp,
    ) -> Loaded<FlaskOrigin> {
        let base = Arc::clone(&loaded.state().session);
        loaded.with_size_limit(self.size_limit(config.cookie_name(), base, now))
    }

    fn new_session(&self, config: &SessionConfig, now: Timestamp) -> Loaded<FlaskOrigin> {
        let origin = FlaskOrigin {
            session: Arc::new(FlaskSession::new()),
            received: None,
        };
        self.limited(
            Loaded::new_session(config.new_record(now), origin),
            config,
            now,
        )
    }
}

/// The `name=value` length of `session`'s cookie issued at `now`, without compression.
///
/// Flask compresses a payload when that makes it shorter, and so does this backend (from
/// 256 bytes on), so the real cookie is never longer. Judging the limit before compression
/// keeps it predictable (whether a value fits does not depend on how well it compresses)
/// and cheap (no deflate on every write).
fn uncompressed_len(session: &FlaskSession, name: &str, now: Timestamp) -> usize {
    let json_len = session.to_tagged_json().len();
    let ts_len = encode_timestamp(unix_secs(now)).len();
    cookie_len(name, base64_len(json_len) + 1 + ts_len + SIGNATURE_CHARS)
}

impl SessionBackend for FlaskCookieBackend {
    type State = FlaskOrigin;

    async fn load(
        &self,
        cookie: Option<&str>,
        cx: Context<'_>,
    ) -> Result<Loaded<FlaskOrigin>, SessionError> {
        let (config, now) = (cx.config(), cx.now());
        let Some(value) = cookie.filter(|value| !value.is_empty()) else {
            return Ok(self.new_session(config, now));
        };
        // Flask's own check (signature older than PERMANENT_SESSION_LIFETIME) is part of
        // `is_expired` below, to the millisecond. Flask also refuses a signature from the
        // future; here a cookie stamped a moment ahead of this clock (another process, or
        // a re-issue 1 ms after its predecessor) is fine, up to MAX_CLOCK_SKEW.
        let Some(verified) = self.verify(value) else {
            return Ok(self.new_session(config, now));
        };
        let session = &verified.session;
        let times = times(session, verified.signed_at);
        if is_from_future(latest_claim(session, times), now) {
            debug!(
                signed_at = verified.signed_at,
                issued_at = times.issued_at.as_unix_millis(),
                now = now.as_unix_millis(),
                "ignoring a Flask session cookie stamped in the future"
            );
            return Ok(self.new_session(config, now));
        }
        let record = to_record(session, times, config);
        if config.is_expired(&record, now) {
            debug!("Flask session cookie expired");
            return Ok(self.new_session(config, now));
        }
        let origin = FlaskOrigin {
            session: Arc::clone(session),
            received: Some(Received {
                issued_at: times.issued_at,
                stale_key: verified.by_fallback,
            }),
        };
        Ok(self.limited(Loaded::existing(record, origin), config, now))
    }

    async fn save(
        &self,
        outcome: Outcome<FlaskOrigin>,
        cx: Context<'_>,
    ) -> Result<Saved, SessionError> {
        let (config, now) = (cx.config(), cx.now());
        let (outcome, origin) = outcome.split();
        let (record, issued_at, fresh) = match decide(outcome, origin.received, config, now)? {
            Plan::Unchanged => return Ok(Saved::new(CookieUpdate::Unchanged)),
            Plan::Remove => return Ok(Saved::new(CookieUpdate::Remove)),
            Plan::Issue {
                record,
                issued_at,
                fresh,
            } => (record, issued_at, fresh),
        };
        // The session as Flask wrote it, unless nothing of the old cookie may carry over.
        let mut session = if fresh {
            FlaskSession::new()
        } else {
            Arc::unwrap_or_clone(origin.session)
        };
        let times = Times {
            created_at: record.created_at,
            issued_at,
        };
        apply(&mut session, &record, times);
        let value = self.codec.encode(&session, unix_secs(issued_at));
        Ok(Saved::new(CookieUpdate::set_for(value, &record)))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::client_side(self.max_cookie_bytes)
    }
}

/// Whole Unix seconds, as itsdangerous counts them (a clock before 1970 counts as 0).
fn unix_secs(at: Timestamp) -> u64 {
    u64::try_from(at.as_unix_secs()).unwrap_or(0)
}

/// Lets [`SessionManager::new`](session_core::adapter::SessionManager::new) take the
/// backend as is.
impl IntoSessionBackend for FlaskCookieBackend {
    type Backend = Self;

    fn into_backend(self) -> Self {
        self
    }
}
