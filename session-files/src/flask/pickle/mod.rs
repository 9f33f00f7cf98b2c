//! The pickled session dict: read through `serde-pickle` after [`scan::check`], written by
//! [`encode`] as CPython writes it.

mod encode;
mod scan;

use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Number, Value as Json};
use serde_pickle::{DeOptions, HashableValue, Value as Py};

pub(crate) use self::encode::{dump, Encoder};
use crate::flask::FlaskFileError;

/// A value could not be pickled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum EncodeError {
    /// Nested deeper than a pickle this crate reads back.
    #[error("the session nests deeper than {limit} levels")]
    TooDeep { limit: usize },
    /// A JSON number that is neither an integer nor a float (arbitrary precision).
    #[error("a number that is neither a 64-bit integer nor a float")]
    Number,
}

/// A Flask-Session dict as stored: its entries in the order the file has them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionDict {
    pub(crate) entries: Vec<(HashableValue, Py)>,
}

/// Decodes a pickled session dict. Objects are refused (see [`scan`]), and so is
/// anything but a dict.
pub(crate) fn decode(pickle: &[u8]) -> Result<SessionDict, FlaskFileError> {
    scan::check(pickle)?;
    let value =
        serde_pickle::value_from_slice(pickle, DeOptions::new()).map_err(FlaskFileError::Pickle)?;
    let Py::Dict(mut map) = value else {
        return Err(FlaskFileError::NotADict);
    };
    let mut entries = Vec::with_capacity(map.len());
    // serde-pickle's dicts are sorted; the stream's own key order comes from a second,
    // order-keeping pass (which gives up on integers past 64 bits: sorted order then).
    for key in key_order(pickle).unwrap_or_default() {
        let key = HashableValue::String(key);
        if let Some(value) = map.remove(&key) {
            entries.push((key, value));
        }
    }
    entries.extend(map);
    Ok(SessionDict { entries })
}

/// A pickled integer (cachelib's count file), or `None`.
pub(crate) fn decode_int(pickle: &[u8]) -> Option<i64> {
    scan::check(pickle).ok()?;
    match serde_pickle::value_from_slice(pickle, DeOptions::new()).ok()? {
        Py::I64(count) => Some(count),
        _ => None,
    }
}

/// The string keys of the top-level dict in stream order (repeats dropped).
fn key_order(pickle: &[u8]) -> Option<Vec<String>> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a dict")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys: Vec<String> = Vec::new();
            while let Some(key) = map.next_key::<KeyText>()? {
                map.next_value::<IgnoredAny>()?;
                if let KeyText(Some(key)) = key {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            Ok(keys)
        }
    }
    struct KeyText(Option<String>);
    impl<'de> serde::Deserialize<'de> for KeyText {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Text;
            impl<'de2> Visitor<'de2> for Text {
                type Value = KeyText;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a key")
                }
                fn visit_str<E>(self, text: &str) -> Result<KeyText, E> {
                    Ok(KeyText(Some(text.to_owned())))
                }
                fn visit_string<E>(self, text: String) -> Result<KeyText, E> {
                    Ok(KeyText(Some(text)))
                }
                fn visit_i64<E>(self, _: i64) -> Result<KeyText, E> {
                    Ok(KeyText(None))
                }
                fn visit_u64<E>(self, _: u64) -> Result<KeyText, E> {
                    Ok(KeyText(None))
                }
                fn visit_f64<E>(self, _: f64) -> Result<KeyText, E> {
                    Ok(KeyText(None))
                }
                fn visit_bool<E>(self, _: bool) -> Result<KeyText, E> {
                    Ok(KeyText(None))
                }
                fn visit_unit<E>(self) -> Result<KeyText, E> {
                    Ok(KeyText(None))
                }
                fn visit_byte_buf<E>(self, _: Vec<u8>) -> Result<KeyText, E> {
                    Ok(KeyText(None))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de2>>(
                    self,
                    mut seq: A,
                ) -> Result<KeyText, A::Error> {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(KeyText(None))
                }
            }
            deserializer.deserialize_any(Text)
        }
    }
    let mut deserializer =
        serde_pickle::Deserializer::new(std::io::Cursor::new(pickle), DeOptions::new());
    (&mut deserializer).deserialize_map(Keys).ok()
}

/// The JSON a Python value reads as on the Rust side, or `None` for one JSON cannot hold
/// as it is (bytes, sets, integers past 64 bits, non-finite floats, dicts with keys that
/// are not strings). Tuples read as arrays.
pub(crate) fn to_json(value: &Py) -> Option<Json> {
    Some(match value {
        Py::None => Json::Null,
        Py::Bool(value) => Json::Bool(*value),
        Py::I64(value) => Json::from(*value),
        Py::Int(value) => Json::from(u64::try_from(value).ok()?),
        Py::F64(value) => Json::Number(Number::from_f64(*value)?),
        Py::String(value) => Json::String(value.clone()),
        Py::List(items) | Py::Tuple(items) => {
            Json::Array(items.iter().map(to_json).collect::<Option<_>>()?)
        }
        Py::Dict(map) => {
            let mut object = Map::new();
            for (key, value) in map {
                let HashableValue::String(key) = key else {
                    return None;
                };
                object.insert(key.clone(), to_json(value)?);
            }
            Json::Object(object)
        }
        Py::Bytes(_) | Py::Set(_) | Py::FrozenSet(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPython 3.11: `pickle.dumps({"b": 1, "a": (1, "x"), "c": b"\x00"}, 5)`.
    const ORDERED: &[u8] = b"\x80\x05\x95\x1f\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01b\x94K\x01\x8c\x01a\x94K\x01\x8c\x01x\x94\x86\x94\x8c\x01c\x94C\x01\x00\x94u.";

    #[test]
    fn keeps_order_tuples_and_bytes() -> Result<(), FlaskFileError> {
        let dict = decode(ORDERED)?;
        let keys: Vec<_> = dict.entries.iter().map(|(key, _)| key.clone()).collect();
        assert_eq!(
            keys,
            ["b", "a", "c"].map(|key| HashableValue::String(key.into()))
        );
        assert_eq!(
            dict.entries[1].1,
            Py::Tuple(vec![Py::I64(1), Py::String("x".into())])
        );
        assert_eq!(
            to_json(&dict.entries[1].1),
            Some(serde_json::json!([1, "x"]))
        );
        assert_eq!(to_json(&dict.entries[2].1), None, "bytes stay Python's");
        let again = dump(|encoder| {
            encoder.save_dict(dict.entries.len(), |encoder, index| {
                let (key, value) = &dict.entries[index];
                encoder.save_hashable(key)?;
                encoder.save_value(value)
            })
        })
        .map_err(|_| FlaskFileError::NotADict)?;
        assert_eq!(again, ORDERED, "written back byte for byte");
        Ok(())
    }
}
