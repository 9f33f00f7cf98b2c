//! Flask's `TaggedJSONSerializer` (`flask/json/tag.py`) tags, mapped to and
//! from plain [`serde_json::Value`]s.
//!
//! Flask writes non-JSON Python values as single-key objects whose key is a
//! tag. [`untag`] turns such a tagged tree into the *natural* value documented
//! in the [`flask`](super) module table; [`tag`] turns a natural value back
//! into tagged JSON, which for plain JSON only means escaping single-key
//! objects whose key is a tag (` di`). The constructors ([`tuple()`],
//! [`bytes()`], [`markup()`], [`uuid()`], [`datetime()`]) build tagged values so Rust
//! code can write Python types that Flask will read back as such.

use base64::Engine as _;
use serde_json::{Map, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Tag for a single-key dict whose key is itself a tag.
pub const TAG_DICT: &str = " di";
/// Tag for a Python `tuple`.
pub const TAG_TUPLE: &str = " t";
/// Tag for Python `bytes` (standard base64).
pub const TAG_BYTES: &str = " b";
/// Tag for `markupsafe.Markup`.
pub const TAG_MARKUP: &str = " m";
/// Tag for `uuid.UUID` (32 hex digits).
pub const TAG_UUID: &str = " u";
/// Tag for `datetime.datetime` (HTTP date).
pub const TAG_DATETIME: &str = " d";

/// All tag keys Flask registers by default.
pub const TAG_KEYS: [&str; 6] = [
    TAG_DICT,
    TAG_TUPLE,
    TAG_BYTES,
    TAG_MARKUP,
    TAG_UUID,
    TAG_DATETIME,
];

/// Errors from interpreting tagged JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaggedJsonError {
    /// The payload is not valid JSON (or uses `NaN`/`Infinity`, which
    /// `serde_json` does not accept).
    #[error("session payload is not valid JSON")]
    Json(#[from] serde_json::Error),
    /// The payload is valid UTF-8 JSON but its top level is not an object.
    #[error("session payload is not a JSON object")]
    NotAnObject,
    /// The payload is not UTF-8.
    #[error("session payload is not UTF-8")]
    Utf8(#[from] std::str::Utf8Error),
    /// A tagged value has content Flask could not turn into its type.
    #[error("invalid tagged value for tag {tag:?}: {reason}")]
    InvalidTag {
        /// The tag key.
        tag: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Returns whether `key` is one of Flask's tag keys.
pub fn is_tag_key(key: &str) -> bool {
    TAG_KEYS.contains(&key)
}

/// Converts tagged JSON (as parsed from Flask's payload) to natural JSON,
/// like `TaggedJSONSerializer._untag_scan`.
pub fn untag(tagged: Value) -> Result<Value, TaggedJsonError> {
    match tagged {
        Value::Array(items) => items
            .into_iter()
            .map(untag)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let map = map
                .into_iter()
                .map(|(k, v)| untag(v).map(|v| (k, v)))
                .collect::<Result<Map<_, _>, _>>()?;
            untag_object(map)
        }
        other => Ok(other),
    }
}

fn untag_object(map: Map<String, Value>) -> Result<Value, TaggedJsonError> {
    let tagged = map.len() == 1 && map.keys().next().is_some_and(|k| is_tag_key(k));
    if !tagged {
        return Ok(Value::Object(map));
    }
    let Some((key, value)) = map.into_iter().next() else {
        return Ok(Value::Object(Map::new()));
    };
    let invalid = |tag, reason| Err(TaggedJsonError::InvalidTag { tag, reason });
    match (key.as_str(), value) {
        (TAG_DICT, Value::Object(inner)) => {
            let mut entries = inner.into_iter();
            match (entries.next(), entries.next()) {
                (Some((k, v)), None) => {
                    let mut out = Map::new();
                    out.insert(strip_two_chars(&k).to_owned(), v);
                    Ok(Value::Object(out))
                }
                _ => invalid(TAG_DICT, "expected an object with one key"),
            }
        }
        (TAG_DICT, _) => invalid(TAG_DICT, "expected an object"),
        (TAG_TUPLE, Value::Array(items)) => Ok(Value::Array(items)),
        (TAG_TUPLE, _) => invalid(TAG_TUPLE, "expected an array"),
        (TAG_BYTES, Value::String(b64)) => {
            match base64::engine::general_purpose::STANDARD.decode(&b64) {
                Ok(_) => Ok(Value::String(b64)),
                Err(_) => invalid(TAG_BYTES, "expected standard base64"),
            }
        }
        (TAG_BYTES, _) => invalid(TAG_BYTES, "expected a string"),
        (TAG_MARKUP, Value::String(s)) => Ok(Value::String(s)),
        (TAG_MARKUP, _) => invalid(TAG_MARKUP, "expected a string"),
        (TAG_UUID, Value::String(s)) => match parse_uuid(&s) {
            Some(hex) => Ok(Value::String(hyphenate(&hex))),
            None => invalid(TAG_UUID, "expected a UUID"),
        },
        (TAG_UUID, _) => invalid(TAG_UUID, "expected a string"),
        // werkzeug's parse_date returns None for dates it cannot parse.
        (TAG_DATETIME, Value::String(s)) => Ok(parse_http_date(&s)
            .map(|dt| Value::String(rfc3339(dt)))
            .unwrap_or(Value::Null)),
        (TAG_DATETIME, _) => invalid(TAG_DATETIME, "expected a string"),
        (_, value) => {
            let mut out = Map::new();
            out.insert(key, value);
            Ok(Value::Object(out))
        }
    }
}

/// Python's `key[:-2]` (drops the `__` that ` di` appends).
pub(crate) fn strip_two_chars(key: &str) -> &str {
    let cut = key.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
    &key[..cut]
}

/// Converts natural JSON to tagged JSON, like `TaggedJSONSerializer.tag`
/// for plain JSON values: single-key objects whose key is a tag are wrapped
/// in ` di`, everything else is unchanged.
pub fn tag(natural: &Value) -> Value {
    match natural {
        Value::Array(items) => Value::Array(items.iter().map(tag).collect()),
        Value::Object(map) => {
            let tagged: Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), tag(v))).collect();
            match single_tag_key(&tagged) {
                Some(key) => {
                    let mut inner = Map::new();
                    inner.insert(
                        format!("{key}__"),
                        tagged.get(key).cloned().unwrap_or(Value::Null),
                    );
                    let mut outer = Map::new();
                    outer.insert(TAG_DICT.to_owned(), Value::Object(inner));
                    Value::Object(outer)
                }
                None => Value::Object(tagged),
            }
        }
        other => other.clone(),
    }
}

