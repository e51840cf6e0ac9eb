//! The immutable, validated chart: states in document order, transitions, executable content.
//!
//! A [`Model`] is built once by [`crate::scxml::parse`] and shared (`Arc<Model>`) by every session that
//! runs it. States are stored in document order (pre-order), so a state's index *is* its document
//! order and ancestors always have smaller indices than their descendants. Everything the
//! interpreter asks repeatedly (ancestors, depth, proper-descendant ranges) is precomputed here.

use std::path::PathBuf;
use std::sync::Arc;

use crate::scxml::error::Pos;

/// Index of a state in [`Model::states`] (its document order).
pub type StateId = usize;
/// Index of a transition in [`Model::transitions`] (its document order).
pub type TransitionId = usize;

/// Which datamodel a chart declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatamodelKind {
    /// `datamodel="null"`: no data, only `In()` conditions.
    Null,
    /// `datamodel="ecmascript"` (the default).
    EcmaScript,
}

/// `binding` of the `<scxml>` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// All `<data>` is initialised when the document starts.
    Early,
    /// A state's `<data>` is initialised when the state is first entered.
    Late,
}

/// The kind of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    /// The `<scxml>` root.
    Root,
    /// A `<state>` without child states.
    Atomic,
    /// A `<state>` with child states.
    Compound,
    /// A `<parallel>`.
    Parallel,
    /// A `<final>`.
    Final,
    /// A `<history type="shallow">`.
    HistoryShallow,
    /// A `<history type="deep">`.
    HistoryDeep,
}

/// A source expression with its position.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The expression text.
    pub text: Arc<str>,
    /// Where the attribute holding it is.
    pub pos: Pos,
}

/// One state of the chart.
#[derive(Debug, Clone)]
pub struct State {
    /// The `id` (generated ids start with `__` and cannot clash with XML ids).
    pub id: String,
    /// Kind of state.
    pub kind: StateKind,
    /// The parent (none for the root).
    pub parent: Option<StateId>,
    /// Child states (incl. history) in document order.
    pub children: Vec<StateId>,
    /// The initial transition of a compound state (from `initial=` or `<initial>` or the first child).
    pub initial: Option<TransitionId>,
    /// Outgoing transitions in document order (for history states: the default transition).
    pub transitions: Vec<TransitionId>,
    /// `<onentry>` blocks.
    pub onentry: Vec<Block>,
    /// `<onexit>` blocks.
    pub onexit: Vec<Block>,
    /// `<invoke>` elements.
    pub invokes: Vec<Arc<Invoke>>,
    /// `<datamodel>` of this state.
    pub data: Vec<Data>,
    /// `<donedata>` of a final state.
    pub donedata: Option<DoneData>,
    /// Depth (root = 0).
    pub depth: u32,
    /// One past the last proper descendant: descendants of `s` are `s+1..end`.
    pub end: StateId,
    /// Where the element is.
    pub pos: Pos,
}

/// One transition.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The source state.
    pub source: StateId,
    /// Event descriptors (empty for an eventless transition).
    pub events: Vec<String>,
    /// The guard.
    pub cond: Option<Expr>,
    /// Target states (empty for a targetless transition).
    pub targets: Vec<StateId>,
    /// `type="internal"`.
    pub internal: bool,
    /// The transition domain when it does not depend on history (no history target): computed once
    /// when the model is built. `None` for targetless transitions.
    pub domain: Option<StateId>,
    /// True when a target is a history state, so the domain depends on recorded history.
    pub has_history_target: bool,
    /// The executable content.
    pub body: Block,
    /// Where the element is.
    pub pos: Pos,
}

/// A sequence of executable content.
pub type Block = Arc<[Action]>;

