//! Builds this node's ORS layer from the configuration: the runtime, its modules (DFM files, the simulated
//! contact center), the HTTP client every ORS call uses, and the tasks that drive the contact center's clock and
//! deliver its events. `app.rs` calls [`OrsNode::build`] and mounts the routes of `http::scxml`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{ConfigHandle, GmsConfig};
use crate::contact_center::{AgentOptions, CcEvent, ContactCenter, SimOptions, Simulator};
use crate::dfm::{DfmSet, Executor, InProcess};
use crate::ors::config::OrsSection;
use crate::ors::documents::Documents;
use crate::ors::ioproc::IoProcessors;
use crate::ors::modules::Modules;
use crate::ors::runtime::{Ors, Parts};

/// This node's ORS layer.
#[derive(Clone)]
pub struct OrsNode {
    /// The session runtime.
    pub ors: Ors,
    /// The simulated contact center the modules use, steerable at run time.
    pub simulator: Arc<Simulator>,
    /// The typed `[ors]` section.
    pub section: OrsSection,
    /// The client of flow-side calls (documents fetched from `src`, DFM actions) with the `gms/http.*` timeouts.
    pub client: reqwest::Client,
    /// The client of calls to a remote ORS (`gms/http.*` timeouts and `http.client_port_range`).
    pub ors_client: crate::outbound::HttpClient,
    /// Contact-center events emitted and not yet handed to their sessions, and how many were ever emitted
    /// (`gms run` waits for them before it reads a flow's state).
    pub cc_events: Arc<EventCount>,
    /// Offered every contact-center event before the flows (set once; chat routing takes its own events).
    pub event_tap: Arc<OnceLock<EventTap>>,
}

/// Takes the contact-center events it owns and gives the others back.
pub type EventTap = Arc<dyn Fn(CcEvent) -> Option<CcEvent> + Send + Sync>;

/// Counts contact-center events from emission until they have been dispatched to their sessions.
#[derive(Debug, Default)]
pub struct EventCount {
    /// Emitted, not dispatched yet.
    pub pending: AtomicUsize,
    /// Ever emitted.
    pub emitted: AtomicU64,
}

/// The simulator's sink: forwards to the dispatcher and counts.
struct CountingSink {
    sender: tokio::sync::mpsc::UnboundedSender<CcEvent>,
    count: Arc<EventCount>,
}

