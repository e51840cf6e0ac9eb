//! Parsing: XML text → positioned elements ([`xml`]) → includes resolved ([`xinclude`]) → validated, resolved
//! [`Model`] ([`build`]).
//!
//! Every rejected document yields [`ParseErrors`], each `file:line:column: sentence`. No input makes
//! the parser panic; nesting is bounded by [`xml::MAX_DEPTH`] so nothing recurses deeply.

pub mod build;
mod content;
pub mod xinclude;
pub mod xml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::scxml::error::{ParseError, ParseErrors, Pos};
pub use crate::scxml::model::Dialect;
use crate::scxml::model::Model;

/// Where a document comes from: its name for errors, the file `src` attributes are resolved
/// against, and its dialect.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The name printed in errors.
    pub name: String,
    /// The file, when the document was read from one.
    pub file: Option<PathBuf>,
    /// The dialect.
    pub dialect: Dialect,
}

/// Parses a chart from a string. `src` attributes are resolved against the current directory.
pub fn parse_str(text: &str) -> Result<Arc<Model>, ParseErrors> {
    parse_source(
        text,
        &Source {
            name: "<input>".to_string(),
            file: None,
            dialect: Dialect::W3c,
        },
    )
}

/// Parses the W3C SCXML chart in `path`.
pub fn parse_file(path: &Path) -> Result<Arc<Model>, ParseErrors> {
    parse_file_as(path, Dialect::W3c)
}

/// Parses the chart in `path`, written in `dialect`.
pub fn parse_file_as(path: &Path, dialect: Dialect) -> Result<Arc<Model>, ParseErrors> {
    parse_file_with(path, |_| dialect)
}

/// Parses the chart in `path`, in the dialect `dialect_of` picks from its text (a host that tells dialects apart
/// by what a document declares).
pub fn parse_file_with(
    path: &Path,
    dialect_of: impl FnOnce(&str) -> Dialect,
) -> Result<Arc<Model>, ParseErrors> {
    let mut source = Source {
        name: path.display().to_string(),
        file: Some(path.to_path_buf()),
        // Unread files are reported under the default dialect: errors do not name it.
        dialect: Dialect::default(),
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                return Err(one(
                    &source,
                    Pos { line: 1, column: 1 },
                    "the file is not valid UTF-8.",
                ));
            }
        },
        Err(error) => {
            return Err(one(
                &source,
                Pos { line: 1, column: 1 },
                &format!("the file cannot be read: {error}."),
            ));
        }
    };
    source.dialect = dialect_of(&text);
    parse_source(&text, &source)
}

/// Parses `text`, naming it after `source` in errors.
pub fn parse_source(text: &str, source: &Source) -> Result<Arc<Model>, ParseErrors> {
    let mut doc = match xml::read(text) {
        Ok(doc) => doc,
        Err((pos, message)) => return Err(one(source, pos, &message)),
    };
    let included = if text.contains(xinclude::XI_NS) {
        xinclude::expand(&mut doc, source.file.as_deref(), &source.name).map_err(ParseErrors)?
    } else {
        xinclude::Included::default()
    };
    match build::build(&doc, doc.root, source) {
        Ok(mut model) => {
            model.included = included;
            Ok(Arc::new(model))
        }
        Err(mut errors) => {
            // Errors in included elements name the included file and the line there.
            for error in &mut errors.0 {
                let (file, pos) = included.place(error.pos);
                if let Some(file) = file {
                    error.file = file.to_string();
                }
                error.pos = pos;
            }
            Err(errors)
        }
    }
}

fn one(source: &Source, pos: Pos, message: &str) -> ParseErrors {
    ParseErrors(vec![ParseError {
        file: source.name.clone(),
        pos,
        message: message.to_string(),
    }])
}
