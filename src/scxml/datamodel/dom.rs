//! XML values in the ECMAScript datamodel (W3C B.2): the plain tree built from XML text, and the
//! JavaScript that turns it into a small read-only DOM (`getElementsByTagName`, `getAttribute`,
//! `childNodes`, `textContent`...). The DOM keeps its source text, so it converts back to XML.

use std::sync::Arc;

use crate::scxml::parse::xml::{self, Node};
use crate::scxml::value::Value;

/// The read-only DOM used for XML values (`getElementsByTagName`, `getAttribute`, `childNodes`...).
pub const DOM_PRELUDE: &str = r#"(function () {
  var proto = {
    getAttribute: function (name) {
      return Object.prototype.hasOwnProperty.call(this._attrs, name) ? this._attrs[name] : null;
    },
    hasAttribute: function (name) { return Object.prototype.hasOwnProperty.call(this._attrs, name); },
    getElementsByTagName: function (name) {
      var out = [];
      var walk = function (node) {
        for (var i = 0; i < node.childNodes.length; i++) {
          var child = node.childNodes[i];
          if (child.nodeType === 1) {
            if (name === '*' || child.tagName === name || child.localName === name) { out.push(child); }
            walk(child);
          }
        }
      };
      walk(this);
      return out;
    }
  };
  Object.defineProperty(proto, 'textContent', { get: function () {
    var text = '';
    for (var i = 0; i < this.childNodes.length; i++) {
      var child = this.childNodes[i];
      text += child.nodeType === 3 ? child.data : child.textContent;
    }
    return text;
  } });
  var build = function (tree, parent) {
    if (typeof tree === 'string') {
      return { nodeType: 3, nodeName: '#text', data: tree, nodeValue: tree, textContent: tree, parentNode: parent, childNodes: [] };
    }
    var node = Object.create(proto);
    node.nodeType = 1; node.nodeName = tree.tag; node.tagName = tree.tag; node.localName = tree.local;
    node.namespaceURI = tree.ns; node.parentNode = parent; node._attrs = tree.attrs;
    node.attributes = Object.keys(tree.attrs).map(function (key) { return { name: key, value: tree.attrs[key] }; });
    node.childNodes = tree.children.map(function (child) { return build(child, node); });
    node.children = node.childNodes.filter(function (child) { return child.nodeType === 1; });
    node.firstChild = node.childNodes.length ? node.childNodes[0] : null;
    node.lastChild = node.childNodes.length ? node.childNodes[node.childNodes.length - 1] : null;
    return node;
  };
  return function (trees, source) {
    var doc = Object.create(proto);
    doc.nodeType = 9; doc.nodeName = '#document'; doc._attrs = {};
    doc.childNodes = trees.map(function (tree) { return build(tree, doc); });
    doc.children = doc.childNodes.filter(function (child) { return child.nodeType === 1; });
    doc.documentElement = doc.children.length ? doc.children[0] : null;
    doc.firstChild = doc.documentElement;
    Object.defineProperty(doc, '_source', { value: source });
    return doc;
  };
})()"#;

/// An XML element as the plain tree the DOM prelude expects.
pub fn xml_tree(doc: &xml::Document, idx: usize) -> Value {
    let element = &doc.elements[idx];
    let attrs = element
        .attrs
        .iter()
        .map(|attr| {
            (
                Arc::from(attr.qname.as_str()),
                Value::string(attr.value.as_str()),
            )
        })
        .collect();
    let children = element
        .children
        .iter()
        .map(|child| match child {
            Node::Element(child) => xml_tree(doc, *child),
            Node::Text(text) => Value::string(text.as_str()),
        })
        .collect();
    Value::Object(vec![
        (Arc::from("tag"), Value::string(element.qname.as_str())),
        (Arc::from("local"), Value::string(element.local.as_str())),
        (
            Arc::from("ns"),
            if element.ns.is_empty() {
                Value::Null
            } else {
                Value::string(element.ns.as_str())
            },
        ),
        (Arc::from("attrs"), Value::Object(attrs)),
        (Arc::from("children"), Value::Array(children)),
    ])
}
