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
pub mod value;

pub use error::{ParseError, ParseErrors, Pos};
pub use event::{Event, EventKind};
pub use host::{
    ActionScope, Host, HostError, InvokeRequest, NoHost, OutgoingSend, SessionInfo, TraceRecord,
};
pub use interp::{Halt, SCXML_EVENT_PROCESSOR, Session, SessionOptions};
pub use model::Model;
pub use parse::{parse_file, parse_str};
pub use value::Value;
