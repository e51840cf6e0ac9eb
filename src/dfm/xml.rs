//! The first stage of loading a DFM file: XML text into a small tree of positioned elements, built from the items
//! of the shared positioned reader ([`crate::xml`]) with the sentences DFM authors see.
//!
//! Only elements and their attributes matter in a DFM file, so text, comments and processing instructions are
//! dropped here. Every element and attribute keeps the line and column where it starts, so the later stage can
//! point at the exact place of a mistake. Element and attribute names must be XML names, and attributes must be
//! separated by white space: quick-xml alone would read `<a x='1'/='2'>` as an attribute named `/`.

use crate::xml::{self, Chars, Item, Problem, Reader, Tag};

pub use crate::xml::Pos;

/// One attribute as written, with its unescaped value.
#[derive(Debug, Clone)]
pub struct XmlAttr {
    /// Qualified name as written.
    pub name: String,
    /// Value with entities resolved.
    pub value: String,
    /// Where the attribute name starts.
    pub pos: Pos,
}

/// One element with its attributes and child elements.
#[derive(Debug, Clone)]
pub struct XmlElement {
    /// Qualified name as written.
    pub name: String,
    /// Attributes in document order.
    pub attrs: Vec<XmlAttr>,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
    /// Where the start tag begins (its `<`).
    pub pos: Pos,
}

impl XmlElement {
    /// The attribute named `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&XmlAttr> {
        self.attrs.iter().find(|attr| attr.name == name)
    }

    /// The local part of the element name (after any prefix).
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }
}

/// A syntax error in the XML itself.
#[derive(Debug, Clone)]
pub struct XmlError {
    /// Where the problem was found.
    pub pos: Pos,
    /// A sentence describing it.
    pub message: String,
}

/// The deepest nesting accepted. DFM files nest five levels; the bound keeps a hostile file from exhausting the
/// stack when the tree is dropped or walked.
pub const MAX_DEPTH: usize = 64;

/// Parses `text` into its root element.
pub fn parse(text: &str) -> Result<XmlElement, XmlError> {
    let mut reader = Reader::new(text);
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    loop {
        let item = match reader.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(error) => return Err(problem(error, stack.last())),
        };
        match item {
            Item::Start { tag, empty } => {
                let element = element(&tag)?;
                if empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                } else if stack.len() >= MAX_DEPTH {
                    return Err(XmlError {
                        pos: element.pos,
                        message: format!("elements nest deeper than {MAX_DEPTH} levels"),
                    });
                } else {
                    stack.push(element);
                }
            }
            Item::End(_) => {
                // The reader has already matched this end tag with its start tag.
                if let Some(done) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Item::Chars {
                chars: Chars::Text(content),
                pos,
            } if stack.is_empty() && !content.trim().is_empty() => {
                return Err(XmlError {
                    pos,
                    message: "text outside the root element".to_string(),
                });
            }
            Item::Chars { .. } => {}
        }
    }
    // The reader ends only after a root element has ended.
    root.ok_or_else(|| {
        let pos = reader.pos(text.len());
        problem(
            xml::Error {
                pos,
                problem: Problem::NoRoot,
            },
            None,
        )
    })
}

/// The sentence for what makes the text not XML; `open` is the innermost open element.
fn problem(error: xml::Error, open: Option<&XmlElement>) -> XmlError {
    let message = match error.problem {
        Problem::Syntax(error) => format!("malformed XML: {error}"),
        Problem::SecondRoot => "a second root element follows the first one".to_string(),
        Problem::Unclosed => match open {
            Some(open) => format!(
                "element <{}> opened at {} is never closed",
                open.name, open.pos
            ),
            None => "the file ends before every element is closed".to_string(),
        },
        Problem::NoRoot => "the file holds no XML element".to_string(),
    };
    XmlError {
        pos: error.pos,
        message,
    }
}

