//! XML text → a flat arena of positioned elements with resolved namespaces, built from the items of the shared
//! positioned reader ([`crate::xml`]) with the sentences SCXML authors see.
//!
//! The arena is flat (children are indices) so that neither building nor dropping a deeply nested
//! document recurses; nesting deeper than [`MAX_DEPTH`] is rejected with a positioned error.

use std::collections::HashMap;

use crate::scxml::error::Pos;
use crate::xml::{self, Chars, Item, Problem, Reader, ReferenceError, Tag};

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

/// Reads `text` into a [`Document`], or returns a position and sentence.
pub fn read(text: &str) -> Result<Document, (Pos, String)> {
    let mut reader = Reader::new(text);
    let mut elements: Vec<Element> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    // Namespace scopes: one map per open element, searched innermost first.
    let mut scopes: Vec<HashMap<String, String>> = vec![HashMap::from([(
        "xml".to_string(),
        "http://www.w3.org/XML/1998/namespace".to_string(),
    )])];
    loop {
        let item = match reader.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(error) => {
                let message = match error.problem {
                    Problem::Syntax(error) => {
                        format!("the document is not well-formed XML: {error}.")
                    }
                    Problem::SecondRoot => {
                        "the document has more than one root element.".to_string()
                    }
                    Problem::Unclosed => format!(
                        "the document ends before `<{}>` is closed.",
                        stack
                            .last()
                            .map_or("", |&open| elements[open].qname.as_str())
                    ),
                    Problem::NoRoot => "the document has no root element.".to_string(),
                };
                return Err((error.pos, message));
            }
        };
        match item {
            Item::Start { tag, empty } => {
                let pos = tag.pos();
                if stack.len() >= MAX_DEPTH {
                    return Err((
                        pos,
                        format!("elements nest deeper than {MAX_DEPTH} levels."),
                    ));
                }
                let element = start_element(&tag, pos, &mut scopes, stack.last().copied())?;
                let idx = elements.len();
                elements.push(element);
                if let Some(&parent) = stack.last() {
                    elements[parent].children.push(Node::Element(idx));
                }
                if empty {
                    scopes.pop();
                } else {
                    stack.push(idx);
                }
            }
            Item::End(_) => {
                stack.pop();
                scopes.pop();
            }
            Item::Chars { chars, pos } => match chars {
                Chars::Text(content) => {
                    push_text(&mut elements, &stack, &content.xml10_content(), pos)?;
                }
                Chars::CData(content) => {
                    push_text(&mut elements, &stack, &content.into_inner(), pos)?;
                }
                Chars::Ref(reference) => {
                    let resolved = xml::resolve(&reference).map_err(|error| match error {
                        ReferenceError::Undefined(name) => {
                            (pos, format!("the entity `&{name};` is not defined."))
                        }
                        ReferenceError::BadChar(error) => {
                            (pos, format!("bad character reference: {error}."))
                        }
                    })?;
                    push_text(&mut elements, &stack, resolved.as_str(&mut [0; 4]), pos)?;
                }
            },
        }
    }
    // The reader has seen one root element, and it comes first.
    Ok(Document { elements, root: 0 })
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
    tag: &Tag<'_, '_>,
    pos: Pos,
    scopes: &mut Vec<HashMap<String, String>>,
    parent: Option<usize>,
) -> Result<Element, (Pos, String)> {
    let qname = tag.name().to_string();
    let mut scope = HashMap::new();
    let mut raw_attrs = Vec::new();
    let mut ns_decls = Vec::new();
    for attr in tag.attrs() {
        let attr =
            attr.map_err(|error| (pos, format!("bad attribute in `<{qname}>`: {error}.")))?;
        let key = attr.name().to_string();
        let value = attr
            .value()
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
