//! `type=ors` services: each instance is an ORS session running the flow named by the section's `service` option.
//!
//! Create: the registry has already stored the user data (`_data_id`); this kind starts the session with every
//! control parameter, on this node's runtime or — when the section's `ors` option (or the `[ors]` section's
//! `url`) names an ORS — on that ORS over HTTP, sends the request `gms.start`, and returns the flow's answer with
//! `_id` = the session id. Later requests on the instance become ORS requests ([`FlowService`]'s
//! [`ServiceKind::request`]); `update` stays in GMS ([`ServiceCore::update_user_data`]). `DELETE` terminates the
//! session, and so does the TTL (the session is started with the service's TTL).
//!
//! With several nodes on one store, an in-process session runs on the node that created the instance: the record
//! names that node, and a request that lands on another node is forwarded to it over the ORS HTTP interface of its
//! internal listener, answered as if it had been local. When that node is gone, the instance has ended with it:
//! the request answers 404 ([`Error::NodeGone`]), and [`FlowService::sweep_dead_nodes`] (run by every node)
//! ends the instances of dead nodes, so their access numbers are free again.
//!
//! However an instance ends, [`ServiceCore::instance_ended`] releases the access number it booked and forgets it,
//! so the number is free for the next customer at once: an in-process session tells [`session_end_listener`]; a
//! session on a remote ORS is found gone by the next request (ORS tells GMS nothing when a session ends), `DELETE`,
//! its TTL or its booking's expiry; and a flow that fails to start is cleaned up by `create`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::cluster::Cluster;
use crate::config::{ConfigHandle, GmsConfig};
use crate::ors::{Answer as FlowAnswer, Ors, OrsClient, OrsError, Remote};
use crate::outbound::HttpClient;
use crate::services::{
    Answer, Error, Reply, Result, ServiceCall, ServiceCore, ServiceKind, ServiceRecord,
    ServiceRegistry,
};

/// The `ors` service kind.
#[derive(Debug, Clone)]
pub struct FlowService {
    config: Arc<ConfigHandle>,
    local: Ors,
    client: HttpClient,
    default_url: Option<String>,
    cluster: Arc<Cluster>,
}

/// Where a request for an instance goes.
enum Route {
    /// The session runs here or on an ORS of the configuration.
    Here(Arc<dyn OrsClient>),
    /// The session runs on another live node (id, client of its ORS interface).
    Node(String, Arc<dyn OrsClient>),
    /// The session's node is gone.
    Gone(String),
}

impl FlowService {
    /// Runs flows on `local`, or on the ORS at `default_url` (the `[ors]` section's `url`) when given; remote
    /// calls use `client` (the `gms` section's `http.*` timeouts and `http.client_port_range`). `cluster` tells
    /// which node runs an in-process session.
    pub fn new(
        config: Arc<ConfigHandle>,
        local: Ors,
        client: HttpClient,
        default_url: Option<String>,
        cluster: Arc<Cluster>,
    ) -> FlowService {
        FlowService {
            config,
            local,
            client,
            default_url,
            cluster,
        }
    }

    fn remote_url<'a>(&'a self, ors_option: Option<&'a str>) -> Option<&'a str> {
        ors_option
            .filter(|url| !url.trim().is_empty())
            .or(self.default_url.as_deref())
    }

    fn backend(&self, ors_option: Option<&str>) -> Arc<dyn OrsClient> {
        match self.remote_url(ors_option) {
            Some(url) => Arc::new(Remote::new(url, self.client.clone())),
            None => Arc::new(self.local.clone()),
        }
    }

    async fn route(&self, config: &GmsConfig, record: &ServiceRecord) -> Result<Route> {
        if let Some(node) = &record.node
            && *node != self.cluster.id()
        {
            return Ok(
                match self.cluster.node(node).await.map_err(cluster_error)? {
                    Some(info) => Route::Node(
                        node.clone(),
                        Arc::new(Remote::new(&info.internal_url, self.client.clone())),
                    ),
                    None => Route::Gone(node.clone()),
                },
            );
        }
        let ors = config
            .service(&record.service)
            .and_then(|service| service.ors.clone());
        Ok(Route::Here(self.backend(ors.as_deref())))
    }

