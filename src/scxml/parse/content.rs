//! Executable content and the elements that carry data (W3C 4, 5, 6): `<raise>`, `<if>`, `<foreach>`,
//! `<log>`, `<assign>`, `<script>`, `<send>`, `<cancel>`, `<invoke>`, `<data>`, `<donedata>`,
//! `<param>`, `<content>`, and foreign-namespace elements kept as custom actions.

use std::sync::Arc;

use crate::scxml::model::{
    Action, AssignValue, Block, Content, ContentSpec, CustomAction, Data, DoneData, Expr, Invoke,
    Param, Send, StateId, ValueOrExpr,
};
use crate::scxml::parse::build::{Builder, SCXML_NS, build, parse_duration, resolve_src};
use crate::scxml::parse::xml::{self, Element, Node};
use crate::scxml::parse::{Dialect, Source};

impl<'a> Builder<'a> {
    pub(super) fn data(&mut self, idx: usize) -> Data {
        let element = self.el(idx);
        self.check_attrs(idx, &["id", "src", "expr"]);
        if element.local != "data" {
            return Data {
                id: Arc::from(""),
                expr: None,
                content: None,
                pos: element.pos,
            };
        }
        let id = match element.attr("id") {
            Some(id) => id,
            None => {
                self.error(element.pos, "<data> must have an `id`.");
                ""
            }
        };
        let expr = self.expr(element, "expr");
        let has_children = element.children.iter().any(|child| match child {
            Node::Element(_) => true,
            Node::Text(text) => !text.trim().is_empty(),
        });
        let n_sources = usize::from(expr.is_some())
            + usize::from(element.attr("src").is_some())
            + usize::from(has_children);
        if n_sources > 1 {
            self.error(
                element.pos,
                "<data> may have only one of `expr`, `src` and content.",
            );
        }
        let content = if let Some(src) = element.attr("src") {
            match self.load(src) {
                Ok(text) => Some(Content::Text(Arc::from(text))),
                Err(message) => {
                    self.error(element.pos, message);
                    None
                }
            }
        } else if has_children {
            Some(self.content_of(idx))
        } else {
            None
        };
        Data {
            id: Arc::from(id),
            expr,
            content,
            pos: element.pos,
        }
    }

    /// Loads a `src` URI (a path or `file:` URI, relative to the document).
    pub(super) fn load(&self, src: &str) -> Result<String, String> {
        let path = resolve_src(self.source.file.as_deref(), src);
        std::fs::read_to_string(&path)
            .map_err(|error| format!("`src=\"{src}\"` cannot be loaded: {error}."))
    }

    /// The inline content of element `idx`: an inline `<scxml>`, other XML, or text.
    pub(super) fn content_of(&mut self, idx: usize) -> Content {
        let element = self.el(idx);
        let children: Vec<usize> = element.child_elements().collect();
        if let Some(&first) = children.first() {
            let child_el = self.el(first);
            if child_el.ns == SCXML_NS && child_el.local == "scxml" {
                let source = Source {
                    name: self.source.name.clone(),
                    file: self.source.file.clone(),
                    dialect: self.source.dialect,
                };
                let text: Arc<str> = Arc::from(xml::serialize(self.doc, first));
                return match build(self.doc, first, &source) {
                    Ok(model) => Content::Scxml(Arc::new(model), text),
                    Err(errors) => {
                        self.errors.extend(errors.0);
                        Content::Text(Arc::from(""))
                    }
                };
            }
            let mut out = String::new();
            for child in children {
                out.push_str(&xml::serialize(self.doc, child));
            }
            return Content::Xml(Arc::from(out));
        }
        Content::Text(Arc::from(element.text()))
    }

    pub(super) fn value_or_expr(&mut self, element: &Element, name: &str) -> Option<ValueOrExpr> {
        let expr_name = format!("{name}expr");
        match (element.attr(name), self.expr(element, &expr_name)) {
            (Some(_), Some(_)) => {
                self.error(
                    element.pos,
                    format!(
                        "<{}> cannot have both `{name}` and `{expr_name}`.",
                        element.local
                    ),
                );
                None
            }
            (Some(value), None) => Some(ValueOrExpr::Value(Arc::from(value))),
            (None, Some(expr)) => Some(ValueOrExpr::Expr(expr)),
            (None, None) => None,
        }
    }

