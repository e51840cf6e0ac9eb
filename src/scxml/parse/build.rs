//! Positioned elements → validated [`Model`]: element placement, attribute values, ids, targets,
//! `initial`, and `src` loading. Errors are collected, not thrown at the first one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::scxml::error::{ParseError, ParseErrors, Pos};
use crate::scxml::model::{
    Action, AssignValue, Binding, Block, Content, ContentSpec, CustomAction, Data, DatamodelKind,
    DoneData, Expr, Invoke, Model, Param, Send, State, StateId, StateKind, Transition, ValueOrExpr,
};
use crate::scxml::parse::Source;
use crate::scxml::parse::xml::{self, Document, Element, Node};

/// The SCXML namespace.
pub const SCXML_NS: &str = "http://www.w3.org/2005/07/scxml";

/// Builds the model of the `<scxml>` element at `root`.
pub fn build(doc: &Document, root: usize, source: &Source) -> Result<Model, ParseErrors> {
    let mut builder = Builder {
        doc,
        source,
        errors: Vec::new(),
        states: Vec::new(),
        transitions: Vec::new(),
        ids: HashMap::new(),
        pending_targets: Vec::new(),
        pending_initials: Vec::new(),
        uses_in: false,
        uses_event: false,
    };
    let model = builder.run(root);
    if builder.errors.is_empty() {
        Ok(model)
    } else {
        builder
            .errors
            .sort_by_key(|error| (error.pos.line, error.pos.column));
        Err(ParseErrors(builder.errors))
    }
}

struct Builder<'a> {
    doc: &'a Document,
    source: &'a Source,
    errors: Vec<ParseError>,
    states: Vec<State>,
    transitions: Vec<Transition>,
    ids: HashMap<String, StateId>,
    /// (transition, target ids, position) resolved once every state is known.
    pending_targets: Vec<(usize, Vec<String>, Pos)>,
    /// (state, ids of `initial=`, position).
    pending_initials: Vec<(StateId, Vec<String>, Pos)>,
    uses_in: bool,
    uses_event: bool,
}

const STATE_CHILDREN: &[&str] = &[
    "onentry",
    "onexit",
    "transition",
    "initial",
    "state",
    "parallel",
    "final",
    "history",
    "datamodel",
    "invoke",
];
const PARALLEL_CHILDREN: &[&str] = &[
    "onentry",
    "onexit",
    "transition",
    "state",
    "parallel",
    "history",
    "datamodel",
    "invoke",
];
const FINAL_CHILDREN: &[&str] = &["onentry", "onexit", "donedata"];
const ROOT_CHILDREN: &[&str] = &["state", "parallel", "final", "datamodel", "script"];

