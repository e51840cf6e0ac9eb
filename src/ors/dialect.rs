//! The ORS dialect of SCXML: which documents get it, and the globals its flows rely on.
//!
//! ORS follows the W3C working draft of 7 May 2009, where `<send>`'s `event`, `target`, `targettype`/`type` and
//! `delay` are expressions (`<send event="'delay'" delay="'2s'"/>`), flows read their datamodel through `_data.x`
//! and the Genesys modules through `_genesys.*`, and start parameters land in the `<data>` item of the same id.
//!
//! **Which documents.** A document is an ORS document when its root element declares a namespace of the Genesys
//! modules: a value that, without its `http://` or `https://` scheme, starts with `www.genesyslab.com/modules/`
//! ([`is_ors_document`]). Those are parsed with [`crate::scxml::Dialect::Ors`] (the engine evaluates the `<send>`
//! attributes as expressions, takes ORS targets, accepts the Genesys `_type`/`_persist` attributes); every other
//! document is parsed as W3C SCXML, unchanged, so the conformance run is not affected.
//!
//! **What the host adds.** Start parameters go in through [`crate::scxml::Session::set_params`]. `_data` and
//! `_genesys` are host globals, installed in every ECMAScript runtime of the ORS layer through the engine's
//! globals hook ([`GLOBALS`], plus `_genesys.statistic.sData` over the contact center in
//! [`crate::ors::modules`]). An `interaction.added` fills `_genesys.ixn.interactions[id]`
//! ([`register_interaction`]) before the flow sees it.

/// Installed into every ECMAScript runtime of the ORS layer (before any chart data): `_data` (the session's
/// datamodel: a live session's data items are the globals of its runtime) and the static parts of `_genesys`.
pub const GLOBALS: &str = r#"
Object.defineProperty(globalThis, '_data', { get: function () { return globalThis; }, enumerable: false });
var _genesys = {
  session: { tenant: 'Environment', setTenant: function (name) { this.tenant = name; },
             server: { name: 'gms', cluster: 'gms', url: '' } },
  ixn: { interactions: {},
         getuData: function (id, key) {
           var ixn = this.interactions[id];
           if (!ixn) { return undefined; }
           return key === undefined ? ixn.udata : ixn.udata[key];
         },
         setuData: function (id, data) {
           var ixn = this.interactions[id];
           if (!ixn) { return false; }
           for (var key in data) { ixn.udata[key] = data[key]; }
           return true;
         } },
  queue: {},
  statistic: {}
};
// SpiderMonkey's toSource, which ORS 8.1 embedded and Composer's logs call (`_event.toSource()`).
Object.defineProperty(Object.prototype, 'toSource', {
  value: function () { try { return '(' + JSON.stringify(this) + ')'; } catch (e) { return '({})'; } },
  writable: true, configurable: true, enumerable: false
});
"#;

/// Fills `_genesys.ixn.interactions[id]` from the data of an `interaction.added` event (`interactionid`, `ani`,
/// `dnis`, `media`, `udata`), as ORS does before the event reaches the strategy; the script to evaluate in the
/// session, or `None` when the data names no interaction.
pub fn register_interaction(data: &serde_json::Value) -> Option<String> {
    let id = data.get("interactionid")?.as_str()?;
    let text = |name: &str| data.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    let media = match text("media") {
        "" => "voice",
        media => media,
    };
    let mut ixn = serde_json::json!({
        "id": id,
        "media": media,
        "type": "Inbound",
        "parentid": "",
        "udata": data.get("udata").cloned().unwrap_or_else(|| serde_json::json!({})),
    });
    if media == "voice" {
        ixn["voice"] = serde_json::json!({
            "type": "Inbound", "ani": text("ani"), "dnis": text("dnis"), "callid": id,
        });
    }
    Some(format!(
        "(_genesys.ixn.interactions[{}] = {ixn}, true)",
        serde_json::Value::from(id)
    ))
}

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
    attrs: Vec<Attr>,
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
            while pos < bytes.len()
                && !is_space(bytes[pos])
                && bytes[pos] != b'>'
                && bytes[pos] != b'/'
            {
                pos += 1;
            }
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
                    return Some(Tag { kind, attrs });
                }
                if bytes[pos] == b'/' {
                    if bytes.get(pos + 1) != Some(&b'>') {
                        return None;
                    }
                    self.at = pos + 2;
                    return Some(Tag { kind, attrs });
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
    fn broken_text_is_not_an_ors_document() {
        for broken in [
            "<scxml xmlns:q='www.genesyslab.com/modules/q",
            "<",
            "<a b>",
            "",
            "<!-- x",
        ] {
            assert!(!is_ors_document(broken));
        }
        assert!(is_ors_document(
            "<?xml version='1.0'?><!-- c --><scxml xmlns:q='www.genesyslab.com/modules/q'/>"
        ));
    }
}
