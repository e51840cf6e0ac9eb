//! The outside world as the engine sees it: the [`Host`] trait.
//!
//! A session calls its host for everything it cannot do by itself: sends to targets or types the
//! engine does not handle (other sessions, BasicHTTP, ...), invokes of types other than SCXML,
//! custom actions (elements in foreign namespaces), logging and tracing. Every method has a
//! default that refuses or ignores, so a host implements only what it offers. Results come back as
//! events the host feeds to the session later ([`crate::scxml::Session::feed`]).

use std::sync::Arc;

use crate::scxml::event::Event;
use crate::scxml::model::CustomAction;
use crate::scxml::value::Value;

/// Who is calling the host.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// `_sessionid`.
    pub sessionid: Arc<str>,
    /// `_name` (the `name` of `<scxml>`).
    pub name: Option<Arc<str>>,
    /// The invoke id under which this session runs, when it is an invoked child.
    pub invokeid: Option<Arc<str>>,
}

/// Why a host refused an operation. Sends refused by the host become `error.communication`;
/// refused invokes and custom actions become `error.execution`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The host offers no such target, type or action.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The host tried and failed.
    #[error("{0}")]
    Failed(String),
}

/// A `<send>` the engine hands to the host, fully evaluated.
#[derive(Debug, Clone)]
pub struct OutgoingSend {
    /// The event (name, data, `sendid`; `origin` set to this session).
    pub event: Event,
    /// The evaluated target (may be empty).
    pub target: Arc<str>,
    /// The evaluated type URI.
    pub kind: Arc<str>,
    /// Evaluated attributes of the `<send>` the engine does not interpret (ORS `hints`, `timeout`).
    pub extra: Vec<(Arc<str>, Value)>,
}

/// An `<invoke>` the engine hands to the host (every type but SCXML).
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The evaluated type.
    pub kind: Arc<str>,
    /// The invoke id (generated when the document gave none).
    pub invokeid: Arc<str>,
    /// The evaluated `src`/`srcexpr`, if any.
    pub src: Option<Arc<str>>,
    /// The evaluated `<content>`, if any.
    pub content: Option<Value>,
    /// The evaluated `namelist` and `<param>`s.
    pub params: Vec<(Arc<str>, Value)>,
    /// `autoforward="true"`.
    pub autoforward: bool,
}

/// What a custom action may do inside the session that runs it.
pub trait ActionScope {
    /// Evaluates an expression in the session's datamodel.
    fn eval(&mut self, expr: &str) -> Result<Value, String>;
    /// Assigns `value` to a location in the session's datamodel.
    fn assign(&mut self, location: &str, value: Value) -> Result<(), String>;
    /// Queues an event on the session's internal queue.
    fn raise(&mut self, event: Event);
    /// The session's current time in milliseconds.
    fn now(&self) -> u64;
}

/// One record of `gms run --trace` and of host-side tracing.
#[derive(Debug, Clone)]
pub enum TraceRecord {
    /// A macrostep starts with this event (none for the initial macrostep).
    Event(Event),
    /// A transition was taken (source id, target ids, event descriptors).
    Transition {
        /// The transition's index in the model ([`crate::scxml::Model::transitions`]).
        index: usize,
        /// The source state id.
        source: String,
        /// Target state ids.
        targets: Vec<String>,
    },
    /// A state was exited.
    Exit(String),
    /// A state was entered.
    Enter(String),
    /// A `<send>` was dispatched or scheduled.
    Send {
        /// The event name.
        event: Arc<str>,
        /// The target.
        target: Arc<str>,
        /// Delay in milliseconds.
        delay: u64,
    },
    /// A `<log>`.
    Log {
        /// The label.
        label: String,
        /// The logged value.
        message: String,
    },
    /// The macrostep ended in this configuration (atomic state ids, document order).
    Configuration(Vec<String>),
}

/// The outside world of a session.
pub trait Host {
    /// `<log>`: the label and the evaluated expression.
    fn log(&mut self, session: &SessionInfo, label: &str, message: &str) {
        let _ = (session, label, message);
    }

