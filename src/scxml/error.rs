//! Positioned document errors: every rejected chart is reported as `file:line:column: sentence`.

use std::fmt;

pub use crate::xml::Pos;

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{pos}: {message}")]
pub struct ParseError {
    /// The file name (or `<input>` for a string).
    pub file: String,
    /// Where the problem is.
    pub pos: Pos,
    /// One sentence describing the problem.
    pub message: String,
}

/// All problems of one rejected document, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrors(pub Vec<ParseError>);

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, error) in self.0.iter().enumerate() {
            if idx > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}
