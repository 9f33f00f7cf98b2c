//! What went wrong talking to Redis, and what was wrong with a stored record.

use std::num::ParseIntError;
use std::time::Duration;

use redis::ErrorKind;
use session_core::store::StoreError;

/// Talking to Redis failed.
///
/// Every variant names the server by its URL with any password replaced by `***`, and
/// keeps the cause as its [`source`](std::error::Error::source). Converted into a
/// [`StoreError`], connection failures and timeouts become
/// [`StoreError::Unavailable`] (adapters answer `503`), everything else
/// [`StoreError::Backend`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// The URL could not be parsed or names an unsupported scheme.
    #[error("invalid Redis URL {url}: {source}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// The client library's complaint.
        #[source]
        source: redis::RedisError,
    },
    /// A command, or the connection it needed, failed.
    #[error("Redis at {url} failed: {source}")]
    Command {
        /// The server's URL, password redacted.
        url: String,
        /// The client library's error.
        #[source]
        source: redis::RedisError,
    },
    /// Redis did not answer within the command timeout (a hung or overloaded server).
    #[error("Redis at {url} did not answer within {timeout:?}")]
    Timeout {
        /// The server's URL, password redacted.
        url: String,
        /// The timeout that passed.
        timeout: Duration,
        /// The elapsed timer.
        #[source]
        source: tokio::time::error::Elapsed,
    },
    /// A [`FlaskSessionStore`](crate::FlaskSessionStore) was called directly with a hashed
    /// storage key, which can never name one of Flask-Session's records (keyed by raw sid).
    #[error(
        "FlaskSessionStore was handed a hashed storage key; Flask-Session records are keyed by \
         the raw sid: go through `FlaskSessionStore::backend()` or `ServerSide::new`, which use \
         the store's `FlaskSessionCompat` key scheme"
    )]
    HashedKeyInFlaskMode,
}

impl RedisError {
    /// Whether the server could not be reached or did not answer in time, so retrying
    /// later may succeed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Command { source, .. } => {
                source.is_io_error()
                    || source.is_timeout()
                    || source.is_connection_refusal()
                    || source.is_connection_dropped()
                    || source.is_unrecoverable_error()
                    || matches!(
                        source.kind(),
                        ErrorKind::BusyLoadingError
                            | ErrorKind::TryAgain
                            | ErrorKind::ClusterDown
                            | ErrorKind::MasterDown
                            | ErrorKind::ReadOnly
                            | ErrorKind::ClusterConnectionNotFound
                    )
            }
            Self::InvalidUrl { .. } | Self::HashedKeyInFlaskMode => false,
        }
    }
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        if error.is_unavailable() {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Backend(Box::new(error))
        }
    }
}

/// A stored record could not be decoded; reported as [`StoreError::Corrupt`], which
/// `ServerSide` answers by discarding the record and starting an anonymous session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A field of the record's hash is missing.
    #[error("field `{0}` is missing")]
    MissingField(&'static str),
    /// A numeric field does not hold a number.
    #[error("field `{field}` is not a number")]
    Number {
        /// The field.
        field: &'static str,
        /// The parse error.
        #[source]
        source: ParseIntError,
    },
    /// A field that should be text is not UTF-8.
    #[error("field `{0}` is not UTF-8")]
    NotUtf8(&'static str),
    /// The `permanent` field is neither `0` nor `1`.
    #[error("field `permanent` is neither 0 nor 1")]
    Permanent,
    /// The session data is not a JSON object.
    #[error("the session data is not a JSON object: {0}")]
    Json(#[source] serde_json::Error),
    /// A Flask-Session value is neither msgpack nor JSON holding a map of JSON-compatible
    /// values (Python `bytes`, `datetime` or non-string keys cannot be read).
    #[cfg(feature = "flask-session")]
    #[error(
        "the Flask-Session value is not a msgpack (or JSON) map of JSON-compatible values: {0}"
    )]
    Msgpack(#[source] rmp_serde::decode::Error),
    /// Redis answered with a type the store did not expect (someone else's key under the
    /// prefix, say).
    #[error("Redis answered with an unexpected type: {0}")]
    Reply(#[source] redis::RedisError),
}

impl From<DecodeError> for StoreError {
    fn from(error: DecodeError) -> Self {
        StoreError::Corrupt(Box::new(error))
    }
}

/// `url` with the password (if any) replaced by `***`, fit for errors and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        // redis-rs reads a lone userinfo as a user name; redact it anyway, it may be a secret.
        None => "***".to_owned(),
    };
    format!("{scheme}://{user}@{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_error_messages() {
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_url("redis://:hunter2@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(
            redact_url("rediss://ada:p@ss:w@h/2"),
            "rediss://ada:***@h/2"
        );
        assert_eq!(redact_url("redis://token@h"), "redis://***@h");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