fn single_tag_key(map: &Map<String, Value>) -> Option<&str> {
    let mut keys = map.keys();
    match (keys.next(), keys.next()) {
        (Some(key), None) if is_tag_key(key) => Some(key.as_str()),
        _ => None,
    }
}

fn tagged_value(tag: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(tag.to_owned(), value);
    Value::Object(map)
}

/// A Python tuple of (already tagged) items.
pub fn tuple(items: Vec<Value>) -> Value {
    tagged_value(TAG_TUPLE, Value::Array(items))
}

/// Python `bytes`.
pub fn bytes(data: &[u8]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    tagged_value(TAG_BYTES, Value::String(b64))
}

/// A `markupsafe.Markup` string (already safe HTML).
pub fn markup(html: &str) -> Value {
    tagged_value(TAG_MARKUP, Value::String(html.to_owned()))
}

/// A `uuid.UUID`; `None` if `uuid` is not a UUID in a form Python accepts.
pub fn uuid(uuid: &str) -> Option<Value> {
    parse_uuid(uuid).map(|hex| tagged_value(TAG_UUID, Value::String(hex)))
}

/// A `datetime.datetime` (whole seconds, UTC; Flask drops the rest).
pub fn datetime(dt: OffsetDateTime) -> Value {
    tagged_value(TAG_DATETIME, Value::String(http_date(dt)))
}

