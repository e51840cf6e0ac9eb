//! Localized push messages (`localizationFileLocation`): an XML file of messages, each with one text per
//! language, chosen by the subscription's `language` property. The format is described in
//! `docs/localization.md`; `samples/localization.xml` is an example.

use std::collections::BTreeMap;
use std::path::Path;

use crate::xml::{self, Chars, Item, Pos, Problem, Reader, ReferenceError};

/// A parsed localization file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Localization {
    /// The `default` attribute of the root: the language used when the subscriber's has no text.
    pub default_language: String,
    /// Texts by message key, then by lower-case language tag.
    pub messages: BTreeMap<String, BTreeMap<String, String>>,
}

/// A localization file that cannot be used, with the line and column of the problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read localization file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{pos}: {message}")]
    Invalid {
        /// Where.
        pos: Pos,
        /// What is wrong.
        message: String,
    },
}

impl Localization {
    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<Localization, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Localization::parse(&text)
    }

    /// Parses localization XML.
    pub fn parse(text: &str) -> Result<Localization, Error> {
        let invalid = |pos: Pos, message: String| Error::Invalid { pos, message };
        let mut reader = Reader::new(text);
        let mut localization = Localization::default();
        let mut seen_root = false;
        let mut key: Option<String> = None;
        let mut language: Option<String> = None;
        let mut buffer = String::new();
        loop {
            let item = match reader.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(error) => {
                    return Err(match error.problem {
                        Problem::Syntax(problem) => {
                            invalid(error.pos, format!("malformed XML: {problem}"))
                        }
                        Problem::NoRoot => invalid(Pos { line: 1, column: 1 }, no_root()),
                        problem => invalid(error.pos, format!("malformed XML: {problem}")),
                    });
                }
            };
            match item {
                Item::Start { tag, .. } => {
                    let position = tag.pos();
                    let name = tag.name();
                    let attribute = |wanted: &str| -> Result<Option<String>, Error> {
                        for attribute in tag.attrs() {
                            let attribute = attribute.map_err(|error| {
                                invalid(position, format!("bad attribute: {error}"))
                            })?;
                            if attribute.name() == wanted {
                                let value = attribute.value().map_err(|error| {
                                    invalid(position, format!("bad attribute value: {error}"))
                                })?;
                                return Ok(Some(value.into_owned()));
                            }
                        }
                        Ok(None)
                    };
                    match (name, seen_root, &key) {
                        ("localization", false, _) => {
                            seen_root = true;
                            localization.default_language = attribute("default")?
                                .ok_or_else(|| {
                                    invalid(
                                        position,
                                        "<localization> needs a `default` language".into(),
                                    )
                                })?
                                .to_ascii_lowercase();
                        }
                        ("message", true, None) => {
                            let name = attribute("key")?.filter(|key| !key.is_empty()).ok_or_else(
                                || invalid(position, "<message> needs a non-empty `key`".into()),
                            )?;
                            localization.messages.entry(name.clone()).or_default();
                            key = Some(name);
                        }
                        ("text", true, Some(_)) => {
                            language = Some(
                                attribute("lang")?
                                    .filter(|lang| !lang.is_empty())
                                    .ok_or_else(|| {
                                        invalid(position, "<text> needs a `lang`".into())
                                    })?
                                    .to_ascii_lowercase(),
                            );
                            buffer.clear();
                        }
                        _ => return Err(invalid(position, format!("unexpected <{name}>"))),
                    }
                }
                Item::Chars { chars, pos } if language.is_some() => match chars {
                    Chars::Text(content) => buffer.push_str(&content.xml10_content()),
                    Chars::CData(content) => buffer.push_str(&content.xml10_content()),
                    Chars::Ref(reference) => {
                        let resolved = xml::resolve(&reference).map_err(|error| match error {
                            ReferenceError::BadChar(error) => {
                                invalid(pos, format!("bad character reference: {error}"))
                            }
                            ReferenceError::Undefined(name) => {
                                invalid(pos, format!("unknown entity &{name};"))
                            }
                        })?;
                        buffer.push_str(resolved.as_str(&mut [0; 4]));
                    }
                },
                Item::Chars { .. } => {}
                Item::End(element) => match element.name().0 {
                    "text" => {
                        if let (Some(name), Some(lang)) = (&key, language.take()) {
                            if let Some(texts) = localization.messages.get_mut(name) {
                                texts.insert(lang, buffer.trim().to_string());
                            }
                        }
                    }
                    "message" => key = None,
                    _ => {}
                },
            }
        }
        // The reader ends only after the root element, which the first match arm has taken as `<localization>`.
        Ok(localization)
    }

    /// The text of message `key` for `language`: exact tag, then its primary subtag (`fr-CA` → `fr`), then the
    /// default language. `None` when the key is unknown or has no usable text.
    pub fn text(&self, key: &str, language: Option<&str>) -> Option<&str> {
        let texts = self.messages.get(key)?;
        let mut candidates = Vec::new();
        if let Some(language) = language {
            let language = language.to_ascii_lowercase().replace('_', "-");
            if let Some((primary, _)) = language.split_once('-') {
                let primary = primary.to_string();
                candidates.push(language);
                candidates.push(primary);
            } else {
                candidates.push(language);
            }
        }
        candidates.push(self.default_language.clone());
        candidates
            .iter()
            .find_map(|candidate| texts.get(candidate))
            .map(String::as_str)
    }
}

fn no_root() -> String {
    "the root element must be <localization default=\"..\">".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<localization default="en">
  <message key="agent.ready">
    <text lang="en">An agent is ready now</text>
    <text lang="fr">Un agent est disponible &amp; vous attend</text>
  </message>
</localization>"#;

    #[test]
    fn picks_language_then_primary_then_default() {
        let localization = Localization::parse(SAMPLE).unwrap();
        assert_eq!(
            localization.text("agent.ready", Some("fr")),
            Some("Un agent est disponible & vous attend")
        );
        assert_eq!(
            localization.text("agent.ready", Some("fr-CA")),
            Some("Un agent est disponible & vous attend")
        );
        assert_eq!(
            localization.text("agent.ready", Some("de")),
            Some("An agent is ready now")
        );
        assert_eq!(
            localization.text("agent.ready", None),
            Some("An agent is ready now")
        );
        assert_eq!(localization.text("unknown", Some("fr")), None);
    }

    #[test]
    fn errors_name_line_and_column() {
        let error =
            Localization::parse("<localization default=\"en\">\n  <message>\n</localization>")
                .unwrap_err();
        assert!(error.to_string().starts_with("2:3:"), "{error}");
        assert!(Localization::parse("<other/>").is_err());
        assert!(Localization::parse("<localization>").is_err());
    }

    #[test]
    fn columns_count_characters_and_a_byte_order_mark() {
        let error =
            Localization::parse("\u{feff}<localization default=\"en\"><message/></localization>")
                .unwrap_err();
        assert_eq!(error.to_string(), "1:29: <message> needs a non-empty `key`");
        let error =
            Localization::parse("<localization default=\"é\"><oops/></localization>").unwrap_err();
        assert_eq!(error.to_string(), "1:27: unexpected <oops>");
    }

    #[test]
    fn a_truncated_file_is_rejected() {
        let error = Localization::parse(
            "<localization default=\"en\">\n  <message key=\"k\"><text lang=\"en\">Hi</text>",
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with("2:45: malformed XML"),
            "{error}"
        );
    }
}
