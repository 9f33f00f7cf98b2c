//! Flask's session dict and the Rust [`Record`]: which keys are values, which are
//! metadata, and how a Rust write keeps everything it did not change.
//!
//! - `_permanent` is `session.permanent` (Python truthiness), not a value.
//! - `_rs_created` (Unix ms) is the creation time the Rust side records when an absolute
//!   timeout needs it; Flask carries keys it does not know through its writes untouched.
//! - `_flashes` is a value (the core reads `[category, message]` pairs); written back as
//!   a list of tuples, as Flask's `flash` stores them.
//! - A value JSON cannot hold as it is (bytes, a set, an integer past 64 bits, a NaN, a
//!   dict with keys that are not strings, or anything holding one) shows on the Rust side
//!   as a placeholder object, `{"$python": "<type>"}`, so the key is seen (and the session
//!   is not empty) without the value being guessed at.
//!
//! Writing merges: every key of the stored dict keeps its place; one the Rust side did not
//! change (its JSON is still what was read) is written back as it was stored (tuples stay
//! tuples, bytes stay bytes); a changed one gets the new value; a removed one goes; new
//! keys follow in key order. A new session is `_permanent` (when permanent), then
//! `_rs_created` (when kept), then the values in key order.

use serde_json::{Map, Value as Json};
use serde_pickle::{HashableValue, Value as Py};
use session_core::store::Record;

use super::pickle::{dump, to_json, EncodeError, Encoder, SessionDict};

pub(crate) const PERMANENT_KEY: &str = "_permanent";
pub(crate) const CREATED_KEY: &str = "_rs_created";
const FLASHES_KEY: &str = "_flashes";
const PLACEHOLDER_KEY: &str = "$python";

/// What a stored dict holds for the Rust side.
#[derive(Debug, PartialEq)]
pub(crate) struct Decoded {
    pub(crate) data: Map<String, Json>,
    pub(crate) permanent: bool,
    pub(crate) created: Option<i64>,
}

/// How the Rust side sees a stored value: its JSON, or a placeholder naming its type.
fn view(value: &Py) -> Json {
    to_json(value).unwrap_or_else(|| {
        let kind = match value {
            Py::Bytes(_) => "bytes",
            Py::Set(_) => "set",
            Py::FrozenSet(_) => "frozenset",
            Py::Int(_) | Py::I64(_) => "int",
            Py::F64(_) => "float",
            Py::Dict(_) => "dict",
            Py::List(_) => "list",
            Py::Tuple(_) => "tuple",
            Py::None | Py::Bool(_) | Py::String(_) => "object",
        };
        Json::Object(Map::from_iter([(
            PLACEHOLDER_KEY.to_owned(),
            Json::String(kind.to_owned()),
        )]))
    })
}

/// Python's truthiness.
fn truthy(value: &Py) -> bool {
    match value {
        Py::None => false,
        Py::Bool(value) => *value,
        Py::I64(value) => *value != 0,
        Py::Int(value) => *value != num_bigint::BigInt::from(0),
        Py::F64(value) => *value != 0.0,
        Py::Bytes(value) => !value.is_empty(),
        Py::String(value) => !value.is_empty(),
        Py::List(items) | Py::Tuple(items) => !items.is_empty(),
        Py::Set(items) | Py::FrozenSet(items) => !items.is_empty(),
        Py::Dict(map) => !map.is_empty(),
    }
}

/// The Rust side's reading of a stored dict.
pub(crate) fn read(dict: &SessionDict) -> Decoded {
    let mut decoded = Decoded {
        data: Map::new(),
        permanent: false,
        created: None,
    };
    for (key, value) in &dict.entries {
        let HashableValue::String(key) = key else {
            continue;
        };
        match key.as_str() {
            PERMANENT_KEY => decoded.permanent = truthy(value),
            CREATED_KEY => {
                if let Py::I64(created) = value {
                    decoded.created = Some(*created);
                }
            }
            _ => {
                decoded.data.insert(key.clone(), view(value));
            }
        }
    }
    decoded
}

