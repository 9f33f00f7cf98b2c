//! What a cookie backend does with a finished request: shared by both cookie formats.

use std::time::Duration;

use session_core::{Outcome, Record, SessionConfig, SessionError, Timestamp};

/// What a backend learnt when it opened the request's cookie, carried to `save` as the
/// session's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loaded {
    /// When the cookie was issued: the session's last activity.
    pub(crate) issued_at: Timestamp,
    /// Whether a retired key (or fallback secret) verified it, so it must be re-signed.
    pub(crate) stale_key: bool,
}

/// The cookie a response must carry.
#[derive(Debug)]
pub(crate) enum Plan {
    /// The browser's cookie is still right.
    Unchanged,
    /// Remove the cookie.
    Remove,
    /// Issue a cookie holding `record`, stamped `issued_at`.
    Issue {
        record: Record,
        issued_at: Timestamp,
        /// The record starts from nothing (writes after `destroy`): nothing of the old
        /// cookie may carry over.
        fresh: bool,
    },
}

/// Decides the response's cookie.
///
/// - destroyed: a removal, or a brand-new cookie holding only the writes made after it;
/// - changed, regenerated (a loaded session), signed by a retired key, or unchanged but
///   due a rolling refresh: re-issue, stamped at least 1 ms after the old cookie so the
///   value always changes;
/// - otherwise: nothing.
pub(crate) fn plan(
    outcome: Outcome,
    loaded: Option<Loaded>,
    config: &SessionConfig,
    now: Timestamp,
) -> Result<Plan, SessionError> {
    if outcome.destroyed {
        if outcome.changes.is_empty() {
            return Ok(Plan::Remove);
        }
        let mut record = config.new_record(now);
        outcome.changes.apply_to(&mut record)?;
        return Ok(Plan::Issue {
            record,
            issued_at: now,
            fresh: true,
        });
    }
    let changed = !outcome.changes.is_empty();
    let (reissue, issued_at) = match loaded {
        None => (changed, now),
        Some(loaded) => (
            changed
                || outcome.regenerate
                || loaded.stale_key
                || config.refresh_due(loaded.issued_at, now),
            now.max(loaded.issued_at.saturating_add(Duration::from_millis(1))),
        ),
    };
    if !reissue {
        return Ok(Plan::Unchanged);
    }
    let mut record = outcome.record;
    record.last_active = issued_at;
    record.expires_at = config.expires_at(record.created_at, issued_at);
    Ok(Plan::Issue {
        record,
        issued_at,
        fresh: false,
    })
}

/// The error of a write that would make the cookie too large.
pub(crate) fn too_large(size: usize, limit: usize, backend: &'static str) -> SessionError {
    SessionError::TooLarge {
        size,
        limit,
        backend,
        advice: "store less in the session, or use a server-side store (session-sqlite or session-redis)",
    }
}

/// The `name=value` length a browser counts against its per-cookie limit.
pub(crate) fn cookie_len(name: &str, value_len: usize) -> usize {
    name.len() + 1 + value_len
}
