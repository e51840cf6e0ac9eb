//! The ORS dialect of SCXML, as a source rewrite applied before the engine parses a document.
//!
//! ORS follows the W3C working draft of 7 May 2009, where `<send>`'s `event`, `target`, `targettype`/`type` and
//! `delay` are expressions (`<send event="'delay'" delay="'2s'"/>`), flows read their datamodel through `_data.x`
//! and the Genesys modules through `_genesys.*`, and start parameters land in the `<data>` item of the same id.
//!
//! **Which documents.** A document is an ORS document when its root element declares a namespace of the Genesys
//! modules: a value that, without its `http://` or `https://` scheme, starts with `www.genesyslab.com/modules/`
//! ([`is_ors_document`]). Every other document keeps strict W3C semantics and is parsed unchanged, so the
//! conformance run is not affected.
//!
//! **How.** The engine parses W3C SCXML only and is not changed for the dialect; instead [`rewrite`] edits the
//! text of ORS documents so that it says the same thing in W3C terms:
//! - `<send event=E>` → `eventexpr=E`, `target` → `targetexpr`, `targettype`/`type` → `typeexpr`,
//!   `delay` → `delayexpr`;
//! - `<data id="x" expr="E"/>` → `expr="_gmsp('x',(E))"` (and `expr="_gmsp('x')"` when there was none), so a start
//!   parameter named `x` replaces the item's initial value.
//!
//! - Genesys attributes of SCXML elements (`_type`, `_persist`, any attribute starting with `_`) are blanked out
//!   with spaces (the engine rejects attributes it does not know).
//!
//! Every edit stays on its line and after the start of the element it touches, so positions in parse errors still
//! point at the right element of the author's file. The globals the rewritten text relies on (`_data`, `_gmsp`,
//! `_genesys`) are installed by the host through the engine's globals hook ([`GLOBALS`]).

/// Installed into every ECMAScript runtime of the ORS layer (before any chart data): `_data` (the session's
/// datamodel: a live session's data items are the globals of its runtime), `_gmsp` (start parameters, read by
/// rewritten `<data>` items) and the static parts of `_genesys`.
pub const GLOBALS: &str = r#"
Object.defineProperty(globalThis, '_data', { get: function () { return globalThis; }, enumerable: false });
var __gms_start = { params: null };
function _gmsp(name, fallback) {
  var params = __gms_start.params;
  if (params !== null && Object.prototype.hasOwnProperty.call(params, name)) { return params[name]; }
  return fallback;
}
var _genesys = {
  session: { tenant: 'Environment', setTenant: function (name) { this.tenant = name; },
             server: { name: 'gms', cluster: 'gms', url: '' } },
  ixn: { interactions: {} },
  queue: {},
  statistic: {}
};
"#;

/// True when the root element declares a Genesys module namespace.
pub fn is_ors_document(text: &str) -> bool {
    let Some(root) = Scanner::new(text).find(|tag| tag.kind == TagKind::Open) else {
        return false;
    };
    root.attrs.iter().any(|attr| {
        let name = &text[attr.name.clone()];
        (name == "xmlns" || name.starts_with("xmlns:"))
            && is_module_namespace(&text[attr.value.clone()])
    })
}

/// True when `uri` names a Genesys module (`www.genesyslab.com/modules/...`, with or without a scheme).
pub fn is_module_namespace(uri: &str) -> bool {
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
        .unwrap_or(uri);
    rest.starts_with("www.genesyslab.com/modules/")
}