impl crate::contact_center::EventSink for CountingSink {
    fn emit(&self, event: CcEvent) {
        self.count.emitted.fetch_add(1, Ordering::SeqCst);
        self.count.pending.fetch_add(1, Ordering::SeqCst);
        if self.sender.send(event).is_err() {
            self.count.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The HTTP client of flow-side calls (what a real ORS would make: `src` documents, DFM actions), with
/// `gms/http.connection_timeout`, `http.socket_timeout` and `http.max_connections_per_route`. Calls from GMS to
/// an ORS go through [`crate::outbound::HttpClient`], which also binds `http.client_port_range`.
pub fn http_client(config: &GmsConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(config.gms.http_connection_timeout)
        .read_timeout(config.gms.http_socket_timeout)
        .pool_max_idle_per_host(config.gms.http_max_connections_per_route as usize)
        .build()
        .unwrap_or_default()
}

/// Reads `[contact_center]`: `agents` (`id@group` list), `agents_ready` (all agents ready at start, false),
/// `ewt` (seconds, 60), `ring_time` (seconds, 5), `handle_time` (seconds, 120).
pub fn sim_options(config: &GmsConfig) -> (SimOptions, Vec<String>) {
    let mut options = SimOptions::default();
    let mut warnings = Vec::new();
    let Some(section) = config.raw().section("contact_center") else {
        return (options, warnings);
    };
    let ready = section
        .get("agents_ready")
        .map(|option| crate::config::value::boolean(option).unwrap_or(false))
        .unwrap_or(false);
    if let Some(option) = section.get("agents") {
        for entry in crate::config::value::list(option) {
            let (id, groups) = entry.split_once('@').unwrap_or((entry.as_str(), ""));
            options.agents.push(AgentOptions {
                id: id.to_string(),
                groups: groups
                    .split('+')
                    .filter(|group| !group.is_empty())
                    .map(str::to_string)
                    .collect(),
                ready,
            });
        }
    }
    for (name, slot) in [
        ("ewt", &mut options.ewt),
        ("ring_time", &mut options.ring_time),
    ] {
        if let Some(option) = section.get(name) {
            match crate::config::value::seconds(option, 0, 86_400) {
                Ok(value) => *slot = value,
                Err(diagnostic) => warnings.push(diagnostic.to_string()),
            }
        }
    }
    if let Some(option) = section.get("handle_time") {
        match crate::config::value::seconds(option, 0, 86_400) {
            Ok(value) => options.handle_time = Some(value),
            Err(diagnostic) => warnings.push(diagnostic.to_string()),
        }
    }
    (options, warnings)
}

impl std::fmt::Debug for OrsNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrsNode")
            .field("ors", &self.ors)
            .field("section", &self.section)
            .finish_non_exhaustive()
    }
}

impl OrsNode {
    /// Builds the layer; must run inside a tokio runtime (module work and the contact center's driver are
    /// tasks on it). `in_process` serves DFM requests addressed to this node; sessions and the simulated contact
    /// center run on `clock`.
    pub fn build(
        config: &Arc<ConfigHandle>,
        config_dir: Option<&Path>,
        in_process: Arc<dyn InProcess>,
        clock: Arc<dyn Clock>,
    ) -> OrsNode {
        let current = config.get();
        let mut section = OrsSection::from_config(&current);
        let client = http_client(&current);
        let mut base_dirs = vec![PathBuf::from(".")];
        if let Some(dir) = config_dir {
            base_dirs.push(dir.to_path_buf());
        }
        let mut dfm = DfmSet::new();
        for file in &section.dfm_files {
            let candidates: Vec<PathBuf> = if file.is_absolute() {
                vec![file.clone()]
            } else {
                base_dirs.iter().map(|dir| dir.join(file)).collect()
            };
            let loaded = match candidates.iter().find(|path| path.exists()) {
                Some(found) => crate::dfm::load_file(found),
                None => match file.to_str().and_then(crate::samples::file) {
                    // The DFM files shipped in `dfm/` are built in, for a server started elsewhere.
                    Some(text) => crate::dfm::load_str(text, &file.display().to_string()),
                    None => {
                        section
                            .warnings
                            .push(format!("DFM file {} not found", file.display()));
                        continue;
                    }
                },
            };
            match loaded.and_then(|loaded| dfm.insert(loaded)) {
                Ok(_) => {}
                Err(error) => section.warnings.push(error.to_string()),
            }
        }
        let (sim_options, sim_warnings) = sim_options(&current);
        section.warnings.extend(sim_warnings);
        let (sink, mut events) = tokio::sync::mpsc::unbounded_channel::<CcEvent>();
        let cc_events = Arc::new(EventCount::default());
        let sink = CountingSink {
            sender: sink,
            count: cc_events.clone(),
        };
        let simulator = Arc::new(Simulator::new(sim_options, clock.clone(), Arc::new(sink)));
        let executor = Executor::new()
            .with_client(client.clone())
            .with_in_process(in_process);
        let modules = Modules::new(
            dfm,
            executor,
            Some(simulator.clone() as Arc<dyn ContactCenter>),
        )
        .with_route_points(section.route_points.clone());
        let wake = modules.wake();
        let ors = Ors::new(Parts {
            options: section.options.clone(),
            documents: Documents::new(client.clone(), base_dirs.clone(), {
                let mut limits = crate::ors::documents::Limits::new(
                    section.documents.roots.as_deref(),
                    &base_dirs,
                    section.documents.max_size,
                    section.documents.fetch_timeout,
                );
                limits.add_roots(&config.overrides().document_roots);
                limits
            }),
            modules,
            io: IoProcessors::new(client.clone()),
            clock: clock.clone(),
            handle: tokio::runtime::Handle::current(),
        });
        for warning in &section.warnings {
            tracing::warn!("{warning}");
        }
        // Delivers the contact center's events to the sessions waiting for them.
        let weak = ors.downgrade();
        let count = cc_events.clone();
        let event_tap: Arc<OnceLock<EventTap>> = Arc::new(OnceLock::new());
        let tap = event_tap.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let Some(ors) = weak.upgrade() else {
                    return;
                };
                let event = match tap.get() {
                    Some(tap) => tap(event),
                    None => Some(event),
                };
                if let Some(event) = event {
                    ors.dispatch(event).await;
                }
                count.pending.fetch_sub(1, Ordering::SeqCst);
            }
        });
        // Ticks the simulator at its deadlines, and whenever a module call may have scheduled new work.
        let driven = Arc::downgrade(&simulator);
        tokio::spawn(async move {
            loop {
                let Some(simulator) = driven.upgrade() else {
                    return;
                };
                simulator.tick();
                let wait = simulator
                    .next_deadline()
                    .map(|due| due.saturating_sub(clock.now()))
                    .unwrap_or(Duration::from_secs(1));
                drop(simulator);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = wake.notified() => {}
                }
            }
        });
        OrsNode {
            ors,
            simulator,
            section,
            client,
            cc_events,
            event_tap,
            ors_client: crate::outbound::HttpClient::new(crate::outbound::HttpSettings::from_gms(
                &current.gms,
            )),
        }
    }
}
