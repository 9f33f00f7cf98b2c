//! [`FlaskSession`]: a Flask session's data as natural JSON, plus the
//! original tagged JSON of every top-level key so that values Rust does not
//! change are written back exactly as Flask wrote them.

use std::collections::{BTreeMap, HashMap};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::pyjson;
use super::tagged_json::{self, TaggedJsonError, TAG_DICT};

/// Flask's key for `session.permanent`.
pub const PERMANENT_KEY: &str = "_permanent";
/// Flask's key for flashed messages: a list of `(category, message)` tuples.
pub const FLASHES_KEY: &str = "_flashes";

/// The tagged JSON a top-level key was read (or inserted) with.
#[derive(Debug, Clone, PartialEq)]
struct Original {
    /// The natural value it untagged to; the original is reused only while
    /// the session still holds exactly this value.
    natural: Value,
    /// The tagged JSON text, re-emitted verbatim.
    tagged: String,
}

/// A Flask session: a map of natural JSON values (see the
/// [`flask`](super) module table) that remembers how each top-level value was
/// tagged, so a decode → modify → encode round trip leaves every key Rust did
/// not change byte-identical (tuples stay tuples, bytes stay bytes, ...).
///
/// A key that Rust sets or modifies is written as plain JSON (lists, strings),
/// unless it was set with [`FlaskSession::insert_tagged`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlaskSession {
    data: Map<String, Value>,
    originals: HashMap<String, Original>,
}

impl From<Map<String, Value>> for FlaskSession {
    fn from(data: Map<String, Value>) -> Self {
        Self::from_map(data)
    }
}

impl FlaskSession {
    /// An empty session.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session holding `data` (natural JSON), with no tagged originals.
    pub fn from_map(data: Map<String, Value>) -> Self {
        Self {
            data,
            originals: HashMap::new(),
        }
    }

