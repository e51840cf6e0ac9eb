//! The synchronous W3C interpreter (SCXML 1.0 Appendix D), split the way the algorithm is split:
//!
//! - `step`: the event loops (`main_event_loop` halves, `microstep`, `exit_interpreter`);
//! - `select`: `select_transitions`, `select_eventless_transitions`, `remove_conflicting_transitions`,
//!   `compute_exit_set`, `get_transition_domain`, `find_lcca`, `get_effective_target_states`;
//! - `enter`: `exit_states`, `enter_states`, `compute_entry_set`, `add_descendant_states_to_enter`,
//!   `add_ancestor_states_to_enter`, `is_in_final_state`;
//! - `exec`: executable content; `send`: `<send>`, `<cancel>` and the timer queue;
//!   `invoke`: `<invoke>`, child sessions, `finalize`, autoforward; `data`: `<data>`, `<donedata>`.
//!
//! A [`Session`] owns its queues, its datamodel, its timers and its invoked SCXML children. It holds
//! no thread-locals and touches no globals; time only moves when the caller says so
//! ([`Session::advance`]).

mod data;
mod enter;
mod exec;
mod invoke;
mod select;
mod send;
mod step;

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use crate::scxml::datamodel::Datamodel;
use crate::scxml::datamodel::ecmascript::{
    EcmaScriptDatamodel, EcmaScriptRuntime, GlobalsHook, ScriptLimits,
};
use crate::scxml::datamodel::null::NullDatamodel;
use crate::scxml::event::Event;
use crate::scxml::host::{Host, SessionInfo};
use crate::scxml::model::{DatamodelKind, Model, StateId};
use crate::scxml::value::Value;

pub use send::SCXML_EVENT_PROCESSOR;

/// How a session is set up.
#[derive(Clone)]
pub struct SessionOptions {
    /// `_sessionid`; generated when `None`.
    pub sessionid: Option<String>,
    /// The most steps (microsteps and internal events) one macrostep may take before the session
    /// is stopped as runaway.
    pub max_microsteps: u64,
    /// Script limits of the ECMAScript runtime the session creates when [`SessionOptions::ecmascript`]
    /// is `None` (a shared runtime has its own).
    pub script_limits: ScriptLimits,
    /// Installs host globals into the ECMAScript runtime the session creates when
    /// [`SessionOptions::ecmascript`] is `None`.
    pub globals: Option<GlobalsHook>,
    /// The ECMAScript runtime to share (one per thread keeps each idle session small). `None`
    /// gives the session a runtime of its own (shared with the children it invokes).
    pub ecmascript: Option<EcmaScriptRuntime>,
    /// Calls [`Host::trace`] for every step.
    pub trace: bool,
    /// Counts entries per state (see [`Session::entry_count`]).
    pub count_entries: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            sessionid: None,
            max_microsteps: 100_000,
            script_limits: ScriptLimits::default(),
            globals: None,
            ecmascript: None,
            trace: false,
            count_entries: false,
        }
    }
}

impl std::fmt::Debug for SessionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOptions")
            .field("sessionid", &self.sessionid)
            .field("max_microsteps", &self.max_microsteps)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

/// Why a session stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// It entered a top-level `<final>` with this id.
    Final(String),
    /// It was cancelled by its parent or its host.
    Cancelled,
    /// A macrostep ran more steps than allowed (a runaway eventless loop).
    Runaway(u64),
}

/// One delayed `<send>` waiting on the clock.
#[derive(Debug, Clone)]
struct Timer {
    due: u64,
    seq: u64,
    sendid: Arc<str>,
    delivery: send::Delivery,
    /// The `<send>`, where a failed delivery is reported.
    pos: crate::scxml::error::Pos,
}

/// An active invocation of the state `state`.
struct ActiveInvoke {
    state: StateId,
    invokeid: Arc<str>,
    invoke: Arc<crate::scxml::model::Invoke>,
    /// The child session, for SCXML invokes run by the engine; `None` when the host runs it.
    child: Option<Box<Session>>,
}

