//! Positioned XML reading, the one piece under every XML reader of the crate (SCXML charts, DFM files, localization
//! files): [`Pos`] and [`LineIndex`] turn byte offsets into `line:column`, and [`Reader`] reads a text into items in
//! document order (start tags with positioned attributes, end tags, character data), each with its position. The
//! reader checks what makes a text an XML document at all (well-formed markup, end tags that match, one root
//! element, every element closed) and reports it as a [`Problem`]; what a document means, the tree it becomes and
//! the sentences its readers print stay with each caller.
//!
//! A leaf module beside the engine rather than inside it: it imports nothing from the crate, so the SCXML engine
//! reads XML through it and still depends on no GMS module, and DFM and notification files are not read by engine
//! code.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use quick_xml::events::attributes::{AttrError, Attribute};
use quick_xml::events::{BytesCData, BytesEnd, BytesRef, BytesStart, BytesText, Event};

/// A position in a text: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Maps byte offsets of a text to positions. Offsets asked in increasing order (as a reader produces them) cost
/// time proportional to the distance walked, so a whole document costs linear time even when it is one long line.
pub struct LineIndex<'t> {
    text: &'t str,
    /// (byte offset, position) of the last answer.
    cursor: Cell<(usize, Pos)>,
}

impl<'t> LineIndex<'t> {
    /// Indexes `text`.
    pub fn new(text: &'t str) -> Self {
        LineIndex {
            text,
            cursor: Cell::new((0, Pos { line: 1, column: 1 })),
        }
    }

    /// The position of byte `offset` (clamped to the text, and back to the start of a character).
    pub fn pos(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let (mut from, mut pos) = self.cursor.get();
        if offset < from {
            from = 0;
            pos = Pos { line: 1, column: 1 };
        }
        for ch in self.text[from..offset].chars() {
            if ch == '\n' {
                pos.line += 1;
                pos.column = 1;
            } else {
                pos.column += 1;
            }
        }
        self.cursor.set((offset, pos));
        pos
    }
}

/// Why a text is not an XML document, and where.
#[derive(Debug, thiserror::Error)]
#[error("{pos}: {problem}")]
pub struct Error {
    /// Where the reader stopped.
    pub pos: Pos,
    /// What is wrong.
    pub problem: Problem,
}

/// What makes a text not an XML document.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The markup is not well-formed, in quick-xml's words (end tags must match their start tags).
    #[error("not well-formed: {0}")]
    Syntax(quick_xml::Error),
    /// An element starts after the root element has ended.
    #[error("a second root element follows the first one")]
    SecondRoot,
    /// The text ends while an element is open.
    #[error("the text ends before every element is closed")]
    Unclosed,
    /// The text holds no element.
    #[error("the text holds no element")]
    NoRoot,
}

/// One item of a document, in document order.
pub enum Item<'r, 't> {
    /// A start tag; `empty` for `<a/>`, which no [`Item::End`] follows.
    Start {
        /// The tag.
        tag: Tag<'r, 't>,
        /// Written `<a/>`.
        empty: bool,
    },
    /// The end tag of the innermost open element.
    End(BytesEnd<'t>),
    /// Character data: text, a CDATA section or a reference.
    Chars {
        /// What was written.
        chars: Chars<'t>,
        /// Where it starts.
        pos: Pos,
    },
}

/// Character data as written: the caller chooses how to unescape it and when to resolve references.
pub enum Chars<'t> {
    /// Text between tags (references in it come as [`Chars::Ref`] items of their own).
    Text(BytesText<'t>),
    /// A CDATA section.
    CData(BytesCData<'t>),
    /// A character or entity reference (`&#233;`, `&amp;`): see [`resolve`].
    Ref(BytesRef<'t>),
}

/// A start tag, with its position and the positions of its attributes.
pub struct Tag<'r, 't> {
    raw: BytesStart<'t>,
    pos: Pos,
    text: &'t str,
    index: &'r LineIndex<'t>,
}

impl Tag<'_, '_> {
    /// The qualified name as written.
    pub fn name(&self) -> &str {
        self.raw.name().0
    }

    /// Where the tag starts (its `<`).
    pub fn pos(&self) -> Pos {
        self.pos
    }

    /// The attributes in document order; an attribute that cannot be read ends them with its error.
    pub fn attrs(&self) -> impl Iterator<Item = Result<Attr<'_>, AttrError>> {
        self.raw.attributes().map(move |attr| {
            attr.map(|raw| Attr {
                raw,
                tag_pos: self.pos,
                text: self.text,
                index: self.index,
            })
        })
    }
}

/// One attribute of a start tag.
pub struct Attr<'a> {
    raw: Attribute<'a>,
    tag_pos: Pos,
    text: &'a str,
    index: &'a LineIndex<'a>,
}

impl<'a> Attr<'a> {
    /// The qualified name as written.
    pub fn name(&self) -> &'a str {
        self.raw.key.0
    }

    /// Where the name starts in the text: always known, names being slices of the text. Found on demand, as
    /// most callers never ask.
    fn offset(&self) -> Option<usize> {
        offset_in(self.text, self.raw.key.0)
    }