    /// The natural session data.
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// Mutable access to the natural data. Keys whose value you change lose
    /// their original tagging; unchanged keys keep it.
    pub fn data_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.data
    }

    /// Consumes the session, returning the natural data.
    pub fn into_map(self) -> Map<String, Value> {
        self.data
    }

    /// The natural value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// Sets `key` to a natural value (written as plain JSON).
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.data.insert(key.into(), value)
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.originals.remove(key);
        self.data.remove(key)
    }

    /// Number of top-level keys.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the session has no keys.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The tagged JSON text `key` will be written with, if it still holds the
    /// value it was decoded or [inserted tagged](Self::insert_tagged) with.
    /// Use it to see the Python type behind a natural value.
    pub fn tagged_json(&self, key: &str) -> Option<&str> {
        let original = self.originals.get(key)?;
        (self.data.get(key) == Some(&original.natural)).then_some(original.tagged.as_str())
    }

    /// The tagged JSON value of `key`: its original tagging if unchanged,
    /// else its natural value tagged as plain JSON.
    pub fn tagged_value(&self, key: &str) -> Option<Value> {
        if let Some(text) = self.tagged_json(key) {
            if let Ok(value) = serde_json::from_str(text) {
                return Some(value);
            }
        }
        self.data.get(key).map(tagged_json::tag)
    }

    /// Sets `key` from a tagged JSON value (e.g. built with
    /// [`tagged_json::tuple()`]), so Flask reads it back as the tagged Python
    /// type. The natural value becomes visible through [`get`](Self::get).
    pub fn insert_tagged(
        &mut self,
        key: impl Into<String>,
        tagged: Value,
    ) -> Result<(), TaggedJsonError> {
        let text = pyjson::dumps(&tagged);
        let natural = tagged_json::untag(tagged)?;
        let key = key.into();
        self.data.insert(key.clone(), natural.clone());
        self.originals.insert(
            key,
            Original {
                natural,
                tagged: text,
            },
        );
        Ok(())
    }

    /// Flask's `session.permanent` (`_permanent`, default `false`).
    pub fn is_permanent(&self) -> bool {
        self.data
            .get(PERMANENT_KEY)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Sets `session.permanent` the way Flask does (stores `_permanent`).
    pub fn set_permanent(&mut self, permanent: bool) {
        self.data
            .insert(PERMANENT_KEY.to_owned(), Value::Bool(permanent));
    }

    /// Removes `_permanent`, returning whether the session was permanent.
    pub fn take_permanent(&mut self) -> bool {
        let permanent = self.is_permanent();
        self.remove(PERMANENT_KEY);
        permanent
    }

    /// The flashed messages as `(category, message)` pairs, without removing
    /// them. Entries that are not 2-item lists with a string category are
    /// skipped.
    pub fn flashes(&self) -> Vec<(String, Value)> {
        let Some(Value::Array(entries)) = self.data.get(FLASHES_KEY) else {
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|entry| match entry.as_array().map(Vec::as_slice) {
                Some([Value::String(category), message]) => {
                    Some((category.clone(), message.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Removes and returns the flashed messages, like Flask's
    /// `get_flashed_messages(with_categories=True)`.
    pub fn take_flashes(&mut self) -> Vec<(String, Value)> {
        let flashes = self.flashes();
        self.remove(FLASHES_KEY);
        flashes
    }

    /// Appends a flashed message as Flask's `flash(message, category)` does:
    /// a `(category, message)` tuple; existing entries keep their tagging.
    pub fn push_flash(&mut self, category: &str, message: Value) {
        let mut list = match self.tagged_value(FLASHES_KEY) {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        list.push(tagged_json::tuple(vec![
            Value::String(category.to_owned()),
            tagged_json::tag(&message),
        ]));
        if self.insert_tagged(FLASHES_KEY, Value::Array(list)).is_err() {
            // Unreachable: the list was produced by tagging valid values.
            self.data.remove(FLASHES_KEY);
        }
    }

    /// Parses Flask's tagged JSON session payload.
    pub fn from_tagged_json(json: &str) -> Result<Self, TaggedJsonError> {
        let mut top = parse_object(json)?;
        // A session whose only key is a tag key is written as ` di`.
        if top.len() == 1 {
            if let Some(raw) = top.remove(TAG_DICT) {
                let inner = parse_object(raw.get())?;
                let mut entries = inner.into_iter();
                let (Some((key, value)), None) = (entries.next(), entries.next()) else {
                    return Err(TaggedJsonError::InvalidTag {
                        tag: TAG_DICT,
                        reason: "expected an object with one key",
                    });
                };
                top.insert(tagged_json::strip_two_chars(&key).to_owned(), value);
            } else if top.keys().any(|k| tagged_json::is_tag_key(k)) {
                return Err(TaggedJsonError::NotAnObject);
            }
        }
        let mut session = Self::new();
        for (key, raw) in top {
            let natural = tagged_json::untag(serde_json::from_str(raw.get())?)?;
            session.data.insert(key.clone(), natural.clone());
            let tagged = raw.get().to_owned();
            session.originals.insert(key, Original { natural, tagged });
        }
        Ok(session)
    }

    /// Serializes to Flask's tagged JSON, byte-identical to what Flask's
    /// `TaggedJSONSerializer.dumps` writes in a request for the same data.
    pub fn to_tagged_json(&self) -> String {
        let mut entries: Vec<(&String, &Value)> = self.data.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = String::new();
        let escape_top = matches!(entries.as_slice(), [(key, _)] if tagged_json::is_tag_key(key));
        if escape_top {
            out.push('{');
            pyjson::write_str(&mut out, TAG_DICT);
            out.push(':');
        }
        out.push('{');
        for (i, (key, value)) in entries.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if escape_top {
                pyjson::write_str(&mut out, &format!("{key}__"));
            } else {
                pyjson::write_str(&mut out, key);
            }
            out.push(':');
            match self.tagged_json(key) {
                Some(text) => out.push_str(text),
                None => pyjson::write_value(&mut out, &tagged_json::tag(value)),
            }
        }
        out.push('}');
        if escape_top {
            out.push('}');
        }
        out
    }
}

/// Parses a JSON object into its keys and the raw text of each value.
fn parse_object(json: &str) -> Result<BTreeMap<String, Box<RawValue>>, TaggedJsonError> {
    if json.trim_start().starts_with('{') {
        return Ok(serde_json::from_str(json)?);
    }
    // Report invalid JSON as such; valid non-objects as `NotAnObject`.
    serde_json::from_str::<Box<RawValue>>(json)?;
    Err(TaggedJsonError::NotAnObject)
}