fn element(tag: &Tag<'_, '_>) -> Result<XmlElement, XmlError> {
    let pos = tag.pos();
    let name = tag.name();
    if !xml::is_name(name) {
        return Err(XmlError {
            pos,
            message: format!("element name '{name}' is not an XML name"),
        });
    }
    let name = name.to_string();
    let mut attrs: Vec<XmlAttr> = Vec::new();
    for attr in tag.attrs() {
        let attr = attr.map_err(|err| XmlError {
            pos,
            message: format!("malformed attribute in <{name}>: {err}"),
        })?;
        let attr_name = attr.name();
        let attr_pos = attr.pos();
        if !xml::is_name(attr_name) {
            return Err(XmlError {
                pos: attr_pos,
                message: format!("attribute name '{attr_name}' in <{name}> is not an XML name"),
            });
        }
        if !attr.follows_space() {
            return Err(XmlError {
                pos: attr_pos,
                message: format!(
                    "attribute '{attr_name}' in <{name}> must be separated from what precedes it by white space"
                ),
            });
        }
        let attr_name = attr_name.to_string();
        let value = attr
            .value()
            .map_err(|err| XmlError {
                pos: attr_pos,
                message: format!("bad value of attribute '{attr_name}' in <{name}>: {err}"),
            })?
            .into_owned();
        if attrs.iter().any(|seen| seen.name == attr_name) {
            return Err(XmlError {
                pos: attr_pos,
                message: format!("attribute '{attr_name}' appears twice in <{name}>"),
            });
        }
        attrs.push(XmlAttr {
            name: attr_name,
            value,
            pos: attr_pos,
        });
    }
    Ok(XmlElement {
        name,
        attrs,
        children: Vec::new(),
        pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_attributes_keep_their_positions() {
        let root = parse("<a x='1'>\n  <b  y=\"2\"/>\n</a>").unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x").unwrap().pos, Pos { line: 1, column: 4 });
        let child = &root.children[0];
        assert_eq!(child.pos, Pos { line: 2, column: 3 });
        assert_eq!(child.attr("y").unwrap().pos, Pos { line: 2, column: 7 });
        assert_eq!(child.attr("y").unwrap().value, "2");
    }

    #[test]
    fn attribute_positions_do_not_depend_on_values() {
        // A `>` in a value, and a value that looks like the next attribute, used to hide the real place.
        let root = parse("<a v='>' w=' x=' x='1'/>").unwrap();
        let at = |name: &str| root.attr(name).map(|attr| attr.pos.to_string());
        assert_eq!(at("w").as_deref(), Some("1:10"));
        assert_eq!(at("x").as_deref(), Some("1:18"));
        let root = parse("\u{feff}<a\n x='1'/>").unwrap();
        assert_eq!(root.pos, Pos { line: 1, column: 2 });
        assert_eq!(root.attr("x").unwrap().pos, Pos { line: 2, column: 2 });
    }

    #[test]
    fn names_that_are_not_xml_names_are_errors() {
        let err = parse("<an t=''/='n'/>").unwrap_err();
        assert_eq!(err.pos, Pos { line: 1, column: 9 });
        assert_eq!(err.message, "attribute name '/' in <an> is not an XML name");
        let err = parse("<a x='1'y='2'/>").unwrap_err();
        assert_eq!(err.pos, Pos { line: 1, column: 9 });
        assert!(err.message.contains("white space"), "{}", err.message);
        let err = parse("< t=''/>").unwrap_err();
        assert!(err.message.contains("not an XML name"), "{}", err.message);
        assert!(parse("<d:dfm xmlns:d='urn:x' a.b-c='1' _é='2'/>").is_ok());
    }

    #[test]
    fn entities_in_values_are_resolved() {
        let root = parse("<a u='/x?a=${a}&amp;b=${b}'/>").unwrap();
        assert_eq!(root.attr("u").unwrap().value, "/x?a=${a}&b=${b}");
    }

    #[test]
    fn syntax_errors_are_positioned() {
        let err = parse("<a>\n  <b>\n</a>").unwrap_err();
        assert_eq!(err.pos.line, 3, "{}", err.message);
        let err = parse("<a>").unwrap_err();
        assert!(err.message.contains("never closed"), "{}", err.message);
        let err = parse("").unwrap_err();
        assert!(err.message.contains("no XML element"));
        let err = parse("<a/><b/>").unwrap_err();
        assert!(err.message.contains("second root"));
        let deep = "<a>".repeat(100_000);
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("deeper than 64"), "{}", err.message);
        let err = parse("<a x='1' x='2'/>").unwrap_err();
        assert!(err.message.contains("attribute"), "{}", err.message);
    }
}
