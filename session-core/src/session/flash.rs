//! Flash messages: shown once, on the next page that asks for them.

use serde_json::Value;

/// A one-time message for the user, as Flask's `flash(message, category)`.
///
/// Stored under the `_flashes` key as `[category, message]` pairs, which is how Flask
/// stores them, so a Flask app and a Rust service sharing a session see each other's
/// flashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// The category, `"message"` unless given (Flask's default).
    pub category: String,
    /// The text to show.
    pub message: String,
}

impl Flash {
    pub(crate) fn to_value(&self) -> Value {
        Value::Array(vec![
            Value::String(self.category.clone()),
            Value::String(self.message.clone()),
        ])
    }

    /// Reads one stored flash leniently: a `[category, message]` pair, or a bare string
    /// from an app that stored only messages. Anything else is skipped.
    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(category), Value::String(message)] => Some(Self {
                    category: category.clone(),
                    message: message.clone(),
                }),
                _ => None,
            },
            Value::String(message) => Some(Self {
                category: "message".to_owned(),
                message: message.clone(),
            }),
            _ => None,
        }
    }
}
