//! What went wrong talking to Redis, and what was wrong with a stored record.

use std::num::ParseIntError;
use std::time::Duration;

use redis::ErrorKind;
use session_core::store::StoreError;

/// Talking to Redis failed.
///
/// Every variant about the server names it by its URL, any password hidden
/// ([`redact_url`](session_core::store::redact_url)), and keeps the cause as its
/// [`source`](std::error::Error::source). Converted into a [`StoreError`], connection
/// failures and timeouts become [`StoreError::Unavailable`] (adapters answer `503`), a
/// record too large for Redis [`StoreError::Corrupt`], everything else
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
    /// A session record is larger than Redis accepts as one value (its
    /// `proto-max-bulk-len`, 512 MiB by default). Refused before it is sent: a value past
    /// the limit makes Redis drop the connection every request of the process shares.
    /// Reported as [`StoreError::Corrupt`] (a 500, not a 503: the store is fine, this
    /// record is not storable); limit session sizes with
    /// `ServerSide::with_max_session_bytes` (64 KiB by default).
    #[error(
        "the session record is {size} bytes, over the {limit}-byte limit Redis puts on one \
         value; limit session sizes with `ServerSide::with_max_session_bytes`"
    )]
    TooLarge {
        /// The encoded record's size.
        size: usize,
        /// The largest value Redis accepts by default.
        limit: usize,
    },
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
            Self::InvalidUrl { .. } | Self::TooLarge { .. } => false,
        }
    }
}

/// The largest value Redis takes in one command argument by default
/// (`proto-max-bulk-len`, 512 MiB).
pub(crate) const MAX_VALUE_BYTES: usize = 512 * 1024 * 1024;

/// Refuses a record of `size` encoded bytes that Redis would not take.
pub(crate) fn ensure_storable(size: usize) -> Result<(), RedisError> {
    if size > MAX_VALUE_BYTES {
        return Err(RedisError::TooLarge {
            size,
            limit: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

/// Whether Redis answered "WRONGTYPE": the key holds another Redis type than the command
/// works on (judged by the reply's error code, not its text).
pub(crate) fn is_wrong_type(error: &redis::RedisError) -> bool {
    error.code() == Some("WRONGTYPE")
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        if matches!(error, RedisError::TooLarge { .. }) {
            // Neither an outage (503) nor the store's fault: this one record cannot be
            // stored. `StoreError` has no variant for that; `Corrupt` is the nearest 500.
            StoreError::Corrupt(Box::new(error))
        } else if error.is_unavailable() {
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
    /// Redis answered with a type the store did not expect, or the key holds another
    /// Redis type than a session record (WRONGTYPE: someone else's key under the prefix,
    /// say).
    #[error("Redis answered with an unexpected type: {0}")]
    Reply(#[source] redis::RedisError),
}

impl From<DecodeError> for StoreError {
    fn from(error: DecodeError) -> Self {
        StoreError::Corrupt(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_past_redis_value_limit_are_refused_as_corrupt_not_unavailable() {
        assert!(ensure_storable(MAX_VALUE_BYTES).is_ok());
        let error = ensure_storable(MAX_VALUE_BYTES + 1).expect_err("one byte too many");
        assert!(!error.is_unavailable());
        assert!(
            error.to_string().contains("with_max_session_bytes"),
            "{error}"
        );
        assert!(matches!(StoreError::from(error), StoreError::Corrupt(_)));
    }
}
