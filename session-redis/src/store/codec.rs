//! A [`Record`] as the fields of one Redis hash.
//!
//! | field | holds |
//! |---|---|
//! | `version` | the compare-and-swap version, decimal |
//! | `data` | the session's values, a JSON object |
//! | `created_at`, `last_active`, `expires_at` | unix milliseconds, decimal |
//! | `permanent` | `1` or `0` |
//!
//! Separate fields let `touch` move `last_active` and `expires_at` without rewriting the
//! data, and let the scripts compare versions without decoding anything.

use serde_json::{Map, Value};
use session_core::clock::Timestamp;
use session_core::store::Record;

use crate::DecodeError;

/// The fields `load` asks for, in the order [`decode`] expects them.
pub(crate) const FIELDS: [&str; 6] = [
    "version",
    "data",
    "created_at",
    "last_active",
    "expires_at",
    "permanent",
];

/// A record's field values as the write scripts take them (`ARGV[3]` to `ARGV[8]`).
pub(crate) struct Encoded {
    pub(crate) version: String,
    pub(crate) data: String,
    pub(crate) created_at: i64,
    pub(crate) last_active: i64,
    pub(crate) expires_at: i64,
    pub(crate) permanent: &'static str,
}

/// Encodes `record`; fails only if a value cannot be written as JSON (it always can, as
/// it already is JSON).
pub(crate) fn encode(record: &Record) -> Result<Encoded, serde_json::Error> {
    Ok(Encoded {
        version: record.version.to_string(),
        data: serde_json::to_string(&record.data)?,
        created_at: record.created_at.as_unix_millis(),
        last_active: record.last_active.as_unix_millis(),
        expires_at: record.expires_at.as_unix_millis(),
        permanent: if record.permanent { "1" } else { "0" },
    })
}

/// Decodes the reply of `HMGET key <FIELDS>`: `None` when the key holds nothing.
pub(crate) fn decode(fields: Vec<Option<Vec<u8>>>) -> Result<Option<Record>, DecodeError> {
    if fields.iter().all(Option::is_none) {
        return Ok(None);
    }
    let mut fields = fields.into_iter();
    let mut next = || fields.next().flatten();
    let (version, data, created_at, last_active, expires_at, permanent) =
        (next(), next(), next(), next(), next(), next());
    let data: Map<String, Value> =
        serde_json::from_slice(&required(data, "data")?).map_err(DecodeError::Json)?;
    let permanent = match required(permanent, "permanent")?.as_slice() {
        b"1" => true,
        b"0" => false,
        _ => return Err(DecodeError::Permanent),
    };
    Ok(Some(Record {
        data,
        created_at: Timestamp::from_unix_millis(number(created_at, "created_at")?),
        last_active: Timestamp::from_unix_millis(number(last_active, "last_active")?),
        expires_at: Timestamp::from_unix_millis(number(expires_at, "expires_at")?),
        permanent,
        version: number(version, "version")?,
    }))
}

fn required(value: Option<Vec<u8>>, field: &'static str) -> Result<Vec<u8>, DecodeError> {
    value.ok_or(DecodeError::MissingField(field))
}

fn number<T: std::str::FromStr<Err = std::num::ParseIntError>>(
    value: Option<Vec<u8>>,
    field: &'static str,
) -> Result<T, DecodeError> {
    let bytes = required(value, field)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| DecodeError::NotUtf8(field))?;
    text.parse()
        .map_err(|source| DecodeError::Number { field, source })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(record: &Record) -> Vec<Option<Vec<u8>>> {
        let e = encode(record).unwrap_or_else(|error| panic!("{error}"));
        [
            e.version.into_bytes(),
            e.data.into_bytes(),
            e.created_at.to_string().into_bytes(),
            e.last_active.to_string().into_bytes(),
            e.expires_at.to_string().into_bytes(),
            e.permanent.as_bytes().to_vec(),
        ]
        .map(Some)
        .to_vec()
    }

    #[test]
    fn records_round_trip_through_the_fields() -> Result<(), DecodeError> {
        let mut record = Record::new(
            Timestamp::from_unix_millis(1),
            Timestamp::from_unix_millis(i64::MAX),
        );
        record.data.insert("big".into(), json!(u64::MAX));
        record.version = u64::MAX - 1;
        record.permanent = true;
        assert_eq!(decode(fields_of(&record))?, Some(record));
        assert_eq!(decode(vec![None; 6])?, None);
        Ok(())
    }

    #[test]
    fn damaged_fields_are_decode_errors_not_panics() {
        let record = Record::new(
            Timestamp::from_unix_millis(1),
            Timestamp::from_unix_millis(2),
        );
        let mut missing = fields_of(&record);
        missing[1] = None;
        assert!(matches!(
            decode(missing),
            Err(DecodeError::MissingField("data"))
        ));
        let mut garbled = fields_of(&record);
        garbled[0] = Some(b"seven".to_vec());
        assert!(matches!(
            decode(garbled),
            Err(DecodeError::Number {
                field: "version",
                ..
            })
        ));
        let mut not_object = fields_of(&record);
        not_object[1] = Some(b"[1]".to_vec());
        assert!(matches!(decode(not_object), Err(DecodeError::Json(_))));
    }
}