/// One element of executable content.
#[derive(Debug, Clone)]
pub enum Action {
    /// `<raise event>`.
    Raise {
        /// The event name.
        event: Arc<str>,
        /// Where the element is.
        pos: Pos,
    },
    /// `<log label expr>`.
    Log {
        /// The label.
        label: Option<Arc<str>>,
        /// The expression.
        expr: Option<Expr>,
        /// Where the element is.
        pos: Pos,
    },
    /// `<assign location expr>` or with child content.
    Assign {
        /// The location expression.
        location: Expr,
        /// The value: an expression or inline content.
        value: AssignValue,
        /// Where the element is.
        pos: Pos,
    },
    /// `<script>` (inline, or from `src` loaded at parse time).
    Script {
        /// The code.
        code: Expr,
    },
    /// `<if>` / `<elseif>` / `<else>`: branches tried in order.
    If {
        /// (condition, body); the `<else>` branch has no condition.
        branches: Vec<(Option<Expr>, Block)>,
        /// Where the element is.
        pos: Pos,
    },
    /// `<foreach>`.
    Foreach {
        /// The array expression.
        array: Expr,
        /// The item location.
        item: Expr,
        /// The index location.
        index: Option<Expr>,
        /// The body.
        body: Block,
        /// Where the element is.
        pos: Pos,
    },
    /// `<send>`.
    Send(Arc<Send>),
    /// `<cancel>`.
    Cancel {
        /// `sendid` or `sendidexpr`.
        sendid: ValueOrExpr,
        /// Where the element is.
        pos: Pos,
    },
    /// An element in a foreign namespace, handed to the host.
    Custom(Arc<CustomAction>),
}

/// The value of an `<assign>`.
#[derive(Debug, Clone)]
pub enum AssignValue {
    /// `expr=`.
    Expr(Expr),
    /// Inline content.
    Content(Content),
}

/// An attribute given either literally or as an expression (`foo` / `fooexpr`).
#[derive(Debug, Clone)]
pub enum ValueOrExpr {
    /// Literal.
    Value(Arc<str>),
    /// Expression evaluated at run time.
    Expr(Expr),
}

/// Inline content of `<content>`, `<data>` or `<assign>`.
#[derive(Debug, Clone)]
pub enum Content {
    /// Text (JSON is tried first by the ECMAScript datamodel, as B.2 asks).
    Text(Arc<str>),
    /// Child elements: serialised XML.
    Xml(Arc<str>),
    /// An inline `<scxml>`: its model (for `<invoke>`) and its text (for everything else).
    Scxml(Arc<Model>, Arc<str>),
}

/// `<param name expr|location>`.
#[derive(Debug, Clone)]
pub struct Param {
    /// The key.
    pub name: Arc<str>,
    /// The value expression (from `expr` or `location`).
    pub expr: Expr,
}

/// `<content>` of a send, invoke or donedata.
#[derive(Debug, Clone)]
pub enum ContentSpec {
    /// Inline content.
    Inline(Content),
    /// `expr=`.
    Expr(Expr),
}

/// `<send>`.
#[derive(Debug, Clone)]
pub struct Send {
    /// `event` / `eventexpr`.
    pub event: Option<ValueOrExpr>,
    /// `target` / `targetexpr`.
    pub target: Option<ValueOrExpr>,
    /// `type` / `typeexpr`.
    pub kind: Option<ValueOrExpr>,
    /// `id`.
    pub id: Option<Arc<str>>,
    /// `idlocation`.
    pub idlocation: Option<Expr>,
    /// `delay` / `delayexpr`.
    pub delay: Option<ValueOrExpr>,
    /// `namelist` entries.
    pub namelist: Vec<Expr>,
    /// `<param>` children.
    pub params: Vec<Param>,
    /// `<content>` child.
    pub content: Option<ContentSpec>,
    /// Attributes the engine does not interpret, as expressions (ORS `hints`, `timeout`).
    pub extra: Vec<(Arc<str>, Expr)>,
    /// Where the element is.
    pub pos: Pos,
}

/// `<invoke>`.
#[derive(Debug, Clone)]
pub struct Invoke {
    /// `type` / `typeexpr`.
    pub kind: Option<ValueOrExpr>,
    /// `src` / `srcexpr`.
    pub src: Option<ValueOrExpr>,
    /// `id`.
    pub id: Option<Arc<str>>,
    /// `idlocation`.
    pub idlocation: Option<Expr>,
    /// `namelist` entries.
    pub namelist: Vec<Expr>,
    /// `autoforward="true"`.
    pub autoforward: bool,
    /// `<param>` children.
    pub params: Vec<Param>,
    /// `<content>` child.
    pub content: Option<ContentSpec>,
    /// `<finalize>` content.
    pub finalize: Block,
    /// The state holding it.
    pub state: StateId,
    /// Where the element is.
    pub pos: Pos,
}

/// `<donedata>`.
#[derive(Debug, Clone)]
pub struct DoneData {
    /// `<param>` children.
    pub params: Vec<Param>,
    /// `<content>` child.
    pub content: Option<ContentSpec>,
}