/// One entry of the dict to write.
enum Out<'a> {
    Kept(&'a HashableValue, &'a Py),
    Value(&'a str, &'a Json),
    Flag(&'static str, bool),
    Int(&'static str, i64),
}

/// The pickle of `record` merged into `stored` (see the module docs), with `created`
/// kept under `_rs_created` when given.
pub(crate) fn write(
    stored: Option<&SessionDict>,
    record: &Record,
    created: Option<i64>,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    let (mut saw_permanent, mut saw_created) = (false, false);
    if stored.is_none() {
        if record.permanent {
            out.push(Out::Flag(PERMANENT_KEY, true));
        }
        if let Some(created) = created {
            out.push(Out::Int(CREATED_KEY, created));
        }
        (saw_permanent, saw_created) = (true, true);
    }
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in stored
        .map(|dict| dict.entries.as_slice())
        .unwrap_or_default()
    {
        let HashableValue::String(name) = key else {
            out.push(Out::Kept(key, value));
            continue;
        };
        match name.as_str() {
            PERMANENT_KEY => {
                saw_permanent = true;
                out.push(if truthy(value) == record.permanent {
                    Out::Kept(key, value)
                } else {
                    Out::Flag(PERMANENT_KEY, record.permanent)
                });
            }
            CREATED_KEY => {
                saw_created = true;
                out.push(match created {
                    Some(created) if *value != Py::I64(created) => Out::Int(CREATED_KEY, created),
                    _ => Out::Kept(key, value),
                });
            }
            _ => {
                let Some(new) = record.data.get(name) else {
                    continue; // removed on the Rust side
                };
                seen.push(name);
                out.push(if view(value) == *new {
                    Out::Kept(key, value)
                } else {
                    Out::Value(name, new)
                });
            }
        }
    }
    if !saw_permanent && record.permanent {
        out.push(Out::Flag(PERMANENT_KEY, true));
    }
    if let (false, Some(created)) = (saw_created, created) {
        out.push(Out::Int(CREATED_KEY, created));
    }
    for (name, value) in &record.data {
        if ![PERMANENT_KEY, CREATED_KEY].contains(&name.as_str()) && !seen.contains(&name.as_str())
        {
            out.push(Out::Value(name, value));
        }
    }
    dump(|encoder| encoder.save_dict(out.len(), |encoder, index| save(encoder, &out[index])))
}

fn save(encoder: &mut Encoder, entry: &Out<'_>) -> Result<(), EncodeError> {
    match entry {
        Out::Kept(key, value) => {
            encoder.save_hashable(key)?;
            encoder.save_value(value)
        }
        Out::Value(name, value) => {
            encoder.save_str(name);
            if *name == FLASHES_KEY {
                encoder.save_flashes(value)
            } else {
                encoder.save_json(value)
            }
        }
        Out::Flag(name, value) => {
            encoder.save_str(name);
            encoder.save_bool(*value);
            Ok(())
        }
        Out::Int(name, value) => {
            encoder.save_str(name);
            encoder.save_int(*value);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use session_core::clock::Timestamp;

    use super::super::pickle::decode;
    use super::*;

    fn key(text: &str) -> HashableValue {
        HashableValue::String(text.to_owned())
    }

    fn record(data: Json, permanent: bool) -> Record {
        let mut record = Record::new(
            Timestamp::from_unix_millis(0),
            Timestamp::from_unix_millis(1),
        );
        record.data = match data {
            Json::Object(map) => map,
            _ => Map::new(),
        };
        record.permanent = permanent;
        record
    }

    #[test]
    fn untouched_values_keep_their_python_types() -> Result<(), Box<dyn std::error::Error>> {
        // What Flask stores: flashes as tuples, bytes, a key order of its own.
        let stored = SessionDict {
            entries: vec![
                (key("_permanent"), Py::Bool(true)),
                (key("z"), Py::Bytes(b"\x00".to_vec())),
                (
                    key("_flashes"),
                    Py::List(vec![Py::Tuple(vec![
                        Py::String("message".into()),
                        Py::String("hi".into()),
                    ])]),
                ),
                (key("a"), Py::I64(1)),
            ],
        };
        let decoded = read(&stored);
        assert!(decoded.permanent);
        assert_eq!(
            Json::Object(decoded.data.clone()),
            json!({"z": {"$python": "bytes"}, "_flashes": [["message", "hi"]], "a": 1})
        );
        // The Rust side changes `a` and adds `b`; everything else is written back as is.
        let mut changed = record(Json::Object(decoded.data), true);
        changed.data.insert("a".into(), json!(2));
        changed.data.insert("b".into(), json!("new"));
        let written = decode(&write(Some(&stored), &changed, None)?)?;
        let mut expected = stored.entries.clone();
        expected[3].1 = Py::I64(2);
        expected.push((key("b"), Py::String("new".into())));
        assert_eq!(written.entries, expected);
        Ok(())
    }

    #[test]
    fn new_flashes_are_tuples_and_removals_remove() -> Result<(), Box<dyn std::error::Error>> {
        let fresh = record(
            json!({"_flashes": [["info", "Welcome"]], "user": "ada"}),
            false,
        );
        let written = decode(&write(None, &fresh, Some(42))?)?;
        assert_eq!(
            written.entries,
            vec![
                (key(CREATED_KEY), Py::I64(42)),
                (
                    key("_flashes"),
                    Py::List(vec![Py::Tuple(vec![
                        Py::String("info".into()),
                        Py::String("Welcome".into())
                    ])])
                ),
                (key("user"), Py::String("ada".into())),
            ]
        );
        let emptied = record(json!({"user": "ada"}), true);
        let again = decode(&write(Some(&written), &emptied, Some(42))?)?;
        let keys: Vec<_> = again.entries.iter().map(|(key, _)| key.clone()).collect();
        assert_eq!(keys, [CREATED_KEY, "user", PERMANENT_KEY].map(key));
        Ok(())
    }
}
