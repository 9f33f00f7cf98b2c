//! [`FlaskCookieStore`]: sessions in Flask's own `session` cookie, shared with a Flask app.

mod mapping;

use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Capabilities, CookieUpdate, IntoSessionBackend, Outcome, Record, Session, SessionBackend,
    SessionConfig, SessionError, SizeLimit, Timestamp,
};
use tracing::{debug, warn};

pub use self::mapping::TIMES_KEY;
use self::mapping::{apply, times, to_record, Times};
use crate::flask::itsdangerous::encode_timestamp;
use crate::flask::{FlaskCodec, FlaskSession, MIN_STRONG_SECRET_LEN};
use crate::plan::{cookie_len, plan, too_large, Loaded, Plan};
use crate::secure::base64_len;
use crate::DEFAULT_MAX_COOKIE_BYTES;

/// The name [`SessionError::TooLarge`] gives this backend.
const BACKEND: &str = "flask-cookie";
/// An itsdangerous signature: HMAC-SHA1 (20 bytes) in unpadded base64, and its dot.
const SIGNATURE_CHARS: usize = 1 + 27;

/// Client-side sessions in exactly the cookie Flask's `SecureCookieSessionInterface`
/// reads and writes (see [`flask`](crate::flask)), so a Rust service and a Flask app
/// share one login.
///
/// - **Keys**: Flask's `SECRET_KEY` as is ([`new`](Self::new)) and its
///   `SECRET_KEY_FALLBACKS` ([`with_fallbacks`](Self::with_fallbacks)); a cookie a
///   fallback verified is re-signed with the current secret when saved.
/// - **Data**: the Flask session dict. `_permanent` is [`Session::is_permanent`];
///   `_flashes` are [`Session::take_flashes`] / [`Session::flash`] (written as Flask's
///   `(category, message)` tuples); every key Rust leaves alone is written back with
///   Flask's original encoding (tuples, bytes, datetimes...).
/// - **Expiry**: Flask's rule (the signature is at most `PERMANENT_SESSION_LIFETIME`,
///   here [`SessionConfig::lifetime`], old), plus the idle and absolute timeouts to the
///   millisecond. itsdangerous timestamps are whole seconds, so this store adds one key,
///   [`TIMES_KEY`] (`_rs_ts`: `[created_at, issued_at]` in Unix milliseconds). Flask keeps
///   unknown keys, so it survives Flask's writes; when Flask re-signs a cookie later, its
///   second counts as the last activity. A cookie Flask created counts as created when
///   it was signed.
/// - **Size**: a write that would make the cookie (`name=value`) longer than the limit
///   (default 4093 bytes) *before compression* fails with [`SessionError::TooLarge`]
///   (backend `flask-cookie`) and changes nothing. Measuring before compression keeps the
///   limit predictable; the cookie sent is compressed when that is shorter, as Flask does.
/// - **Revocation**: none, as for [`CookieStore`](crate::CookieStore).
///
/// # Examples
///
/// ```
/// use session_core::{CookieUpdate, SessionBackend, SessionConfig};
/// use session_cookie::flask::FlaskCodec;
/// use session_cookie::FlaskCookieStore;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = FlaskCookieStore::new("the Flask app's SECRET_KEY, same string");
/// let config = SessionConfig::default();
/// let session = store.load(None, &config).await?;
/// session.insert("user_id", 42)?;
/// session.flash("Welcome!")?;
/// let CookieUpdate::Set { value, .. } = store.save(session.finish(), &config).await? else {
///     panic!("a write sets the cookie");
/// };
///
/// // What Flask's `session` holds for that cookie:
/// let (flask, _) = FlaskCodec::new("the Flask app's SECRET_KEY, same string").decode(&value, None, 0)?;
/// assert_eq!(flask.get("user_id"), Some(&serde_json::json!(42)));
/// assert!(flask.tagged_json("_flashes").is_some_and(|t| t.contains(r#"" t""#)), "tuples");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct FlaskCookieStore {
    codec: Arc<FlaskCodec>,
    max_cookie_bytes: usize,
}

/// What `load` hands to `save`: the session as Flask wrote it, and how it was signed.
struct FlaskOrigin {
    session: Arc<FlaskSession>,
    loaded: Option<Loaded>,
}

