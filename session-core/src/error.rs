//! The errors of sessions and of the stores behind them.

use std::borrow::Cow;
use std::error::Error as StdError;

/// A boxed error from a store's client library, kept as the source.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What can go wrong while using or saving a session.
///
/// Every variant keeps its cause as [`source`](StdError::source), and none of them carries
/// a session id or a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The value stored under `key` is not of the type the handler asked for (an older
    /// version of the app stored another shape, a Flask app stored an `int` where Rust
    /// reads a `String`, a form stored text where a counter belongs). The session is left
    /// as it is; adapters answer 422 with a message, never a 500. To treat such a value as
    /// absent instead, match this variant, or overwrite the key.
    #[error("session value `{key}` is not of the expected type: {source}")]
    WrongType {
        /// The session key whose value has the wrong type.
        key: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be converted to JSON (a map with non-string keys, say): a bug in
    /// the handler, not in the request.
    #[error("session value `{key}` could not be converted to JSON: {source}")]
    Value {
        /// The session key whose value failed.
        key: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The session would not fit its backend; the session was left as it was.
    #[error(
        "session would be {size} bytes, over the {limit}-byte limit of the {backend} backend; {advice}"
    )]
    TooLarge {
        /// The size the session would have had.
        size: usize,
        /// The backend's limit.
        limit: usize,
        /// Which backend refused it.
        backend: &'static str,
        /// What the user can do about it.
        advice: &'static str,
    },
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Other processes kept changing the session while this one tried to save it.
    #[error(
        "the session kept changing under concurrent writes; gave up after {attempts} attempts"
    )]
    Conflict {
        /// How many saves were tried.
        attempts: u32,
    },
    /// A new session id could not be drawn.
    #[error(transparent)]
    RandomSource(#[from] crate::store::RandomSourceError),
    /// A write arrived after the session was saved at the end of its request (a clone of
    /// the handle kept past the response); it would have been lost, so it is refused.
    #[error("the session was already saved at the end of its request; this write would be lost")]
    AlreadySaved,
    /// A write on a session that a login (id regeneration) in another request of the same
    /// browser replaced moments ago. It is refused rather than forwarded to the new
    /// session (that would be fixation) or saved in a new one (whose cookie would log the
    /// user out); the client can reload and retry.
    #[error(
        "this session was replaced by a login a moment ago; the write was refused (reload and try again)"
    )]
    Superseded,
    /// The backend cannot do what was asked by its nature: the per-user index on a cookie
    /// backend (a cookie cannot be found, listed or ended from the server) or on a store
    /// that shares its records with Flask-Session. Adapters answer 501 with the message.
    #[error("{feature} is not available: {reason}")]
    Unsupported {
        /// What was asked for.
        feature: &'static str,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// The principal given to
    /// [`Session::set_principal`](crate::Session::set_principal) cannot be indexed:
    /// empty, over [`Principal::MAX_NAME_BYTES`](crate::Principal::MAX_NAME_BYTES), or
    /// with control characters. Nothing was written; adapters answer 422.
    #[error("the session cannot be tied to this principal: {reason}")]
    InvalidPrincipal {
        /// What is wrong with the name (never the name itself).
        reason: &'static str,
    },
    /// A backend could not encode the session into its cookie.
    #[error("session could not be encoded: {0}")]
    Encode(#[source] BoxError),
}

impl SessionError {
    /// Whether retrying later may succeed: a store that is down or overloaded. Adapters
    /// answer these with `503 Service Unavailable`.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Store(StoreError::Unavailable(_) | StoreError::Backend(_))
        )
    }

    /// The HTTP status every adapter answers with when this error ends a request: 413
    /// for [`SessionError::TooLarge`], 409 for [`SessionError::Superseded`], 422 for
    /// [`SessionError::WrongType`] and [`SessionError::InvalidPrincipal`], 501 for [`SessionError::Unsupported`], 503 when
    /// [`is_unavailable`](Self::is_unavailable), 500 otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use session_core::SessionError;
    ///
    /// let error = SessionError::TooLarge { size: 5000, limit: 4093, backend: "cookie", advice: "store less" };
    /// assert_eq!(error.http_status(), 413);
    /// assert!(error.public_message().contains("5000 bytes"));
    /// assert_eq!(SessionError::Conflict { attempts: 3 }.http_status(), 500);
    /// ```
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Superseded => 409,
            Self::WrongType { .. } | Self::InvalidPrincipal { .. } => 422,
            Self::Unsupported { .. } => 501,
            error if error.is_unavailable() => 503,
            _ => 500,
        }
    }

    /// A response body safe to show a visitor: the size and the limit for
    /// [`SessionError::TooLarge`] (the visitor can act on it), a generic sentence
    /// otherwise (the cause is for the logs).
    pub fn public_message(&self) -> Cow<'static, str> {
        match self.http_status() {
            413 => Cow::Owned(format!("Session too large: {self}")),
            409 => Cow::Owned(format!("Conflict: {self}.")),
            422 => match self {
                Self::WrongType { key, .. } => Cow::Owned(format!(
                    "The session's value `{key}` does not have the type this page expects; \
                     the session was left as it is."
                )),
                Self::InvalidPrincipal { reason } => {
                    Cow::Owned(format!("The user cannot be signed in: {reason}."))
                }
                _ => Cow::Borrowed("The session cannot be used by this page."),
            },
            501 => Cow::Owned(format!("Not implemented: {self}.")),
            503 => Cow::Borrowed("The session store is unavailable; please try again later."),
            _ => Cow::Borrowed("Internal error: the session could not be used."),
        }
    }
}