    /// Ends instance `record`, whose flow ran on node `node`, which is gone.
    async fn ended_with_node(
        &self,
        core: &ServiceCore,
        record: &ServiceRecord,
        node: &str,
    ) -> Error {
        if let Err(failure) = core.instance_ended(record).await {
            tracing::warn!(service = %record.id, error = %failure, "access number of an ended service not released");
        }
        let _ = self.cluster.untrack(node, &record.id).await;
        Error::NodeGone {
            id: record.id.clone(),
            node: node.to_string(),
        }
    }

    /// Whether node `node` still answers, after a forwarded call to it failed: a live node that failed answers
    /// 502, a node that no longer answers at all has taken its sessions with it.
    async fn still_there(&self, node: &str) -> bool {
        match self.cluster.node(node).await {
            Ok(Some(info)) => crate::cluster::answers(&self.client, &info.internal_url).await,
            Ok(None) => false,
            // The store cannot tell: do not end anything on a guess.
            Err(_) => true,
        }
    }

    /// Ends the instances whose sessions ran on nodes that are gone (and, the first time, those this node ran
    /// before it restarted). Run by every node now and then; ending an instance twice is harmless.
    pub async fn sweep_dead_nodes(&self, core: &ServiceCore, include_self: bool) {
        let mut nodes = match self.cluster.dead_nodes().await {
            Ok(nodes) => nodes,
            Err(error) => {
                tracing::debug!(%error, "dead nodes not listed");
                return;
            }
        };
        if include_self {
            nodes.push(self.cluster.id());
        }
        for node in nodes {
            let Ok(sessions) = self.cluster.sessions_of(&node).await else {
                continue;
            };
            for id in sessions {
                match core.load(&id).await {
                    Ok(record) if record.node.as_deref() == Some(node.as_str()) => {
                        let _ = self.ended_with_node(core, &record, &node).await;
                        tracing::info!(service = %id, %node, "service ended with its node");
                    }
                    Ok(_) | Err(Error::NotFound(_)) => {
                        let _ = self.cluster.untrack(&node, &id).await;
                    }
                    Err(error) => {
                        tracing::debug!(service = %id, %error, "service of a dead node not read");
                    }
                }
            }
        }
    }
}

fn cluster_error(error: crate::cluster::Error) -> Error {
    match error {
        crate::cluster::Error::Store(error) => Error::Store(error),
        other => Error::BackendInternal {
            public: "the node that runs this service could not be reached",
            detail: other.to_string(),
        },
    }
}

/// Maps a runtime error onto the Service API's (for `gms.start`, a request the flow does not take means the
/// service cannot start: a failed backend).
pub fn service_error(error: OrsError) -> Error {
    match error {
        OrsError::NotFound(id) => Error::NotFound(id),
        OrsError::BadRequest(message) => Error::InvalidParameter {
            name: "_".to_string(),
            problem: message,
        },
        timeout @ OrsError::Timeout { .. } => Error::Timeout(timeout.to_string()),
        remote @ OrsError::Remote { .. } => Error::BackendInternal {
            public: "the ORS that runs this service could not be reached",
            detail: remote.to_string(),
        },
        document @ OrsError::Document(_) => Error::BackendInternal {
            public: "the flow of this service could not be loaded",
            detail: document.to_string(),
        },
        other => Error::Backend(other.to_string()),
    }
}

fn answer(answer: FlowAnswer) -> Answer {
    Answer {
        positive: answer.positive,
        resultcode: answer.resultcode,
        params: answer.params,
    }
}

/// Ends instance `id` after its flow failed to start: the flow may have booked a number before it failed.
async fn failed_start(core: &ServiceCore, backend: &dyn OrsClient, id: &str) {
    let _ = backend.terminate(id).await;
    if let Err(error) = core.instance_ended_by_id(id).await {
        tracing::warn!(service = %id, %error, "service whose flow failed to start not cleaned up");
    }
}