/// One running SCXML session.
pub struct Session {
    model: Arc<Model>,
    info: SessionInfo,
    options: SessionOptions,
    /// `configuration[s]` is true when state `s` is active.
    configuration: Vec<bool>,
    states_to_invoke: Vec<StateId>,
    history: HashMap<StateId, Vec<StateId>>,
    internal: VecDeque<Event>,
    external: VecDeque<Event>,
    running: bool,
    started: bool,
    halt: Option<Halt>,
    datamodel: Box<dyn Datamodel>,
    data_initialized: Vec<bool>,
    timers: Vec<Timer>,
    timer_seq: u64,
    now: u64,
    invokes: Vec<ActiveInvoke>,
    to_parent: Vec<Event>,
    id_counter: u64,
    /// The configuration when the session halted (W3C exits every state; hosts still ask).
    last_configuration: Vec<StateId>,
    /// Values of `<param>`/namelist given by an invoking parent, overriding `<data>`.
    initial_values: Vec<(Arc<str>, Value)>,
    entry_counts: Vec<u64>,
    /// Buffers of `computeEntrySet`, kept to avoid allocations in every microstep.
    entry_scratch: enter::EntrySet,
    /// The element being executed (name, position): ORS documents name it in their `error.*` events.
    site: (&'static str, crate::scxml::error::Pos),
    /// The custom action being executed, when the site is one (its local name names the element).
    site_custom: Option<Arc<crate::scxml::model::CustomAction>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sessionid", &self.info.sessionid)
            .field("configuration", &self.configuration_ids())
            .field("halt", &self.halt)
            .finish_non_exhaustive()
    }
}

fn generate_id() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u8(0);
    format!("{:016x}", hasher.finish())
}

impl Session {
    /// A session of `model`, not started yet.
    pub fn new(model: Arc<Model>, mut options: SessionOptions) -> Session {
        let sessionid: Arc<str> = Arc::from(options.sessionid.clone().unwrap_or_else(generate_id));
        let datamodel: Box<dyn Datamodel> = match model.datamodel {
            DatamodelKind::Null => Box::new(NullDatamodel::new()),
            DatamodelKind::EcmaScript => {
                let limits = options.script_limits;
                let globals = options.globals.clone();
                let runtime = options
                    .ecmascript
                    .get_or_insert_with(|| EcmaScriptRuntime::new(limits, globals.as_ref()));
                Box::new(EcmaScriptDatamodel::new(runtime))
            }
        };
        let n_states = model.states.len();
        Session {
            info: SessionInfo {
                sessionid,
                name: model.name.clone(),
                invokeid: None,
            },
            configuration: vec![false; n_states],
            states_to_invoke: Vec::new(),
            history: HashMap::new(),
            internal: VecDeque::new(),
            external: VecDeque::new(),
            running: false,
            started: false,
            halt: None,
            datamodel,
            data_initialized: vec![false; n_states],
            timers: Vec::new(),
            timer_seq: 0,
            now: 0,
            invokes: Vec::new(),
            to_parent: Vec::new(),
            id_counter: 0,
            site: ("scxml", crate::scxml::error::Pos::default()),
            site_custom: None,
            last_configuration: Vec::new(),
            initial_values: Vec::new(),
            entry_counts: if options.count_entries {
                vec![0; n_states]
            } else {
                Vec::new()
            },
            entry_scratch: enter::EntrySet::default(),
            options,
            model,
        }
    }

    /// The session's `_sessionid`.
    pub fn sessionid(&self) -> &str {
        &self.info.sessionid
    }

    /// The model this session runs.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// Start parameters: each value replaces the initial value of the `<data>` with the same id (as
    /// `<param>`s of an `<invoke>` do for a child). Call before [`Session::start`].
    pub fn set_params(&mut self, params: Vec<(Arc<str>, Value)>) {
        self.initial_values = params;
    }

    /// Sets the session's current time (milliseconds on the host's clock) before it starts.
    pub fn set_now(&mut self, now: u64) {
        self.now = now;
    }

    /// Turns [`Host::trace`] calls on or off from the next step on (a host watches a running session).
    pub fn set_trace(&mut self, on: bool) {
        self.options.trace = on;
    }

    /// The session's current time in milliseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Runs the initial macrostep: initialises data, enters the initial configuration and takes
    /// eventless transitions and internal events until the chart is stable. External events
    /// already queued are left for [`Session::run`].
    pub fn start(&mut self, host: &mut dyn Host) {
        if self.started {
            return;
        }
        self.started = true;
        self.interpret(host);
    }

