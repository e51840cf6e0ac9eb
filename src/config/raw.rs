//! The first stage of configuration: option sections exactly as read from an INI option file, each option with
//! its file and line, and only syntactic checks.
//!
//! The file is laid out as Configuration Manager exports an Application object's options (and the Annex of the
//! resource list's Transaction object): `[section]` headers followed by `name = value` lines. Comments start with
//! `;` or `#` at the start of a line. Option names are case-sensitive, as in Configuration Server.
//!
//! Written by hand because no INI crate keeps the line of every option, and every later error must point to one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where an option (or a section header) was read: `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The option file.
    pub file: Arc<Path>,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One `name = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOption {
    /// Option name as written (trimmed).
    pub name: String,
    /// Option value as written (trimmed; may be empty).
    pub value: String,
    /// Where the option was read.
    pub location: Location,
}

/// One `[section]` and its options, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSection {
    /// Section name as written (trimmed).
    pub name: String,
    /// Where the section header was read.
    pub location: Location,
    /// The options in file order. A repeated name keeps both lines; [`RawSection::get`] returns the last.
    pub options: Vec<RawOption>,
}

impl RawSection {
    /// The option named `name` (the last one when repeated).
    pub fn get(&self, name: &str) -> Option<&RawOption> {
        self.options.iter().rev().find(|option| option.name == name)
    }

    /// The value of the option named `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|option| option.value.as_str())
    }

    /// The first option found among `names` (for options with an old and a new spelling).
    pub fn get_any(&self, names: &[&str]) -> Option<&RawOption> {
        names.iter().find_map(|name| self.get(name))
    }
}

/// Every section of one option file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawConfig {
    /// The file the sections were read from.
    pub file: Arc<Path>,
    /// Sections in file order. A repeated header is merged into the first section of that name.
    pub sections: Vec<RawSection>,
}

/// A syntax error in an option file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SyntaxError {
    /// Where the bad line is.
    pub location: Location,
    /// A sentence naming the problem.
    pub message: String,
}

/// Why an option file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read option file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid option file.
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
}

impl RawConfig {
    /// Reads and parses the option file at `path`.
    pub fn load(path: &Path) -> Result<RawConfig, ReadError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(RawConfig::parse(path, &text)?)
    }

    /// Parses option-file text; `file` is used only for locations.
    pub fn parse(file: &Path, text: &str) -> Result<RawConfig, SyntaxError> {
        let file: Arc<Path> = Arc::from(file);
        let mut sections: Vec<RawSection> = Vec::new();
        let mut current: Option<usize> = None;
        // A byte-order mark (as Windows editors write one) opens the file; it is no part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (idx, line) in text.lines().enumerate() {
            let location = Location {
                file: file.clone(),
                line: idx + 1,
            };
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(';') {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(SyntaxError {
                        location,
                        message: "a section header must end with `]`".into(),
                    });
                };
                let name = name.trim();
                if name.is_empty() {
                    return Err(SyntaxError {
                        location,
                        message: "a section header needs a name between `[` and `]`".into(),
                    });
                }
                current = Some(match sections.iter().position(|s| s.name == name) {
                    Some(existing) => existing,
                    None => {
                        sections.push(RawSection {
                            name: name.to_string(),
                            location,
                            options: Vec::new(),
                        });
                        sections.len() - 1
                    }
                });
                continue;
            }
            // `#` starts a comment only outside sections' option names: the resource list ignores keys
            // starting with `#`, so `#dnis4 = ...` is kept as an option (a disabled entry), not dropped here.
            let Some((name, value)) = trimmed.split_once('=') else {
                if trimmed.starts_with('#') {
                    continue;
                }
                return Err(SyntaxError {
                    location,
                    message: format!("expected `name = value` or `[section]`, found `{trimmed}`"),
                });
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(SyntaxError {
                    location,
                    message: "an option needs a name before `=`".into(),
                });
            }
            let Some(section_idx) = current else {
                return Err(SyntaxError {
                    location,
                    message: format!("option `{name}` appears before any `[section]` header"),
                });
            };
            sections[section_idx].options.push(RawOption {
                name: name.to_string(),
                value: value.trim().to_string(),
                location,
            });
        }
        Ok(RawConfig { file, sections })
    }

    /// The section named `name`.
    pub fn section(&self, name: &str) -> Option<&RawSection> {
        self.sections.iter().find(|section| section.name == name)
    }

    /// Sections whose name starts with `prefix` (for example `service.` or `push.provider.`), in file order.
    pub fn sections_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = &'a RawSection> + 'a {
        self.sections
            .iter()
            .filter(move |section| section.name.starts_with(prefix))
    }

    /// An empty configuration attached to `file` (every option takes its default).
    pub fn empty(file: &Path) -> RawConfig {
        RawConfig {
            file: Arc::from(file),
            sections: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_options_and_lines() {
        let text = "; comment\n[gms]\nhttp.connection_timeout = 3\n\n[Dnis_Pool]\n_allocation_strategy = LOCAL\n#dnis0 = off\ndnis1 = 1-888-call-me1\n";
        let raw = RawConfig::parse(Path::new("a.ini"), text).unwrap();
        assert_eq!(raw.sections.len(), 2);
        let gms = raw.section("gms").unwrap();
        assert_eq!(gms.value("http.connection_timeout"), Some("3"));
        assert_eq!(
            gms.get("http.connection_timeout")
                .unwrap()
                .location
                .to_string(),
            "a.ini:3"
        );
        let pool = raw.section("Dnis_Pool").unwrap();
        assert_eq!(pool.options.len(), 3);
        assert_eq!(pool.options[1].name, "#dnis0");
    }

    #[test]
    fn reports_bad_lines_with_their_position() {
        let err = RawConfig::parse(Path::new("b.ini"), "[gms]\nnot an option\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.ini:2: expected `name = value` or `[section]`, found `not an option`"
        );
        let err = RawConfig::parse(Path::new("b.ini"), "x = 1\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("b.ini:1: option `x` appears before")
        );
        let err = RawConfig::parse(Path::new("b.ini"), "[gms\n").unwrap_err();
        assert!(err.to_string().starts_with("b.ini:1: a section header"));
    }

    #[test]
    fn repeated_headers_merge_and_last_value_wins() {
        let raw = RawConfig::parse(Path::new("c.ini"), "[a]\nx=1\n[b]\n[a]\nx=2\n").unwrap();
        assert_eq!(raw.sections.len(), 2);
        assert_eq!(raw.section("a").unwrap().value("x"), Some("2"));
    }
}