/// What a [`RecordStore`](crate::store::RecordStore) reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `create` or `change_key` found a record under the new key already.
    #[error("a session record with this key already exists")]
    KeyCollision,
    /// `save` or `change_key` found a version other than the expected one, or no record:
    /// someone else changed or removed the session since it was loaded.
    #[error("the session record changed since it was loaded")]
    Conflict,
    /// The store does not keep what was asked for (the per-user index, say); see
    /// [`RecordStore::indexes_principals`](crate::store::RecordStore::indexes_principals).
    #[error("the session store does not support {0}")]
    Unsupported(&'static str),
    /// A stored record could not be decoded.
    #[error("a stored session record is corrupt: {0}")]
    Corrupt(#[source] BoxError),
    /// The store could not be reached (connection refused, timed out, file locked).
    #[error("the session store is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// Any other failure of the store.
    #[error("the session store failed: {0}")]
    Backend(#[source] BoxError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrong_type() -> SessionError {
        let source = serde_json::from_str::<u64>("\"text\"");
        SessionError::WrongType {
            key: "counter".to_owned(),
            source: source.expect_err("text is not a number"),
        }
    }

    /// Each error, the status adapters answer, and a phrase of the visitor's message.
    fn cases() -> Vec<(SessionError, u16, &'static str)> {
        let cause = || BoxError::from("the cause, for the logs");
        vec![
            (
                SessionError::TooLarge {
                    size: 5_000,
                    limit: 4_093,
                    backend: "cookie",
                    advice: "store less",
                },
                413,
                "Session too large: session would be 5000 bytes, over the 4093-byte limit",
            ),
            (SessionError::Superseded, 409, "Conflict: "),
            (
                wrong_type(),
                422,
                "The session's value `counter` does not have the type",
            ),
            (
                SessionError::InvalidPrincipal { reason: "empty" },
                422,
                "The user cannot be signed in: empty.",
            ),
            (
                SessionError::Unsupported {
                    feature: "listing sessions",
                    reason: "a cookie backend",
                },
                501,
                "Not implemented: listing sessions is not available: a cookie backend.",
            ),
            (
                SessionError::Store(StoreError::Unavailable(cause())),
                503,
                "unavailable; please try again later",
            ),
            (
                SessionError::Store(StoreError::Backend(cause())),
                503,
                "unavailable; please try again later",
            ),
            (
                SessionError::Store(StoreError::Corrupt(cause())),
                500,
                "Internal error",
            ),
            (
                SessionError::Store(StoreError::Conflict),
                500,
                "Internal error",
            ),
            (
                SessionError::Conflict { attempts: 3 },
                500,
                "Internal error",
            ),
            (SessionError::AlreadySaved, 500, "Internal error"),
            (SessionError::Encode(cause()), 500, "Internal error"),
        ]
    }

    #[test]
    fn each_error_maps_to_its_status_and_only_store_outages_to_503() {
        for (error, status, _) in cases() {
            assert_eq!(error.http_status(), status, "{error:?}");
            assert_eq!(error.is_unavailable(), status == 503, "{error:?}");
        }
    }

    #[test]
    fn visitors_read_what_they_can_act_on_and_never_the_cause() {
        for (error, _, phrase) in cases() {
            let message = error.public_message();
            assert!(message.contains(phrase), "{message:?} lacks {phrase:?}");
            assert!(
                !message.contains("the cause"),
                "{message:?} shows the cause"
            );
        }
    }
}