impl<'a> Builder<'a> {
    fn el(&self, idx: usize) -> &'a Element {
        &self.doc.elements[idx]
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(ParseError {
            file: self.source.name.clone(),
            pos,
            message: message.into(),
        });
    }

    fn is_scxml(&self, idx: usize) -> bool {
        self.el(idx).ns == SCXML_NS
    }

    fn expr(&mut self, element: &Element, name: &str) -> Option<Expr> {
        element.attr(name).map(|text| {
            self.note_code(text);
            Expr {
                text: Arc::from(text),
                pos: element.pos,
            }
        })
    }

    /// Notes what code may read: `In()` needs the configuration mirrored in the datamodel, `_event`
    /// needs the event object built for every event.
    fn note_code(&mut self, code: &str) {
        if code.contains("In") {
            self.uses_in = true;
        }
        if code.contains("_event") {
            self.uses_event = true;
        }
    }

    fn run(&mut self, root: usize) -> Model {
        let element = self.el(root);
        if element.local != "scxml" || element.ns != SCXML_NS {
            self.error(
                element.pos,
                format!(
                    "the root element must be <scxml> in namespace {SCXML_NS}, not <{}>.",
                    element.qname
                ),
            );
        }
        self.check_attrs(
            root,
            &[
                "initial",
                "name",
                "version",
                "datamodel",
                "binding",
                "exmode",
            ],
        );
        if let Some(version) = element.attr("version")
            && version != "1.0"
        {
            self.error(
                element.pos,
                format!("`version` must be \"1.0\", not \"{version}\"."),
            );
        }
        let datamodel = match element.attr("datamodel") {
            None | Some("ecmascript") => DatamodelKind::EcmaScript,
            Some("null") => DatamodelKind::Null,
            Some(other) => {
                self.error(
                    element.pos,
                    format!("the datamodel \"{other}\" is not supported (use \"ecmascript\" or \"null\")."),
                );
                DatamodelKind::EcmaScript
            }
        };
        let binding = match element.attr("binding") {
            None | Some("early") => Binding::Early,
            Some("late") => Binding::Late,
            Some(other) => {
                self.error(
                    element.pos,
                    format!("`binding` must be \"early\" or \"late\", not \"{other}\"."),
                );
                Binding::Early
            }
        };
        let mut script = None;
        self.build_state(root, None, StateKind::Root, 0);
        for child in element.child_elements() {
            if self.is_scxml(child) && self.el(child).local == "script" {
                if script.is_some() {
                    self.error(self.el(child).pos, "<scxml> may hold only one <script>.");
                }
                let action = self.script(child);
                script = Some(Arc::from(vec![action]));
            }
        }
        self.resolve();
        let name = element.attr("name").map(Arc::from);
        Model {
            name,
            datamodel,
            binding,
            states: std::mem::take(&mut self.states),
            transitions: std::mem::take(&mut self.transitions),
            script,
            file: self.source.file.clone(),
            uses_in: self.uses_in,
            uses_event: self.uses_event,
        }
    }

    fn check_attrs(&mut self, idx: usize, allowed: &[&str]) {
        let element = self.el(idx);
        for attr in &element.attrs {
            if attr.ns.is_none() && !allowed.contains(&attr.local.as_str()) {
                self.error(
                    element.pos,
                    format!("<{}> has no attribute `{}`.", element.local, attr.local),
                );
            }
        }
    }

    /// Checks that the child elements of `idx` in the SCXML namespace are among `allowed`.
    fn check_children(&mut self, idx: usize, allowed: &[&str]) {
        let element = self.el(idx);
        for child in element.child_elements() {
            let child_el = self.el(child);
            if child_el.ns == SCXML_NS && !allowed.contains(&child_el.local.as_str()) {
                self.error(
                    child_el.pos,
                    format!(
                        "<{}> is not allowed inside <{}>.",
                        child_el.local, element.local
                    ),
                );
            }
        }
    }

    fn new_id(&mut self, idx: usize) -> String {
        let element = self.el(idx);
        match element.attr("id") {
            Some(id) => {
                if !is_xml_id(id) {
                    self.error(element.pos, format!("\"{id}\" is not a valid state id."));
                }
                if self.ids.contains_key(id) {
                    self.error(
                        element.pos,
                        format!("the id \"{id}\" is used by another state."),
                    );
                }
                id.to_string()
            }
            None => format!("__state{}", self.states.len()),
        }
    }

    /// Builds the state at element `idx` and its descendants; returns its index.
    fn build_state(
        &mut self,
        idx: usize,
        parent: Option<StateId>,
        kind: StateKind,
        depth: u32,
    ) -> StateId {
        let element = self.el(idx);
        let id = if kind == StateKind::Root {
            "__scxml".to_string()
        } else {
            self.new_id(idx)
        };
        let me = self.states.len();
        if kind != StateKind::Root {
            self.ids.entry(id.clone()).or_insert(me);
        }
        self.states.push(State {
            id,
            kind,
            parent,
            children: Vec::new(),
            initial: None,
            transitions: Vec::new(),
            onentry: Vec::new(),
            onexit: Vec::new(),
            invokes: Vec::new(),
            data: Vec::new(),
            donedata: None,
            depth,
            end: me + 1,
            pos: element.pos,
        });
        match kind {
            StateKind::Root => self.check_children(idx, ROOT_CHILDREN),
            StateKind::Atomic | StateKind::Compound => {
                self.check_attrs(idx, &["id", "initial"]);
                self.check_children(idx, STATE_CHILDREN);
            }
            StateKind::Parallel => {
                self.check_attrs(idx, &["id"]);
                self.check_children(idx, PARALLEL_CHILDREN);
            }
            StateKind::Final => {
                self.check_attrs(idx, &["id"]);
                self.check_children(idx, FINAL_CHILDREN);
            }
            StateKind::HistoryShallow | StateKind::HistoryDeep => {
                self.check_attrs(idx, &["id", "type"]);
                self.check_children(idx, &["transition"]);
            }
        }
        let mut initial_element = None;
        for child in element.child_elements() {
            if !self.is_scxml(child) {
                continue;
            }
            let child_el = self.el(child);
            let child_kind = match child_el.local.as_str() {
                "state" => {
                    let has_states = child_el.child_elements().any(|grand| {
                        let grand_el = self.el(grand);
                        grand_el.ns == SCXML_NS
                            && matches!(grand_el.local.as_str(), "state" | "parallel" | "final")
                    });
                    Some(if has_states {
                        StateKind::Compound
                    } else {
                        StateKind::Atomic
                    })
                }
                "parallel" => Some(StateKind::Parallel),
                "final" => Some(StateKind::Final),
                "history" => match child_el.attr("type") {
                    None | Some("shallow") => Some(StateKind::HistoryShallow),
                    Some("deep") => Some(StateKind::HistoryDeep),
                    Some(other) => {
                        self.error(child_el.pos, format!("`type` of <history> must be \"shallow\" or \"deep\", not \"{other}\"."));
                        Some(StateKind::HistoryShallow)
                    }
                },
                _ => None,
            };
            if let Some(child_kind) = child_kind {
                if matches!(
                    kind,
                    StateKind::HistoryShallow | StateKind::HistoryDeep | StateKind::Final
                ) {
                    continue;
                }
                let child_state = self.build_state(child, Some(me), child_kind, depth + 1);
                self.states[me].children.push(child_state);
                continue;
            }
            match child_el.local.as_str() {
                "onentry" => {
                    self.check_attrs(child, &[]);
                    let block = self.block(child);
                    self.states[me].onentry.push(block);
                }
                "onexit" => {
                    self.check_attrs(child, &[]);
                    let block = self.block(child);
                    self.states[me].onexit.push(block);
                }
                "transition" => {
                    let transition = self.transition(child, me);
                    self.states[me].transitions.push(transition);
                }
                "initial" => {
                    if initial_element.is_some() {
                        self.error(child_el.pos, "a state may hold only one <initial>.");
                    }
                    initial_element = Some(child);
                }
                "datamodel" => {
                    self.check_children(child, &["data"]);
                    for data in child_el.child_elements() {
                        if self.is_scxml(data) {
                            let data = self.data(data);
                            self.states[me].data.push(data);
                        }
                    }
                }
                "invoke" => {
                    let invoke = self.invoke(child, me);
                    self.states[me].invokes.push(Arc::new(invoke));
                }
                "donedata" => {
                    let donedata = self.donedata(child);
                    self.states[me].donedata = Some(donedata);
                }
                _ => {}
            }
        }
        self.states[me].end = self.states.len();
        // History: exactly one default transition.
        if matches!(kind, StateKind::HistoryShallow | StateKind::HistoryDeep) {
            let n_transitions = self.states[me].transitions.len();
            if n_transitions != 1 {
                self.error(
                    element.pos,
                    "a <history> must hold exactly one <transition> (its default).",
                );
            }
            if parent == Some(Model::ROOT) {
                self.error(element.pos, "a <history> cannot be a child of <scxml>.");
            }
        }
        if matches!(kind, StateKind::Compound | StateKind::Root) {
            self.initial(me, idx, initial_element);
        } else if let Some(initial) = element.attr("initial") {
            if kind == StateKind::Atomic {
                self.error(
                    element.pos,
                    format!("`initial=\"{initial}\"` is given on a state without child states."),
                );
            }
        } else if let Some(initial) = initial_element {
            self.error(
                self.el(initial).pos,
                "<initial> is given in a state without child states.",
            );
        }
        me
    }

    fn initial(&mut self, me: StateId, idx: usize, initial_element: Option<usize>) {
        let element = self.el(idx);
        if let Some(initial_el) = initial_element {
            if element.attr("initial").is_some() {
                self.error(
                    element.pos,
                    "a state cannot have both `initial=` and <initial>.",
                );
            }
            let transitions: Vec<usize> = self
                .el(initial_el)
                .child_elements()
                .filter(|&child| self.is_scxml(child) && self.el(child).local == "transition")
                .collect();
            self.check_children(initial_el, &["transition"]);
            if transitions.len() != 1 {
                self.error(
                    self.el(initial_el).pos,
                    "<initial> must hold exactly one <transition>.",
                );
                return;
            }
            let transition_el = self.el(transitions[0]);
            if transition_el.attr("event").is_some() || transition_el.attr("cond").is_some() {
                self.error(
                    transition_el.pos,
                    "the <transition> of <initial> cannot have `event` or `cond`.",
                );
            }
            if transition_el.attr("target").is_none() {
                self.error(
                    transition_el.pos,
                    "the <transition> of <initial> must have a `target`.",
                );
            }
            let transition = self.transition(transitions[0], me);
            self.states[me].initial = Some(transition);
            self.pending_initials
                .push((me, Vec::new(), transition_el.pos));
            return;
        }
        let transition = self.transitions.len();
        let targets = match element.attr("initial") {
            Some(ids) => {
                let ids: Vec<String> = ids.split_whitespace().map(str::to_string).collect();
                if ids.is_empty() {
                    self.error(element.pos, "`initial` is empty.");
                }
                self.pending_initials.push((me, ids.clone(), element.pos));
                self.pending_targets.push((transition, ids, element.pos));
                Vec::new()
            }
            None => {
                let first = self.states[me].children.iter().copied().find(|&child| {
                    !matches!(
                        self.states[child].kind,
                        StateKind::HistoryShallow | StateKind::HistoryDeep
                    )
                });
                match first {
                    Some(first) => vec![first],
                    None => {
                        if self.states[me].kind == StateKind::Root {
                            self.error(
                                element.pos,
                                "<scxml> must hold at least one <state>, <parallel> or <final>.",
                            );
                        }
                        return;
                    }
                }
            }
        };
        self.transitions.push(Transition {
            source: me,
            events: Vec::new(),
            cond: None,
            targets,
            internal: false,
            domain: None,
            has_history_target: false,
            body: Arc::from(Vec::new()),
            pos: element.pos,
        });
        self.states[me].initial = Some(transition);
    }

    fn transition(&mut self, idx: usize, source: StateId) -> usize {
        let element = self.el(idx);
        self.check_attrs(idx, &["event", "cond", "target", "type"]);
        let events = element
            .attr("event")
            .map(|events| {
                events
                    .split_whitespace()
                    .map(normalize_descriptor)
                    .collect()
            })
            .unwrap_or_default();
        let internal = match element.attr("type") {
            None | Some("external") => false,
            Some("internal") => true,
            Some(other) => {
                self.error(element.pos, format!("`type` of <transition> must be \"internal\" or \"external\", not \"{other}\"."));
                false
            }
        };
        let cond = self.expr(element, "cond");
        let me = self.transitions.len();
        if let Some(target) = element.attr("target") {
            let ids: Vec<String> = target.split_whitespace().map(str::to_string).collect();
            if ids.is_empty() {
                self.error(element.pos, "`target` is empty.");
            }
            self.pending_targets.push((me, ids, element.pos));
        }
        if element
            .attr("event")
            .is_some_and(|events| events.trim().is_empty())
        {
            self.error(element.pos, "`event` is empty.");
        }
        self.transitions.push(Transition {
            source,
            events,
            cond,
            targets: Vec::new(),
            internal,
            domain: None,
            has_history_target: false,
            body: Arc::from(Vec::new()),
            pos: element.pos,
        });
        let body = self.block(idx);
        self.transitions[me].body = body;
        me
    }

    fn resolve(&mut self) {
        for (transition, ids, pos) in std::mem::take(&mut self.pending_targets) {
            let mut targets = Vec::new();
            for id in ids {
                match self.ids.get(&id) {
                    Some(&state) => targets.push(state),
                    None => self.error(
                        pos,
                        format!("the target \"{id}\" is not the id of any state."),
                    ),
                }
            }
            self.transitions[transition].targets = targets;
        }
        self.precompute_domains();
        for (state, _, pos) in std::mem::take(&mut self.pending_initials) {
            let Some(transition) = self.states[state].initial else {
                continue;
            };
            let targets = self.transitions[transition].targets.clone();
            for &target in &targets {
                if !(target > state && target < self.states[state].end) {
                    self.error(
                        pos,
                        format!(
                            "the initial state \"{}\" is not a descendant of \"{}\".",
                            self.states[target].id,
                            self.public_id(state)
                        ),
                    );
                }
            }
            if !self.is_consistent(&targets) {
                self.error(pos, "the initial states cannot be active together.");
            }
        }
        // A history default must target descendants of the history's parent.
        for state in 0..self.states.len() {
            if !matches!(
                self.states[state].kind,
                StateKind::HistoryShallow | StateKind::HistoryDeep
            ) {
                continue;
            }
            let (Some(parent), Some(&transition)) = (
                self.states[state].parent,
                self.states[state].transitions.first(),
            ) else {
                continue;
            };
            let shallow = self.states[state].kind == StateKind::HistoryShallow;
            for &target in &self.transitions[transition].targets.clone() {
                let ok = if shallow {
                    self.states[target].parent == Some(parent)
                } else {
                    target > parent && target < self.states[parent].end
                };
                if !ok {
                    self.error(
                        self.transitions[transition].pos,
                        format!(
                            "the history default \"{}\" is not inside \"{}\".",
                            self.states[target].id,
                            self.public_id(parent)
                        ),
                    );
                }
            }
        }
    }

    /// `getTransitionDomain` of every transition whose targets hold no history state (W3C
    /// Appendix D), so the interpreter does not recompute it for each microstep.
    fn precompute_domains(&mut self) {
        for idx in 0..self.transitions.len() {
            let transition = &self.transitions[idx];
            let has_history = transition.targets.iter().any(|&target| {
                matches!(
                    self.states[target].kind,
                    StateKind::HistoryShallow | StateKind::HistoryDeep
                )
            });
            if has_history || transition.targets.is_empty() {
                self.transitions[idx].has_history_target = has_history;
                continue;
            }
            let source = transition.source;
            let within = |state: StateId, ancestor: StateId| {
                state > ancestor && state < self.states[ancestor].end
            };
            let source_is_compound = matches!(
                self.states[source].kind,
                StateKind::Compound | StateKind::Root
            );
            let domain = if transition.internal
                && source_is_compound
                && transition
                    .targets
                    .iter()
                    .all(|&target| within(target, source))
            {
                source
            } else {
                let mut cursor = self.states[source].parent;
                let mut found = Model::ROOT;
                while let Some(ancestor) = cursor {
                    let compound = matches!(
                        self.states[ancestor].kind,
                        StateKind::Compound | StateKind::Root
                    );
                    if compound
                        && transition
                            .targets
                            .iter()
                            .all(|&target| within(target, ancestor))
                    {
                        found = ancestor;
                        break;
                    }
                    cursor = self.states[ancestor].parent;
                }
                found
            };
            self.transitions[idx].domain = Some(domain);
        }
    }

    fn public_id(&self, state: StateId) -> String {
        if state == Model::ROOT {
            "<scxml>".to_string()
        } else {
            self.states[state].id.clone()
        }
    }

    /// True when no two targets exclude each other (they must meet only in parallel ancestors).
    fn is_consistent(&self, targets: &[StateId]) -> bool {
        for (pos, &first) in targets.iter().enumerate() {
            for &second in &targets[pos + 1..] {
                if first == second {
                    return false;
                }
                let (low, high) = if first < second {
                    (first, second)
                } else {
                    (second, first)
                };
                if high < self.states[low].end {
                    return false;
                }
                // Find the least common ancestor: it must be a parallel state.
                let mut lca = self.states[low].parent;
                while let Some(ancestor) = lca {
                    if high < self.states[ancestor].end {
                        break;
                    }
                    lca = self.states[ancestor].parent;
                }
                match lca {
                    Some(ancestor) if self.states[ancestor].kind == StateKind::Parallel => {}
                    _ => return false,
                }
            }
        }
        true
    }

    fn data(&mut self, idx: usize) -> Data {
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
    fn load(&self, src: &str) -> Result<String, String> {
        let path = resolve_src(self.source.file.as_deref(), src);
        std::fs::read_to_string(&path)
            .map_err(|error| format!("`src=\"{src}\"` cannot be loaded: {error}."))
    }

    /// The inline content of element `idx`: an inline `<scxml>`, other XML, or text.
    fn content_of(&mut self, idx: usize) -> Content {
        let element = self.el(idx);
        let children: Vec<usize> = element.child_elements().collect();
        if let Some(&first) = children.first() {
            let child_el = self.el(first);
            if child_el.ns == SCXML_NS && child_el.local == "scxml" {
                let source = Source {
                    name: self.source.name.clone(),
                    file: self.source.file.clone(),
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

    fn value_or_expr(&mut self, element: &Element, name: &str) -> Option<ValueOrExpr> {
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

    fn namelist(&mut self, element: &Element) -> Vec<Expr> {
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

    fn params_and_content(
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

    fn invoke(&mut self, idx: usize, state: StateId) -> Invoke {
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

    fn donedata(&mut self, idx: usize) -> DoneData {
        self.check_children(idx, &["param", "content"]);
        let (params, content) = self.params_and_content(idx, false);
        DoneData { params, content }
    }

    fn script(&mut self, idx: usize) -> Action {
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
    fn block(&mut self, idx: usize) -> Block {
        let element = self.el(idx);
        let mut actions = Vec::new();
        for child in element.child_elements() {
            if let Some(action) = self.action(child) {
                actions.push(action);
            }
        }
        Arc::from(actions)
    }

    fn action(&mut self, idx: usize) -> Option<Action> {
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
                Action::Assign { location, value }
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
                    Some(sendid) => Action::Cancel { sendid },
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

    fn send(&mut self, idx: usize) -> Send {
        let element = self.el(idx);
        self.check_attrs(
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
        );
        self.check_children(idx, &["param", "content"]);
        let event = self.value_or_expr(element, "event");
        let target = self.value_or_expr(element, "target");
        let kind = self.value_or_expr(element, "type");
        let delay = self.value_or_expr(element, "delay");
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
        Send {
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

    fn custom(&mut self, idx: usize) -> CustomAction {
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

/// Resolves a `src` (plain path or `file:` URI) against the document's directory.
pub fn resolve_src(document: Option<&Path>, src: &str) -> PathBuf {
    let path = src
        .strip_prefix("file://")
        .or_else(|| src.strip_prefix("file:"))
        .unwrap_or(src);
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match document.and_then(Path::parent) {
        Some(dir) => dir.join(path),
        None => path.to_path_buf(),
    }
}

/// Parses a CSS2 duration (`"1s"`, `"500ms"`, `"1.5s"`, `"0"`) into milliseconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, scale) = if let Some(number) = text.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1000.0)
    } else if let Some(number) = text.strip_suffix("min") {
        (number, 60_000.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    Some((value * scale).round() as u64)
}

/// Drops a trailing `.*` or `.` from an event descriptor: `foo.*`, `foo.` and `foo` match alike.
fn normalize_descriptor(descriptor: &str) -> String {
    let trimmed = descriptor.strip_suffix(".*").unwrap_or(descriptor);
    trimmed.strip_suffix('.').unwrap_or(trimmed).to_string()
}

fn is_xml_id(id: &str) -> bool {
    let mut chars = id.chars();
    match chars.next() {
        Some(first) if first.is_alphabetic() || first == '_' => {}
        _ => return false,
    }
    chars.all(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '-' | '.'))
}
