//! Flask-Session's record: the session dict, `_permanent` included, as msgpack.
//!
//! Flask-Session 0.8 stores `msgspec.msgpack.encode(dict(session))` (JSON when an app sets
//! `SESSION_SERIALIZATION_FORMAT = "json"`; its decoder accepts either) with
//! `SET key value EX <PERMANENT_SESSION_LIFETIME>`. Flask keeps `session.permanent` as the
//! `_permanent` key of the dict itself.

use serde::ser::{SerializeMap as _, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};
use sha1::{Digest as _, Sha1};

use crate::DecodeError;

/// The dict key in which Flask keeps `session.permanent`.
pub(crate) const PERMANENT_KEY: &str = "_permanent";

/// The dict key in which the Rust side keeps the session's creation time (Unix
/// milliseconds) when an absolute timeout needs it: Flask-Session keeps no timestamps, and
/// Flask carries keys it does not know through its own writes untouched.
pub(crate) const CREATED_KEY: &str = "_rs_created";

/// The msgpack bytes Flask-Session would store for `data` and `permanent`, plus the
/// creation time when `created` is given.
pub(crate) fn encode(
    data: &Map<String, Value>,
    permanent: bool,
    created: Option<i64>,
) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    rmp_serde::to_vec(&FlaskDict {
        data,
        permanent,
        created,
    })
}

/// What a stored value holds: the session values, the permanent flag and, when the Rust
/// side recorded it, the creation time.
#[derive(Debug, PartialEq)]
pub(crate) struct Decoded {
    pub(crate) data: Map<String, Value>,
    pub(crate) permanent: bool,
    pub(crate) created: Option<i64>,
}

/// Decodes a stored value.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut data: Map<String, Value> = match rmp_serde::from_slice(bytes) {
        Ok(data) => data,
        Err(msgpack) => serde_json::from_slice(bytes).map_err(|_| DecodeError::Msgpack(msgpack))?,
    };
    // Python truthiness of what Flask stores (a bool, normally).
    let permanent = match data.remove(PERMANENT_KEY) {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    let created = data.remove(CREATED_KEY).and_then(|v| v.as_i64());
    Ok(Decoded {
        data,
        permanent,
        created,
    })
}

/// A stand-in for the version Flask-Session does not keep: the top 60 bits of the SHA-1 of
/// the stored bytes. The save scripts compute the same from what Redis holds
/// (`redis.sha1hex`), so any write, Flask's included, changes it; 60 bits stay clear of
/// `u64` overflow when the caller adds 1.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    let digest = Sha1::digest(bytes);
    let mut top = [0_u8; 8];
    top.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(top) >> 4
}

/// [`fingerprint`] as the scripts compare it: the first 15 hex digits of the SHA-1.
pub(crate) fn fingerprint_hex(fingerprint: u64) -> String {
    format!("{fingerprint:015x}")
}

/// The dict as Flask-Session writes it: `_permanent` first (Flask sets it when the
/// session is created), then our creation time if any, then the values.
struct FlaskDict<'a> {
    data: &'a Map<String, Value>,
    permanent: bool,
    created: Option<i64>,
}

impl Serialize for FlaskDict<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let values = || {
            self.data
                .iter()
                .filter(|(key, _)| key.as_str() != PERMANENT_KEY && key.as_str() != CREATED_KEY)
        };
        let len =
            values().count() + usize::from(self.permanent) + usize::from(self.created.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        if self.permanent {
            map.serialize_entry(PERMANENT_KEY, &true)?;
        }
        if let Some(created) = self.created {
            map.serialize_entry(CREATED_KEY, &created)?;
        }
        for (key, value) in values() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn permanent_travels_in_the_dict() -> Result<(), Box<dyn std::error::Error>> {
        let Value::Object(data) = json!({"user": "ada", "n": [1, 2.5, null]}) else {
            return Err("not an object".into());
        };
        let bytes = encode(&data, true, None)?;
        // fixmap of 3 entries, `_permanent` first, `true`.
        assert_eq!(&bytes[..13], b"\x83\xaa_permanent\xc3");
        let decoded = decode(&bytes)?;
        assert_eq!(
            (decoded.data, decoded.permanent, decoded.created),
            (data.clone(), true, None)
        );
        let decoded = decode(&encode(&data, false, Some(1_700_000_000_123))?)?;
        assert_eq!(
            decoded.data, data,
            "the creation time is not a session value"
        );
        assert_eq!(
            (decoded.permanent, decoded.created),
            (false, Some(1_700_000_000_123))
        );
        Ok(())
    }

    #[test]
    fn json_values_and_garbage() -> Result<(), DecodeError> {
        let decoded = decode(br#"{"_permanent": true, "a": 1}"#)?;
        assert!(decoded.permanent);
        assert_eq!(decoded.data.get("a"), Some(&json!(1)));
        assert!(
            decode(b"\xc4\x03abc").is_err(),
            "msgpack bytes are not a dict"
        );
        assert!(decode(b"").is_err());
        Ok(())
    }

    #[test]
    fn fingerprint_matches_its_hex_form() {
        // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
        assert_eq!(fingerprint_hex(fingerprint(b"abc")), "a9993e364706816");
    }
}
