//! Builds the running application (store, registries, services, listeners) from a configuration.
//!
//! [`App::build`] opens the store and wires the domain services into an [`AppState`]; [`App::listeners`] is where
//! every area's routes are mounted (one line each); [`App::serve`] runs both listeners (and [`App::serve_all`]
//! ORS's own port too), the configuration watcher and the alarm checks until the shutdown future resolves, then
//! drains in-flight requests.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::cometd;
use crate::config::{ConfigHandle, GmsConfig};
use crate::http;
use crate::http::in_process::RouterInProcess;
use crate::http::metrics::Metrics;
use crate::http::state::Handles;
use crate::http::{AppState, Listeners, Routers};
use crate::notify;
use crate::ors::node::OrsNode;
use crate::resources::Resources;
use crate::services::flow::FlowService;
use crate::services::{ServiceCore, ServiceRegistry};
use crate::storage::Storage;
use crate::store::{self, Embedded, Store, Timed};

/// How often the option file is checked for changes.
pub const CONFIG_POLL: Duration = Duration::from_millis(500);

/// What [`App::build`] needs.
#[derive(Debug)]
pub struct AppOptions {
    /// The typed configuration.
    pub config: GmsConfig,
    /// The option file it came from, watched for changes (`None`: no reload).
    pub config_path: Option<PathBuf>,
    /// Where the embedded store keeps its file.
    pub data_dir: PathBuf,
    /// The clock of the store and services.
    pub clock: Arc<dyn Clock>,
    /// How the embedded store syncs and checkpoints.
    pub store: crate::store::embedded::Options,
    /// Command-line options that win over the option file (`--node-id`).
    pub overrides: crate::config::Overrides,
    /// The store shared with other nodes, when one was opened (`--store redis://...`); `None`: the embedded store
    /// in `data_dir`.
    pub redis: Option<crate::store::redis::Redis>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A listener failed.
    #[error("listener failed: {0}")]
    Io(#[from] std::io::Error),
    /// The node could not join the nodes of its store.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::Error),
    /// The HTTPS listener's certificate or key cannot be used.
    #[error("HTTPS listener: {0}")]
    Tls(#[from] http::tls::Error),
    /// The users file of Basic authentication cannot be used.
    #[error("authentication: {0}")]
    Auth(#[from] http::auth::Error),
}

/// The listeners [`App::serve_all`] serves, bound by the caller (so the caller chooses addresses and ports).
#[derive(Debug)]
pub struct Bound {
    /// The public listener (the Allow list).
    pub public: TcpListener,
    /// The internal listener (everything).
    pub internal: TcpListener,
    /// ORS's own port (`ors/port`), serving the `/scxml/...` routes only.
    pub ors: Option<TcpListener>,
    /// The HTTPS public listener (`https_port`), served only when the options configure TLS.
    pub https: Option<TcpListener>,
}

/// The running application's state.
#[derive(Debug, Clone)]
pub struct App {
    /// Handles shared by every request.
    pub state: AppState,
    /// The Notification service (`push` sections; they take effect at start-up, as in GMS).
    pub notify: Arc<notify::Service>,
    /// The CometD server behind `/genesys/cometd`, which `comet` deliveries go through.
    pub cometd: Arc<cometd::Server>,
    /// The ORS layer (sessions, modules, the simulated contact center).
    pub ors: OrsParts,
    /// The chats and the routes they are served on.
    pub chat: crate::http::chat::ChatApi,
    /// This node among the nodes of its store.
    pub cluster: Arc<Cluster>,
    /// The CometD mode of chats.
    pub chat_comet: Arc<crate::chat::comet::ChatComet>,
    /// TLS, authentication and rate limits of the public listeners.
    pub protection: Protection,
}

/// What protects the listeners, built from the `[server]` options at start.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// The certificates of the HTTPS listener (and of the internal one with `tls_internal`).
    pub certificates: Option<Arc<http::tls::Certificates>>,
    /// The users of Basic authentication.
    pub users: Option<Arc<http::auth::Users>>,
    /// The per-client rate limit.
    pub limiter: Option<Arc<http::rate_limit::Limiter>>,
}

/// What the ORS layer adds to the application.
#[derive(Debug, Clone)]
pub struct OrsParts {
    /// The runtime and its modules.
    pub node: OrsNode,
    /// The `type=ors` service kind.
    pub kind: Arc<FlowService>,
    /// Serves DFM requests to this node through the internal router.
    pub in_process: Arc<RouterInProcess>,
}

impl App {
    /// Opens the store and builds the services.
    pub fn build(options: AppOptions) -> Result<App, Error> {
        let config_dir = options
            .config_path
            .as_deref()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf);
        let ors_url = options.overrides.ors_url.clone();
        let config = Arc::new(ConfigHandle::with_overrides(
            options.config,
            options.config_path,
            options.overrides,
        ));
        let (store, latency): (Arc<dyn Store>, _) = match options.redis {
            Some(redis) => {
                let timed = Timed::new(redis);
                let latency = timed.latency();
                (Arc::new(timed), latency)
            }
            None => {
                let timed = Timed::new(Embedded::open_with(
                    &options.data_dir,
                    options.clock.clone(),
                    options.store,
                )?);
                let latency = timed.latency();
                (Arc::new(timed), latency)
            }
        };
        let metrics = Arc::new(Metrics::new(latency));
        let storage = Arc::new(Storage::new(store.clone()));
        let resources = Arc::new(Resources::new(store.clone()));
        let core = Arc::new(ServiceCore {
            store: store.clone(),
            storage: storage.clone(),
            resources: resources.clone(),
            clock: options.clock.clone(),
        });
        // Other service kinds register here, one line each: `registry.register("ors", ...)`.
        let mut registry = ServiceRegistry::new(config.clone(), core);
        let in_process = Arc::new(RouterInProcess::new());
        let node = OrsNode::build(
            &config,
            config_dir.as_deref(),
            in_process.clone(),
            options.clock.clone(),
        );
        let cluster = {
            let server = &config.get().server;
            Cluster::new(
                store.clone(),
                options.clock.clone(),
                crate::cluster::Settings::default(),
                &format!("{:02}", server.node_id),
                &server.route(),
            )
        };
        let kind = Arc::new(FlowService::new(
            config.clone(),
            node.ors.clone(),
            node.ors_client.clone(),
            ors_url.or_else(|| node.section.url.clone()),
            cluster.clone(),
        ));
        registry.register("ors", kind.clone());
        let registry = Arc::new(registry);
        // Calls to booked access numbers find their service through the gsgBasedServices DFM's match-interaction,
        // as an ORS strategy does: in-process here, or on the GMS that booked the number when that is another node.
        node.ors
            .set_session_end_listener(crate::services::flow::session_end_listener(
                &registry,
                tokio::runtime::Handle::current(),
            ));
        resources.check_config(&config.get());
        for warning in &config.get().warnings {
            tracing::warn!("{warning}");
        }
        let cometd = cometd::Server::new(cometd::Settings::default());
        let notify = {
            let current = config.get();
            notify::Service::new(
                notify::PushConfig::from_raw(current.raw()),
                crate::outbound::HttpSettings::from_gms(&current.gms),
                Arc::new(notify::StoreSubscriptions::new(
                    store.clone(),
                    options.clock.clone(),
                )),
                Some(cometd.clone()),
            )
        };
        let chats = Arc::new(crate::chat::Chats::new(
            store.clone(),
            options.clock.clone(),
        ));
        let routing = Arc::new(crate::chat::routing::ChatRouting::new(
            node.simulator.clone(),
            chats.clone(),
            node.ors.contact_center_wake(),
        ));
        let tap = routing.clone();
        let _ = node.event_tap.set(Arc::new(move |event| tap.take(event)));
        let chat = crate::http::chat::ChatApi {
            chats: chats.clone(),
            desk: Arc::new(crate::chat::desk::ChatDesk {
                chats,
                services: registry.clone(),
                clock: options.clock.clone(),
                routing,
                config: config.clone(),
                notify: notify.clone(),
            }),
        };
        let chat_comet = crate::chat::comet::ChatComet::install(cometd.clone(), &chat.chats);
        let protection = {
            let security = &config.get().server.security;
            Protection {
                certificates: security
                    .tls
                    .as_ref()
                    .map(http::tls::Certificates::load)
                    .transpose()?,
                users: security
                    .auth
                    .as_ref()
                    .map(http::auth::Users::load)
                    .transpose()?,
                limiter: security
                    .rate_limit
                    .map(|limit| http::rate_limit::Limiter::new(limit, options.clock.clone())),
            }
        };

        Ok(App {
            protection,
            chat_comet,
            cluster,
            chat,
            notify,
            cometd,
            state: AppState::new(Handles {
                config,
                store,
                storage,
                services: registry,
                resources,
                clock: options.clock,
                metrics,
                status: Arc::new(crate::http::node::NodeStatus::default()),
            }),
            ors: OrsParts {
                node,
                kind,
                in_process,
            },
        })
    }

    /// The routers of both listeners. Other areas are mounted here, one line each:
    /// `.public(router)` for the "Allow" list, `.internal(router)` for internal-only routes.
    pub fn listeners(&self) -> Listeners {
        let listeners = Routers::new(self.state.clone())
            .protect(
                self.protection.users.clone(),
                self.protection.limiter.clone(),
            )
            .public(crate::http::cometd::router(
                self.cometd.clone(),
                &self.state.config.get().server.route(),
            ))
            .public(crate::http::notification::public_router(
                self.notify.clone(),
            ))
            .internal(crate::http::notification::internal_router(
                self.notify.clone(),
            ))
            .describe(crate::http::notification::describe())
            .describe(crate::http::cometd::describe())
            .ors_port(http::scxml::scxml_routes(self.ors.node.ors.clone()))
            .describe(http::scxml::describe())
            // Not on the deployment guide's Allow list: flows reach it through the geocoding DFM.
            .internal(http::geo::routes(self.geocoder()))
            .describe(http::geo::describe())
            .internal(http::contact_center::routes(
                self.ors.node.simulator.clone(),
            ))
            .describe(http::contact_center::describe())
            .public(http::chat::public_router(self.chat.clone()))
            .internal(http::chat::internal_router(self.chat.clone()))
            .internal(http::agent_page::routes())
            .describe(http::agent_page::describe())
            .internal(http::console::routes(http::console::Console {
                ors: self.ors.node.ors.clone(),
                app: self.state.clone(),
                notify: self.notify.clone(),
            }))
            .describe(http::console::describe())
            .describe(http::chat::describe())
            .build();
        let server = &self.state.config.get().server;
        self.ors.in_process.set(
            listeners.internal.clone(),
            vec![server.web_port, server.http_settings_port],
        );
        listeners
    }

    /// The geocoder of the `[geo]` section (the embedded gazetteer unless it names a Nominatim service).
    fn geocoder(&self) -> Arc<dyn crate::geo::Geocoder> {
        let (config, warnings) = crate::geo::config::from_config(&self.state.config.get());
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        match crate::geo::build(&config) {
            Ok(geocoder) => geocoder,
            Err(error) => {
                tracing::warn!("geocoder not built ({error}); the embedded gazetteer is used");
                Arc::new(crate::geo::gazetteer::Gazetteer::embedded())
            }
        }
    }

    /// Serves both listeners until `shutdown` resolves, reloading the configuration when its file changes.
    pub async fn serve(
        self,
        public: TcpListener,
        internal: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        self.serve_all(
            Bound {
                public,
                internal,
                ors: None,
                https: None,
            },
            shutdown,
        )
        .await
    }

    /// Serves every bound listener (ORS's own port too, when bound) until `shutdown` resolves.
    pub async fn serve_all(
        self,
        bound: Bound,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Bound {
            public,
            internal,
            ors,
            https,
        } = bound;
        let listeners = self.listeners();
        let config = self.state.config.get();
        let security = config.server.security.clone();
        let internal_tls = security.tls.as_ref().is_some_and(|tls| tls.internal);
        let scheme = if internal_tls { "https" } else { "http" };
        let internal_url = match &config.server.internal_url {
            Some(url) => url.clone(),
            None => format!("{scheme}://{}", internal.local_addr()?),
        };
        if let Ok(address) = internal.local_addr() {
            // orscb events without `orscb.url` go to this node's own `/scxml` routes.
            self.notify.set_local_ors(format!("{scheme}://{address}"));
            // Flows receive BasicHTTP events on the internal listener's `/scxml/basichttp/{id}`.
            self.ors
                .node
                .ors
                .set_basichttp_base(format!("{scheme}://{address}"));
        }
        self.cluster
            .join(&internal_url, &self.ors.node.ors_client)
            .await?;
        tracing::info!(node = %self.cluster.id(), url = %internal_url, "node registered in the store");
        // Sessions this node id ran before a restart died with that process: end their instances before serving.
        self.ors
            .kind
            .sweep_dead_nodes(self.state.services.core(), true)
            .await;
        let sweeper = self.cometd.spawn_sweeper();
        // Relays comet deliveries between nodes that share a store; one node needs no relay to work.
        if let Err(error) = self
            .notify
            .start_comet_relay(self.state.store.clone())
            .await
        {
            tracing::warn!("comet relay between nodes not started: {error}");
        }
        if let Some(relay) = self.notify.comet_relay() {
            self.chat_comet.set_relay(relay);
        }
        // `stop` ends the listeners once the drain is over; `left` once the node has left the store.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let status = self.state.status.clone();
        let cometd = self.cometd.clone();
        let drain_config = self.state.config.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown => {}
                _ = status.offline() => {}
            }
            status.go_offline();
            let drain = drain_config.get().server.drain_timeout;
            let dropped = cometd.close();
            tracing::info!(
                drain_secs = drain.as_secs(),
                cometd_clients = dropped,
                "node OFFLINE: draining before it stops"
            );
            tokio::time::sleep(drain).await;
            let _ = stop.send(true);
        });
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        tokio::spawn(
            self.state
                .config
                .clone()
                .watch(CONFIG_POLL, until_stopped(stopped.clone())),
        );
        let heartbeat = tokio::spawn(
            self.cluster
                .clone()
                .heartbeat(until_stopped(stopped.clone())),
        );
        let (flow, registry) = (self.ors.kind.clone(), self.state.services.clone());
        let sweep_stop = until_stopped(stopped.clone());
        let sweep_every = self.cluster.settings().ttl;
        tokio::spawn(async move {
            tokio::pin!(sweep_stop);
            let mut ticks = tokio::time::interval(sweep_every);
            loop {
                tokio::select! {
                    _ = &mut sweep_stop => return,
                    _ = ticks.tick() => flow.sweep_dead_nodes(registry.core(), false).await,
                }
            }
        });
        // Push deliveries waiting for FCM or APNs to be available again (kept in the store).
        tokio::spawn(
            self.notify
                .clone()
                .run_retries(Duration::from_secs(1), until_stopped(stopped.clone())),
        );
        let resources = self.state.resources.clone();
        let notify = self.notify.clone();
        let mut changes = self.state.config.subscribe();
        changes.borrow_and_update();
        let alarm_stop = until_stopped(stopped.clone());
        tokio::spawn(async move {
            tokio::pin!(alarm_stop);
            loop {
                tokio::select! {
                    _ = &mut alarm_stop => return,
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let config = changes.borrow_and_update().clone();
                        resources.check_config(&config);
                        notify.set_http(crate::outbound::HttpSettings::from_gms(&config.gms));
                    }
                }
            }
        });
        for watched in [
            self.protection
                .certificates
                .clone()
                .map(|certificates| certificates.watch(CONFIG_POLL, until_stopped(stopped.clone())))
                .map(|future| {
                    Box::pin(future) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
                }),
            self.protection
                .users
                .clone()
                .map(|users| users.watch(CONFIG_POLL, until_stopped(stopped.clone())))
                .map(|future| {
                    Box::pin(future) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
                }),
        ]
        .into_iter()
        .flatten()
        {
            tokio::spawn(watched);
        }
        let plain =
            http::serve::Settings::plain(security.idle_timeout, security.request_body_timeout);
        // The public listeners hand the client's address to the rate limits.
        let public_plain = http::serve::Settings {
            client_address: self.protection.limiter.is_some(),
            ..plain.clone()
        };
        let tls = http::serve::Settings {
            tls: self.protection.certificates.clone(),
            ..public_plain.clone()
        };
        if let Some(listener) = ors {
            // ORS's own port (7210 on a real ORS) serves the `/scxml` routes only.
            tokio::spawn(http::serve::serve(
                listener,
                listeners.ors.clone(),
                plain.clone(),
                until_stopped(stopped.clone()),
            ));
        }
        // With `https_redirect`, the plain public listener sends every request to the HTTPS one.
        let mut public_router = listeners.public.clone();
        let https = match (https, &self.protection.certificates) {
            (Some(listener), Some(_)) => {
                if security.tls.as_ref().is_some_and(|tls| tls.redirect) {
                    public_router = listeners.https_redirect(listener.local_addr()?.port());
                }
                Some(tokio::spawn(http::serve::serve(
                    listener,
                    listeners.public,
                    tls.clone(),
                    until_stopped(stopped.clone()),
                )))
            }
            _ => None,
        };
        let public = http::serve::serve(
            public,
            public_router,
            public_plain,
            until_stopped(stopped.clone()),
        );
        let internal = http::serve::serve(
            internal,
            listeners.internal,
            if internal_tls {
                http::serve::Settings {
                    client_address: false,
                    ..tls
                }
            } else {
                plain
            },
            until_stopped(stopped),
        );
        let (public, internal) = tokio::join!(public, internal);
        if let Some(https) = https {
            let _ = https.await;
        }
        sweeper.abort();
        let _ = heartbeat.await;
        public?;
        internal?;
        Ok(())
    }
}