    /// Queues an external event without processing it.
    pub fn enqueue(&mut self, event: Event) {
        if self.halt.is_none() {
            self.external.push_back(event);
        }
    }

    /// Queues an external event and processes every queued event.
    pub fn feed(&mut self, event: Event, host: &mut dyn Host) {
        self.enqueue(event);
        self.run(host);
    }

    /// Processes queued external events (and the events of invoked children) until none is left.
    pub fn run(&mut self, host: &mut dyn Host) {
        if !self.started {
            self.start(host);
        }
        self.run_queues(host);
    }

    /// Moves the clock to `now`, firing every delayed send that falls due on the way in order, and
    /// processes the resulting events.
    pub fn advance(&mut self, now: u64, host: &mut dyn Host) {
        if !self.started {
            self.start(host);
        }
        loop {
            self.run_queues(host);
            match self.next_timer() {
                Some(due) if due <= now && self.halt.is_none() => self.fire_timers(due, host),
                _ => break,
            }
        }
        self.set_clock(now);
        self.run_queues(host);
    }

    /// When the next delayed send (of this session or an invoked child) falls due.
    pub fn next_timer(&self) -> Option<u64> {
        if self.halt.is_some() {
            return None;
        }
        let own = self.timers.iter().map(|timer| timer.due).min();
        let children = self
            .invokes
            .iter()
            .filter_map(|active| active.child.as_ref().and_then(|child| child.next_timer()))
            .min();
        match (own, children) {
            (Some(own), Some(children)) => Some(own.min(children)),
            (own, children) => own.or(children),
        }
    }

    /// True until the session halts.
    pub fn is_running(&self) -> bool {
        self.halt.is_none()
    }

    /// Why the session stopped, once it has.
    pub fn halt(&self) -> Option<&Halt> {
        self.halt.as_ref()
    }

    /// Cancels the session: exits every state (running `onexit`) and stops.
    pub fn cancel(&mut self, host: &mut dyn Host) {
        if self.halt.is_none() && self.started {
            self.running = false;
            self.exit_interpreter(host, Halt::Cancelled);
        }
    }

    /// The active states in document order (ids; the `<scxml>` root left out). After the session
    /// halts, the configuration it halted in.
    pub fn configuration_ids(&self) -> Vec<&str> {
        self.active_states()
            .into_iter()
            .filter(|&state| state != Model::ROOT)
            .map(|state| self.model.state_id(state))
            .collect()
    }

    /// The active atomic states (ids, document order); after the session halts, those it halted in.
    pub fn atomic_configuration(&self) -> Vec<&str> {
        self.active_states()
            .into_iter()
            .filter(|&state| self.model.is_atomic(state))
            .map(|state| self.model.state_id(state))
            .collect()
    }

    /// True when the state with this id is active.
    pub fn is_in(&self, id: &str) -> bool {
        self.model
            .find_state(id)
            .is_some_and(|state| self.configuration[state])
    }

    /// How many times the state `id` was entered (counted only with `count_entries`).
    pub fn entry_count(&self, id: &str) -> u64 {
        self.model
            .find_state(id)
            .and_then(|state| self.entry_counts.get(state).copied())
            .unwrap_or(0)
    }

    /// The session's datamodel, for hosts and tests that read variables.
    pub fn eval(&mut self, expr: &str) -> Result<Value, String> {
        let expr = crate::scxml::model::Expr {
            text: Arc::from(expr),
            pos: Default::default(),
        };
        self.datamodel.eval(&expr)
    }

    fn active_states(&self) -> Vec<StateId> {
        if self.halt.is_some() {
            return self.last_configuration.clone();
        }
        (0..self.configuration.len())
            .filter(|&state| self.configuration[state])
            .collect()
    }

    fn next_id(&mut self, prefix: &str) -> Arc<str> {
        self.id_counter += 1;
        Arc::from(format!(
            "{prefix}{}.{}",
            self.info.sessionid, self.id_counter
        ))
    }

    fn set_clock(&mut self, now: u64) {
        self.now = self.now.max(now);
        for active in &mut self.invokes {
            if let Some(child) = &mut active.child {
                child.set_clock(now);
            }
        }
    }
}
