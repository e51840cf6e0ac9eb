//! [`Ors`]: the registry of live sessions and the operations of the ORS HTTP interface (start, event, request,
//! terminate, query), on top of the worker threads of [`crate::ors::worker`].
//!
//! A session lives on one worker thread for its whole life (boa contexts are not `Send`) and is reached only
//! through that worker's inbox ([`Command`], a closed enum). A request waits for the flow's `<ws:response>`
//! through a pending entry keyed by the event's `sendid`; the entry is failed at once when its session ends.
//! The registry implements [`Runtime`] for the modules and I/O processors, and [`Registry`] for the workers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::contact_center::CcEvent;
use crate::ors::config::OrsOptions;
use crate::ors::documents::Documents;
use crate::ors::exchange::{Answer, BoxFuture, OrsError, Runtime, SessionInput};
use crate::ors::ioproc::IoProcessors;
use crate::ors::modules::Modules;
use crate::ors::trace::{TraceHub, TraceLine, Watch};
use crate::ors::worker::{self, Command, Registry, WorkerParts};
use crate::scxml::{Event, Model, Value};
use crate::sync::lock;

struct PendingRequest {
    session: String,
    reply: oneshot::Sender<Result<Answer, OrsError>>,
}

/// Called with the id of each session that has ended ([`Ors::set_session_end_listener`]). It runs on the thread
/// that saw the end (a worker), so it must only hand the work on (spawn a task), never block.
pub type SessionEndListener = Arc<dyn Fn(&str) + Send + Sync>;

/// What the runtime is built from.
pub struct Parts {
    /// Sizing.
    pub options: OrsOptions,
    /// Where `src` documents come from.
    pub documents: Documents,
    /// The modules flows call.
    pub modules: Modules,
    /// The event I/O processors of `<send>`s the engine does not deliver itself.
    pub io: IoProcessors,
    /// The clock of session timers, TTLs and `idealtime`.
    pub clock: Arc<dyn Clock>,
    /// Where module work runs.
    pub handle: tokio::runtime::Handle,
}

/// What the registry keeps of a live session: its worker, and for the console its chart and start.
struct Live {
    worker: usize,
    model: Arc<Model>,
    started_ms: u64,
}

impl Live {
    fn summary(&self, id: &str, scheduled: bool) -> SessionSummary {
        SessionSummary {
            id: id.to_string(),
            name: self.model.name.as_deref().map(str::to_string),
            file: self
                .model
                .file
                .as_deref()
                .map(|file| file.display().to_string()),
            started_ms: self.started_ms,
            scheduled,
        }
    }
}

/// A live session as [`Ors::sessions`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionSummary {
    /// The session id.
    pub id: String,
    /// The `name` of the chart's `<scxml>`.
    pub name: Option<String>,
    /// The file the chart was read from, when it came from a file.
    pub file: Option<String>,
    /// When the session was started (or, for one waiting for its `idealtime`, reserved), ms since the epoch.
    pub started_ms: u64,
    /// True while it waits for its `idealtime`: nothing reaches it yet.
    pub scheduled: bool,
}

/// State shared by the handles, the workers and the module tasks.
struct Shared {
    options: OrsOptions,
    workers: Vec<mpsc::Sender<Command>>,
    sessions: Mutex<HashMap<String, Live>>,
    live: AtomicUsize,
    next_id: AtomicU64,
    pending: Mutex<HashMap<String, PendingRequest>>,
    documents: Documents,
    modules: Arc<Modules>,
    io: Arc<IoProcessors>,
    clock: Arc<dyn Clock>,
    handle: tokio::runtime::Handle,
    /// Module work in flight (DFM calls, fetches, child starts, BasicHTTP sends) and how much was ever started,
    /// so a caller can wait until a session has settled ([`Ors::settle`]).
    in_flight: Arc<AtomicUsize>,
    started: AtomicU64,
    /// Sessions started with an `idealtime` still to come: their id is reserved, nothing reaches them yet.
    scheduled: Mutex<HashSet<String>>,
    /// Told the id of every session that ends, however it ends (the Service API releases what its instance held).
    end_listener: OnceLock<SessionEndListener>,
    /// Who watches which session's steps.
    trace: Arc<TraceHub>,
}