    /// Where the name starts.
    pub fn pos(&self) -> Pos {
        self.offset()
            .map_or(self.tag_pos, |offset| self.index.pos(offset))
    }

    /// False when the name directly follows what precedes it: quick-xml reads `a='1'b='2'` as two attributes,
    /// while XML requires white space between them.
    pub fn follows_space(&self) -> bool {
        self.offset()
            .and_then(|offset| self.text[..offset].chars().next_back())
            .is_none_or(is_space)
    }

    /// The value with references resolved and white space normalized as XML 1.0 says.
    pub fn value(&self) -> Result<Cow<'a, str>, quick_xml::Error> {
        self.raw
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
    }
}

/// Reads a text into positioned [`Item`]s; see the module doc.
pub struct Reader<'t> {
    text: &'t str,
    events: quick_xml::Reader<&'t [u8]>,
    index: LineIndex<'t>,
    /// Bytes quick-xml skipped before its first offset: a byte order mark, which its offsets do not count.
    skipped: usize,
    /// Elements open.
    depth: usize,
    /// The root element has started.
    root_seen: bool,
}

impl<'t> Reader<'t> {
    /// A reader at the start of `text`.
    pub fn new(text: &'t str) -> Self {
        let mut events = quick_xml::Reader::from_str(text);
        events.config_mut().check_end_names = true;
        Reader {
            text,
            events,
            index: LineIndex::new(text),
            skipped: if text.starts_with('\u{feff}') {
                '\u{feff}'.len_utf8()
            } else {
                0
            },
            depth: 0,
            root_seen: false,
        }
    }

    /// The position of byte `offset` of the text.
    pub fn pos(&self, offset: usize) -> Pos {
        self.index.pos(offset)
    }

    /// The next item, `None` once the root element has ended and the text with it.
    #[inline]
    pub fn next_item(&mut self) -> Result<Option<Item<'_, 't>>, Error> {
        loop {
            let start = self.offset(self.events.buffer_position());
            let event = match self.events.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let at = self.offset(self.events.error_position());
                    return Err(self.error(at, Problem::Syntax(error)));
                }
            };
            let (raw, empty) = match event {
                Event::Start(raw) => (raw, false),
                Event::Empty(raw) => (raw, true),
                Event::End(tag) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Some(Item::End(tag)));
                }
                Event::Text(text) => return Ok(Some(self.chars(Chars::Text(text), start))),
                Event::CData(text) => return Ok(Some(self.chars(Chars::CData(text), start))),
                Event::GeneralRef(reference) => {
                    return Ok(Some(self.chars(Chars::Ref(reference), start)));
                }
                Event::Eof if self.depth > 0 => {
                    return Err(self.error(self.text.len(), Problem::Unclosed));
                }
                Event::Eof if !self.root_seen => {
                    return Err(self.error(self.text.len(), Problem::NoRoot));
                }
                Event::Eof => return Ok(None),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
            };
            if self.depth == 0 && self.root_seen {
                return Err(self.error(start, Problem::SecondRoot));
            }
            self.root_seen = true;
            if !empty {
                self.depth += 1;
            }
            let tag = Tag {
                raw,
                pos: self.index.pos(start),
                text: self.text,
                index: &self.index,
            };
            return Ok(Some(Item::Start { tag, empty }));
        }
    }

    fn chars(&self, chars: Chars<'t>, start: usize) -> Item<'_, 't> {
        Item::Chars {
            chars,
            pos: self.index.pos(start),
        }
    }

    fn error(&self, offset: usize, problem: Problem) -> Error {
        Error {
            pos: self.index.pos(offset),
            problem,
        }
    }

    /// A quick-xml offset as a byte offset of the text.
    fn offset(&self, position: u64) -> usize {
        usize::try_from(position)
            .unwrap_or(usize::MAX)
            .saturating_add(self.skipped)
    }
}

/// What a reference stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// A character reference (`&#233;`).
    Char(char),
    /// One of the five predefined entities (`&amp;`).
    Entity(&'static str),
}

impl Resolved {
    /// The text, in `buf` for a character.
    pub fn as_str<'b>(&self, buf: &'b mut [u8; 4]) -> &'b str {
        match *self {
            Resolved::Char(ch) => ch.encode_utf8(buf),
            Resolved::Entity(text) => text,
        }
    }
}

/// Why a reference stands for nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// A character reference that names no character.
    #[error("bad character reference: {0}")]
    BadChar(quick_xml::Error),
    /// An entity that is not one of the five predefined ones (documents declare none).
    #[error("the entity `&{0};` is not defined")]
    Undefined(String),
}

/// Resolves a character reference or a predefined entity.
pub fn resolve(reference: &BytesRef<'_>) -> Result<Resolved, ReferenceError> {
    match reference.resolve_char_ref() {
        Ok(Some(ch)) => Ok(Resolved::Char(ch)),
        Ok(None) => quick_xml::escape::resolve_predefined_entity(reference)
            .map(Resolved::Entity)
            .ok_or_else(|| ReferenceError::Undefined(String::from(&**reference))),
        Err(error) => Err(ReferenceError::BadChar(error)),
    }
}

