//! XInclude as Genesys Composer writes it into the ORS documents it generates, resolved on the element arena
//! before the model is built.
//!
//! - `<xi:include href="../include/common.js" parse="text"/>` (inside a `<script>`) becomes the file's text.
//! - `<xi:include href="Main.scxml" parse="xml" xpointer="_composer_entry" resolveid="MainWorkflow"/>` becomes a
//!   copy of the element of `Main.scxml` whose id is the `xpointer` value, with the placeholder `$$_MY_PREFIX_$$`
//!   replaced by the `resolveid` in every attribute and text of the copy. An element matches when its id is the
//!   `xpointer` value as written, or once its leading `$$_MY_PREFIX_$$.` is taken off (Composer names a
//!   workflow's entry `$$_MY_PREFIX_$$._composer_entry`, which the entry document then reaches as
//!   `MainWorkflow._composer_entry`). Without `xpointer` the included document's root element is copied.
//! - `_my_prefix`, which Composer's workflows compare `_event.data.resolveid` with and which no project defines,
//!   is the `resolveid` of the include the code came from [I]: in the copy, the identifier becomes that string
//!   literal.
//!
//! Includes are read only for documents read from a file, relative to the including file, and only inside its
//! project: the document's directory, or the parent of `src-gen` for a document in a `src-gen` directory (where
//! Composer writes them, next to `include/`). Includes nest up to [`MAX_NESTING`] deep and [`MAX_INCLUDED`] bytes
//! in all. An include that cannot be resolved is an error at the `<xi:include>`.
//!
//! Positions: an element copied from an included file keeps its own line and column, with the file's number
//! (from 1, in [`Included::files`]) in the bits of the line above [`LINE_BITS`]; [`Included::place`] takes them
//! apart again for errors and `error.*` events. No written document has 2^24 lines.

use std::path::{Path, PathBuf};

use super::xml::{Attr, Document, Element, Node};
use crate::scxml::error::{ParseError, Pos};

/// The XInclude namespace.
pub const XI_NS: &str = "http://www.w3.org/2001/XInclude";

/// Composer's placeholder for the `resolveid` in a workflow's ids and targets.
pub const PLACEHOLDER: &str = "$$_MY_PREFIX_$$";

/// How deep includes may nest.
pub const MAX_NESTING: usize = 8;

/// The most bytes all included files of one document may hold together.
pub const MAX_INCLUDED: usize = 16 * 1024 * 1024;

/// Bits of a position's line that hold the line itself; the bits above hold the included file's number.
pub const LINE_BITS: u32 = 24;

/// The files a document included, for placing positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Included {
    /// Included files as named in errors, file `n` at index `n - 1`.
    pub files: Vec<String>,
}

impl Included {
    /// The file (`None`: the document itself) and the real position of `pos`.
    pub fn place(&self, pos: Pos) -> (Option<&str>, Pos) {
        let file = (pos.line >> LINE_BITS) as usize;
        let real = Pos {
            line: pos.line & ((1 << LINE_BITS) - 1),
            column: pos.column,
        };
        match file {
            0 => (None, real),
            n => (self.files.get(n - 1).map(String::as_str), real),
        }
    }
}

/// Resolves every `<xi:include>` of `doc`, which was read from `file` (`None`: not from a file).
pub fn expand(
    doc: &mut Document,
    file: Option<&Path>,
    name: &str,
) -> Result<Included, Vec<ParseError>> {
    let mut expander = Expander {
        included: Included::default(),
        errors: Vec::new(),
        bytes: 0,
        project: file.and_then(project_of),
        name: name.to_string(),
    };
    expander.expand_under(doc, doc.root, file, 0);
    if expander.errors.is_empty() {
        Ok(expander.included)
    } else {
        Err(expander.errors)
    }
}

/// The project a document belongs to: the parent of its `src-gen` directory, else its own directory.
fn project_of(file: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(file).ok()?.parent()?.to_path_buf();
    if dir.file_name().is_some_and(|name| name == "src-gen") {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir)
    }
}

struct Expander {
    included: Included,
    errors: Vec<ParseError>,
    bytes: usize,
    project: Option<PathBuf>,
    /// The document's name in errors.
    name: String,
}

impl Expander {
    fn error(&mut self, pos: Pos, message: String) {
        let (file, pos) = self.included.place(pos);
        let file = file.map_or_else(|| self.name.clone(), str::to_string);
        self.errors.push(ParseError { file, pos, message });
    }