impl Runtime for Shared {
    fn deliver(&self, id: &str, input: SessionInput) -> bool {
        if lock(&self.scheduled).contains(id) {
            // Not started yet (`idealtime` to come): as if it did not exist.
            return false;
        }
        let worker = lock(&self.sessions).get(id).map(|live| live.worker);
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

    fn answer(&self, requestid: &str, answer: Answer) -> bool {
        match lock(&self.pending).remove(requestid) {
            Some(pending) => pending.reply.send(Ok(answer)).is_ok(),
            None => false,
        }
    }

    fn spawn(&self, work: BoxFuture<'static, ()>) {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        // Counted down even if the work panics or is cancelled with the runtime.
        struct Done(Arc<AtomicUsize>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let done = Done(self.in_flight.clone());
        self.handle.spawn(async move {
            let _done = done;
            work.await;
        });
    }

    fn start(
        &self,
        src: String,
        params: Vec<(String, Value)>,
    ) -> BoxFuture<'_, Result<String, OrsError>> {
        Box::pin(async move {
            let model = self.documents.load(&src).await?;
            self.start_now(model, params, None)
        })
    }
}

impl Registry for Shared {
    fn refuse(&self, requestid: &str, session: &str, name: &str) {
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

    fn ended(&self, id: &str) {
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
}

impl Shared {
    /// True when session `id` is alive.
    fn is_alive(&self, id: &str) -> bool {
        lock(&self.sessions).contains_key(id)
    }

    fn new_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{:08X}{:08X}", fastrand::u32(..), n as u32)
    }

    /// Reserves an id and a place under the session cap, on a worker; the command that starts it is the caller's.
    fn reserve(
        &self,
        model: Arc<Model>,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
    ) -> Result<(String, usize, Command), OrsError> {
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
        lock(&self.sessions).insert(
            id.clone(),
            Live {
                worker,
                model: model.clone(),
                started_ms: self.clock.now_ms(),
            },
        );
        let command = Command::Start {
            id: id.clone(),
            model,
            params,
            ttl: ttl.unwrap_or(self.options.session_ttl),
        };
        Ok((id, worker, command))
    }

    /// Starts a session of `model` (already parsed) now and returns its id.
    fn start_now(
        &self,
        model: Arc<Model>,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
    ) -> Result<String, OrsError> {
        let (id, worker, command) = self.reserve(model, params, ttl)?;
        if self.workers[worker].send(command).is_err() {
            self.ended(&id);
            return Err(OrsError::Ended(id));
        }
        Ok(id)
    }

    /// Starts a session of `model` once `after` has passed (ORS's `idealtime`); the id is reserved and counted
    /// against the session cap at once.
    fn start_later(
        self: &Arc<Self>,
        model: Arc<Model>,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
        after: Duration,
    ) -> Result<String, OrsError> {
        if after.is_zero() {
            return self.start_now(model, params, ttl);
        }
        let (id, worker, command) = self.reserve(model, params, ttl)?;
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
        Ok(id)
    }
}

/// The ORS session runtime (a cheap handle).
#[derive(Clone)]
pub struct Ors {
    shared: Arc<Shared>,
}

/// A handle that does not keep the runtime alive ([`Ors::downgrade`]), for tasks that live as long as it does.
#[derive(Clone)]
pub struct WeakOrs(Weak<Shared>);

impl WeakOrs {
    /// The runtime, while it is alive.
    pub fn upgrade(&self) -> Option<Ors> {
        self.0.upgrade().map(|shared| Ors { shared })
    }
}

impl std::fmt::Debug for Ors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ors")
            .field("options", &self.shared.options)
            .field("live", &self.shared.live)
            .finish_non_exhaustive()
    }
}

