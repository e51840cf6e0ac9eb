//! XML text → a flat arena of positioned elements with resolved namespaces.
//!
//! The arena is flat (children are indices) so that neither building nor dropping a deeply nested
//! document recurses; nesting deeper than [`MAX_DEPTH`] is rejected with a positioned error.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::scxml::error::Pos;

/// The deepest element nesting a document may have. Real charts stay far below it; the limit keeps
/// every later pass (which may recurse on nesting) within a small stack.
pub const MAX_DEPTH: usize = 200;

/// One attribute as written.
#[derive(Debug, Clone)]
pub struct Attr {
    /// The qualified name as written (`prefix:local` or `local`).
    pub qname: String,
    /// The local part of the name.
    pub local: String,
    /// The namespace of a prefixed attribute (unprefixed attributes have none).
    pub ns: Option<String>,
    /// The unescaped value.
    pub value: String,
}

/// A child of an element.
#[derive(Debug, Clone)]
pub enum Node {
    /// A child element (index into [`Document::elements`]).
    Element(usize),
    /// Character data (text or CDATA), unescaped.
    Text(String),
}

/// One element with its position.
#[derive(Debug, Clone)]
pub struct Element {
    /// The qualified name as written.
    pub qname: String,
    /// The local name.
    pub local: String,
    /// The resolved namespace URI (empty string when none).
    pub ns: String,
    /// Attributes in document order (namespace declarations excluded).
    pub attrs: Vec<Attr>,
    /// Namespace declarations made on this element (prefix, or "" for the default, → URI).
    pub ns_decls: Vec<(String, String)>,
    /// Children in document order.
    pub children: Vec<Node>,
    /// Where the start tag begins.
    pub pos: Pos,
    /// The parent element.
    pub parent: Option<usize>,
}

impl Element {
    /// The value of the unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|attr| attr.ns.is_none() && attr.local == name)
            .map(|attr| attr.value.as_str())
    }

    /// The concatenated text children.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            if let Node::Text(text) = child {
                out.push_str(text);
            }
        }
        out
    }

    /// Indices of the child elements.
    pub fn child_elements(&self) -> impl Iterator<Item = usize> + '_ {
        self.children.iter().filter_map(|child| match child {
            Node::Element(idx) => Some(*idx),
            Node::Text(_) => None,
        })
    }
}

/// A parsed document: the element arena and its root.
#[derive(Debug, Clone)]
pub struct Document {
    /// Every element, in document order (pre-order).
    pub elements: Vec<Element>,
    /// The root element (always 0 when the document is not empty).
    pub root: usize,
}

/// Maps byte offsets to line and column. Offsets asked in increasing order (as the reader produces
/// them) cost time proportional to the distance walked, so a whole document costs linear time even
/// when it is one long line.
pub struct LineIndex<'a> {
    text: &'a str,
    /// (byte offset, position) of the last answer.
    cursor: std::cell::Cell<(usize, Pos)>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            text,
            cursor: std::cell::Cell::new((0, Pos { line: 1, column: 1 })),
        }
    }

    /// The position of byte `offset`.
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

/// Reads `text` into a [`Document`], or returns a position and sentence.
pub fn read(text: &str) -> Result<Document, (Pos, String)> {
    let index = LineIndex::new(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut elements: Vec<Element> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    // Namespace scopes: one map per open element, searched innermost first.
    let mut scopes: Vec<HashMap<String, String>> = vec![HashMap::from([(
        "xml".to_string(),
        "http://www.w3.org/XML/1998/namespace".to_string(),
    )])];
    let mut root = None;
    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let at = reader.error_position() as usize;
                return Err((
                    index.pos(at),
                    format!("the document is not well-formed XML: {error}."),
                ));
            }
        };
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let is_empty = matches!(event, Event::Empty(_));
                let pos = index.pos(start);
                if stack.is_empty() && root.is_some() {
                    return Err((
                        pos,
                        "the document has more than one root element.".to_string(),
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err((
                        pos,
                        format!("elements nest deeper than {MAX_DEPTH} levels."),
                    ));
                }
                let element = start_element(tag, pos, &mut scopes, stack.last().copied())?;
                let idx = elements.len();
                elements.push(element);
                match stack.last() {
                    Some(&parent) => elements[parent].children.push(Node::Element(idx)),
                    None => root = Some(idx),
                }
                if is_empty {
                    scopes.pop();
                } else {
                    stack.push(idx);
                }
            }
            Event::End(_) => {
                stack.pop();
                scopes.pop();
            }
            Event::Text(ref content) => {
                let text = content.xml10_content();
                push_text(&mut elements, &stack, &text, index.pos(start))?;
            }
            Event::CData(content) => {
                let text = content.into_inner().into_owned();
                push_text(&mut elements, &stack, &text, index.pos(start))?;
            }
            Event::GeneralRef(reference) => {
                let pos = index.pos(start);
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = reference.clone().into_inner().into_owned();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(value) => value.to_string(),
                            None => {
                                return Err((
                                    pos,
                                    format!("the entity `&{name};` is not defined."),
                                ));
                            }
                        }
                    }
                    Err(error) => return Err((pos, format!("bad character reference: {error}."))),
                };
                push_text(&mut elements, &stack, &resolved, pos)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(&open) = stack.last() {
        return Err((
            index.pos(text.len()),
            format!(
                "the document ends before `<{}>` is closed.",
                elements[open].qname
            ),
        ));
    }
    match root {
        Some(root) => Ok(Document { elements, root }),
        None => Err((
            index.pos(text.len()),
            "the document has no root element.".to_string(),
        )),
    }
}

