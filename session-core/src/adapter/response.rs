//! [`ResponsePlan`]: what a response must carry after its session was saved, as typed
//! instructions an adapter copies into its framework's response.

use std::borrow::Cow;

use cookie::Cookie;

use crate::backend::CookieUpdate;

/// The response headers a saved session calls for.
///
/// Adapters do not interpret it: they apply [`ResponsePlan::header_ops`] in order, each an
/// append or a replace, so both frameworks send the same headers.
///
/// # Examples
///
/// ```
/// use session_core::adapter::{HeaderOp, SessionManager};
/// use session_core::store::MemoryStore;
/// use session_core::SessionConfig;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let manager = SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
/// let request = manager.request(None);
/// request.session().await?.insert("user", "ada")?;
/// let plan = request.finish().await?.ok_or("the session was loaded")?;
///
/// // The handler already said `Vary: Accept-Encoding, Cookie`: no second `Cookie`.
/// let ops = plan.header_ops(["Accept-Encoding, Cookie"]);
/// assert!(matches!(&ops[0], HeaderOp::Append { name: "set-cookie", value } if value.starts_with("session=")));
/// assert_eq!(ops[1], HeaderOp::Replace { name: "cache-control", value: "no-store".into() });
/// assert_eq!(ops.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ResponsePlan {
    /// What the backend decided for the cookie.
    pub cookie: CookieUpdate,
    /// The `Set-Cookie` to send, with every configured attribute, when the cookie changes.
    pub set_cookie: Option<Cookie<'static>>,
    /// Whether the response depends on the session, so caches must key on `Cookie`.
    pub vary_cookie: bool,
    /// Whether the response carries a session cookie and must not be cached.
    pub no_store: bool,
}

/// One header change: append a value, or replace every value of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderOp {
    /// Add `value` to the header, keeping the values already there.
    Append {
        /// The header name, lowercase.
        name: &'static str,
        /// The value: a constant borrowed, a built one (the cookie) owned.
        value: Cow<'static, str>,
    },
    /// Replace every value of the header with `value`.
    Replace {
        /// The header name, lowercase.
        name: &'static str,
        /// The value.
        value: Cow<'static, str>,
    },
}

impl ResponsePlan {
    /// The value of the cookie to set, if one is set (not a removal).
    pub fn cookie_value(&self) -> Option<&str> {
        self.cookie.value()
    }

    /// The header changes to apply, in order, given the `Vary` values the handler's
    /// response already has (so `Cookie` is not added twice, or after `*`).
    ///
    /// A response that sets a session cookie gets `Cache-Control: no-store` whatever the
    /// handler said: a shared cache must never hand one visitor's cookie to another.
    pub fn header_ops<'a>(
        &self,
        existing_vary: impl IntoIterator<Item = &'a str>,
    ) -> Vec<HeaderOp> {
        let mut ops = Vec::with_capacity(3);
        if let Some(cookie) = &self.set_cookie {
            ops.push(HeaderOp::Append {
                name: "set-cookie",
                value: cookie.encoded().to_string().into(),
            });
        }
        if self.vary_cookie && !varies_on_cookie(existing_vary) {
            ops.push(HeaderOp::Append {
                name: "vary",
                value: Cow::Borrowed("Cookie"),
            });
        }
        if self.no_store {
            ops.push(HeaderOp::Replace {
                name: "cache-control",
                value: Cow::Borrowed("no-store"),
            });
        }
        ops
    }
}

/// Whether `Vary` values already cover `Cookie` (by name, or with `*`).
fn varies_on_cookie<'a>(values: impl IntoIterator<Item = &'a str>) -> bool {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .any(|field| {
            let field = field.trim();
            field == "*" || field.eq_ignore_ascii_case("cookie")
        })
}

#[cfg(test)]
mod tests {
    use super::varies_on_cookie;

    #[test]
    fn vary_is_matched_by_field() {
        assert!(varies_on_cookie(["Accept, cookie"]));
        assert!(varies_on_cookie(["Accept", "*"]));
        assert!(!varies_on_cookie(["Accept, Cookies"]));
        assert!(!varies_on_cookie([]));
    }
}