impl Ors {
    /// Starts the worker threads. Module work (DFM calls, fetches) runs on the tokio runtime of `parts.handle`.
    pub fn new(parts: Parts) -> Ors {
        let Parts {
            options,
            documents,
            modules,
            io,
            clock,
            handle,
        } = parts;
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
            modules: Arc::new(modules),
            io: Arc::new(io),
            clock,
            handle,
            in_flight: Arc::new(AtomicUsize::new(0)),
            started: AtomicU64::new(0),
            scheduled: Mutex::new(HashSet::new()),
            end_listener: OnceLock::new(),
            trace: Arc::new(TraceHub::default()),
        });
        for (index, receiver) in receivers.into_iter().enumerate() {
            let registry = Arc::downgrade(&shared);
            let parts = WorkerParts {
                globals: shared.modules.globals_hook(),
                modules: shared.modules.clone(),
                io: shared.io.clone(),
                clock: shared.clock.clone(),
                trace: shared.trace.clone(),
            };
            let _ = std::thread::Builder::new()
                .name(format!("ors-worker-{index}"))
                .spawn(move || worker::run(registry, receiver, parts));
        }
        Ors { shared }
    }

    /// Receives the macrosteps of `which` as trace lines, from their next step on, and a last line
    /// `{"ended": true, "halt"}` when a watched session ends.
    pub fn watch(&self, which: Watch) -> tokio::sync::broadcast::Receiver<Arc<TraceLine>> {
        self.shared.trace.watch(which)
    }

    /// A handle that does not keep the runtime alive.
    pub fn downgrade(&self) -> WeakOrs {
        WeakOrs(Arc::downgrade(&self.shared))
    }

    /// How many sessions are alive.
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// The live sessions (those waiting for their `idealtime` too), oldest first.
    pub fn sessions(&self) -> Vec<SessionSummary> {
        let scheduled = lock(&self.shared.scheduled).clone();
        let mut sessions: Vec<SessionSummary> = lock(&self.shared.sessions)
            .iter()
            .map(|(id, live)| live.summary(id, scheduled.contains(id)))
            .collect();
        sessions.sort_by(|a, b| (a.started_ms, &a.id).cmp(&(b.started_ms, &b.id)));
        sessions
    }

    /// Session `id` as [`Ors::sessions`] lists it, while it is alive.
    pub fn session(&self, id: &str) -> Option<SessionSummary> {
        let scheduled = lock(&self.shared.scheduled).contains(id);
        lock(&self.shared.sessions)
            .get(id)
            .map(|live| live.summary(id, scheduled))
    }

    /// The chart session `id` runs, while it is alive.
    pub fn model(&self, id: &str) -> Option<Arc<Model>> {
        lock(&self.shared.sessions)
            .get(id)
            .map(|live| live.model.clone())
    }

    /// True while session `id` is alive (or waits for its `idealtime`).
    pub fn is_alive(&self, id: &str) -> bool {
        self.shared.is_alive(id)
    }

    /// True while someone watches session `id`'s steps ([`Ors::watch`]); a watcher that has dropped its
    /// receiver no longer counts.
    pub fn is_traced(&self, id: &str) -> bool {
        self.shared.trace.watching(id)
    }

    /// Wakes every worker to fire what has come due: for tests that move a manual clock by hand (the system clock
    /// needs no wake-up, workers sleep until their next deadline).
    pub fn tick(&self) {
        for worker in &self.shared.workers {
            let _ = worker.send(Command::Tick);
        }
    }

    /// Turns a contact-center event into the module event of the session that waits for it.
    pub async fn dispatch(&self, event: CcEvent) {
        let runtime: Arc<dyn Runtime> = self.shared.clone();
        self.shared.modules.dispatch(&runtime, event).await;
    }

    /// Notified after every contact-center call, for the driver that ticks the contact center's clock.
    pub fn contact_center_wake(&self) -> Arc<tokio::sync::Notify> {
        self.shared.modules.wake()
    }

    /// `POST /scxml/session/start`: loads `src` and starts a session with `params` in its `<data>` items.
    pub async fn start(
        &self,
        src: &str,
        params: Vec<(String, Value)>,
        ttl: Option<Duration>,
    ) -> Result<String, OrsError> {
        let model = self.shared.documents.load(src).await?;
        self.shared.start_now(model, params, ttl)
    }

    /// Tells sessions where they receive BasicHTTP events: the base URL (`http://127.0.0.1:8081`) of the listener
    /// that serves `/scxml/basichttp/{id}`. Set once, when that listener is bound.
    pub fn set_basichttp_base(&self, base: String) {
        self.shared.io.set_basichttp_base(base);
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
        let after = Duration::from_millis(idealtime.saturating_sub(self.shared.clock.now_ms()));
        self.shared.start_later(model, params, ttl, after)
    }

    /// `/scxml/session/{id}/event/{name}`: queues an external event.
    pub fn event(&self, id: &str, name: &str, data: Value) -> Result<(), OrsError> {
        self.deliver(id, Event::external(name).with_data(data))
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

/// The active atomic states in an answer of [`Ors::query`], in document order.
pub fn active_states(state: &serde_json::Value) -> Vec<String> {
    state["states"]
        .as_array()
        .map(|states| {
            states
                .iter()
                .filter_map(|state| state.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