    /// Expands the includes in the subtree of `top`, whose elements come from `file`.
    fn expand_under(&mut self, doc: &mut Document, top: usize, file: Option<&Path>, depth: usize) {
        // Iterative walk over the subtree as it stands; copies are expanded by their own call.
        let mut stack = vec![top];
        while let Some(idx) = stack.pop() {
            let children = doc.elements[idx].children.clone();
            for (place, child) in children.iter().enumerate() {
                let Node::Element(child) = *child else {
                    continue;
                };
                let element = &doc.elements[child];
                if element.ns == XI_NS && element.local == "include" {
                    let replacement = self.include(doc, child, file, depth);
                    if let Some(node) = replacement {
                        if let Node::Element(copy) = node {
                            doc.elements[copy].parent = Some(idx);
                        }
                        doc.elements[idx].children[place] = node;
                    }
                } else if element.ns == XI_NS {
                    let pos = element.pos;
                    let message = format!(
                        "<{}> is not supported here; only <xi:include> is.",
                        element.qname
                    );
                    self.error(pos, message);
                } else {
                    stack.push(child);
                }
            }
        }
    }

    /// The node that replaces the `<xi:include>` at `idx`, or `None` after an error.
    fn include(
        &mut self,
        doc: &mut Document,
        idx: usize,
        file: Option<&Path>,
        depth: usize,
    ) -> Option<Node> {
        let element = doc.elements[idx].clone();
        let pos = element.pos;
        let Some(href) = element.attr("href").filter(|href| !href.is_empty()) else {
            self.error(pos, "<xi:include> must have an `href`.".to_string());
            return None;
        };
        let parse = element.attr("parse").unwrap_or("xml");
        if parse != "xml" && parse != "text" {
            self.error(
                pos,
                format!("`parse` of <xi:include> must be \"xml\" or \"text\", not \"{parse}\"."),
            );
            return None;
        }
        if depth >= MAX_NESTING {
            self.error(
                pos,
                format!("includes nest deeper than {MAX_NESTING} levels at `{href}`."),
            );
            return None;
        }
        let (path, text) = match self.read(file, href) {
            Ok(found) => found,
            Err(reason) => {
                self.error(
                    pos,
                    format!("<xi:include href=\"{href}\"> cannot be resolved: {reason}."),
                );
                return None;
            }
        };
        if parse == "text" {
            return Some(Node::Text(text));
        }
        let included = match super::xml::read(&text) {
            Ok(included) => included,
            Err((at, message)) => {
                self.errors.push(ParseError {
                    file: path.display().to_string(),
                    pos: at,
                    message,
                });
                return None;
            }
        };
        self.included.files.push(path.display().to_string());
        let included_number = self.included.files.len() as u32;
        if included_number >= 1 << (32 - LINE_BITS) {
            self.error(pos, "a document may include at most 255 files.".to_string());
            return None;
        }
        let xpointer = element.attr("xpointer");
        let found = match xpointer {
            None => Some(included.root),
            Some(id) => included.elements.iter().position(|candidate| {
                candidate.attr("id").is_some_and(|own| {
                    own == id
                        || own
                            .strip_prefix(PLACEHOLDER)
                            .and_then(|rest| rest.strip_prefix('.'))
                            == Some(id)
                })
            }),
        };
        let Some(found) = found else {
            self.error(
                pos,
                format!(
                    "<xi:include href=\"{href}\"> cannot be resolved: no element of {} has the id \"{}\".",
                    path.display(),
                    xpointer.unwrap_or_default()
                ),
            );
            return None;
        };
        let resolveid = element.attr("resolveid");
        let copy = copy_subtree(
            doc,
            &included,
            found,
            included_number << LINE_BITS,
            resolveid,
        );
        // What the copy includes in turn resolves against the included file.
        self.expand_under(doc, copy, Some(&path), depth + 1);
        Some(Node::Element(copy))
    }

