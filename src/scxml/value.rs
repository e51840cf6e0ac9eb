//! Values that cross the datamodel boundary: event data, params, `<donedata>`, host calls.
//!
//! A [`Value`] is plain Rust data, so it can move between sessions (and threads) freely; each
//! datamodel converts it to and from its own representation.

use std::fmt::Write as _;
use std::sync::Arc;

/// A datamodel-independent value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value (`undefined` in ECMAScript).
    #[default]
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(Arc<str>),
    /// An ordered list.
    Array(Vec<Value>),
    /// Key/value pairs in insertion order (duplicates kept, as `<send>` params may repeat).
    Object(Vec<(Arc<str>, Value)>),
    /// An XML fragment, kept as text; datamodels that know XML turn it into a DOM.
    Xml(Arc<str>),
}

impl Value {
    /// A string value.
    pub fn string(text: impl Into<Arc<str>>) -> Value {
        Value::String(text.into())
    }

    /// The value of `key` in an object (the first one when repeated).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries
                .iter()
                .find(|(name, _)| &**name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Converts JSON into a value.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(*flag),
            serde_json::Value::Number(number) => Value::Number(number.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(text) => Value::String(Arc::from(text.as_str())),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (Arc::from(key.as_str()), Value::from_json(value)))
                    .collect(),
            ),
        }
    }

    /// Converts the value to JSON (`undefined` becomes `null`, XML its text).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Undefined | Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Number(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => {
                serde_json::Value::from(*number as i64)
            }
            Value::Number(number) => serde_json::Number::from_f64(*number)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(text) | Value::Xml(text) => serde_json::Value::String(text.to_string()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Parses content text the way the ECMAScript datamodel of B.2 asks: JSON if it is JSON, an XML
    /// fragment if it is well-formed XML, otherwise a whitespace-normalised string.
    pub fn from_content_text(text: &str) -> Value {
        let trimmed = text.trim();
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(trimmed) {
            return Value::from_json(&json);
        }
        if trimmed.starts_with('<') && crate::scxml::parse::xml::read(trimmed).is_ok() {
            return Value::Xml(Arc::from(trimmed));
        }
        let mut normalized = String::with_capacity(trimmed.len());
        for word in trimmed.split_whitespace() {
            if !normalized.is_empty() {
                normalized.push(' ');
            }
            normalized.push_str(word);
        }
        Value::String(Arc::from(normalized))
    }

    /// A short text form for logs and traces (JSON for structured values).
    pub fn display(&self) -> String {
        match self {
            Value::Undefined => "undefined".to_string(),
            Value::String(text) | Value::Xml(text) => text.to_string(),
            Value::Number(number) => {
                let mut out = String::new();
                if number.fract() == 0.0 && number.abs() < 1e15 {
                    let _ = write!(out, "{}", *number as i64);
                } else {
                    let _ = write!(out, "{number}");
                }
                out
            }
            other => other.to_json().to_string(),
        }
    }
}