/// Rewrites an ORS document into W3C SCXML (see the module doc); other documents come back unchanged.
pub fn rewrite(text: &str) -> String {
    if !is_ors_document(text) {
        return text.to_string();
    }
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for tag in Scanner::new(text) {
        if tag.kind != TagKind::Open {
            continue;
        }
        let name = &text[tag.name.clone()];
        if !name.contains(':') {
            // Genesys attributes (`_type`, `_persist`): blanked, so every column stays where it was.
            for attr in tag
                .attrs
                .iter()
                .filter(|attr| text[attr.name.clone()].starts_with('_'))
            {
                let whole = attr.name.start..attr.value.end + 1;
                edits.push((whole.clone(), " ".repeat(whole.len())));
            }
        }
        match name {
            "send" => {
                for attr in &tag.attrs {
                    let renamed = match &text[attr.name.clone()] {
                        "event" => "eventexpr",
                        "target" => "targetexpr",
                        "targettype" | "type" => "typeexpr",
                        "delay" => "delayexpr",
                        _ => continue,
                    };
                    edits.push((attr.name.clone(), renamed.to_string()));
                }
            }
            "data" => {
                let id = tag
                    .attrs
                    .iter()
                    .find(|attr| &text[attr.name.clone()] == "id")
                    .map(|attr| &text[attr.value.clone()]);
                let Some(id) = id.filter(|id| is_plain_name(id)) else {
                    continue;
                };
                let has_src = tag
                    .attrs
                    .iter()
                    .any(|attr| &text[attr.name.clone()] == "src");
                match tag
                    .attrs
                    .iter()
                    .find(|attr| &text[attr.name.clone()] == "expr")
                {
                    Some(expr) => {
                        let value = &text[expr.value.clone()];
                        edits.push((expr.value.clone(), format!("_gmsp('{id}',({value}))")));
                    }
                    None if tag.empty && !has_src => {
                        edits.push((tag.end.clone(), format!(" expr=\"_gmsp('{id}')\"")));
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len() + edits.len() * 16);
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

fn is_plain_name(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '$')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    Open,
    Close,
}

/// One attribute: byte ranges of its name and of its value (between the quotes).
#[derive(Debug, Clone)]
struct Attr {
    name: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

/// One start or end tag.
#[derive(Debug, Clone)]
struct Tag {
    kind: TagKind,
    name: std::ops::Range<usize>,
    attrs: Vec<Attr>,
    /// `<x/>`.
    empty: bool,
    /// An empty range just before `/>` or `>`, where attributes may be added.
    end: std::ops::Range<usize>,
}

/// A tag scanner for well-formed XML: skips comments, CDATA, processing instructions and declarations, and stops
/// at the first thing it cannot read (the engine reports the error then).
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    fn skip_past(&mut self, marker: &str) -> bool {
        match self.text[self.at..].find(marker) {
            Some(offset) => {
                self.at += offset + marker.len();
                true
            }
            None => {
                self.at = self.text.len();
                false
            }
        }
    }
}

impl Iterator for Scanner<'_> {
    type Item = Tag;

    fn next(&mut self) -> Option<Tag> {
        let bytes = self.text.as_bytes();
        loop {
            let offset = self.text[self.at..].find('<')?;
            self.at += offset;
            let rest = &self.text[self.at..];
            if rest.starts_with("<!--") {
                if !self.skip_past("-->") {
                    return None;
                }
                continue;
            }
            if rest.starts_with("<![CDATA[") {
                if !self.skip_past("]]>") {
                    return None;
                }
                continue;
            }
            if rest.starts_with("<?") || rest.starts_with("<!") {
                if !self.skip_past(">") {
                    return None;
                }
                continue;
            }
            let kind = if rest.starts_with("</") {
                TagKind::Close
            } else {
                TagKind::Open
            };
            let mut pos = self.at + if kind == TagKind::Close { 2 } else { 1 };
            let name_start = pos;
            while pos < bytes.len()
                && !is_space(bytes[pos])
                && bytes[pos] != b'>'
                && bytes[pos] != b'/'
            {
                pos += 1;
            }
            let name = name_start..pos;
            let mut attrs = Vec::new();
            loop {
                while pos < bytes.len() && is_space(bytes[pos]) {
                    pos += 1;
                }
                if pos >= bytes.len() {
                    return None;
                }
                if bytes[pos] == b'>' {
                    self.at = pos + 1;
                    return Some(Tag {
                        kind,
                        name,
                        attrs,
                        empty: false,
                        end: pos..pos,
                    });
                }
                if bytes[pos] == b'/' {
                    if bytes.get(pos + 1) != Some(&b'>') {
                        return None;
                    }
                    self.at = pos + 2;
                    return Some(Tag {
                        kind,
                        name,
                        attrs,
                        empty: true,
                        end: pos..pos,
                    });
                }
                let attr_start = pos;
                while pos < bytes.len() && !is_space(bytes[pos]) && bytes[pos] != b'=' {
                    pos += 1;
                }
                let attr_name = attr_start..pos;
                while pos < bytes.len() && is_space(bytes[pos]) {
                    pos += 1;
                }
                if bytes.get(pos) != Some(&b'=') {
                    return None;
                }
                pos += 1;
                while pos < bytes.len() && is_space(bytes[pos]) {
                    pos += 1;
                }
                let quote = *bytes.get(pos)?;
                if quote != b'"' && quote != b'\'' {
                    return None;
                }
                let value_start = pos + 1;
                let value_len = self.text[value_start..].find(quote as char)?;
                let value = value_start..value_start + value_len;
                pos = value.end + 1;
                attrs.push(Attr {
                    name: attr_name,
                    value,
                });
            }
        }
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORS: &str = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:ws="www.genesyslab.com/modules/ws" version="1.0" _type="x">
<datamodel><data id="a" expr="1"/><data id="b"/></datamodel>
<!-- <send event="'no'"/> -->
<state id="s"><onentry><send event="'x'" targettype="'scxml'" delay="'1s'"/></onentry></state></scxml>"#;

    #[test]
    fn ors_documents_are_recognised_by_their_module_namespaces() {
        assert!(is_ors_document(ORS));
        assert!(!is_ors_document(
            r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"><send event="'x'"/></scxml>"#
        ));
        assert!(is_module_namespace(
            "http://www.genesyslab.com/modules/queue"
        ));
        assert!(is_module_namespace("www.genesyslab.com/modules/ws"));
        assert!(!is_module_namespace("http://www.genesyslab.com/other"));
    }

    #[test]
    fn send_attributes_become_expressions_and_data_reads_start_parameters() {
        let out = rewrite(ORS);
        assert!(out.contains(r#"<send eventexpr="'x'" typeexpr="'scxml'" delayexpr="'1s'"/>"#));
        assert!(out.contains(r#"<data id="a" expr="_gmsp('a',(1))"/>"#));
        assert!(out.contains(r#"<data id="b" expr="_gmsp('b')"/>"#));
        assert!(out.contains(r#"<!-- <send event="'no'"/> -->"#));
        assert!(out.contains(&format!(
            "version=\"1.0\" {}>",
            " ".repeat("_type=\"x\"".len())
        )));
        assert_eq!(out.lines().count(), ORS.lines().count());
    }

    #[test]
    fn w3c_documents_and_broken_text_are_left_alone() {
        let w3c = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml"><send event="x"/></scxml>"#;
        assert_eq!(rewrite(w3c), w3c);
        for broken in [
            "<scxml xmlns:q='www.genesyslab.com/modules/q'><send event=",
            "<",
            "<a b>",
            "",
        ] {
            let _ = rewrite(broken);
        }
    }
}