/// One `<data>`.
#[derive(Debug, Clone)]
pub struct Data {
    /// The `id`.
    pub id: Arc<str>,
    /// `expr=`.
    pub expr: Option<Expr>,
    /// Inline content or the content loaded from `src`.
    pub content: Option<Content>,
    /// Where the element is.
    pub pos: Pos,
}

/// An element of executable content in a namespace the engine does not own.
#[derive(Debug, Clone)]
pub struct CustomAction {
    /// The namespace URI.
    pub ns: Arc<str>,
    /// The local name.
    pub name: Arc<str>,
    /// Attributes as (qualified name, value).
    pub attrs: Vec<(Arc<str>, Arc<str>)>,
    /// The element serialised as XML, children included.
    pub xml: Arc<str>,
    /// Child elements, parsed the same way (for hosts that walk them).
    pub children: Vec<Arc<CustomAction>>,
    /// The element's text content.
    pub text: Arc<str>,
    /// Where the element is.
    pub pos: Pos,
}

impl CustomAction {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(key, _)| &**key == name)
            .map(|(_, value)| &**value)
    }
}

/// Which SCXML the document is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// W3C SCXML 1.0.
    #[default]
    W3c,
    /// Genesys ORS: on `<send>`, `event`, `target`, `type`, `targettype` and `delay` are expressions
    /// (as `eventexpr`, `targetexpr`, `typeexpr`, `delayexpr` are in W3C SCXML), targets may be
    /// written `_internal`, `_parent` or a session id, and `hints` and `timeout` are evaluated and
    /// handed to the host with the send (`OutgoingSend::extra`).
    Ors,
}

/// The validated chart.
#[derive(Debug, Clone)]
pub struct Model {
    /// `name` of `<scxml>`.
    pub name: Option<Arc<str>>,
    /// The declared datamodel.
    pub datamodel: DatamodelKind,
    /// Early or late data binding.
    pub binding: Binding,
    /// States in document order; index 0 is the `<scxml>` root.
    pub states: Vec<State>,
    /// Transitions in document order (initial transitions included).
    pub transitions: Vec<Transition>,
    /// The top-level `<script>`, if any.
    pub script: Option<Block>,
    /// The file the chart came from (for `src` of invokes relative to it).
    pub file: Option<PathBuf>,
    /// The dialect it was read in (invoked documents are read in the same one).
    pub dialect: Dialect,
    /// True when some code could call `In()` (the configuration is then mirrored in the datamodel).
    pub uses_in: bool,
    /// True when some code could read `_event` (the event object is then built for each event).
    pub uses_event: bool,
    /// The files it included (Composer's `<xi:include>`), for placing positions of included elements
    /// ([`crate::scxml::parse::xinclude::Included::place`]).
    pub included: crate::scxml::parse::xinclude::Included,
}

impl Model {
    /// The root state (the `<scxml>` element).
    pub const ROOT: StateId = 0;

    /// True when `state` is a proper descendant of `ancestor`.
    pub fn is_descendant(&self, state: StateId, ancestor: StateId) -> bool {
        state > ancestor && state < self.states[ancestor].end
    }

    /// True for atomic and final states (the leaves of a configuration).
    pub fn is_atomic(&self, state: StateId) -> bool {
        matches!(
            self.states[state].kind,
            StateKind::Atomic | StateKind::Final
        )
    }

    /// True for compound states and the root.
    pub fn is_compound(&self, state: StateId) -> bool {
        matches!(
            self.states[state].kind,
            StateKind::Compound | StateKind::Root
        )
    }

    /// True for history pseudo-states.
    pub fn is_history(&self, state: StateId) -> bool {
        matches!(
            self.states[state].kind,
            StateKind::HistoryShallow | StateKind::HistoryDeep
        )
    }

    /// The id of the state at `state`.
    pub fn state_id(&self, state: StateId) -> &str {
        &self.states[state].id
    }

    /// Finds a state by id.
    pub fn find_state(&self, id: &str) -> Option<StateId> {
        self.states.iter().position(|state| state.id == id)
    }

    /// Proper ancestors of `state`, innermost first, stopping before `upto` (if given).
    pub fn proper_ancestors(&self, state: StateId, upto: Option<StateId>) -> Vec<StateId> {
        let mut out = Vec::new();
        let mut cursor = self.states[state].parent;
        while let Some(parent) = cursor {
            if Some(parent) == upto {
                break;
            }
            out.push(parent);
            cursor = self.states[parent].parent;
        }
        out
    }
}
