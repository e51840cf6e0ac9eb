//! [`Ors`]: the registry of live sessions and the operations of the ORS HTTP interface (start, event, request,
//! terminate, query), on top of the worker threads of [`crate::ors::worker`].
//!
//! A session lives on one worker thread for its whole life (boa contexts are not `Send`) and is reached only
//! through that worker's inbox ([`Command`], a closed enum). A request waits for the flow's `<ws:response>`
//! through a pending entry keyed by the event's `sendid`; the entry is failed at once when its session ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::ors::documents::{DocumentError, Documents};
use crate::ors::modules::Modules;
use crate::ors::worker;
use crate::scxml::{Event, Model, Value};

/// How the runtime is sized ([`crate::ors`] documents the `[ors]` options).
#[derive(Debug, Clone)]
pub struct OrsOptions {
    /// Worker threads (each with one ECMAScript runtime).
    pub workers: usize,
    /// The most sessions alive at once; starting one more fails with [`OrsError::Capacity`].
    pub max_sessions: usize,
    /// How long a session lives when its starter gives no TTL.
    pub session_ttl: Duration,
    /// How long a request waits for the flow's `<ws:response>`.
    pub request_timeout: Duration,
}

impl Default for OrsOptions {
    fn default() -> Self {
        OrsOptions {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_sessions: 200_000,
            session_ttl: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(2),
        }
    }
}

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
}

struct PendingRequest {
    session: String,
    reply: oneshot::Sender<Result<Answer, OrsError>>,
}

/// State shared by the handles, the workers and the module tasks.
pub struct Shared {
    pub(crate) options: OrsOptions,
    workers: Vec<mpsc::Sender<Command>>,
    sessions: Mutex<HashMap<String, usize>>,
    live: AtomicUsize,
    next_id: AtomicU64,
    pending: Mutex<HashMap<String, PendingRequest>>,
    pub(crate) documents: Documents,
    pub(crate) modules: Modules,
    pub(crate) handle: tokio::runtime::Handle,
    /// Module work in flight (DFM calls, fetches, child starts, BasicHTTP sends) and how much was ever started,
    /// so a caller can wait until a session has settled ([`Ors::settle`]).
    in_flight: AtomicUsize,
    started: AtomicU64,
    /// Sessions started with an `idealtime` still to come: their id is reserved, nothing reaches them yet.
    scheduled: Mutex<std::collections::HashSet<String>>,
    /// The base URL (`http://host:port`) of the listener serving `/scxml/basichttp/{id}`, once it is bound: each
    /// session's `_ioprocessors` gives its BasicHTTP location under it.
    pub(crate) basichttp_base: std::sync::OnceLock<String>,
    /// Told the id of every session that ends, however it ends (the Service API releases what its instance held).
    end_listener: std::sync::OnceLock<SessionEndListener>,
}

