//! The first stage of loading a DFM file: XML text into a small tree of positioned elements.
//!
//! Only elements and their attributes matter in a DFM file, so text, comments and processing instructions are
//! dropped here. Every element and attribute keeps the line and column where it starts, so the later stage can
//! point at the exact place of a mistake. Element and attribute names must be XML names, and attributes must be
//! separated by white space: quick-xml alone would read `<a x='1'/='2'>` as an attribute named `/`.

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// A 1-based line and column (in characters) in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line, starting at 1.
    pub line: u32,
    /// Column in characters, starting at 1.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

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

/// Maps byte offsets of a text to line and column.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(idx, _)| idx + 1));
        LineIndex { text, line_starts }
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        };
        let start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text.get(start..end).map_or(0, |s| s.chars().count());
        Pos {
            line: u32::try_from(line_idx + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

/// The deepest nesting accepted. DFM files nest five levels; the bound keeps a hostile file from exhausting the
/// stack when the tree is dropped or walked.
pub const MAX_DEPTH: usize = 64;

/// Parses `text` into its root element.
pub fn parse(text: &str) -> Result<XmlElement, XmlError> {
    let index = LineIndex::new(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    loop {
        let start = offset(reader.buffer_position());
        let event = reader.read_event().map_err(|err| XmlError {
            pos: index.pos(offset(reader.error_position())),
            message: format!("malformed XML: {err}"),
        })?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError {
                    pos: index.pos(start),
                    message: "a second root element follows the first one".to_string(),
                });
            }
            Event::Start(tag) => {
                let element = element(&tag, text, start, &index)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError {
                        pos: element.pos,
                        message: format!("elements nest deeper than {MAX_DEPTH} levels"),
                    });
                }
                stack.push(element);
            }
            Event::Empty(tag) => {
                let element = element(&tag, text, start, &index)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                // With `check_end_names` the reader has already matched this end tag with its start tag.
                if let Some(done) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Event::Text(bytes) if stack.is_empty() && !bytes.trim().is_empty() => {
                return Err(XmlError {
                    pos: index.pos(start),
                    message: "text outside the root element".to_string(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            pos: index.pos(text.len()),
            message: format!(
                "element <{}> opened at {} is never closed",
                open.name, open.pos
            ),
        });
    }
    root.ok_or_else(|| XmlError {
        pos: index.pos(text.len()),
        message: "the file holds no XML element".to_string(),
    })
}

fn offset(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

fn element(
    tag: &BytesStart<'_>,
    text: &str,
    start: usize,
    index: &LineIndex<'_>,
) -> Result<XmlElement, XmlError> {
    let name_ref = tag.name();
    let name: &str = name_ref.as_ref();
    // The reader borrows from `text`, so the name's address gives its exact place; its `<` is just before.
    let pos = index.pos(
        offset_in(text, name)
            .and_then(|off| off.checked_sub(1))
            .unwrap_or(start),
    );
    if !is_xml_name(name) {
        return Err(XmlError {
            pos,
            message: format!("element name '{name}' is not an XML name"),
        });
    }
    let name = name.to_string();
    let mut attrs: Vec<XmlAttr> = Vec::new();
    for attr in tag.attributes() {
        let attr = attr.map_err(|err| XmlError {
            pos,
            message: format!("malformed attribute in <{name}>: {err}"),
        })?;
        let attr_name: &str = attr.key.as_ref();
        let attr_offset = offset_in(text, attr_name);
        let attr_pos = attr_offset.map_or(pos, |off| index.pos(off));
        if !is_xml_name(attr_name) {
            return Err(XmlError {
                pos: attr_pos,
                message: format!("attribute name '{attr_name}' in <{name}> is not an XML name"),
            });
        }
        // The reader takes `a='1'b='2'` as two attributes; XML requires white space between them.
        if attr_offset
            .and_then(|off| text[..off].chars().next_back())
            .is_some_and(|before| !is_xml_space(before))
        {
            return Err(XmlError {
                pos: attr_pos,
                message: format!(
                    "attribute '{attr_name}' in <{name}> must be separated from what precedes it by white space"
                ),
            });
        }
        let attr_name = attr_name.to_string();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
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

/// The byte offset of `piece` in `text` when `piece` is a slice of `text`.
fn offset_in(text: &str, piece: &str) -> Option<usize> {
    let off = piece.as_ptr().addr().checked_sub(text.as_ptr().addr())?;
    (off.checked_add(piece.len())? <= text.len() && text.is_char_boundary(off)).then_some(off)
}

/// XML white space: space, tab, carriage return, line feed.
fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Whether `name` is an XML `Name` (XML 1.0, section 2.3), which covers qualified names such as `xs:any`.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
}

fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let index = LineIndex::new("ab\ncdé\nf");
        assert_eq!(index.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(index.pos(3), Pos { line: 2, column: 1 });
        assert_eq!(index.pos(7), Pos { line: 2, column: 4 });
        assert_eq!(index.pos(8), Pos { line: 3, column: 1 });
    }

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