    pub(super) fn namelist(&mut self, element: &Element) -> Vec<Expr> {
        element
            .attr("namelist")
            .map(|names| {
                names
                    .split_whitespace()
                    .map(|name| Expr {
                        text: Arc::from(name),
                        pos: element.pos,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn params_and_content(
        &mut self,
        idx: usize,
        allow_content_with_params: bool,
    ) -> (Vec<Param>, Option<ContentSpec>) {
        let element = self.el(idx);
        let mut params = Vec::new();
        let mut content = None;
        for child in element.child_elements() {
            if !self.is_scxml(child) {
                continue;
            }
            let child_el = self.el(child);
            match child_el.local.as_str() {
                "param" => {
                    self.check_attrs(child, &["name", "expr", "location"]);
                    let name = match child_el.attr("name") {
                        Some(name) => name,
                        None => {
                            self.error(child_el.pos, "<param> must have a `name`.");
                            ""
                        }
                    };
                    let expr = match (self.expr(child_el, "expr"), self.expr(child_el, "location"))
                    {
                        (Some(expr), None) | (None, Some(expr)) => expr,
                        (Some(expr), Some(_)) => {
                            self.error(
                                child_el.pos,
                                "<param> cannot have both `expr` and `location`.",
                            );
                            expr
                        }
                        (None, None) => {
                            self.error(child_el.pos, "<param> must have `expr` or `location`.");
                            Expr {
                                text: Arc::from("undefined"),
                                pos: child_el.pos,
                            }
                        }
                    };
                    params.push(Param {
                        name: Arc::from(name),
                        expr,
                    });
                }
                "content" => {
                    self.check_attrs(child, &["expr"]);
                    if content.is_some() {
                        self.error(child_el.pos, "only one <content> is allowed.");
                    }
                    content = Some(match self.expr(child_el, "expr") {
                        Some(expr) => {
                            if child_el.children.iter().any(
                                |node| !matches!(node, Node::Text(text) if text.trim().is_empty()),
                            ) {
                                self.error(
                                    child_el.pos,
                                    "<content> cannot have both `expr` and children.",
                                );
                            }
                            ContentSpec::Expr(expr)
                        }
                        None => ContentSpec::Inline(self.content_of(child)),
                    });
                }
                _ => {}
            }
        }
        if !allow_content_with_params && content.is_some() && !params.is_empty() {
            self.error(
                element.pos,
                format!(
                    "<{}> cannot have both <param> and <content>.",
                    element.local
                ),
            );
        }
        (params, content)
    }

    pub(super) fn invoke(&mut self, idx: usize, state: StateId) -> Invoke {
        let element = self.el(idx);
        self.check_attrs(
            idx,
            &[
                "type",
                "typeexpr",
                "src",
                "srcexpr",
                "id",
                "idlocation",
                "namelist",
                "autoforward",
            ],
        );
        self.check_children(idx, &["param", "content", "finalize"]);
        let kind = self.value_or_expr(element, "type");
        let src = self.value_or_expr(element, "src");
        let id = element.attr("id").map(Arc::from);
        let idlocation = self.expr(element, "idlocation");
        if id.is_some() && idlocation.is_some() {
            self.error(
                element.pos,
                "<invoke> cannot have both `id` and `idlocation`.",
            );
        }
        let namelist = self.namelist(element);
        let autoforward = match element.attr("autoforward") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                self.error(
                    element.pos,
                    format!("`autoforward` must be \"true\" or \"false\", not \"{other}\"."),
                );
                false
            }
        };
        let (params, content) = self.params_and_content(idx, true);
        if src.is_some() && content.is_some() {
            self.error(
                element.pos,
                "<invoke> cannot have both `src` and <content>.",
            );
        }
        if !namelist.is_empty() && !params.is_empty() {
            self.error(
                element.pos,
                "<invoke> cannot have both `namelist` and <param>.",
            );
        }
        let mut finalize: Block = Arc::from(Vec::new());
        for child in element.child_elements() {
            if self.is_scxml(child) && self.el(child).local == "finalize" {
                finalize = self.block(child);
            }
        }
        Invoke {
            kind,
            src,
            id,
            idlocation,
            namelist,
            autoforward,
            params,
            content,
            finalize,
            state,
            pos: element.pos,
        }
    }

    pub(super) fn donedata(&mut self, idx: usize) -> DoneData {
        self.check_children(idx, &["param", "content"]);
        let (params, content) = self.params_and_content(idx, false);
        DoneData { params, content }
    }

    pub(super) fn script(&mut self, idx: usize) -> Action {
        let element = self.el(idx);
        self.check_attrs(idx, &["src"]);
        let text = match element.attr("src") {
            Some(src) => {
                if !element.text().trim().is_empty() {
                    self.error(
                        element.pos,
                        "<script> cannot have both `src` and inline code.",
                    );
                }
                match self.load(src) {
                    Ok(text) => text,
                    Err(message) => {
                        self.error(element.pos, message);
                        String::new()
                    }
                }
            }
            None => element.text(),
        };
        self.note_code(&text);
        Action::Script {
            code: Expr {
                text: Arc::from(text),
                pos: element.pos,
            },
        }
    }

    /// The executable content among the children of `idx`.
    pub(super) fn block(&mut self, idx: usize) -> Block {
        let element = self.el(idx);
        let mut actions = Vec::new();
        for child in element.child_elements() {
            if let Some(action) = self.action(child) {
                actions.push(action);
            }
        }
        Arc::from(actions)
    }

    pub(super) fn action(&mut self, idx: usize) -> Option<Action> {
        let element = self.el(idx);
        if element.ns != SCXML_NS {
            return Some(Action::Custom(Arc::new(self.custom(idx))));
        }
        let action = match element.local.as_str() {
            "raise" => {
                self.check_attrs(idx, &["event"]);
                match element.attr("event") {
                    Some(event) => Action::Raise {
                        event: Arc::from(event),
                        pos: element.pos,
                    },
                    None => {
                        self.error(element.pos, "<raise> must have an `event`.");
                        return None;
                    }
                }
            }
            "log" => {
                self.check_attrs(idx, &["label", "expr"]);
                Action::Log {
                    label: element.attr("label").map(Arc::from),
                    // `expr=""` logs just the label.
                    expr: self
                        .expr(element, "expr")
                        .filter(|expr| !expr.text.trim().is_empty()),
                    pos: element.pos,
                }
            }
            "assign" => {
                self.check_attrs(idx, &["location", "expr"]);
                let location = match self.expr(element, "location") {
                    Some(location) => location,
                    None => {
                        self.error(element.pos, "<assign> must have a `location`.");
                        return None;
                    }
                };
                let has_children = element.children.iter().any(|child| match child {
                    Node::Element(_) => true,
                    Node::Text(text) => !text.trim().is_empty(),
                });
                let value = match self.expr(element, "expr") {
                    Some(expr) => {
                        if has_children {
                            self.error(
                                element.pos,
                                "<assign> cannot have both `expr` and content.",
                            );
                        }
                        AssignValue::Expr(expr)
                    }
                    None => AssignValue::Content(self.content_of(idx)),
                };
                Action::Assign {
                    location,
                    value,
                    pos: element.pos,
                }
            }
            "script" => self.script(idx),
            "if" => {
                self.check_attrs(idx, &["cond"]);
                let mut branches: Vec<(Option<Expr>, Vec<Action>)> =
                    vec![(self.expr(element, "cond"), Vec::new())];
                if branches[0].0.is_none() {
                    self.error(element.pos, "<if> must have a `cond`.");
                }
                let mut seen_else = false;
                for child in element.child_elements() {
                    let child_el = self.el(child);
                    if child_el.ns == SCXML_NS && child_el.local == "elseif" {
                        self.check_attrs(child, &["cond"]);
                        if seen_else {
                            self.error(child_el.pos, "<elseif> cannot follow <else>.");
                        }
                        let cond = self.expr(child_el, "cond");
                        if cond.is_none() {
                            self.error(child_el.pos, "<elseif> must have a `cond`.");
                        }
                        branches.push((cond, Vec::new()));
                    } else if child_el.ns == SCXML_NS && child_el.local == "else" {
                        self.check_attrs(child, &[]);
                        if seen_else {
                            self.error(child_el.pos, "<if> may hold only one <else>.");
                        }
                        seen_else = true;
                        branches.push((None, Vec::new()));
                    } else if let Some(action) = self.action(child)
                        && let Some(last) = branches.last_mut()
                    {
                        last.1.push(action);
                    }
                }
                Action::If {
                    branches: branches
                        .into_iter()
                        .map(|(cond, body)| (cond, Arc::from(body)))
                        .collect(),
                    pos: element.pos,
                }
            }
            "elseif" | "else" => {
                self.error(
                    element.pos,
                    format!("<{}> is allowed only directly inside <if>.", element.local),
                );
                return None;
            }
            "foreach" => {
                self.check_attrs(idx, &["array", "item", "index"]);
                let array = self.expr(element, "array");
                let item = self.expr(element, "item");
                let index = self.expr(element, "index");
                let body = self.block(idx);
                match (array, item) {
                    (Some(array), Some(item)) => Action::Foreach {
                        array,
                        item,
                        index,
                        body,
                        pos: element.pos,
                    },
                    _ => {
                        self.error(element.pos, "<foreach> must have `array` and `item`.");
                        return None;
                    }
                }
            }
            "send" => Action::Send(Arc::new(self.send(idx))),
            "cancel" => {
                self.check_attrs(idx, &["sendid", "sendidexpr"]);
                match self.value_or_expr(element, "sendid") {
                    Some(sendid) => Action::Cancel {
                        sendid,
                        pos: element.pos,
                    },
                    None => {
                        self.error(element.pos, "<cancel> must have `sendid` or `sendidexpr`.");
                        return None;
                    }
                }
            }
            other => {
                self.error(element.pos, format!("<{other}> is not executable content."));
                return None;
            }
        };
        Some(action)
    }

    pub(super) fn send(&mut self, idx: usize) -> Send {
        let element = self.el(idx);
        self.check_attrs_dialect(
            idx,
            &[
                "event",
                "eventexpr",
                "target",
                "targetexpr",
                "type",
                "typeexpr",
                "id",
                "idlocation",
                "delay",
                "delayexpr",
                "namelist",
            ],
            &["targettype", "hints", "timeout"],
        );
        self.check_children(idx, &["param", "content"]);
        let ors = self.source.dialect == Dialect::Ors;
        let event = self.send_attr(element, "event", ors);
        let target = self.send_attr(element, "target", ors);
        let kind = match self.send_attr(element, "type", ors) {
            Some(kind) => Some(kind),
            None if ors => self.expr(element, "targettype").map(ValueOrExpr::Expr),
            None => None,
        };
        let delay = self.send_attr(element, "delay", ors);
        if let Some(ValueOrExpr::Value(delay)) = &delay
            && parse_duration(delay).is_none()
        {
            self.error(
                element.pos,
                format!("`delay=\"{delay}\"` is not a CSS2 duration such as \"2s\" or \"500ms\"."),
            );
        }
        let id = element.attr("id").map(Arc::from);
        let idlocation = self.expr(element, "idlocation");
        if id.is_some() && idlocation.is_some() {
            self.error(
                element.pos,
                "<send> cannot have both `id` and `idlocation`.",
            );
        }
        let namelist = self.namelist(element);
        let (params, content) = self.params_and_content(idx, false);
        if content.is_some() && !namelist.is_empty() {
            self.error(
                element.pos,
                "<send> cannot have both `namelist` and <content>.",
            );
        }
        if let (Some(ValueOrExpr::Value(target)), Some(_)) = (&target, &delay)
            && &**target == "#_internal"
        {
            self.error(element.pos, "a <send> to #_internal cannot be delayed.");
        }
        let extra = if ors {
            ["hints", "timeout"]
                .into_iter()
                .filter_map(|name| self.expr(element, name).map(|expr| (Arc::from(name), expr)))
                .collect()
        } else {
            Vec::new()
        };
        Send {
            extra,
            event,
            target,
            kind,
            id,
            idlocation,
            delay,
            namelist,
            params,
            content,
            pos: element.pos,
        }
    }

    /// A `<send>` attribute: as W3C reads it, or (ORS) the plain attribute as an expression.
    fn send_attr(&mut self, element: &Element, name: &str, ors: bool) -> Option<ValueOrExpr> {
        match self.value_or_expr(element, name) {
            Some(ValueOrExpr::Value(_)) if ors => self.expr(element, name).map(ValueOrExpr::Expr),
            other => other,
        }
    }

    pub(super) fn custom(&mut self, idx: usize) -> CustomAction {
        let element = self.el(idx);
        // A host may evaluate any expression of a custom action.
        self.uses_in = true;
        self.uses_event = true;
        let children = element
            .child_elements()
            .map(|child| Arc::new(self.custom(child)))
            .collect();
        CustomAction {
            ns: Arc::from(element.ns.as_str()),
            name: Arc::from(element.local.as_str()),
            attrs: element
                .attrs
                .iter()
                .map(|attr| {
                    (
                        Arc::from(attr.qname.as_str()),
                        Arc::from(attr.value.as_str()),
                    )
                })
                .collect(),
            xml: Arc::from(xml::serialize(self.doc, idx)),
            children,
            text: Arc::from(element.text()),
            pos: element.pos,
        }
    }
}
