//! A worker thread: owns the sessions placed on it and one ECMAScript runtime they share, reads its inbox,
//! fires delayed sends when they fall due, ends sessions whose TTL has passed, and is the [`Host`] of its
//! sessions.
//!
//! Time is the injected [`Clock`] in milliseconds since the epoch; the worker sleeps on its inbox until the earliest
//! deadline (a session's next timer or its TTL), kept in a heap with lazy deletion so that parked sessions cost
//! nothing per wake-up. A session that halts (final state, cancel, runaway loop) is dropped; nothing one session
//! does reaches another except through its inbox.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::clock::Clock;
use crate::ors::dialect::register_interaction;
use crate::ors::exchange::{Runtime, SessionInput};
use crate::ors::ioproc::IoProcessors;
use crate::ors::modules::Modules;
use crate::ors::trace::TraceHub;
use crate::scxml::datamodel::ecmascript::{EcmaScriptRuntime, GlobalsHook, ScriptLimits};
use crate::scxml::host::{ActionScope, Host, HostError, OutgoingSend, SessionInfo, TraceRecord};
use crate::scxml::model::CustomAction;
use crate::scxml::trace_lines::TraceLines;
use crate::scxml::{Event, Halt, Model, Session, SessionOptions, Value};

/// What a worker's inbox carries.
#[derive(Debug)]
pub enum Command {
    /// Start a session.
    Start {
        /// Its id.
        id: String,
        /// The chart.
        model: Arc<Model>,
        /// Start parameters, put into the `<data>` items of the same id.
        params: Vec<(String, Value)>,
        /// How long it may live.
        ttl: Duration,
    },
    /// Hand `input` to session `id`.
    Deliver {
        /// The session.
        id: String,
        /// What to do.
        input: SessionInput,
    },
    /// Fire what has come due now (the clock may have been moved by hand).
    Tick,
}

/// What a worker tells the registry of live sessions, besides what modules tell it through [`Runtime`].
pub trait Registry: Runtime + 'static {
    /// Fails the pending request `requestid` of `session` at once: the flow took no transition for it.
    fn refuse(&self, requestid: &str, session: &str, name: &str);

    /// Session `id` has ended: forget it and fail its pending requests.
    fn ended(&self, id: &str);
}

/// What every worker shares with the others.
pub struct WorkerParts {
    /// Installs the host globals in the worker's ECMAScript runtime.
    pub globals: GlobalsHook,
    /// The modules flows call.
    pub modules: Arc<Modules>,
    /// The event I/O processors.
    pub io: Arc<IoProcessors>,
    /// The clock of timers and TTLs.
    pub clock: Arc<dyn Clock>,
    /// Who watches which session's steps.
    pub trace: Arc<TraceHub>,
}

struct Slot {
    session: Session,
    /// When the TTL ends.
    expires: u64,
    /// The deadline this session has in the heap.
    due: u64,
}

/// Runs a worker until every handle to the runtime is gone.
pub fn run<R: Registry>(registry: Weak<R>, inbox: Receiver<Command>, parts: WorkerParts) {
    let runtime = EcmaScriptRuntime::new(ScriptLimits::default(), Some(&parts.globals));
    let mut slots: HashMap<String, Slot> = HashMap::new();
    let mut deadlines: BinaryHeap<Reverse<(u64, String)>> = BinaryHeap::new();
    loop {
        let wait = match deadlines.peek() {
            Some(Reverse((due, _))) => {
                Duration::from_millis(due.saturating_sub(parts.clock.now_ms()))
            }
            // Wake now and then so the thread ends once the runtime is dropped.
            None => Duration::from_secs(1),
        };
        let first = match inbox.recv_timeout(wait) {
            Ok(command) => Some(command),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let reach: Arc<dyn Runtime> = registry.clone();
        let mut worker = Worker {
            registry: &*registry,
            reach: &reach,
            parts: &parts,
            runtime: &runtime,
            slots: &mut slots,
            deadlines: &mut deadlines,
        };
        if let Some(command) = first {
            worker.handle_guarded(command);
            // Drain what else is waiting before looking at the clock again.
            while let Ok(command) = inbox.try_recv() {
                worker.handle_guarded(command);
            }
        }
        worker.fire_due();
    }
}

struct Worker<'a, R> {
    registry: &'a R,
    /// The registry as modules see it.
    reach: &'a Arc<dyn Runtime>,
    parts: &'a WorkerParts,
    runtime: &'a EcmaScriptRuntime,
    slots: &'a mut HashMap<String, Slot>,
    deadlines: &'a mut BinaryHeap<Reverse<(u64, String)>>,
}

