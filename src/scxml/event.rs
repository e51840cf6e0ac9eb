//! Events: what the queues hold and what `_event` shows.

use std::sync::Arc;

use crate::scxml::value::Value;

/// The `_event.type` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Raised by the platform (errors, `done.*`).
    Platform,
    /// Raised by `<raise>` or `<send target="#_internal">`.
    Internal,
    /// Came from outside or from `<send>`.
    External,
}

impl EventKind {
    /// The name `_event.type` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Platform => "platform",
            EventKind::Internal => "internal",
            EventKind::External => "external",
        }
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The name, e.g. `done.state.s1`.
    pub name: Arc<str>,
    /// Its type.
    pub kind: EventKind,
    /// The id of the `<send>` that produced it.
    pub sendid: Option<Arc<str>>,
    /// Where a reply can be sent (e.g. `#_scxml_<sessionid>`).
    pub origin: Option<Arc<str>>,
    /// The I/O processor type of `origin`.
    pub origintype: Option<Arc<str>>,
    /// The invoke id, when the event comes from an invoked session.
    pub invokeid: Option<Arc<str>>,
    /// The payload.
    pub data: Value,
    /// The message as it arrived on the wire, when the I/O processor that received it kept it
    /// (BasicHTTP keeps the HTTP request). `_event.raw` shows it; without it, `_event.raw` shows
    /// the payload as `key=value` pairs.
    pub raw: Option<Arc<str>>,
}

impl Event {
    /// An external event with a name and no data.
    pub fn external(name: impl Into<Arc<str>>) -> Event {
        Event::new(name, EventKind::External)
    }

    /// An event of `kind` with a name and no data.
    pub fn new(name: impl Into<Arc<str>>, kind: EventKind) -> Event {
        Event {
            name: name.into(),
            kind,
            sendid: None,
            origin: None,
            origintype: None,
            invokeid: None,
            data: Value::Undefined,
            raw: None,
        }
    }

    /// Sets the payload.
    pub fn with_data(mut self, data: Value) -> Event {
        self.data = data;
        self
    }

    /// True when one of `descriptors` matches this event's name (prefix match on dot-separated tokens).
    pub fn matches(&self, descriptors: &[String]) -> bool {
        descriptors
            .iter()
            .any(|descriptor| name_matches(descriptor, &self.name))
    }
}

/// W3C 3.12.1: `descriptor` matches `name` when it equals it or is a prefix of it up to a dot;
/// `*` matches every name.
pub fn name_matches(descriptor: &str, name: &str) -> bool {
    if descriptor == "*" {
        return true;
    }
    match name.strip_prefix(descriptor) {
        Some(rest) => rest.is_empty() || rest.starts_with('.'),
        None => false,
    }
}
