//! `type=ors` services: each instance is an ORS session running the flow named by the section's `service` option.
//!
//! Create: the registry has already stored the user data (`_data_id`); this kind starts the session with every
//! control parameter, on this node's runtime or — when the section's `ors` option (or the `[ors]` section's
//! `url`) names an ORS — on that ORS over HTTP, sends the request `gms.start`, and returns the flow's answer with
//! `_id` = the session id. Later requests on the instance become ORS requests ([`FlowService`]'s
//! [`ServiceKind::request`]); `update` stays in GMS ([`ServiceCore::update_user_data`]). `DELETE` terminates the
//! session, and so does the TTL (the session is started with the service's TTL).
//!
//! However an instance ends, [`ServiceCore::instance_ended`] releases the access number it booked and forgets it,
//! so the number is free for the next customer at once: an in-process session tells [`session_end_listener`]; a
//! session on a remote ORS is found gone by the next request (ORS tells GMS nothing when a session ends), `DELETE`,
//! its TTL or its booking's expiry; and a flow that fails to start is cleaned up by `create`.

use std::sync::Arc;

use async_trait::async_trait;

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
}

impl FlowService {
    /// Runs flows on `local`, or on the ORS at `default_url` (the `[ors]` section's `url`) when given; remote
    /// calls use `client` (the `gms` section's `http.*` timeouts and `http.client_port_range`).
    pub fn new(
        config: Arc<ConfigHandle>,
        local: Ors,
        client: HttpClient,
        default_url: Option<String>,
    ) -> FlowService {
        FlowService {
            config,
            local,
            client,
            default_url,
        }
    }

    fn backend(&self, ors_option: Option<&str>) -> Arc<dyn OrsClient> {
        match ors_option
            .filter(|url| !url.trim().is_empty())
            .or(self.default_url.as_deref())
        {
            Some(url) => Arc::new(Remote::new(url, self.client.clone())),
            None => Arc::new(self.local.clone()),
        }
    }

    fn backend_of(&self, config: &GmsConfig, record: &ServiceRecord) -> Arc<dyn OrsClient> {
        let ors = config
            .service(&record.service)
            .and_then(|service| service.ors.clone());
        self.backend(ors.as_deref())
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
        let params: Vec<(String, String)> = call.params.0.clone().into_iter().collect();
        let id = backend
            .start(&call.service.service, &params, Some(call.ttl))
            .await
            .map_err(service_error)?;
        // The record exists before the flow runs, so the flow's request-access (booked under its own `_id`)
        // finds it.
        let record = ServiceRecord::of_call(id.clone(), &call, core.clock.now_ms());
        if let Err(error) = core.save(&record).await {
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
        match self
            .backend_of(&config, record)
            .request(&record.id, name, params)
            .await
        {
            Ok(flow_answer) => Ok(answer(flow_answer)),
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
        match self.backend_of(&config, record).terminate(&record.id).await {
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