#[async_trait]
impl ServiceKind for FlowService {
    async fn create(&self, core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
        let backend = self.backend(call.service.ors.as_deref());
        let in_process = self.remote_url(call.service.ors.as_deref()).is_none();
        let params: Vec<(String, String)> = call.params.0.clone().into_iter().collect();
        let id = backend
            .start(&call.service.service, &params, Some(call.ttl))
            .await
            .map_err(service_error)?;
        // The record exists before the flow runs, so the flow's request-access (booked under its own `_id`)
        // finds it.
        let mut record = ServiceRecord::of_call(id.clone(), &call, core.clock.now_ms());
        if in_process {
            record.node = Some(self.cluster.id());
        }
        let saved = match core.save(&record).await {
            Ok(()) if in_process => self
                .cluster
                .track(&id, call.ttl)
                .await
                .map_err(cluster_error),
            other => other,
        };
        if let Err(error) = saved {
            let _ = backend.terminate(&id).await;
            return Err(error);
        }
        let answer = match backend.request(&id, "gms.start", &params).await {
            Ok(answer) => answer,
            Err(error) => {
                failed_start(core, backend.as_ref(), &id).await;
                return Err(service_error(error));
            }
        };
        if !answer.positive {
            failed_start(core, backend.as_ref(), &id).await;
            return Err(Error::Backend(format!(
                "the flow of service `{}` refused to start: {}",
                call.service.name,
                answer.resultcode.as_deref().unwrap_or("negative response")
            )));
        }
        let mut reply = answer.params;
        reply.insert("_id".into(), id.into());
        Ok(reply)
    }

    async fn request(
        &self,
        core: &ServiceCore,
        record: &ServiceRecord,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Answer> {
        let config = self.config.get();
        let (backend, node) = match self.route(&config, record).await? {
            Route::Here(backend) => (backend, None),
            Route::Node(node, backend) => (backend, Some(node)),
            Route::Gone(node) => return Err(self.ended_with_node(core, record, &node).await),
        };
        match backend.request(&record.id, name, params).await {
            Ok(flow_answer) => Ok(answer(flow_answer)),
            Err(remote @ OrsError::Remote { .. }) => match &node {
                Some(node) if self.still_there(node).await => Err(Error::Backend(format!(
                    "node {node}, which runs service `{}`, failed to answer",
                    record.id
                ))),
                Some(node) => Err(self.ended_with_node(core, record, node).await),
                None => Err(service_error(remote)),
            },
            Err(OrsError::NotFound(_) | OrsError::Ended(_)) => {
                // The session is gone; in-process ones have let go already, a remote ORS said nothing until now.
                if let Err(failure) = core.instance_ended(record).await {
                    tracing::warn!(service = %record.id, error = %failure, "access number of an ended service not released");
                }
                Err(Error::NotFound(record.id.clone()))
            }
            // The instance stays: the request may be taken in another state.
            Err(unhandled @ OrsError::Unhandled { .. }) => {
                Err(Error::RequestNotHandled(unhandled.to_string()))
            }
            Err(error) => Err(service_error(error)),
        }
    }

    async fn update(
        &self,
        core: &ServiceCore,
        config: &GmsConfig,
        record: &ServiceRecord,
        params: &[(String, String)],
    ) -> Result<Reply> {
        core.update_user_data(record, params, config.gms.storage_max_keys)
            .await
    }

    fn routes_chats(&self) -> bool {
        true
    }

    async fn cancel(&self, _core: &ServiceCore, record: &ServiceRecord) -> Result<()> {
        let config = self.config.get();
        let backend = match self.route(&config, record).await? {
            Route::Here(backend) | Route::Node(_, backend) => backend,
            Route::Gone(node) => {
                // Nothing left to terminate: the record goes as any cancel's does.
                let _ = self.cluster.untrack(&node, &record.id).await;
                return Ok(());
            }
        };
        match backend.terminate(&record.id).await {
            // The flow may have ended by itself already.
            Ok(()) | Err(OrsError::NotFound(_)) => Ok(()),
            Err(error) => Err(service_error(error)),
        }
    }
}

/// Ends the `type=ors` instance whose session has ended ([`ServiceCore::instance_ended`]). The work runs on
/// `handle` (the listener is called on a worker thread); it holds the registry weakly, so the runtime that calls
/// it does not keep the registry alive.
pub fn session_end_listener(
    registry: &Arc<ServiceRegistry>,
    handle: tokio::runtime::Handle,
) -> crate::ors::SessionEndListener {
    let registry = Arc::downgrade(registry);
    Arc::new(move |id: &str| {
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let id = id.to_string();
        handle.spawn(async move {
            let core = registry.core();
            let record = match core.load(&id).await {
                Ok(record) if record.kind == "ors" => record,
                // Not a service instance (a session started over /scxml), or already gone.
                Ok(_) | Err(Error::NotFound(_)) => return,
                Err(error) => {
                    tracing::warn!(session = %id, %error, "ended service instance not read");
                    return;
                }
            };
            if let Err(error) = core.instance_ended(&record).await {
                tracing::warn!(session = %id, %error, "ended service instance not released");
            }
        });
    })
}
