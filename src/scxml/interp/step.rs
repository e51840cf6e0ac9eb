//! The event loops of W3C Appendix D: `interpret`, the two halves of `mainEventLoop`, `microstep`
//! and `exitInterpreter`, plus the glue that runs invoked children between external events.

use crate::scxml::event::{Event, EventKind};
use crate::scxml::host::{Host, TraceRecord};
use crate::scxml::interp::{Halt, Session};
use crate::scxml::model::{Binding, Model, StateId, TransitionId};
use crate::scxml::value::Value;

impl Session {
    /// `interpret(doc)`: data, the top-level script, the initial configuration, then the first
    /// macrostep.
    pub(super) fn interpret(&mut self, host: &mut dyn Host) {
        let mut ioprocessors = self.ioprocessors();
        if let Value::Object(entries) = &mut ioprocessors {
            entries.extend(host.ioprocessors(&self.info));
        }
        let name = self.model.name.clone();
        self.datamodel
            .set_system(&self.info.sessionid, name.as_deref(), &ioprocessors);
        self.running = true;
        let model = self.model.clone();
        if model.binding == Binding::Early {
            for state in 0..model.states.len() {
                self.init_data(state, host);
            }
        } else {
            // Late binding: every variable exists from the start (undefined), and gets its value
            // when its state is first entered, so reading it early is not an error (W3C test 307).
            for state in &model.states {
                for data in &state.data {
                    let _ = self.datamodel.declare(&data.id, Value::Undefined);
                }
            }
            self.init_data(Model::ROOT, host);
        }
        if let Some(script) = &model.script {
            self.execute_block(script, host);
        }
        if let Some(initial) = model.states[Model::ROOT].initial {
            self.enter_states(&[initial], host);
        }
        self.run_internal(host);
    }

    /// The half of `mainEventLoop` that runs until the chart is stable: eventless transitions,
    /// then internal events, then the invokes of the states entered.
    pub(super) fn run_internal(&mut self, host: &mut dyn Host) {
        let mut n_microsteps: u64 = 0;
        loop {
            let mut macrostep_done = false;
            while self.running && !macrostep_done {
                let mut enabled = self.select_eventless_transitions(host);
                let mut took_event = false;
                if enabled.is_empty() {
                    match self.internal.pop_front() {
                        None => macrostep_done = true,
                        Some(event) => {
                            took_event = true;
                            self.trace(host, || TraceRecord::Event(event.clone()));
                            if self.model.uses_event {
                                self.datamodel.set_event(&event);
                            }
                            enabled = self.select_transitions(&event, host);
                        }
                    }
                }
                // Internal events count too: an eventless transition whose condition keeps failing
                // raises `error.execution` forever without taking a single transition.
                if !enabled.is_empty() || took_event {
                    n_microsteps += 1;
                    if n_microsteps > self.options.max_microsteps {
                        let limit = self.options.max_microsteps;
                        self.running = false;
                        self.exit_interpreter(host, Halt::Runaway(limit));
                        return;
                    }
                }
                if !enabled.is_empty() {
                    self.microstep(&enabled, host);
                }
            }
            if !self.running {
                let halt = self.final_halt();
                self.exit_interpreter(host, halt);
                return;
            }
            let mut to_invoke = std::mem::take(&mut self.states_to_invoke);
            to_invoke.sort_unstable();
            to_invoke.dedup();
            for state in to_invoke {
                if self.configuration[state] {
                    self.invoke_state(state, host);
                }
            }
            if self.internal.is_empty() {
                break;
            }
        }
        self.trace_macrostep_end(host);
    }

    /// The other half of `mainEventLoop`: take one external event and run its macrostep.
    fn process_external(&mut self, event: Event, host: &mut dyn Host) {
        self.trace(host, || TraceRecord::Event(event.clone()));
        if self.model.uses_event {
            self.datamodel.set_event(&event);
        }
        self.finalize_and_autoforward(&event, host);
        let enabled = self.select_transitions(&event, host);
        if enabled.is_empty() {
            host.unconsumed(&self.info, &event);
        } else {
            self.microstep(&enabled, host);
        }
        if !self.running {
            let halt = self.final_halt();
            self.exit_interpreter(host, halt);
            return;
        }
        self.run_internal(host);
    }