    /// A `<send>` the engine does not deliver itself. `Err` raises `error.communication`.
    fn send(&mut self, session: &SessionInfo, send: OutgoingSend) -> Result<(), HostError> {
        let _ = session;
        Err(HostError::Unsupported(format!(
            "target \"{}\" of type \"{}\"",
            send.target, send.kind
        )))
    }

    /// An `<invoke>` of a type other than SCXML. `Err` raises `error.execution`.
    fn invoke(&mut self, session: &SessionInfo, request: InvokeRequest) -> Result<(), HostError> {
        let _ = session;
        Err(HostError::Unsupported(format!(
            "invoke type \"{}\"",
            request.kind
        )))
    }

    /// A host-side invocation is cancelled (its state was exited).
    fn cancel_invoke(&mut self, session: &SessionInfo, invokeid: &str) {
        let _ = (session, invokeid);
    }

    /// An element of executable content in a foreign namespace. `Err` raises `error.execution`.
    fn custom_action(
        &mut self,
        session: &SessionInfo,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        let _ = (session, scope);
        Err(HostError::Unsupported(format!(
            "custom action <{}> in namespace {}",
            action.name, action.ns
        )))
    }

    /// Entries the host adds to `_ioprocessors` of a session that starts (e.g. the BasicHTTP
    /// processor under its type URI and its short name, each an object with a `location`). The
    /// engine's own SCXML entries come first; none by default.
    fn ioprocessors(&mut self, session: &SessionInfo) -> Vec<(Arc<str>, Value)> {
        let _ = session;
        Vec::new()
    }

    /// External events that reached `session` while the host was sending for it — a host that
    /// answers its own BasicHTTP POSTs receives them before the POST returns. The engine calls
    /// this right after each [`Host::send`] and appends them to the session's external queue, so
    /// they keep their place ahead of what the session queues next. Hosts that deliver through
    /// [`crate::scxml::Session::feed`] return nothing (the default).
    fn take_arrived(&mut self, session: &SessionInfo) -> Vec<Event> {
        let _ = session;
        Vec::new()
    }

    /// An external event enabled no transition (W3C: it is discarded). A host that waits for an
    /// answer to the event (an ORS request) can fail the wait at once: no executable content ran
    /// for the event, so nothing in the chart can answer it later.
    fn unconsumed(&mut self, session: &SessionInfo, event: &Event) {
        let _ = (session, event);
    }

    /// A trace record; ignored unless the host traces.
    fn trace(&mut self, session: &SessionInfo, record: TraceRecord) {
        let _ = (session, record);
    }
}

/// A host that offers nothing beyond the engine itself.
#[derive(Debug, Default)]
pub struct NoHost;

impl Host for NoHost {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scxml::{Halt, Session, SessionOptions, parse_str};

    /// Offers a `loop` I/O processor that receives every event sent through it before the send returns.
    #[derive(Default)]
    struct Loop {
        arrived: Vec<Event>,
    }

    impl Host for Loop {
        fn send(&mut self, _session: &SessionInfo, send: OutgoingSend) -> Result<(), HostError> {
            self.arrived.push(Event::external(send.event.name));
            Ok(())
        }

        fn ioprocessors(&mut self, _session: &SessionInfo) -> Vec<(Arc<str>, Value)> {
            let entry = Value::Object(vec![(Arc::from("location"), Value::string("here"))]);
            vec![(Arc::from("loop"), entry)]
        }

        fn take_arrived(&mut self, _session: &SessionInfo) -> Vec<Event> {
            std::mem::take(&mut self.arrived)
        }
    }

    #[test]
    fn host_processors_are_listed_and_their_arrivals_keep_their_place() {
        let model = parse_str(
            r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" initial="s">
              <state id="s">
                <onentry><send type="loop" event="first"/><send event="second"/></onentry>
                <transition event="first" cond="_ioprocessors['loop'].location == 'here'" target="t"/>
              </state>
              <state id="t"><transition event="second" target="pass"/></state>
              <final id="pass"/>
            </scxml>"#,
        )
        .expect("a valid chart");
        let mut host = Loop::default();
        let mut session = Session::new(model, SessionOptions::default());
        session.start(&mut host);
        session.run(&mut host);
        assert_eq!(session.halt(), Some(&Halt::Final("pass".to_string())));
    }
}