/// UUID text as Python's `UUID(str)` accepts it → 32 lowercase hex digits.
fn parse_uuid(s: &str) -> Option<String> {
    let s = s.replace("urn:", "").replace("uuid:", "");
    let hex: String = s.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

fn hyphenate(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats like werkzeug's `http_date`: `Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn http_date(dt: OffsetDateTime) -> String {
    let dt = dt.to_offset(UtcOffset::UTC);
    let weekday = WEEKDAYS[usize::from(dt.weekday().number_days_from_monday())];
    let month = MONTHS[usize::from(u8::from(dt.month()) - 1)];
    format!(
        "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        dt.day(),
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Parses an RFC 2822 / HTTP date (`[Wed, ]21 Oct 2015 07:28:00 GMT`, zone
/// `GMT`, `UT`, `UTC`, `Z` or `±HHMM`). The weekday is not checked.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let s = match s.split_once(',') {
        Some((weekday, rest)) if WEEKDAYS.contains(&weekday.trim()) => rest,
        _ => s,
    };
    let mut parts = s.split_whitespace();
    let day: u8 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month_index = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month_name))?;
    let month = Month::try_from(u8::try_from(month_index + 1).ok()?).ok()?;
    let year: i32 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let hour: u8 = hms.next()?.parse().ok()?;
    let minute: u8 = hms.next()?.parse().ok()?;
    let second: u8 = hms.next().map_or(Some(0), |s| s.parse().ok())?;
    let offset = parse_zone(parts.next()?)?;
    if parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

fn parse_zone(zone: &str) -> Option<UtcOffset> {
    if ["GMT", "UT", "UTC", "Z"]
        .iter()
        .any(|z| z.eq_ignore_ascii_case(zone))
    {
        return Some(UtcOffset::UTC);
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1i8, &zone[1..]),
        b'-' => (-1i8, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i8 = digits[..2].parse().ok()?;
    let minutes: i8 = digits[2..].parse().ok()?;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// RFC 3339 in UTC with whole seconds: `2015-10-21T07:28:00Z`.
pub fn rfc3339(dt: OffsetDateTime) -> String {
    let dt = dt.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn untag_known_tags() {
        let tagged = json!({
            "t": {" t": [1, {" b": "AAE="}]},
            "m": {" m": "<b>x</b>"},
            "u": {" u": "12345678123456781234567812345678"},
            "d": {" d": "Wed, 21 Oct 2015 07:28:00 GMT"},
            "bad_date": {" d": "not a date"},
            "di": {" di": {" t__": {" t": [1]}}},
            "two": {" t": [], "x": 1},
        });
        let natural = untag(tagged).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            natural,
            json!({
                "t": [1, "AAE="],
                "m": "<b>x</b>",
                "u": "12345678-1234-5678-1234-567812345678",
                "d": "2015-10-21T07:28:00Z",
                "bad_date": null,
                "di": {" t": [1]},
                "two": {" t": [], "x": 1},
            })
        );
    }

    #[test]
    fn invalid_tags_are_errors() {
        for bad in [
            json!({" t": 1}),
            json!({" u": "xyz"}),
            json!({" di": {}}),
            json!({" b": "!"}),
        ] {
            assert!(matches!(
                untag(bad),
                Err(TaggedJsonError::InvalidTag { .. })
            ));
        }
    }

    #[test]
    fn tag_escapes_single_tag_key_dicts() {
        let natural = json!({" t": {" b": 1}, "list": [{" u": 2}], "ok": {" t": 1, "y": 2}});
        let tagged = tag(&natural);
        assert_eq!(
            tagged,
            json!({
                " t": {" di": {" b__": 1}},
                "list": [{" di": {" u__": 2}}],
                "ok": {" t": 1, "y": 2},
            })
        );
        assert_eq!(untag(tagged).ok(), Some(natural));
    }

    #[test]
    fn http_dates() {
        let dt = parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap_or_else(|| panic!());
        assert_eq!(http_date(dt), "Wed, 21 Oct 2015 07:28:00 GMT");
        let shifted = parse_http_date("21 Oct 2015 09:28:00 +0200").unwrap_or_else(|| panic!());
        assert_eq!(shifted, dt);
        assert_eq!(rfc3339(dt), "2015-10-21T07:28:00Z");
        assert!(parse_http_date("Wed, 32 Oct 2015 07:28:00 GMT").is_none());
        assert_eq!(strip_two_chars("é__"), "é");
        assert_eq!(strip_two_chars("x"), "");
    }
}