/// Called with the id of each session that has ended ([`Ors::set_session_end_listener`]). It runs on the thread
/// that saw the end (a worker), so it must only hand the work on (spawn a task), never block.
pub type SessionEndListener = Arc<dyn Fn(&str) + Send + Sync>;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("options", &self.options)
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Queues `input` for session `id`; false when no such session is alive.
    pub(crate) fn deliver(&self, id: &str, input: SessionInput) -> bool {
        if lock(&self.scheduled).contains(id) {
            // Not started yet (`idealtime` to come): as if it did not exist.
            return false;
        }
        let worker = lock(&self.sessions).get(id).copied();
        match worker {
            Some(worker) => self.workers[worker]
                .send(Command::Deliver {
                    id: id.to_string(),
                    input,
                })
                .is_ok(),
            None => false,
        }
    }

    /// True when session `id` is alive.
    pub(crate) fn is_alive(&self, id: &str) -> bool {
        lock(&self.sessions).contains_key(id)
    }

    /// Answers the pending request `requestid`; false when nobody waits for it.
    pub(crate) fn answer(&self, requestid: &str, answer: Answer) -> bool {
        match lock(&self.pending).remove(requestid) {
            Some(pending) => pending.reply.send(Ok(answer)).is_ok(),
            None => false,
        }
    }

    /// Fails the pending request `requestid` of `session` at once: the flow took no transition for it.
    pub(crate) fn unhandled(&self, requestid: &str, session: &str, name: &str) {
        let mut pending = lock(&self.pending);
        if pending
            .get(requestid)
            .is_some_and(|entry| entry.session == session)
            && let Some(entry) = pending.remove(requestid)
        {
            let _ = entry.reply.send(Err(OrsError::Unhandled {
                session: session.to_string(),
                name: name.to_string(),
            }));
        }
    }

    /// Called by a worker when session `id` has ended: forgets it and fails its pending requests.
    pub(crate) fn ended(&self, id: &str) {
        if lock(&self.sessions).remove(id).is_some() {
            self.live.fetch_sub(1, Ordering::SeqCst);
            if let Some(listener) = self.end_listener.get() {
                listener(id);
            }
        }
        // However it ended (final state, TTL, terminate, failure), nothing it asked the contact center for stays.
        self.modules.session_ended(id);
        let mut pending = lock(&self.pending);
        let ids: Vec<String> = pending
            .iter()
            .filter(|(_, entry)| entry.session == id)
            .map(|(key, _)| key.clone())
            .collect();
        for key in ids {
            if let Some(entry) = pending.remove(&key) {
                let _ = entry.reply.send(Err(OrsError::Ended(id.to_string())));
            }
        }
    }

    /// Runs module work on the runtime, counted as in flight until it has finished (its completion event, if any,
    /// is then in the session's inbox).
    pub(crate) fn spawn(self: &Arc<Self>, work: impl Future<Output = ()> + Send + 'static) {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let shared = Arc::downgrade(self);
        self.handle.spawn(async move {
            // Counted down even if the work panics or is cancelled with the runtime.
            struct Done(std::sync::Weak<Shared>);
            impl Drop for Done {
                fn drop(&mut self) {
                    if let Some(shared) = self.0.upgrade() {
                        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
            let _done = Done(shared);
            work.await;
        });
    }

    fn new_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{:08X}{:08X}", fastrand::u32(..), n as u32)
    }

    /// Starts a session of `model` (already parsed) and returns its id.
    pub(crate) fn start_model(
        self: &Arc<Self>,
        model: Arc<Model>,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
    ) -> Result<String, OrsError> {
        self.start_model_after(model, params, ttl, None)
    }

    /// Starts a session of `model` now or, given `after`, once that much time has passed (ORS's `idealtime`);
    /// the id is reserved and counted against the session cap at once.
    pub(crate) fn start_model_after(
        self: &Arc<Self>,
        model: Arc<Model>,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
        after: Option<Duration>,
    ) -> Result<String, OrsError> {
        let max = self.options.max_sessions;
        if self
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live < max).then_some(live + 1)
            })
            .is_err()
        {
            return Err(OrsError::Capacity(max));
        }
        let id = self.new_id("");
        let worker = (self.next_id.load(Ordering::Relaxed) as usize) % self.workers.len();
        lock(&self.sessions).insert(id.clone(), worker);
        let command = Command::Start {
            id: id.clone(),
            model,
            params,
            ttl: ttl.unwrap_or(self.options.session_ttl),
        };
        if let Some(after) = after.filter(|after| !after.is_zero()) {
            lock(&self.scheduled).insert(id.clone());
            let shared = Arc::downgrade(self);
            let scheduled = id.clone();
            self.handle.spawn(async move {
                tokio::time::sleep(after).await;
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                // Terminated before its time: nothing to start.
                if lock(&shared.scheduled).remove(&scheduled)
                    && shared.workers[worker].send(command).is_err()
                {
                    shared.ended(&scheduled);
                }
            });
            return Ok(id);
        }
        if self.workers[worker].send(command).is_err() {
            self.ended(&id);
            return Err(OrsError::Ended(id));
        }
        Ok(id)
    }
}

/// The ORS session runtime (a cheap handle).
#[derive(Debug, Clone)]
pub struct Ors {
    shared: Arc<Shared>,
}

impl Ors {
    /// Starts the worker threads. Module work (DFM calls, fetches) runs on the tokio runtime of `handle`.
    pub fn new(
        options: OrsOptions,
        documents: Documents,
        modules: Modules,
        handle: tokio::runtime::Handle,
    ) -> Ors {
        let n_workers = options.workers.max(1);
        let mut senders = Vec::with_capacity(n_workers);
        let mut receivers = Vec::with_capacity(n_workers);
        for _ in 0..n_workers {
            let (sender, receiver) = mpsc::channel();
            senders.push(sender);
            receivers.push(receiver);
        }
        let shared = Arc::new(Shared {
            options,
            workers: senders,
            sessions: Mutex::new(HashMap::new()),
            live: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            documents,
            modules,
            handle,
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            scheduled: Mutex::new(std::collections::HashSet::new()),
            basichttp_base: std::sync::OnceLock::new(),
            end_listener: std::sync::OnceLock::new(),
        });
        for (index, receiver) in receivers.into_iter().enumerate() {
            let weak = Arc::downgrade(&shared);
            let globals = shared.modules.globals_hook();
            let _ = std::thread::Builder::new()
                .name(format!("ors-worker-{index}"))
                .spawn(move || worker::run(weak, receiver, globals));
        }
        shared.modules.attach(Arc::downgrade(&shared));
        Ors { shared }
    }

    /// The shared state (for the module dispatchers).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// How many sessions are alive.
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// `POST /scxml/session/start`: loads `src` and starts a session with `params` in its `<data>` items.
    pub async fn start(
        &self,
        src: &str,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
    ) -> Result<String, OrsError> {
        let model = self.shared.documents.load(src).await?;
        self.shared.start_model(model, params, ttl)
    }

    /// Tells sessions where they receive BasicHTTP events: the base URL (`http://127.0.0.1:8081`) of the listener
    /// that serves `/scxml/basichttp/{id}`. Set once, when that listener is bound.
    pub fn set_basichttp_base(&self, base: String) {
        let _ = self.shared.basichttp_base.set(base);
    }

