//! The SCXML 1.0 engine: parsing into an immutable model and the synchronous W3C interpreter.
//!
//! This module never imports tokio, axum, reqwest or the store; the outside world reaches it through a host trait.
//!
//! # Layout
//! - [`parse`]: XML → positioned elements → validated [`Model`] (`file:line:column` errors).
//! - [`model`]: the immutable chart, shared by every session (`Arc<Model>`).
//! - [`interp`]: [`Session`], the W3C Appendix D algorithm, split by step.
//! - [`datamodel`]: the [`datamodel::Datamodel`] seam; `null` and `ecmascript` (boa).
//! - [`host`]: the [`Host`] trait: sends, invokes and custom actions the engine does not own, logs.
//! - [`event`], [`value`]: events and datamodel-independent values.
//! - [`trace_lines`]: a session's trace as one JSON line per macrostep.
//!
//! # Host integration
//! - A [`Session`] is synchronous: [`Session::start`], [`Session::feed`] (an external event),
//!   [`Session::advance`] (move the injected clock; delayed sends fire in order) and
//!   [`Session::next_timer`] (when to call `advance` next). Every call takes `&mut dyn Host`.
//! - `<send>` to `#_internal`, `#_parent`, this session or an invoked SCXML child is delivered by
//!   the engine; any other target (`#_scxml_<other session>`, URLs) or type (BasicHTTP, ...) goes to
//!   [`Host::send`] as an [`OutgoingSend`]. A refusal becomes `error.execution` (unknown type or
//!   target) or `error.communication` (delivery failed).
//! - A host that offers more I/O processors names them in `_ioprocessors` through
//!   [`Host::ioprocessors`]. A host that receives events for a session while sending for it (its
//!   own BasicHTTP listener answering the POST) returns them from [`Host::take_arrived`]; the engine
//!   queues them right after the send, ahead of anything the session queues next. An I/O processor
//!   that keeps the received message sets [`Event::raw`] (`_event.raw`).
//! - `<invoke type="scxml">` runs the child in-process, inside the parent [`Session`]; any other
//!   type goes to [`Host::invoke`]; the host answers later by feeding events whose `invokeid` is
//!   set (finalize and `done.invoke.<id>` then work as for SCXML children). Leaving the state calls
//!   [`Host::cancel_invoke`].
//! - Executable content in a foreign namespace is kept as [`model::CustomAction`] (namespace, local
//!   name, attributes, children, XML, position) and handed to [`Host::custom_action`] with an
//!   [`ActionScope`] to evaluate expressions, assign locations and raise events. A host that does
//!   not know the namespace refuses it, which is `error.execution`.
//! - Host-defined ECMAScript globals (`_genesys`, ...) are installed once per runtime by a
//!   [`datamodel::ecmascript::GlobalsHook`] given to
//!   [`datamodel::ecmascript::EcmaScriptRuntime::new`] (or [`SessionOptions::globals`] when the
//!   session makes its own runtime). One runtime serves all sessions of a thread; sessions keep
//!   their variables apart by parking them when another session runs.
//! - A `Session` holds no thread-locals and no globals. It is not `Send` (boa's context is not): a
//!   runtime creates sessions on a worker thread and reaches them by messages; an [`Model`] is
//!   `Send + Sync` and shared freely.
//!
//! # Use
//! ```
//! use gms::scxml::{self, Event, NoHost, Session, SessionOptions};
//! let model = scxml::parse_str(r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0">
//!   <state id="a"><transition event="go" target="b"/></state><final id="b"/></scxml>"#).unwrap();
//! let mut session = Session::new(model, SessionOptions::default());
//! session.start(&mut NoHost);
//! session.feed(Event::external("go"), &mut NoHost);
//! assert!(!session.is_running());
//! ```

pub mod datamodel;
pub mod error;
pub mod event;
pub mod host;
pub mod interp;
pub mod model;
pub mod parse;
pub mod trace_lines;
pub mod value;

pub use datamodel::ecmascript::{EcmaScriptRuntime, GlobalsHook, ScriptLimits};
pub use error::{ParseError, ParseErrors, Pos};
pub use event::{Event, EventKind};
pub use host::{
    ActionScope, Host, HostError, InvokeRequest, NoHost, OutgoingSend, SessionInfo, TraceRecord,
};
pub use interp::{Halt, SCXML_EVENT_PROCESSOR, Session, SessionOptions};
pub use model::Model;
pub use parse::{Dialect, Source, parse_file, parse_file_as, parse_source, parse_str};
pub use value::Value;