impl FlaskCookieStore {
    /// A store using Flask's `SECRET_KEY` (a `str` secret is its UTF-8 bytes). Flask
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
        }
    }

    /// Adds secrets that still verify (Flask's `SECRET_KEY_FALLBACKS`).
    pub fn with_fallbacks<I>(mut self, fallbacks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Vec<u8>>,
    {
        self.codec = Arc::new((*self.codec).clone().with_fallbacks(fallbacks));
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
    fn size_limit(&self, cookie_name: &str, base: Arc<FlaskSession>) -> SizeLimit {
        let store = self.clone();
        let name = cookie_name.to_owned();
        Arc::new(move |record: &Record| {
            let now = Timestamp::now();
            let mut merged = (*base).clone();
            let times = Times {
                created_at: record.created_at,
                issued_at: now,
            };
            apply(&mut merged, record, times);
            let size = store.uncompressed_len(&merged, &name, now);
            if size <= store.max_cookie_bytes || size <= store.uncompressed_len(&base, &name, now) {
                Ok(())
            } else {
                Err(too_large(size, store.max_cookie_bytes, BACKEND))
            }
        })
    }

    /// The `name=value` length of `session`'s cookie issued at `now`, without compression.
    ///
    /// Flask compresses a payload when that makes it shorter, and so does this store, so
    /// the real cookie is never longer. Judging the limit before compression keeps it
    /// predictable (whether a value fits does not depend on how well it compresses) and
    /// cheap (no deflate on every write).
    fn uncompressed_len(&self, session: &FlaskSession, name: &str, now: Timestamp) -> usize {
        let json_len = session.to_tagged_json().len();
        let ts_len = encode_timestamp(unix_secs(now)).len();
        cookie_len(name, base64_len(json_len) + 1 + ts_len + SIGNATURE_CHARS)
    }

    fn anonymous(&self, config: &SessionConfig, now: Timestamp) -> Session {
        let limit = self.size_limit(config.cookie_name(), Arc::new(FlaskSession::new()));
        Session::anonymous(config.new_record(now)).with_size_limit(limit)
    }
}

#[async_trait]
impl SessionBackend for FlaskCookieStore {
    async fn load(
        &self,
        cookie: Option<&str>,
        config: &SessionConfig,
    ) -> Result<Session, SessionError> {
        let now = Timestamp::now();
        let Some(value) = cookie.filter(|value| !value.is_empty()) else {
            return Ok(self.anonymous(config, now));
        };
        // Flask's own check (signature older than PERMANENT_SESSION_LIFETIME) is part of
        // `is_expired` below, to the millisecond; a cookie stamped a moment ahead of this
        // clock (another process, or a re-issue 1 ms after its predecessor) is fine.
        let decoded = match self.codec.decode_detailed(value, None, unix_secs(now)) {
            Ok(decoded) => decoded,
            Err(error) => {
                debug!(%error, "ignoring a Flask session cookie that does not verify");
                return Ok(self.anonymous(config, now));
            }
        };
        let times = times(&decoded.session, decoded.issued_at);
        let record = to_record(&decoded.session, times, config);
        if config.is_expired(&record, now) {
            debug!("Flask session cookie expired");
            return Ok(self.anonymous(config, now));
        }
        let base = Arc::new(decoded.session);
        let limit = self.size_limit(config.cookie_name(), Arc::clone(&base));
        let origin = FlaskOrigin {
            session: base,
            loaded: Some(Loaded {
                issued_at: times.issued_at,
                stale_key: decoded.fallback_index.is_some(),
            }),
        };
        Ok(Session::loaded(None, record)
            .with_size_limit(limit)
            .with_origin(Arc::new(origin)))
    }

    async fn save(
        &self,
        mut outcome: Outcome,
        config: &SessionConfig,
    ) -> Result<CookieUpdate, SessionError> {
        let now = Timestamp::now();
        let origin = outcome.origin.take();
        let origin = origin
            .as_ref()
            .and_then(|origin| origin.downcast_ref::<FlaskOrigin>());
        let loaded = origin.and_then(|origin| origin.loaded);
        let (record, issued_at, fresh) = match plan(outcome, loaded, config, now)? {
            Plan::Unchanged => return Ok(CookieUpdate::Unchanged),
            Plan::Remove => return Ok(CookieUpdate::Remove),
            Plan::Issue {
                record,
                issued_at,
                fresh,
            } => (record, issued_at, fresh),
        };
        let mut session = match origin {
            Some(origin) if !fresh => (*origin.session).clone(),
            _ => FlaskSession::new(),
        };
        let times = Times {
            created_at: record.created_at,
            issued_at,
        };
        apply(&mut session, &record, times);
        let value = self.codec.encode(&session, unix_secs(issued_at));
        Ok(CookieUpdate::Set {
            value,
            persistent: record.permanent,
        })
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::client_side(self.max_cookie_bytes)
    }
}

/// Whole Unix seconds, as itsdangerous counts them (a clock before 1970 counts as 0).
fn unix_secs(at: Timestamp) -> u64 {
    u64::try_from(at.as_unix_secs()).unwrap_or(0)
}

/// Lets [`SessionManager::new`](session_core::SessionManager::new) take the store as is.
impl IntoSessionBackend for FlaskCookieStore {
    type Backend = Self;

    fn into_backend(self) -> Self {
        self
    }
}
