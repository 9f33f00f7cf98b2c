//! What a cookie backend does with a finished request: shared by both cookie formats.

use std::time::Duration;

use session_core::backend::{Lifecycle, Outcome};
use session_core::clock::Timestamp;
use session_core::store::Record;
use session_core::{SessionConfig, SessionError};

use crate::MAX_CLOCK_SKEW;

/// What a backend learnt from the cookie the browser sent, carried to `save` in the
/// backend's [`State`](session_core::backend::SessionBackend::State).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Received {
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
    /// Issue a cookie holding `record`, stamped `issued_at`; `record.expires_at` is the
    /// session's deadline from that instant.
    Issue {
        record: Record,
        issued_at: Timestamp,
        /// The record starts from nothing (writes after `destroy`): nothing of the old
        /// cookie may carry over.
        fresh: bool,
    },
}

/// Decides the response's cookie at `now`; `received` is what the request's cookie said
/// (`None` for a new session).
///
/// - destroyed: a removal, or a brand-new cookie holding only the writes made after it;
/// - empty after the request's writes (as Flask decides): a removal if the browser holds
///   a cookie, nothing otherwise;
/// - changed, renamed (`regenerate()` on a loaded session), signed by a retired key, or
///   unchanged but due a rolling refresh: re-issue, stamped at least 1 ms after the old
///   cookie so the value always changes;
/// - otherwise (a new session that only asked for a new id included): nothing.
pub(crate) fn decide(
    outcome: Outcome<()>,
    received: Option<Received>,
    config: &SessionConfig,
    now: Timestamp,
) -> Result<Plan, SessionError> {
    if outcome.lifecycle == Lifecycle::Destroyed {
        if outcome.changes.is_empty() {
            return Ok(Plan::Remove);
        }
        let mut record = config.new_record(now);
        outcome.changes.apply_to(&mut record)?;
        if record.data.is_empty() {
            return Ok(Plan::Remove);
        }
        record.expires_at = config.deadline(&record, now);
        return Ok(Plan::Issue {
            record,
            issued_at: now,
            fresh: true,
        });
    }
    let changed = !outcome.changes.is_empty();
    if changed && outcome.record.data.is_empty() {
        return Ok(match received {
            Some(_) => Plan::Remove,
            None => Plan::Unchanged,
        });
    }
    let (reissue, issued_at) = match received {
        None => (changed, now),
        Some(received) => (
            changed
                || outcome.lifecycle == Lifecycle::Renamed
                || received.stale_key
                || config.refresh_due(&outcome.record, received.issued_at, now),
            now.max(received.issued_at.saturating_add(Duration::from_millis(1))),
        ),
    };
    if !reissue {
        return Ok(Plan::Unchanged);
    }
    let mut record = outcome.record;
    record.last_active = issued_at;
    record.expires_at = config.deadline(&record, issued_at);
    Ok(Plan::Issue {
        record,
        issued_at,
        fresh: false,
    })
}

/// Whether `at`, a time a verified cookie claims (its issue or creation time), lies
/// beyond `now` plus [`MAX_CLOCK_SKEW`]: every timeout counts from those times, so such a
/// cookie would outlive them all. Its loader treats it as an anonymous visitor.
pub(crate) fn is_from_future(at: Timestamp, now: Timestamp) -> bool {
    at > now.saturating_add(MAX_CLOCK_SKEW)
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