impl<'a, R: Registry> Worker<'a, R> {
    /// Handles `command`; a session whose step panics is dropped and reported ended, and the worker goes on
    /// with its other sessions.
    fn handle_guarded(&mut self, command: Command) {
        let id = match &command {
            Command::Start { id, .. } | Command::Deliver { id, .. } => id.clone(),
            Command::Tick => return,
        };
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(command)));
        if outcome.is_err() {
            tracing::error!(session = %id, "the session failed and was stopped");
            self.slots.remove(&id);
            self.registry.ended(&id);
        }
    }

    fn host(&self, session: &str) -> WorkerHost<'a, R> {
        WorkerHost {
            registry: self.registry,
            reach: self.reach,
            parts: self.parts,
            session: Arc::from(session),
            lines: TraceLines::default(),
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Tick => {}
            Command::Start {
                id,
                model,
                params,
                ttl,
            } => {
                let options = SessionOptions {
                    sessionid: Some(id.clone()),
                    ecmascript: Some(self.runtime.clone()),
                    trace: self.parts.trace.watching(&id),
                    ..SessionOptions::default()
                };
                let mut session = Session::new(model, options);
                let now = self.parts.clock.now_ms();
                session.set_now(now);
                let expires = now.saturating_add(ttl.as_millis() as u64);
                session.set_params(
                    params
                        .into_iter()
                        .map(|(name, value)| (Arc::from(name.as_str()), value))
                        .collect(),
                );
                let mut host = self.host(&id);
                session.start(&mut host);
                host.finish();
                self.settle(
                    id,
                    Slot {
                        session,
                        expires,
                        due: 0,
                    },
                );
            }
            Command::Deliver { id, input } => {
                let Some(mut slot) = self.slots.remove(&id) else {
                    match input {
                        SessionInput::Terminate(Some(reply)) => {
                            let _ = reply.send(false);
                        }
                        // The session ended after the request was queued: fail it now rather than time out.
                        SessionInput::Request(_) => self.registry.ended(&id),
                        _ => {}
                    }
                    return;
                };
                slot.session.set_trace(self.parts.trace.watching(&id));
                let mut host = self.host(&id);
                match input {
                    SessionInput::External(event) | SessionInput::Request(event) => {
                        slot.session.advance(self.parts.clock.now_ms(), &mut host);
                        if &*event.name == "interaction.added"
                            && let Some(script) = register_interaction(&event.data.to_json())
                            && let Err(error) = slot.session.eval(&script)
                        {
                            tracing::warn!(session = %id, %error, "cannot record the interaction");
                        }
                        slot.session.feed(event, &mut host);
                        host.finish();
                    }
                    SessionInput::Terminate(reply) => {
                        slot.session.cancel(&mut host);
                        host.finish();
                        // Answer once the session is forgotten, so the caller sees its place freed.
                        self.settle(id, slot);
                        if let Some(reply) = reply {
                            let _ = reply.send(true);
                        }
                        return;
                    }
                    SessionInput::Query(reply) => {
                        let _ = reply.send(describe(&mut slot.session));
                    }
                }
                self.settle(id, slot);
            }
        }
    }

    /// Keeps a session that is still running (with its next deadline) or lets one that halted go.
    fn settle(&mut self, id: String, mut slot: Slot) {
        if !slot.session.is_running() {
            if self.parts.trace.watching(&id) {
                let halt = match slot.session.halt() {
                    Some(Halt::Final(state)) => format!("final {state}"),
                    Some(Halt::Cancelled) | None => "cancelled".to_string(),
                    Some(Halt::Runaway(steps)) => format!("runaway after {steps} steps"),
                };
                self.parts.trace.publish(
                    &Arc::from(id.as_str()),
                    serde_json::json!({"ended": true, "halt": halt}),
                );
            }
            self.registry.ended(&id);
            return;
        }
        let due = slot
            .session
            .next_timer()
            .map_or(slot.expires, |timer| timer.min(slot.expires));
        if due != slot.due {
            slot.due = due;
            self.deadlines.push(Reverse((due, id.clone())));
        }
        self.slots.insert(id, slot);
    }

    /// Fires the timers and TTLs that have come due.
    fn fire_due(&mut self) {
        let now = self.parts.clock.now_ms();
        while let Some(Reverse((due, _))) = self.deadlines.peek() {
            if *due > now {
                break;
            }
            let Some(Reverse((due, id))) = self.deadlines.pop() else {
                break;
            };
            let Some(mut slot) = self.slots.remove(&id) else {
                continue;
            };
            if slot.due != due {
                // A stale entry: the session's deadline has moved since.
                self.slots.insert(id, slot);
                continue;
            }
            slot.session.set_trace(self.parts.trace.watching(&id));
            let mut host = self.host(&id);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if slot.expires <= now {
                    slot.session.cancel(&mut host);
                } else {
                    slot.session.advance(now, &mut host);
                }
            }));
            host.finish();
            if outcome.is_err() {
                tracing::error!(session = %id, "the session failed and was stopped");
                self.registry.ended(&id);
                continue;
            }
            self.settle(id, slot);
        }
    }
}

