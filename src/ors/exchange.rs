//! What sessions exchange with the rest of the ORS layer: the input a session's inbox takes ([`SessionInput`]), a
//! flow's answer to a request ([`Answer`]), the runtime's error type ([`OrsError`]), module completion events
//! ([`completion`]), and [`Runtime`]: the small trait through which modules and event I/O processors reach the
//! session runtime (deliver an event, answer a request, run work in the background, start a session).
//!
//! This is a leaf of `src/ors`: the runtime implements [`Runtime`], and modules and I/O processors see only the
//! trait, so none of them imports the runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::ors::documents::DocumentError;
use crate::scxml::{Event, Value};

/// A boxed future that may move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an operation on the runtime failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OrsError {
    /// No live session has this id.
    #[error("no session `{0}` (it never existed or has ended)")]
    NotFound(String),
    /// The document could not be read or parsed.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// Too many sessions are alive.
    #[error("too many sessions: the limit of {0} live sessions is reached")]
    Capacity(usize),
    /// The flow did not answer the request in time.
    #[error("session `{session}` did not answer request `{name}` within {timeout_ms} ms")]
    Timeout {
        /// The session.
        session: String,
        /// The request name.
        name: String,
        /// The time waited.
        timeout_ms: u64,
    },
    /// The session ended before it answered.
    #[error("session `{0}` ended before it answered")]
    Ended(String),
    /// No transition of the flow takes the request in its current state, so nothing will answer it.
    #[error("session `{session}` has no transition for request `{name}` in its current state")]
    Unhandled {
        /// The session.
        session: String,
        /// The request name.
        name: String,
    },
    /// A remote ORS failed or could not be reached.
    #[error("ORS at {url} failed: {reason}")]
    Remote {
        /// The URL called.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A parameter is missing or wrong.
    #[error("{0}")]
    BadRequest(String),
}

/// The flow's answer to a request (`<ws:response>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `type="positive"` (else negative).
    pub positive: bool,
    /// `resultcode`, when given.
    pub resultcode: Option<String>,
    /// The `<param>`s, in order.
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// What a session's inbox carries.
#[derive(Debug)]
pub enum SessionInput {
    /// An external event (`/event/{name}`, sends from other sessions, module completions).
    External(Event),
    /// A request: an external event whose `sendid` has a pending entry waiting for `<ws:response>`.
    Request(Event),
    /// Terminate the session; the reply says whether it was alive.
    Terminate(Option<oneshot::Sender<bool>>),
    /// Read the session's state.
    Query(oneshot::Sender<serde_json::Value>),
}

/// What modules and event I/O processors need from the session runtime. The runtime implements it; they hold it
/// as `Arc<dyn Runtime>` during a call and as a `Weak` in work that outlives the call, so a runtime that is
/// dropped is not kept alive by work still in flight.
pub trait Runtime: Send + Sync {
    /// Queues `input` for session `id`; false when no such session is alive.
    fn deliver(&self, id: &str, input: SessionInput) -> bool;

    /// Answers the pending request `requestid`; false when nobody waits for it.
    fn answer(&self, requestid: &str, answer: Answer) -> bool;

    /// Runs module work (an HTTP call, a fetch, a child start) in the background. The runtime counts it as in
    /// flight until it has finished, so callers can wait until a session has settled.
    fn spawn(&self, work: BoxFuture<'static, ()>);

    /// Loads the document `src` and starts a session of it with `params` in its `<data>` items (the runtime's
    /// default TTL); returns the new session's id.
    fn start(
        &self,
        src: String,
        params: Vec<(String, Value)>,
    ) -> BoxFuture<'_, Result<String, OrsError>>;
}

/// Builds an event as a module completion: external, with `data`.
pub fn completion(name: &str, data: Value) -> Event {
    Event::external(name).with_data(data)
}

/// An object value of string entries, in order (the data of most completion events).
pub fn strings<K: AsRef<str>>(entries: impl IntoIterator<Item = (K, String)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (Arc::from(key.as_ref()), Value::string(value)))
            .collect(),
    )
}
