//! [`ErrorResponse`]: how every adapter answers a session error, and [`error_chain`].

use std::borrow::Cow;
use std::error::Error as StdError;

use crate::SessionError;

/// What a session error becomes on the wire: a status, a body safe to show a visitor, and
/// how loudly to log the cause. Both adapters render it the same way.
///
/// | error | status | body | log |
/// |---|---|---|---|
/// | [`SessionError::TooLarge`] | 413 | the size and the limit | warn |
/// | a store that is down ([`SessionError::is_unavailable`]) | 503 | "try again later" | error |
/// | anything else | 500 | a generic sentence | error |
///
/// # Examples
///
/// ```
/// use session_core::adapter::{ErrorResponse, LogLevel};
/// use session_core::SessionError;
///
/// let error = SessionError::TooLarge { size: 5000, limit: 4093, backend: "cookie", advice: "store less" };
/// let response = ErrorResponse::for_error(&error);
/// assert_eq!((response.status, response.level), (413, LogLevel::Warn));
/// assert!(response.body.contains("5000 bytes"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The HTTP status.
    pub status: u16,
    /// A `text/plain` body safe to show a visitor (the cause is for the logs).
    pub body: Cow<'static, str>,
    /// How loudly the cause is logged.
    pub level: LogLevel,
}

/// How loudly an adapter logs an error it answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLevel {
    /// The visitor can act on it (a session too large): `WARN`.
    Warn,
    /// The operator must act on it (a store down, a bug): `ERROR`.
    Error,
}

impl ErrorResponse {
    /// The response for a session error.
    pub fn for_error(error: &SessionError) -> Self {
        let status = error.http_status();
        Self {
            status,
            body: error.public_message(),
            // A 501 is the deployment answering what its backend cannot do (a per-user
            // index on cookies), not a fault for an operator to chase.
            level: if status < 500 || status == 501 {
                LogLevel::Warn
            } else {
                LogLevel::Error
            },
        }
    }

    /// The response when no session middleware wraps a route that asks for a session: a
    /// bug in the app's wiring, so a 500 whose body says how to fix it.
    pub fn missing_layer(how_to_fix: &'static str) -> Self {
        Self {
            status: 500,
            body: Cow::Borrowed(how_to_fix),
            level: LogLevel::Error,
        }
    }

    /// Logs `error` (with its causes, on one line) at this response's level, saying what
    /// the adapter was `doing`. Never logs a session id or a secret: no error carries one.
    pub fn log(&self, error: &(dyn StdError + 'static), doing: &'static str) {
        let chain = error_chain(error);
        match self.level {
            LogLevel::Warn => {
                tracing::warn!(error = %chain, doing, status = self.status, "session error")
            }
            LogLevel::Error => {
                tracing::error!(error = %chain, doing, status = self.status, "session error")
            }
        }
    }
}

/// `error` and its causes on one line, each cause once (a cause whose text its parent
/// already shows is skipped).
///
/// # Examples
///
/// ```
/// use session_core::adapter::error_chain;
/// use session_core::store::StoreError;
/// use session_core::SessionError;
///
/// let io = std::io::Error::other("connection refused");
/// let error = SessionError::Store(StoreError::Unavailable(Box::new(io)));
/// assert_eq!(error_chain(&error), "the session store is unavailable: connection refused");
/// ```
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
