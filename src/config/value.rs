//! Typing helpers shared by every section: turn one raw option into a typed value or a positioned diagnostic.
//!
//! Other modules that type their own section (for example `notify` for `push`) use these so every bad value
//! is reported the same way: `file:line: sentence`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::raw::{Location, RawOption};

/// A problem found while typing an option: where, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct Diagnostic {
    /// Where the option (or section) was read.
    pub location: Location,
    /// A sentence naming the problem.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic about `option`.
    pub fn at(option: &RawOption, message: impl fmt::Display) -> Diagnostic {
        Diagnostic {
            location: option.location.clone(),
            message: message.to_string(),
        }
    }
}

/// Parses an integer option, checking it lies in `min..=max`.
pub fn integer<T>(option: &RawOption, min: T, max: T) -> Result<T, Diagnostic>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let value: T = option.value.parse().map_err(|_| {
        Diagnostic::at(
            option,
            format!(
                "option `{}` must be an integer, found `{}`",
                option.name, option.value
            ),
        )
    })?;
    if value < min || value > max {
        return Err(Diagnostic::at(
            option,
            format!(
                "option `{}` must be between {min} and {max}, found {value}",
                option.name
            ),
        ));
    }
    Ok(value)
}

/// Parses a whole number of seconds in `min..=max`.
pub fn seconds(option: &RawOption, min: u64, max: u64) -> Result<Duration, Diagnostic> {
    integer(option, min, max).map(Duration::from_secs)
}

/// Parses a boolean the way Configuration Server options are written: `true`/`false`, `yes`/`no`, `1`/`0`.
pub fn boolean(option: &RawOption) -> Result<bool, Diagnostic> {
    parse_bool(&option.value).ok_or_else(|| {
        Diagnostic::at(
            option,
            format!(
                "option `{}` must be true or false, found `{}`",
                option.name, option.value
            ),
        )
    })
}

/// Parses `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0` (any case); `None` for anything else.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Splits a comma-delimited list option (`pushEnabled = android,ios`), dropping empty items.
pub fn list(option: &RawOption) -> Vec<String> {
    option
        .value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}
