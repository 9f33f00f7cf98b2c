//! Between a Flask session dict and a [`Record`]: `_permanent` is the record's
//! permanence, `_rs_ts` its millisecond timestamps, `_flashes` are written as Flask's
//! tuples, and every key Rust did not change keeps Flask's original encoding.

use serde_json::{json, Value};
use session_core::clock::Timestamp;
use session_core::store::Record;
use session_core::SessionConfig;

use crate::flask::{tagged_json, FlaskSession, FLASHES_KEY, PERMANENT_KEY};

/// The Flask session key where [`FlaskCookieBackend`](crate::FlaskCookieBackend) keeps
/// `[created_at, issued_at]` in Unix milliseconds, because itsdangerous timestamps are
/// whole seconds. Reserved: Rust code never sees it in the session.
pub const TIMES_KEY: &str = "_rs_ts";

/// A session's creation and issue times, to the millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) created_at: Timestamp,
    pub(crate) issued_at: Timestamp,
}

fn is_reserved(key: &str) -> bool {
    key == PERMANENT_KEY || key == TIMES_KEY
}

/// The times of a cookie whose itsdangerous signature is from `signed_secs`.
///
/// `_rs_ts` refines the signature's whole seconds when both describe the same issue. When
/// Flask re-signed the cookie later (its timestamp is in a later second than `_rs_ts`
/// says), the signature's second is the last activity. A cookie Flask created carries no
/// `_rs_ts`: it counts as created when it was signed.
pub(crate) fn times(session: &FlaskSession, signed_secs: u64) -> Times {
    let signed_secs = i64::try_from(signed_secs).unwrap_or(i64::MAX);
    let signed = Timestamp::from_unix_millis(signed_secs.saturating_mul(1000));
    match stamped(session) {
        Some((created, issued)) => {
            let issued_at = if issued.div_euclid(1000) == signed_secs {
                Timestamp::from_unix_millis(issued)
            } else {
                signed
            };
            Times {
                created_at: Timestamp::from_unix_millis(created).min(issued_at),
                issued_at,
            }
        }
        None => Times {
            created_at: signed,
            issued_at: signed,
        },
    }
}

/// `_rs_ts` as `(created_at, issued_at)` milliseconds, when it is two integers. An integer
/// beyond `i64` (a `u64`) counts as the end of time, so it cannot pass for no claim.
fn stamped(session: &FlaskSession) -> Option<(i64, i64)> {
    let millis = |value: &Value| value.as_i64().or_else(|| value.as_u64().map(|_| i64::MAX));
    match session
        .get(TIMES_KEY)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([created, issued]) => millis(created).zip(millis(issued)),
        _ => None,
    }
}

/// The latest time a cookie with these `times` claims: its issue time, or the creation
/// time `_rs_ts` claims when that is later (`times` caps it at the issue time; a cookie
/// claiming a later one must still be judged by it).
pub(crate) fn latest_claim(session: &FlaskSession, times: Times) -> Timestamp {
    let claimed_created = stamped(session).map(|(created, _)| Timestamp::from_unix_millis(created));
    claimed_created.map_or(times.issued_at, |created| created.max(times.issued_at))
}

/// The record a decoded Flask session describes, its deadline computed by `config`.
pub(crate) fn to_record(session: &FlaskSession, times: Times, config: &SessionConfig) -> Record {
    let data = session
        .data()
        .iter()
        .filter(|(key, _)| !is_reserved(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let mut record = Record {
        data,
        created_at: times.created_at,
        last_active: times.issued_at,
        expires_at: times.issued_at,
        permanent: session.is_permanent(),
        version: 0,
    };
    // Judged by today's settings and the session's own "remember me" window.
    record.expires_at = config.deadline(&record, times.issued_at);
    record
}

/// Makes `base` (the session as Flask last wrote it) hold `record`: keys Rust removed go,
/// changed ones are written as plain JSON (flashes as tuples), untouched ones keep their
/// original tagged encoding byte for byte.
pub(crate) fn apply(base: &mut FlaskSession, record: &Record, times: Times) {
    let gone: Vec<String> = base
        .data()
        .keys()
        .filter(|key| !is_reserved(key) && !record.data.contains_key(key.as_str()))
        .cloned()
        .collect();
    for key in gone {
        base.remove(&key);
    }
    for (key, value) in &record.data {
        if is_reserved(key) || base.get(key) == Some(value) {
            continue;
        }
        if key == FLASHES_KEY {
            if let Some(tagged) = flashes_as_tuples(value) {
                if base.insert_tagged(FLASHES_KEY, tagged).is_ok() {
                    continue;
                }
            }
        }
        base.insert(key.clone(), value.clone());
    }
    if base.is_permanent() != record.permanent {
        if record.permanent {
            base.set_permanent(true);
        } else {
            base.remove(PERMANENT_KEY);
        }
    }
    base.insert(
        TIMES_KEY,
        json!([
            times.created_at.as_unix_millis(),
            times.issued_at.as_unix_millis()
        ]),
    );
}

/// session-core's `[category, message]` pairs as Flask's `(category, message)` tuples,
/// so Flask's `get_flashed_messages` sees what its own `flash` would have stored.
fn flashes_as_tuples(value: &Value) -> Option<Value> {
    let entries = value.as_array()?;
    let tagged = entries
        .iter()
        .map(|entry| match entry {
            Value::Array(pair) if pair.len() == 2 => {
                tagged_json::tuple(pair.iter().map(tagged_json::tag).collect())
            }
            other => tagged_json::tag(other),
        })
        .collect();
    Some(Value::Array(tagged))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    #[test]
    fn rust_timestamps_refine_the_signature_second_unless_flask_signed_later() {
        let mut session = FlaskSession::new();
        assert_eq!(
            times(&session, 7),
            Times {
                created_at: at(7_000),
                issued_at: at(7_000)
            }
        );
        session.insert(TIMES_KEY, json!([1_500, 7_250]));
        assert_eq!(
            times(&session, 7),
            Times {
                created_at: at(1_500),
                issued_at: at(7_250)
            }
        );
        assert_eq!(
            times(&session, 9),
            Times {
                created_at: at(1_500),
                issued_at: at(9_000)
            }
        );
        session.insert(TIMES_KEY, json!("junk"));
        assert_eq!(times(&session, 9).issued_at, at(9_000));
    }

    #[test]
    fn untouched_keys_keep_their_tags_and_new_flashes_become_tuples() {
        let json = r#"{"_permanent":true,"pair":{" t":["a",1]},"gone":1}"#;
        let mut base = FlaskSession::from_tagged_json(json).unwrap();
        let config = SessionConfig::default();
        let times = Times {
            created_at: at(1),
            issued_at: at(2),
        };
        let mut record = to_record(&base, times, &config);
        assert!(record.permanent);
        assert!(!record.data.contains_key(PERMANENT_KEY));
        record.data.remove("gone");
        record
            .data
            .insert(FLASHES_KEY.into(), json!([["message", "hi"]]));
        record.permanent = false;
        apply(&mut base, &record, times);
        assert_eq!(
            base.to_tagged_json(),
            r#"{"_flashes":[{" t":["message","hi"]}],"_rs_ts":[1,2],"pair":{" t":["a",1]}}"#
        );
    }
}