/// The session's state as `/query` shows it.
fn describe(session: &mut Session) -> serde_json::Value {
    let states: Vec<serde_json::Value> = session
        .atomic_configuration()
        .into_iter()
        .map(|state| serde_json::Value::String(state.to_string()))
        .collect();
    let model = session.model().clone();
    let mut data = serde_json::Map::new();
    for state in &model.states {
        for item in &state.data {
            if let Ok(value) = session.eval(&item.id) {
                data.insert(item.id.to_string(), value.to_json());
            }
        }
    }
    serde_json::json!({
        "sessionid": session.sessionid(),
        "name": model.name.as_deref(),
        "states": states,
        "data": data,
    })
}

/// The host of the sessions of one worker.
struct WorkerHost<'a, R> {
    registry: &'a R,
    reach: &'a Arc<dyn Runtime>,
    parts: &'a WorkerParts,
    /// The session the host serves now (its invoked children's lines go to its watchers too).
    session: Arc<str>,
    /// Macrosteps of watched sessions being collected.
    lines: TraceLines,
}

impl<R> WorkerHost<'_, R> {
    /// Publishes what is left of unfinished macrosteps (a session that halted ends without a configuration).
    fn finish(mut self) {
        for line in self.lines.flush() {
            self.parts.trace.publish(&self.session, line);
        }
    }
}

impl<R: Registry> Host for WorkerHost<'_, R> {
    fn log(&mut self, session: &SessionInfo, label: &str, message: &str) {
        tracing::info!(target: "gms::ors::flow", session = %session.sessionid, label, "{message}");
    }

    fn trace(&mut self, session: &SessionInfo, record: TraceRecord) {
        if let Some(line) = self.lines.record(session, record) {
            self.parts.trace.publish(&self.session, line);
        }
    }

    fn send(&mut self, session: &SessionInfo, send: OutgoingSend) -> Result<(), HostError> {
        self.parts.io.send(self.reach, session, send)
    }

    fn unconsumed(&mut self, session: &SessionInfo, event: &Event) {
        // A request no transition takes would only time out: its caller learns at once.
        if let Some(requestid) = &event.sendid {
            self.registry
                .refuse(requestid, &session.sessionid, &event.name);
        }
    }

    fn ioprocessors(&mut self, session: &SessionInfo) -> Vec<(Arc<str>, Value)> {
        self.parts.io.ioprocessors(&session.sessionid)
    }

    fn custom_action(
        &mut self,
        session: &SessionInfo,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        self.parts
            .modules
            .custom_action(self.reach, session, action, scope)
    }
}
