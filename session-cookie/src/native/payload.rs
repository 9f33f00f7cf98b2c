//! The JSON a native cookie seals: `{"c":<created_at ms>,"p":true,"d":{..data..}}`.
//!
//! The issue time (the session's last activity) is in the sealed header, not here, and
//! `p` is left out for browser-session cookies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use session_core::clock::Timestamp;
use session_core::store::Record;
use session_core::SessionConfig;

#[derive(Serialize)]
struct PayloadRef<'a> {
    #[serde(rename = "c")]
    created_at: Timestamp,
    #[serde(rename = "p", skip_serializing_if = "is_false")]
    permanent: bool,
    #[serde(rename = "d")]
    data: &'a Map<String, Value>,
}

#[derive(Deserialize)]
struct PayloadOwned {
    #[serde(rename = "c")]
    created_at: Timestamp,
    #[serde(rename = "p", default)]
    permanent: bool,
    #[serde(rename = "d")]
    data: Map<String, Value>,
}

fn is_false(value: &bool) -> bool {
    !value
}

fn payload(record: &Record) -> PayloadRef<'_> {
    PayloadRef {
        created_at: record.created_at,
        permanent: record.permanent,
        data: &record.data,
    }
}

/// The payload of `record`.
pub(crate) fn to_json(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&payload(record))
}

/// The length of [`to_json`]'s output, counted without building it.
pub(crate) fn json_len(record: &Record) -> usize {
    session_core::backend::json_len(&payload(record))
}

/// A verified cookie's payload, as it was sealed.
pub(crate) struct Payload {
    /// When the session was created, as the cookie claims it.
    pub(crate) created_at: Timestamp,
    permanent: bool,
    data: Map<String, Value>,
}

/// The payload `json` holds; `None` when the JSON is not a payload.
pub(crate) fn from_json(json: &[u8]) -> Option<Payload> {
    let PayloadOwned {
        created_at,
        permanent,
        data,
    } = serde_json::from_slice(json).ok()?;
    Some(Payload {
        created_at,
        permanent,
        data,
    })
}

impl Payload {
    /// The record this payload, issued at `issued_at`, describes, its deadline computed
    /// by today's `config`.
    pub(crate) fn to_record(&self, issued_at: Timestamp, config: &SessionConfig) -> Record {
        // A session cannot have been created after its cookie was issued.
        let created_at = self.created_at.min(issued_at);
        let mut record = Record {
            data: self.data.clone(),
            created_at,
            last_active: issued_at,
            expires_at: issued_at,
            permanent: self.permanent,
            version: 0,
        };
        // Judged by today's settings and the session's own "remember me" window.
        record.expires_at = config.deadline(&record, issued_at);
        record
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn counted_length_matches_and_round_trip_keeps_everything() {
        let config = SessionConfig::default();
        let mut record = config.new_record(Timestamp::from_unix_millis(1_000));
        for permanent in [false, true] {
            record.permanent = permanent;
            record.data.insert("k".into(), json!({"é": [1, 2.5, null]}));
            let bytes = to_json(&record).unwrap();
            assert_eq!(bytes.len(), json_len(&record));
            let issued = Timestamp::from_unix_millis(5_000);
            let back = from_json(&bytes).unwrap().to_record(issued, &config);
            assert_eq!(
                (back.data, back.created_at, back.permanent),
                (record.data.clone(), record.created_at, permanent)
            );
            assert_eq!(back.last_active, issued);
        }
        assert_eq!(
            String::from_utf8(to_json(&config.new_record(Timestamp::from_unix_millis(7))).unwrap())
                .unwrap(),
            r#"{"c":7,"d":{}}"#
        );
        assert!(from_json(b"[]").is_none());
    }
}
