//! Positioned elements → validated [`Model`]: the state tree, element placement, attribute values,
//! ids, targets and `initial`, transition domains. Executable content and data elements are built
//! in `content.rs`. Errors are collected, not thrown at the first one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::scxml::error::{ParseError, ParseErrors, Pos};
use crate::scxml::model::{
    Binding, DatamodelKind, Expr, Model, State, StateId, StateKind, Transition,
};
use crate::scxml::parse::Source;
use crate::scxml::parse::xml::{Document, Element};

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

pub(super) struct Builder<'a> {
    pub(super) doc: &'a Document,
    pub(super) source: &'a Source,
    pub(super) errors: Vec<ParseError>,
    pub(super) states: Vec<State>,
    pub(super) transitions: Vec<Transition>,
    pub(super) ids: HashMap<String, StateId>,
    /// (transition, target ids, position) resolved once every state is known.
    pub(super) pending_targets: Vec<(usize, Vec<String>, Pos)>,
    /// (state, ids of `initial=`, position).
    pub(super) pending_initials: Vec<(StateId, Vec<String>, Pos)>,
    pub(super) uses_in: bool,
    pub(super) uses_event: bool,
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
    pub(super) fn el(&self, idx: usize) -> &'a Element {
        &self.doc.elements[idx]
    }

    pub(super) fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(ParseError {
            file: self.source.name.clone(),
            pos,
            message: message.into(),
        });
    }

    pub(super) fn is_scxml(&self, idx: usize) -> bool {
        self.el(idx).ns == SCXML_NS
    }

    pub(super) fn expr(&mut self, element: &Element, name: &str) -> Option<Expr> {
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
    pub(super) fn note_code(&mut self, code: &str) {
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
        // `profile` is the 2009 draft's word for the datamodel, which Composer still writes.
        self.check_attrs_dialect(
            root,
            &[
                "initial",
                "name",
                "version",
                "datamodel",
                "binding",
                "exmode",
            ],
            &["profile"],
        );
        if let Some(version) = element.attr("version")
            && version != "1.0"
        {
            self.error(
                element.pos,
                format!("`version` must be \"1.0\", not \"{version}\"."),
            );
        }
        let ors = self.source.dialect == crate::scxml::parse::Dialect::Ors;
        let datamodel_attr = element
            .attr("datamodel")
            .or_else(|| element.attr("profile").filter(|_| ors));
        let datamodel = match datamodel_attr {
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
        let mut scripts = Vec::new();
        self.build_state(root, None, StateKind::Root, 0);
        for child in element.child_elements() {
            if self.is_scxml(child) && self.el(child).local == "script" {
                // ORS runs each of a document's top-level scripts in order (Composer writes one per
                // included JavaScript file); W3C SCXML allows one.
                if !scripts.is_empty() && !ors {
                    self.error(self.el(child).pos, "<scxml> may hold only one <script>.");
                }
                scripts.push(self.script(child));
            }
        }
        let script = (!scripts.is_empty()).then(|| Arc::from(scripts));
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
            dialect: self.source.dialect,
            uses_in: self.uses_in,
            uses_event: self.uses_event,
            included: Default::default(),
        }
    }

    pub(super) fn check_attrs(&mut self, idx: usize, allowed: &[&str]) {
        self.check_attrs_dialect(idx, allowed, &[]);
    }

    /// Like `check_attrs`, with `ors_only` also allowed in the ORS dialect.
    pub(super) fn check_attrs_dialect(&mut self, idx: usize, allowed: &[&str], ors_only: &[&str]) {
        let ors = self.source.dialect == crate::scxml::parse::Dialect::Ors;
        let element = self.el(idx);
        for attr in &element.attrs {
            if ors && attr.ns.is_none() && ors_only.contains(&attr.local.as_str()) {
                continue;
            }
            // Attributes starting with `_` are vendor annotations (ORS's `_type`, `_persist`): SCXML
            // defines none, so they are accepted and ignored.
            if attr.ns.is_none()
                && !attr.local.starts_with('_')
                && !allowed.contains(&attr.local.as_str())
            {
                self.error(
                    element.pos,
                    format!("<{}> has no attribute `{}`.", element.local, attr.local),
                );
            }
        }
    }

    /// Checks that the child elements of `idx` in the SCXML namespace are among `allowed`.
    pub(super) fn check_children(&mut self, idx: usize, allowed: &[&str]) {
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
                // A Composer workflow read on its own still holds the placeholder its include replaces.
                let ors = self.source.dialect == crate::scxml::parse::Dialect::Ors;
                let checked = if ors {
                    id.replace(super::xinclude::PLACEHOLDER, "P")
                } else {
                    id.to_string()
                };
                if !is_xml_id(&checked) {
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

    pub(super) fn transition(&mut self, idx: usize, source: StateId) -> usize {
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