    /// Runs children and external events until nothing is left to do.
    ///
    /// A chart that keeps sending itself events would never give control back; past
    /// `max_microsteps` external events in one call it is stopped as runaway.
    pub(super) fn run_queues(&mut self, host: &mut dyn Host) {
        let mut n_events: u64 = 0;
        while self.halt.is_none() {
            let mut progressed = self.run_children(host);
            // An error raised between macrosteps (a delayed send that could not be delivered when it fell due)
            // waits on the internal queue: it is processed now, not at the next external event.
            if self.running && !self.internal.is_empty() {
                self.run_internal(host);
                progressed = true;
                continue;
            }
            if let Some(event) = self.external.pop_front() {
                n_events += 1;
                if n_events > self.options.max_microsteps {
                    let limit = self.options.max_microsteps;
                    self.running = false;
                    self.exit_interpreter(host, Halt::Runaway(limit));
                    return;
                }
                self.process_external(event, host);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
    }

    /// `microstep(enabledTransitions)`.
    pub(super) fn microstep(&mut self, enabled: &[TransitionId], host: &mut dyn Host) {
        if self.options.trace {
            for &index in enabled {
                let model = self.model.clone();
                let transition = &model.transitions[index];
                let record = TraceRecord::Transition {
                    index,
                    source: model.state_id(transition.source).to_string(),
                    targets: transition
                        .targets
                        .iter()
                        .map(|&target| model.state_id(target).to_string())
                        .collect(),
                };
                host.trace(&self.info, record);
            }
        }
        self.exit_states(enabled, host);
        self.execute_transition_content(enabled, host);
        self.enter_states(enabled, host);
    }

    fn execute_transition_content(&mut self, enabled: &[TransitionId], host: &mut dyn Host) {
        let model = self.model.clone();
        for &transition in enabled {
            self.execute_block(&model.transitions[transition].body, host);
        }
    }

    fn final_halt(&self) -> Halt {
        let reached = (0..self.configuration.len()).find(|&state| {
            self.configuration[state]
                && self.model.states[state].parent == Some(Model::ROOT)
                && self.model.states[state].kind == crate::scxml::model::StateKind::Final
        });
        match reached {
            Some(state) => Halt::Final(self.model.state_id(state).to_string()),
            None => Halt::Cancelled,
        }
    }

    /// `exitInterpreter()`: exits every active state in reverse document order, cancels invokes, and
    /// tells the parent (`done.invoke.<id>`) when a top-level final state was reached.
    pub(super) fn exit_interpreter(&mut self, host: &mut dyn Host, halt: Halt) {
        let active: Vec<StateId> = (0..self.configuration.len())
            .filter(|&state| self.configuration[state])
            .collect();
        self.last_configuration = active.clone();
        let model = self.model.clone();
        let mut done_data = Value::Undefined;
        for &state in active.iter().rev() {
            for block in &model.states[state].onexit {
                self.execute_block(block, host);
            }
            self.cancel_invokes_of(state, host);
            self.configuration[state] = false;
            if self.options.trace && state != Model::ROOT {
                host.trace(
                    &self.info,
                    TraceRecord::Exit(model.state_id(state).to_string()),
                );
            }
            if model.states[state].parent == Some(Model::ROOT)
                && model.states[state].kind == crate::scxml::model::StateKind::Final
                && matches!(halt, Halt::Final(_))
            {
                done_data = self.done_data(state, host);
            }
        }
        if let (Halt::Final(_), Some(invokeid)) = (&halt, self.info.invokeid.clone()) {
            let mut event = Event::new(format!("done.invoke.{invokeid}"), EventKind::External);
            event.invokeid = Some(invokeid);
            event.data = done_data;
            self.to_parent.push(event);
        }
        self.timers.clear();
        self.internal.clear();
        self.external.clear();
        self.halt = Some(halt);
    }

    pub(super) fn trace(&self, host: &mut dyn Host, record: impl FnOnce() -> TraceRecord) {
        if self.options.trace {
            host.trace(&self.info, record());
        }
    }

    fn trace_macrostep_end(&self, host: &mut dyn Host) {
        if self.options.trace {
            let ids = (0..self.configuration.len())
                .filter(|&state| self.configuration[state] && self.model.is_atomic(state))
                .map(|state| self.model.state_id(state).to_string())
                .collect();
            host.trace(&self.info, TraceRecord::Configuration(ids));
        }
    }

    fn ioprocessors(&self) -> Value {
        let location = Value::Object(vec![(
            std::sync::Arc::from("location"),
            Value::string(format!("#_scxml_{}", self.info.sessionid)),
        )]);
        Value::Object(vec![
            (
                std::sync::Arc::from(super::SCXML_EVENT_PROCESSOR),
                location.clone(),
            ),
            (std::sync::Arc::from("scxml"), location),
        ])
    }

    /// Queues `error.execution` (or another platform error) on the internal queue.
    pub(super) fn raise_error(
        &mut self,
        name: &str,
        message: &str,
        sendid: Option<std::sync::Arc<str>>,
    ) {
        let mut event = Event::new(name, EventKind::Platform);
        event.sendid = sendid;
        event.data = if self.model.dialect == crate::scxml::parse::Dialect::Ors {
            // ORS's `error.*` events say where: the document, the element and its line.
            let (element, pos) = self.site;
            let element = match &self.site_custom {
                Some(custom) => custom.name.to_string(),
                None => element.to_string(),
            };
            // An element included from another file (Composer's workflows) names that file.
            let (included, pos) = self.model.included.place(pos);
            let document = included
                .map(str::to_string)
                .or_else(|| {
                    self.model
                        .file
                        .as_ref()
                        .map(|file| file.display().to_string())
                })
                .or_else(|| self.model.name.as_deref().map(str::to_string))
                .unwrap_or_default();
            Value::Object(vec![
                (std::sync::Arc::from("description"), Value::string(message)),
                (std::sync::Arc::from("document"), Value::string(document)),
                (std::sync::Arc::from("element"), Value::string(element)),
                (
                    std::sync::Arc::from("linenumber"),
                    Value::Number(f64::from(pos.line)),
                ),
            ])
        } else {
            // Where, for an author: the element's name, line and column, and why.
            let (element, pos) = self.site;
            let (_, pos) = self.model.included.place(pos);
            let tagname = match &self.site_custom {
                Some(custom) => custom.name.to_string(),
                None => element.to_string(),
            };
            Value::Object(vec![
                (std::sync::Arc::from("tagname"), Value::string(tagname)),
                (
                    std::sync::Arc::from("line"),
                    Value::Number(f64::from(pos.line)),
                ),
                (
                    std::sync::Arc::from("column"),
                    Value::Number(f64::from(pos.column)),
                ),
                (std::sync::Arc::from("reason"), Value::string(message)),
            ])
        };
        self.internal.push_back(event);
    }

    /// Records the element about to run, for the position of an error it raises.
    pub(super) fn at(&mut self, element: &'static str, pos: crate::scxml::error::Pos) {
        self.site = (element, pos);
        self.site_custom = None;
    }
}