    /// Sets the listener told of every session that ends (once; later calls are ignored).
    pub fn set_session_end_listener(&self, listener: SessionEndListener) {
        let _ = self.shared.end_listener.set(listener);
    }

    /// `POST /scxml/session/start` with `idealtime`: as [`Ors::start`], but the session starts at `idealtime`
    /// (ms since the epoch) when that is still to come. Until then the id is reserved (and counted against the
    /// cap), events and requests to it fail as for an unknown session, and terminating it cancels the start.
    pub async fn start_at(
        &self,
        src: &str,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
        idealtime: u64,
    ) -> Result<String, OrsError> {
        let model = self.shared.documents.load(src).await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        let after = Duration::from_millis(idealtime.saturating_sub(now));
        self.shared
            .start_model_after(model, params, ttl, Some(after))
    }

    /// `/scxml/session/{id}/event/{name}`: queues an external event.
    pub fn event(&self, id: &str, name: &str, data: Value) -> Result<(), OrsError> {
        let event = Event::external(name).with_data(data);
        if self.shared.deliver(id, SessionInput::External(event)) {
            Ok(())
        } else {
            Err(OrsError::NotFound(id.to_string()))
        }
    }

    /// Queues a ready-made external event (BasicHTTP receiving end).
    pub fn deliver(&self, id: &str, event: Event) -> Result<(), OrsError> {
        if self.shared.deliver(id, SessionInput::External(event)) {
            Ok(())
        } else {
            Err(OrsError::NotFound(id.to_string()))
        }
    }

    /// `/scxml/session/{id}/request/{name}`: sends the request and waits for `<ws:response>` (at most `timeout`,
    /// else the configured request timeout).
    pub async fn request(
        &self,
        id: &str,
        name: &str,
        data: Value,
        timeout: Option<Duration>,
    ) -> Result<Answer, OrsError> {
        if !self.shared.is_alive(id) {
            return Err(OrsError::NotFound(id.to_string()));
        }
        let sendid = self.shared.new_id("req-");
        let (reply, answer) = oneshot::channel();
        lock(&self.shared.pending).insert(
            sendid.clone(),
            PendingRequest {
                session: id.to_string(),
                reply,
            },
        );
        let mut event = Event::external(name).with_data(data);
        event.sendid = Some(Arc::from(sendid.as_str()));
        if !self.shared.deliver(id, SessionInput::Request(event)) {
            lock(&self.shared.pending).remove(&sendid);
            return Err(OrsError::NotFound(id.to_string()));
        }
        let timeout = timeout.unwrap_or(self.shared.options.request_timeout);
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(OrsError::Ended(id.to_string())),
            Err(_) => {
                lock(&self.shared.pending).remove(&sendid);
                Err(OrsError::Timeout {
                    session: id.to_string(),
                    name: name.to_string(),
                    timeout_ms: timeout.as_millis() as u64,
                })
            }
        }
    }

    /// `/scxml/session/{id}/terminate`.
    pub async fn terminate(&self, id: &str) -> Result<(), OrsError> {
        if lock(&self.shared.scheduled).remove(id) {
            // Not started yet: cancel the start.
            self.shared.ended(id);
            return Ok(());
        }
        let (reply, done) = oneshot::channel();
        if !self
            .shared
            .deliver(id, SessionInput::Terminate(Some(reply)))
        {
            return Err(OrsError::NotFound(id.to_string()));
        }
        match done.await {
            Ok(true) => Ok(()),
            _ => Err(OrsError::NotFound(id.to_string())),
        }
    }

    /// Waits until session `id` has settled: no module work in flight and every event already queued for it
    /// processed; returns its `query` state then (`NotFound` once it has ended). Delayed sends and the contact
    /// center's own timing are not waited for. Gives up after `patience` (module work that never ends, a flow
    /// that keeps calling modules forever) and returns the state the session is in.
    pub async fn settle(
        &self,
        id: &str,
        patience: Duration,
    ) -> Result<serde_json::Value, OrsError> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            while self.shared.in_flight.load(Ordering::SeqCst) > 0
                && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let started = self.shared.started.load(Ordering::SeqCst);
            // The query waits behind everything queued before it, including completions of finished work.
            let state = self.query(id).await?;
            let quiet = self.shared.in_flight.load(Ordering::SeqCst) == 0
                && self.shared.started.load(Ordering::SeqCst) == started;
            if quiet || tokio::time::Instant::now() >= deadline {
                return Ok(state);
            }
        }
    }

    /// `/scxml/session/{id}/query`: the session's id, name, active states and datamodel.
    pub async fn query(&self, id: &str) -> Result<serde_json::Value, OrsError> {
        let (reply, answer) = oneshot::channel();
        if !self.shared.deliver(id, SessionInput::Query(reply)) {
            return Err(OrsError::NotFound(id.to_string()));
        }
        answer.await.map_err(|_| OrsError::NotFound(id.to_string()))
    }
}