    /// Reads `href` relative to `file`, inside the project.
    fn read(&mut self, file: Option<&Path>, href: &str) -> Result<(PathBuf, String), String> {
        let Some(file) = file else {
            return Err("includes are read only for documents read from a file".to_string());
        };
        let Some(project) = &self.project else {
            return Err("the document's directory cannot be read".to_string());
        };
        if href.contains("://") {
            return Err("only files of the project can be included".to_string());
        }
        let base = file.parent().unwrap_or(Path::new("."));
        let path = std::fs::canonicalize(base.join(href))
            .map_err(|error| error.to_string().to_lowercase())?;
        if !path.starts_with(project) {
            return Err(format!("it is outside the project {}", project.display()));
        }
        let metadata = std::fs::metadata(&path).map_err(|error| error.to_string())?;
        if !metadata.is_file() {
            return Err("it is not a regular file".to_string());
        }
        let size = metadata.len() as usize;
        if self.bytes.saturating_add(size) > MAX_INCLUDED {
            return Err(format!(
                "the included files would exceed {MAX_INCLUDED} bytes"
            ));
        }
        self.bytes += size;
        let text = std::fs::read(&path).map_err(|error| error.to_string())?;
        let text = String::from_utf8(text).map_err(|_| "it is not valid UTF-8".to_string())?;
        Ok((path, text))
    }
}

/// Appends a copy of `from`'s subtree at `top` to `doc`; returns the copy's root. Lines get `line_base` added;
/// with a `resolveid`, the placeholder and `_my_prefix` are replaced in attributes and texts.
fn copy_subtree(
    doc: &mut Document,
    from: &Document,
    top: usize,
    line_base: u32,
    resolveid: Option<&str>,
) -> usize {
    let offset = doc.elements.len();
    // Pre-order list of the subtree, so each copy's index is known before its children are mapped.
    let mut order = Vec::new();
    let mut stack = vec![top];
    while let Some(idx) = stack.pop() {
        order.push(idx);
        for child in from.elements[idx]
            .child_elements()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            stack.push(child);
        }
    }
    let places: std::collections::HashMap<usize, usize> = order
        .iter()
        .enumerate()
        .map(|(place, &old)| (old, offset + place))
        .collect();
    let new_index = |old: usize| -> usize { places.get(&old).copied().unwrap_or(offset) };
    let mut copies = Vec::with_capacity(order.len());
    for &old in &order {
        let element: &Element = &from.elements[old];
        let children = element
            .children
            .iter()
            .map(|child| match child {
                Node::Element(child) => Node::Element(new_index(*child)),
                Node::Text(text) => Node::Text(substitute(text, resolveid)),
            })
            .collect();
        copies.push(Element {
            qname: element.qname.clone(),
            local: element.local.clone(),
            ns: element.ns.clone(),
            attrs: element
                .attrs
                .iter()
                .map(|attr| Attr {
                    value: substitute(&attr.value, resolveid),
                    ..attr.clone()
                })
                .collect(),
            ns_decls: element.ns_decls.clone(),
            children,
            pos: Pos {
                line: element.pos.line | line_base,
                column: element.pos.column,
            },
            parent: if old == top {
                None
            } else {
                element.parent.map(new_index)
            },
        });
    }
    doc.elements.extend(copies);
    offset
}

/// `text` with the placeholder and the identifier `_my_prefix` replaced by `resolveid`.
fn substitute(text: &str, resolveid: Option<&str>) -> String {
    let Some(resolveid) = resolveid else {
        return text.to_string();
    };
    let text = text.replace(PLACEHOLDER, resolveid);
    if !text.contains("_my_prefix") {
        return text;
    }
    // Only the whole identifier: `_my_prefix_x` and `a._my_prefix` stay as they are.
    let literal = format!("'{}'", resolveid.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("_my_prefix") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + "_my_prefix".len()..].chars().next();
        let ident =
            |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        out.push_str(&rest[..at]);
        if ident(before) || before == Some('.') || ident(after) {
            out.push_str("_my_prefix");
        } else {
            out.push_str(&literal);
        }
        rest = &rest[at + "_my_prefix".len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_whole_identifier_is_replaced() {
        assert_eq!(
            substitute("_event.data.resolveid == _my_prefix", Some("Main")),
            "_event.data.resolveid == 'Main'"
        );
        assert_eq!(
            substitute(
                "a._my_prefix + _my_prefix_x + $$_MY_PREFIX_$$.Entry1",
                Some("M")
            ),
            "a._my_prefix + _my_prefix_x + M.Entry1"
        );
        assert_eq!(substitute("_my_prefix", None), "_my_prefix");
    }

    #[test]
    fn places_take_the_file_number_out_of_the_line() {
        let included = Included {
            files: vec!["a.scxml".to_string()],
        };
        let pos = Pos {
            line: (1 << LINE_BITS) | 7,
            column: 3,
        };
        assert_eq!(
            included.place(pos),
            (Some("a.scxml"), Pos { line: 7, column: 3 })
        );
        assert_eq!(
            included.place(Pos { line: 7, column: 3 }),
            (None, Pos { line: 7, column: 3 })
        );
    }
}