fn push_text(
    elements: &mut [Element],
    stack: &[usize],
    text: &str,
    pos: Pos,
) -> Result<(), (Pos, String)> {
    match stack.last() {
        Some(&parent) => {
            let children = &mut elements[parent].children;
            if let Some(Node::Text(previous)) = children.last_mut() {
                previous.push_str(text);
            } else {
                children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err((pos, "text appears outside the root element.".to_string())),
    }
}

fn start_element(
    tag: &BytesStart<'_>,
    pos: Pos,
    scopes: &mut Vec<HashMap<String, String>>,
    parent: Option<usize>,
) -> Result<Element, (Pos, String)> {
    let qname = tag.name().as_ref().to_string();
    let mut scope = HashMap::new();
    let mut raw_attrs = Vec::new();
    let mut ns_decls = Vec::new();
    for attr in tag.attributes() {
        let attr =
            attr.map_err(|error| (pos, format!("bad attribute in `<{qname}>`: {error}.")))?;
        let key = attr.key.as_ref().to_string();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|error| (pos, format!("bad attribute value in `<{qname}>`: {error}.")))?
            .into_owned();
        if key == "xmlns" {
            scope.insert(String::new(), value.clone());
            ns_decls.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            scope.insert(prefix.to_string(), value.clone());
            ns_decls.push((prefix.to_string(), value));
        } else {
            raw_attrs.push((key, value));
        }
    }
    scopes.push(scope);
    let lookup = |prefix: &str| -> Option<String> {
        scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(prefix).cloned())
    };
    let (ns, local) = match qname.split_once(':') {
        Some((prefix, local)) => match lookup(prefix) {
            Some(ns) => (ns, local.to_string()),
            None => {
                return Err((
                    pos,
                    format!("the namespace prefix `{prefix}` of `<{qname}>` is not declared."),
                ));
            }
        },
        None => (lookup("").unwrap_or_default(), qname.clone()),
    };
    let mut attrs = Vec::with_capacity(raw_attrs.len());
    for (key, value) in raw_attrs {
        let (attr_ns, attr_local) = match key.split_once(':') {
            Some((prefix, local)) => match lookup(prefix) {
                Some(ns) => (Some(ns), local.to_string()),
                None => {
                    return Err((
                        pos,
                        format!(
                            "the namespace prefix `{prefix}` of attribute `{key}` is not declared."
                        ),
                    ));
                }
            },
            None => (None, key.clone()),
        };
        attrs.push(Attr {
            qname: key,
            local: attr_local,
            ns: attr_ns,
            value,
        });
    }
    Ok(Element {
        qname,
        local,
        ns,
        attrs,
        ns_decls,
        children: Vec::new(),
        pos,
        parent,
    })
}

/// Serialises the subtree of `idx` back to XML text, declaring the namespaces in scope on its root.
pub fn serialize(doc: &Document, idx: usize) -> String {
    let mut out = String::new();
    // Namespace declarations in scope at the subtree root, innermost winning.
    let mut in_scope: Vec<(String, String)> = Vec::new();
    let mut cursor = doc.elements[idx].parent;
    while let Some(ancestor) = cursor {
        for (prefix, uri) in &doc.elements[ancestor].ns_decls {
            if !in_scope.iter().any(|(known, _)| known == prefix) {
                in_scope.push((prefix.clone(), uri.clone()));
            }
        }
        cursor = doc.elements[ancestor].parent;
    }
    // Iterative walk: (element, children emitted so far).
    let mut stack: Vec<(usize, usize)> = vec![(idx, 0)];
    let mut first = true;
    while let Some((current, child_idx)) = stack.pop() {
        let element = &doc.elements[current];
        if child_idx == 0 {
            out.push('<');
            out.push_str(&element.qname);
            let mut decls = element.ns_decls.clone();
            if first {
                for (prefix, uri) in &in_scope {
                    if !decls.iter().any(|(known, _)| known == prefix) {
                        decls.push((prefix.clone(), uri.clone()));
                    }
                }
                first = false;
            }
            for (prefix, uri) in decls {
                if prefix.is_empty() {
                    out.push_str(&format!(" xmlns=\"{}\"", escape(&uri)));
                } else {
                    out.push_str(&format!(" xmlns:{prefix}=\"{}\"", escape(&uri)));
                }
            }
            for attr in &element.attrs {
                out.push_str(&format!(" {}=\"{}\"", attr.qname, escape(&attr.value)));
            }
            if element.children.is_empty() {
                out.push_str("/>");
                continue;
            }
            out.push('>');
        }
        if child_idx < element.children.len() {
            stack.push((current, child_idx + 1));
            match &element.children[child_idx] {
                Node::Element(child) => stack.push((*child, 0)),
                Node::Text(text) => out.push_str(&escape(text)),
            }
        } else {
            out.push_str("</");
            out.push_str(&element.qname);
            out.push('>');
        }
    }
    out
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}
