//! `type=ors` services: each instance is an ORS session running the flow named by the section's `service` option.
//!
//! Create: the registry has already stored the user data (`_data_id`); this kind starts the session with every
//! control parameter, on this node's runtime or — when the section's `ors` option (or the `[ors]` section's
//! `url`) names an ORS — on that ORS over HTTP, sends the request `gms.start`, and returns the flow's answer with
//! `_id` = the session id. Later requests on the instance become ORS requests ([`OrsService::request`]); `update`
//! stays in GMS. `DELETE` terminates the session, and so does the TTL (the session is started with the
//! service's TTL). When an in-process session ends, however it ends (its final state, cancel, TTL, terminate),
//! [`session_end_listener`] releases the access number it booked and forgets the instance, so the number is free
//! for the next customer at once; a session on a remote ORS is released by `DELETE`, its TTL, or its booking's
//! expiry.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{ConfigHandle, GmsConfig};
use crate::ors::{Answer, Ors, OrsClient, OrsError, Remote};
use crate::outbound::HttpClient;
use crate::services::{
    Error, Reply, Result, ServiceCall, ServiceCore, ServiceKind, ServiceRecord, ServiceRegistry,
};

/// The `ors` service kind.
#[derive(Debug, Clone)]
pub struct OrsService {
    config: Arc<ConfigHandle>,
    local: Ors,
    client: HttpClient,
    default_url: Option<String>,
}

impl OrsService {
    /// Runs flows on `local`, or on the ORS at `default_url` (the `[ors]` section's `url`) when given; remote
    /// calls use `client` (the `gms` section's `http.*` timeouts and `http.client_port_range`).
    pub fn new(
        config: Arc<ConfigHandle>,
        local: Ors,
        client: HttpClient,
        default_url: Option<String>,
    ) -> OrsService {
        OrsService {
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

    /// Request `name` on the live instance `record` (`/service/{id}/request/{name}` and `/service/{id}/{name}`).
    pub async fn request(
        &self,
        record: &ServiceRecord,
        name: &str,
        params: &[(String, String)],
    ) -> std::result::Result<Answer, OrsError> {
        let config = self.config.get();
        self.backend_of(&config, record)
            .request(&record.id, name, params)
            .await
    }
}

/// Maps a runtime error onto the Service API's.
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

#[async_trait]
impl ServiceKind for OrsService {
    async fn create(&self, core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
        let backend = self.backend(call.service.ors.as_deref());
        let params: Vec<(String, String)> = call.params.0.clone().into_iter().collect();
        let id = backend
            .start(&call.service.service, &params, Some(call.ttl))
            .await
            .map_err(service_error)?;
        // The record exists before the flow runs, so the flow's request-access (booked under its own `_id`)
        // finds it.
        let now = core.clock.now_ms();
        let record = ServiceRecord {
            id: id.clone(),
            service: call.service.name.clone(),
            kind: call.service.kind.clone(),
            data_id: call.params.get("_data_id").map(str::to_string),
            phone_number: call.params.get("_phone_number").map(str::to_string),
            access: None,
            created_ms: now,
            expires_ms: now + call.ttl.as_millis() as u64,
        };
        if let Err(error) = core.save(&record).await {
            let _ = backend.terminate(&id).await;
            return Err(error);
        }
        let answer = match backend.request(&id, "gms.start", &params).await {
            Ok(answer) => answer,
            Err(error) => {
                let _ = backend.terminate(&id).await;
                // The flow may have booked a number before it failed to answer.
                if let Ok(record) = core.load(&id).await {
                    let _ = core.release_access(&record).await;
                }
                let _ = core.forget(&id).await;
                return Err(service_error(error));
            }
        };
        if !answer.positive {
            let _ = backend.terminate(&id).await;
            if let Ok(record) = core.load(&id).await {
                let _ = core.release_access(&record).await;
            }
            let _ = core.forget(&id).await;
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

    async fn cancel(&self, _core: &ServiceCore, record: &ServiceRecord) -> Result<()> {
        let config = self.config.get();
        match self.backend_of(&config, record).terminate(&record.id).await {
            // The flow may have ended by itself already.
            Ok(()) | Err(OrsError::NotFound(_)) => Ok(()),
            Err(error) => Err(service_error(error)),
        }
    }
}

/// Releases the access number of the `type=ors` instance whose session has ended and forgets the instance. The
/// work runs on `handle` (the listener is called on a worker thread); it holds the registry weakly, so the
/// runtime that calls it does not keep the registry alive.
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
            if let Err(error) = core.release_access(&record).await {
                tracing::warn!(session = %id, %error, "access number of an ended service not released");
                return;
            }
            if let Err(error) = core.forget(&id).await {
                tracing::warn!(session = %id, %error, "ended service instance not forgotten");
            }
        });
    })
}