/// The byte offset of `piece` in `text` when `piece` is a slice of `text`.
fn offset_in(text: &str, piece: &str) -> Option<usize> {
    let off = piece.as_ptr().addr().checked_sub(text.as_ptr().addr())?;
    (off.checked_add(piece.len())? <= text.len() && text.is_char_boundary(off)).then_some(off)
}

/// XML white space: space, tab, carriage return, line feed.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Whether `name` is an XML `Name` (XML 1.0, section 2.3), which covers qualified names such as `xs:any`.
pub fn is_name(name: &str) -> bool {
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

    /// Every item of `text` as `kind@line:column`, or the error.
    fn items(text: &str) -> Result<Vec<String>, String> {
        let mut reader = Reader::new(text);
        let mut out = Vec::new();
        loop {
            match reader.next_item() {
                Ok(Some(Item::Start { tag, empty })) => {
                    out.push(format!(
                        "<{}{}@{}",
                        tag.name(),
                        if empty { "/" } else { "" },
                        tag.pos()
                    ));
                    for attr in tag.attrs() {
                        let attr = attr.map_err(|error| error.to_string())?;
                        out.push(format!("{}@{}", attr.name(), attr.pos()));
                    }
                }
                Ok(Some(Item::End(tag))) => out.push(format!("</{}", tag.name().0)),
                Ok(Some(Item::Chars { pos, .. })) => out.push(format!("#@{pos}")),
                Ok(None) => return Ok(out),
                Err(error) => return Err(error.to_string()),
            }
        }
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let index = LineIndex::new("ab\ncdé\nf");
        assert_eq!(index.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(index.pos(3), Pos { line: 2, column: 1 });
        assert_eq!(index.pos(7), Pos { line: 2, column: 4 });
        assert_eq!(index.pos(8), Pos { line: 3, column: 1 });
        // Backwards, and inside a character (é is two bytes).
        assert_eq!(index.pos(6), Pos { line: 2, column: 3 });
        assert_eq!(index.pos(100), Pos { line: 3, column: 2 });
    }

    #[test]
    fn items_come_with_their_positions() {
        assert_eq!(
            items("<a x='1'>\n  <b  y=\"2\"/>é</a>").unwrap(),
            [
                "<a@1:1", "x@1:4", "#@1:10", "<b/@2:3", "y@2:7", "#@2:14", "</a"
            ]
        );
    }

    #[test]
    fn a_byte_order_mark_counts_as_a_character() {
        assert_eq!(
            items("\u{feff}  <a\n x='1'/>").unwrap(),
            ["#@1:2", "<a/@1:4", "x@2:2"]
        );
        let error = items("\u{feff}<a></b>").unwrap_err();
        assert!(error.starts_with("1:5: not well-formed"), "{error}");
    }

    #[test]
    fn documents_need_one_closed_root() {
        assert_eq!(items("").unwrap_err(), "1:1: the text holds no element");
        assert_eq!(
            items("<a/>\n<b/>").unwrap_err(),
            "2:1: a second root element follows the first one"
        );
        assert_eq!(
            items("<a><b/>").unwrap_err(),
            "1:8: the text ends before every element is closed"
        );
        assert!(items("<a></b>").unwrap_err().contains("not well-formed"));
    }

    #[test]
    fn attributes_know_what_precedes_them() {
        let mut reader = Reader::new("<a x='1'y='&amp;' z='&#233;'/>");
        let Ok(Some(Item::Start { tag, .. })) = reader.next_item() else {
            panic!("a start tag");
        };
        let attrs: Vec<(bool, String)> = tag
            .attrs()
            .map(|attr| {
                let attr = attr.unwrap();
                (attr.follows_space(), attr.value().unwrap().into_owned())
            })
            .collect();
        assert_eq!(
            attrs,
            [(true, "1".into()), (false, "&".into()), (true, "é".into())]
        );
    }

    #[test]
    fn references_resolve_to_characters_and_predefined_entities() {
        let resolved = |text: &str| -> Vec<String> {
            let mut reader = Reader::new(text);
            let mut out = Vec::new();
            while let Ok(Some(item)) = reader.next_item() {
                if let Item::Chars {
                    chars: Chars::Ref(reference),
                    ..
                } = item
                {
                    out.push(match resolve(&reference) {
                        Ok(resolved) => resolved.as_str(&mut [0; 4]).to_string(),
                        Err(error) => error.to_string(),
                    });
                }
            }
            out
        };
        let out = resolved("<a>&#233;&lt;&nope;&#xD800;</a>");
        assert_eq!(out[..3], ["é", "<", "the entity `&nope;` is not defined"]);
        assert!(out[3].starts_with("bad character reference: "), "{out:?}");
    }

    #[test]
    fn names_are_xml_names() {
        assert!(is_name("d:dfm") && is_name("a.b-c") && is_name("_é"));
        assert!(!is_name("") && !is_name("/") && !is_name("1a"));
    }
}
