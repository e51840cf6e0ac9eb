//! The GMS Service API domain: builtin services (request-interaction, match-interaction, request-access) and ors services.
//!
//! A `service.NAME` section names a *kind* with its `type` option. Each kind implements [`ServiceKind`] and is
//! registered in the [`ServiceRegistry`] under that type: [`builtin::Builtin`] for `type=builtin`, and
//! [`flow::FlowService`] for `type=ors` ([`ServiceRegistry::register`]). The HTTP layer knows no kind by name: it
//! calls the registry, which finds the instance's kind and asks it to create, answer a request
//! ([`ServiceKind::request`]), update ([`ServiceKind::update`]) or cancel. The registry does what every kind
//! shares: it finds the section, lays the section's options over the request parameters (configuration wins,
//! except `_booking_expiration_timeout`), stores the user data (parameters without a leading `_`) in Storage and
//! passes its id as `_data_id`, and keeps a [`ServiceRecord`] for every created service so `GET`/`DELETE
//! /service/{id}`, request-access and match-interaction find it.

pub mod access_code;
pub mod builtin;
pub mod flow;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::clock::Clock;
use crate::config::{ConfigHandle, GmsConfig, ServiceConfig};
use crate::resources::{self, Allocation, Resources};
use crate::storage::{self, DataSet, Storage};
use crate::store::{self, Store, WriteOp};

/// The service TTL when neither the request (`_ttl`) nor the section (`ttl`) gives one (seconds).
pub const DEFAULT_TTL_SECS: u64 = 30;

/// Service API errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `service.NAME` section for this name.
    #[error("service `{0}` is not configured")]
    UnknownService(String),
    /// The section's `type` has no registered kind.
    #[error("service `{service}` has type `{kind}`, which this node does not provide")]
    UnknownKind {
        /// The service name.
        service: String,
        /// Its `type`.
        kind: String,
    },
    /// The builtin named by the section's `service` option does not exist.
    #[error("service `{service}` names builtin `{builtin}`, which does not exist")]
    UnknownBuiltin {
        /// The service name.
        service: String,
        /// Its `service` option.
        builtin: String,
    },
    /// A mandatory parameter is missing.
    #[error("parameter `{0}` is mandatory")]
    MissingParameter(String),
    /// A parameter has a bad value.
    #[error("parameter `{name}` {problem}")]
    InvalidParameter {
        /// The parameter.
        name: String,
        /// What is wrong, as a predicate ("must be a number").
        problem: String,
    },
    /// No live service has this id.
    #[error("no service with id `{0}` (it never existed or has expired)")]
    NotFound(String),
    /// The instance ended with the node that ran its flow (killed, or stopped).
    #[error("service `{id}` has ended: its flow ran on node {node}, which is gone")]
    NodeGone {
        /// The service id.
        id: String,
        /// The node that ran it.
        node: String,
    },
    /// match-interaction found nothing.
    #[error("no service matches access number `{0}` and the given phone number and code")]
    NoMatch(String),
    /// The resource group is exhausted, or no access code is free.
    #[error("{0}")]
    Exhausted(String),
    /// The peer that runs the service (ORS) failed or cannot be reached.
    #[error("service backend failed: {0}")]
    Backend(String),
    /// As [`Error::Backend`], with a reason that names internals (a peer's address, a document's path and
    /// position): told in full on the internal listener and in the log, not on the public listener.
    #[error("service backend failed: {detail}")]
    BackendInternal {
        /// What the public listener says instead.
        public: &'static str,
        /// The whole reason.
        detail: String,
    },
    /// The peer that runs the service (ORS) did not answer in time (a flow that never answers `gms.start`, an ORS
    /// that stops answering).
    #[error("service backend did not answer in time: {0}")]
    Timeout(String),
    /// The instance's kind takes no requests (or no `update`).
    #[error("service `{id}` is of type `{kind}`, which takes no requests")]
    NotHandled {
        /// The service id.
        id: String,
        /// Its `type`.
        kind: String,
    },
    /// The instance cannot take this request in its current state (an `ors` flow with no transition for it).
    #[error("{0}")]
    RequestNotHandled(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<resources::Error> for Error {
    fn from(error: resources::Error) -> Error {
        match error {
            resources::Error::Exhausted(_) => Error::Exhausted(error.to_string()),
            resources::Error::Store(error) => Error::Store(error),
        }
    }
}

/// Service API result.
pub type Result<T> = std::result::Result<T, Error>;

/// A JSON reply object (`_id`, `_access_number`, ...).
pub type Reply = serde_json::Map<String, serde_json::Value>;

/// The request name that changes an instance's stored user data (`/service/{id}/request/update`).
pub const UPDATE: &str = "update";

/// An instance's answer to a request (`/service/{id}/request/{name}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// A positive answer (else negative).
    pub positive: bool,
    /// The result code of a negative answer, when given.
    pub resultcode: Option<String>,
    /// The answer's fields (`_action`, `_text`, ...).
    pub params: Reply,
}

impl Answer {
    /// A positive answer with `params`.
    pub fn positive(params: Reply) -> Answer {
        Answer {
            positive: true,
            resultcode: None,
            params,
        }
    }
}

/// Control parameters of a request: every `_name` parameter, with the section's options laid over them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// The parameter, when present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The parameter, or [`Error::MissingParameter`].
    pub fn require(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| Error::MissingParameter(name.to_string()))
    }

    /// A boolean parameter (`true`/`false`, `yes`/`no`, `1`/`0`).
    pub fn flag(&self, name: &str) -> Result<Option<bool>> {
        self.get(name)
            .map(|text| {
                crate::config::value::parse_bool(text).ok_or_else(|| Error::InvalidParameter {
                    name: name.to_string(),
                    problem: format!("must be true or false, not `{text}`"),
                })
            })
            .transpose()
    }

    /// An integer parameter within `min..=max`.
    pub fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>> {
        self.get(name)
            .map(|text| match text.parse::<u64>() {
                Ok(value) if (min..=max).contains(&value) => Ok(value),
                _ => Err(Error::InvalidParameter {
                    name: name.to_string(),
                    problem: format!("must be a whole number from {min} to {max}, not `{text}`"),
                }),
            })
            .transpose()
    }
}

/// One request to create a service instance, as a kind receives it.
#[derive(Debug)]
pub struct ServiceCall {
    /// The configuration in force for this request.
    pub config: Arc<GmsConfig>,
    /// The service's section.
    pub service: Arc<ServiceConfig>,
    /// Control parameters (section options laid over the request's `_` parameters), including `_data_id` when
    /// user data was stored.
    pub params: Params,
    /// How long the service lives (`_ttl`, else the section's `ttl`, else 30 s).
    pub ttl: Duration,
}

/// A kind of service (`type` option): creates instances, answers their requests, and cleans them up.
#[async_trait]
pub trait ServiceKind: Send + Sync + std::fmt::Debug {
    /// Creates one instance. The reply must contain `_id`.
    async fn create(&self, core: &ServiceCore, call: ServiceCall) -> Result<Reply>;

    /// Request `name` on the live instance `record` (`/service/{id}/request/{name}`); by default a kind takes
    /// none.
    async fn request(
        &self,
        _core: &ServiceCore,
        record: &ServiceRecord,
        _name: &str,
        _params: &[(String, String)],
    ) -> Result<Answer> {
        Err(Error::NotHandled {
            id: record.id.clone(),
            kind: record.kind.clone(),
        })
    }

    /// `update` on the live instance `record`: adds or replaces its stored user data; by default a kind takes
    /// none.
    async fn update(
        &self,
        _core: &ServiceCore,
        _config: &GmsConfig,
        record: &ServiceRecord,
        _params: &[(String, String)],
    ) -> Result<Reply> {
        Err(Error::NotHandled {
            id: record.id.clone(),
            kind: record.kind.clone(),
        })
    }

    /// Whether a chat created on an instance is routed by the instance itself (an `ors` flow is told of the chat
    /// and routes it), rather than submitted to the chat queue.
    fn routes_chats(&self) -> bool {
        false
    }

    /// Whether `create` saves the instance's [`ServiceRecord`] itself; otherwise the registry writes a minimal one.
    fn saves_records(&self) -> bool {
        false
    }

    /// Called when the instance is deleted (`DELETE /service/{id}`), after its access resources are released.
    async fn cancel(&self, _core: &ServiceCore, _record: &ServiceRecord) -> Result<()> {
        Ok(())
    }
}

/// Access information attached to a service (request-interaction, request-access).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessInfo {
    /// The allocated access number.
    pub allocation: Allocation,
    /// The access code, when one was asked for.
    pub code: Option<String>,
    /// When the booking of the access number ends (ms since the epoch).
    pub booking_expires_ms: u64,
}

/// What the store keeps for each live service (`service:{id}`, JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceRecord {
    /// The service id (`_id`).
    pub id: String,
    /// The service name (the NAME of `service.NAME`).
    pub service: String,
    /// Its kind (`type`).
    pub kind: String,
    /// The Storage id of its user data.
    pub data_id: Option<String>,
    /// The device's phone number (`_phone_number`).
    pub phone_number: Option<String>,
    /// Access number and code, once allocated.
    pub access: Option<AccessInfo>,
    /// When the service was created (ms since the epoch).
    pub created_ms: u64,
    /// When the service expires (ms since the epoch).
    pub expires_ms: u64,
    /// The node whose in-process ORS runtime runs the instance's flow (`type=ors` on this `gms`); requests
    /// landing on another node are forwarded there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl AccessInfo {
    /// Adds `_access_number`, `_access_code` (when there is one) and, for a booked number, `_expiration_time`
    /// (seconds left on the booking at `now_ms`) to `reply`.
    pub fn add_to(&self, reply: &mut Reply, now_ms: u64) {
        reply.insert(
            "_access_number".into(),
            self.allocation.value.clone().into(),
        );
        if let Some(code) = &self.code {
            reply.insert("_access_code".into(), code.clone().into());
        }
        // Only a booked number expires; a RANDOM or backup number is not reserved at all.
        if self.allocation.pool.is_some() {
            let left = self
                .booking_expires_ms
                .saturating_sub(now_ms)
                .div_ceil(1000);
            reply.insert("_expiration_time".into(), left.into());
        }
    }
}

impl ServiceRecord {
    /// The record of instance `id` of `service`, created at `now_ms` and living `ttl`, with no user data, phone
    /// number or access info yet.
    pub fn new(id: String, service: &ServiceConfig, ttl: Duration, now_ms: u64) -> ServiceRecord {
        ServiceRecord {
            id,
            service: service.name.clone(),
            kind: service.kind.clone(),
            data_id: None,
            phone_number: None,
            access: None,
            created_ms: now_ms,
            expires_ms: now_ms + ttl.as_millis() as u64,
            node: None,
        }
    }

    /// The record of instance `id` created by `call` at `now_ms`: `_data_id` and `_phone_number` from its
    /// parameters.
    pub fn of_call(id: String, call: &ServiceCall, now_ms: u64) -> ServiceRecord {
        ServiceRecord {
            data_id: call.params.get("_data_id").map(str::to_string),
            phone_number: call.params.get("_phone_number").map(str::to_string),
            ..ServiceRecord::new(id, &call.service, call.ttl, now_ms)
        }
    }

    /// The record as the Service API shows it.
    pub fn to_reply(&self, now_ms: u64) -> Reply {
        let mut reply = Reply::new();
        reply.insert("_id".into(), self.id.clone().into());
        reply.insert("_service".into(), self.service.clone().into());
        reply.insert("_type".into(), self.kind.clone().into());
        if let Some(data_id) = &self.data_id {
            reply.insert("_data_id".into(), data_id.clone().into());
        }
        if let Some(phone) = &self.phone_number {
            reply.insert("_phone_number".into(), phone.clone().into());
        }
        if let Some(access) = &self.access {
            access.add_to(&mut reply, now_ms);
        }
        reply.insert(
            "_ttl".into(),
            self.expires_ms.saturating_sub(now_ms).div_ceil(1000).into(),
        );
        reply
    }
}

/// What every kind shares: the store, Storage, resources and the clock, and the service records.
#[derive(Debug)]
pub struct ServiceCore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Storage API semantics.
    pub storage: Arc<Storage>,
    /// Resource groups.
    pub resources: Arc<Resources>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

fn record_key(id: &str) -> String {
    format!("service:{id}")
}

fn match_key(number: &str, id: &str) -> String {
    format!("match:{number}:{id}")
}

fn code_key(number: &str, code: &str) -> String {
    format!("code:{number}:{code}")
}

impl ServiceCore {
    /// The live record of service `id`.
    pub async fn load(&self, id: &str) -> Result<ServiceRecord> {
        let bytes = self
            .store
            .get(&record_key(id))
            .await?
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Store(store::Error::Corrupt(format!("service record `{id}`: {e}"))))
    }

    /// Writes `record` and its match index (when it has access info) in one batch, until `record.expires_ms`.
    pub async fn save(&self, record: &ServiceRecord) -> Result<()> {
        self.save_replacing(record, None).await
    }

    /// Like [`ServiceCore::save`], and in the same batch drops the match index and code reservation of the
    /// access info `previous` that `record` no longer has.
    pub async fn save_replacing(
        &self,
        record: &ServiceRecord,
        previous: Option<&AccessInfo>,
    ) -> Result<()> {
        let ops = ServiceCore::record_ops(record, previous, self.clock.now_ms());
        self.store.write_batch(ops).await?;
        Ok(())
    }

    /// The writes of [`ServiceCore::save_replacing`], for callers that commit them together with a booking.
    pub fn record_ops(
        record: &ServiceRecord,
        previous: Option<&AccessInfo>,
        now_ms: u64,
    ) -> Vec<WriteOp> {
        let ttl = Duration::from_millis(record.expires_ms.saturating_sub(now_ms).max(1));
        // Serialising this struct of strings and integers cannot fail.
        let value = serde_json::to_vec(record).unwrap_or_default();
        let mut ops = Vec::new();
        if let Some(previous) = previous {
            ops.push(WriteOp::Delete {
                key: match_key(&previous.allocation.value, &record.id),
            });
            if let Some(code) = &previous.code {
                ops.push(WriteOp::Delete {
                    key: code_key(&previous.allocation.value, code),
                });
            }
        }
        ops.push(WriteOp::Set {
            key: record_key(&record.id),
            value: Bytes::from(value),
            ttl: Some(ttl),
        });
        if let Some(access) = &record.access {
            ops.push(WriteOp::Set {
                key: match_key(&access.allocation.value, &record.id),
                value: Bytes::copy_from_slice(record.id.as_bytes()),
                ttl: Some(ttl),
            });
        }
        ops
    }

    /// Releases the access resources of `record` and drops its match index and code reservation.
    pub async fn release_access(&self, record: &ServiceRecord) -> Result<()> {
        let Some(access) = &record.access else {
            return Ok(());
        };
        self.resources
            .release(&access.allocation, &record.id)
            .await?;
        let mut ops = vec![WriteOp::Delete {
            key: match_key(&access.allocation.value, &record.id),
        }];
        if let Some(code) = &access.code {
            ops.push(WriteOp::Delete {
                key: code_key(&access.allocation.value, code),
            });
        }
        self.store.write_batch(ops).await?;
        Ok(())
    }

    /// Deletes the record of a service (after [`ServiceCore::release_access`]).
    pub async fn forget(&self, id: &str) -> Result<()> {
        self.store.delete(&record_key(id)).await?;
        Ok(())
    }

    /// The instance `record` has ended (its flow ended, failed to start, or is gone from its ORS): releases its
    /// access number, so the next customer can have it at once, and forgets the instance.
    pub async fn instance_ended(&self, record: &ServiceRecord) -> Result<()> {
        self.release_access(record).await?;
        self.forget(&record.id).await
    }

    /// As [`ServiceCore::instance_ended`] for instance `id`, when it is still known.
    pub async fn instance_ended_by_id(&self, id: &str) -> Result<()> {
        match self.load(id).await {
            Ok(record) => self.instance_ended(&record).await,
            Err(Error::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// `update`: adds or replaces the user data of instance `record` (fields not starting with `_`), kept until
    /// the instance expires; answers `{"_id", "_data_id"}`.
    pub async fn update_user_data(
        &self,
        record: &ServiceRecord,
        params: &[(String, String)],
        max_keys: usize,
    ) -> Result<Reply> {
        let mut data = DataSet::default();
        for (name, value) in params.iter().filter(|(name, _)| !name.starts_with('_')) {
            data.entries
                .insert(name.clone(), storage::Value::text(value));
        }
        let ttl = Duration::from_secs(
            record
                .expires_ms
                .saturating_sub(self.clock.now_ms())
                .div_ceil(1000)
                .max(1),
        );
        let data_id = match &record.data_id {
            Some(data_id) => {
                self.storage.update(data_id, data, ttl, max_keys).await?;
                data_id.clone()
            }
            None => self.storage.create(data, ttl, max_keys).await?,
        };
        let mut reply = Reply::new();
        reply.insert("_id".into(), record.id.clone().into());
        reply.insert("_data_id".into(), data_id.into());
        Ok(reply)
    }

    /// Live services that hold `number`, newest first.
    pub async fn holding(&self, number: &str) -> Result<Vec<ServiceRecord>> {
        let prefix = format!("match:{number}:");
        let mut records = Vec::new();
        for (_, id) in self.store.scan_prefix(&prefix, 1000).await? {
            let id = String::from_utf8_lossy(&id).into_owned();
            match self.load(&id).await {
                Ok(record) => records.push(record),
                Err(Error::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        records.sort_by_key(|record| std::cmp::Reverse(record.created_ms));
        Ok(records)
    }

    /// Reserves `code` for access number `number` until `ttl`; false when a live service already has it.
    pub async fn reserve_code(
        &self,
        number: &str,
        code: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool> {
        Ok(self
            .store
            .set_if_absent(
                &code_key(number, code),
                Bytes::copy_from_slice(holder.as_bytes()),
                Some(ttl),
            )
            .await?)
    }
}

/// Service kinds by `type`, and the operations of the Service API.
#[derive(Debug)]
pub struct ServiceRegistry {
    config: Arc<ConfigHandle>,
    core: Arc<ServiceCore>,
    kinds: HashMap<String, Arc<dyn ServiceKind>>,
}

impl ServiceRegistry {
    /// A registry with the `builtin` kind.
    pub fn new(config: Arc<ConfigHandle>, core: Arc<ServiceCore>) -> ServiceRegistry {
        let mut registry = ServiceRegistry {
            config,
            core,
            kinds: HashMap::new(),
        };
        registry.register("builtin", Arc::new(builtin::Builtin));
        registry
    }

    /// Registers the kind serving `type = kind_name` (the ORS layer registers `ors`).
    pub fn register(&mut self, kind_name: &str, kind: Arc<dyn ServiceKind>) {
        self.kinds.insert(kind_name.to_string(), kind);
    }

    /// The shared core.
    pub fn core(&self) -> &Arc<ServiceCore> {
        &self.core
    }

    /// `POST /service/{name}`: creates an instance of service `name`.
    pub async fn create(
        &self,
        name: &str,
        request: BTreeMap<String, String>,
        user_data: DataSet,
    ) -> Result<Reply> {
        let config = self.config.get();
        let service = config
            .service(name)
            .cloned()
            .ok_or_else(|| Error::UnknownService(name.to_string()))?;
        let kind = self
            .kinds
            .get(&service.kind)
            .cloned()
            .ok_or_else(|| Error::UnknownKind {
                service: name.to_string(),
                kind: service.kind.clone(),
            })?;
        let mut params = Params(request);
        let request_booking = params.0.remove("_booking_expiration_timeout");
        params.0.extend(service.overrides.clone());
        let (min, max) = crate::config::service::BOOKING_TIMEOUT_RANGE;
        if let Some(value) = request_booking {
            params.0.insert("_booking_expiration_timeout".into(), value);
        } else if let Some(timeout) = service.booking_expiration_timeout {
            params.0.insert(
                "_booking_expiration_timeout".into(),
                timeout.as_secs().to_string(),
            );
        }
        params.integer("_booking_expiration_timeout", min, max)?;
        let ttl_secs = params
            .integer("_ttl", 1, storage::MAX_TTL_SECS)?
            .or(service.ttl.map(|ttl| ttl.as_secs()))
            .unwrap_or(DEFAULT_TTL_SECS);
        let ttl = Duration::from_secs(ttl_secs);
        let mut data_id = None;
        if !user_data.entries.is_empty() {
            let id = self
                .core
                .storage
                .create(user_data, ttl, config.gms.storage_max_keys)
                .await?;
            params.0.insert("_data_id".into(), id.clone());
            data_id = Some(id);
        }
        let call = ServiceCall {
            config: config.clone(),
            service: service.clone(),
            params,
            ttl,
        };
        let mut reply = kind.create(&self.core, call).await?;
        if let Some(data_id) = data_id {
            reply.entry("_data_id").or_insert(data_id.into());
        }
        // Every kind's instances get a record, so request-access and GET/DELETE find them.
        if !kind.saves_records()
            && let Some(id) = reply.get("_id").and_then(|v| v.as_str())
        {
            match self.core.load(id).await {
                Ok(_) => {}
                Err(Error::NotFound(_)) => {
                    let now = self.core.clock.now_ms();
                    let record = ServiceRecord {
                        data_id: reply
                            .get("_data_id")
                            .and_then(|v| v.as_str())
                            .map(str::to_string),
                        ..ServiceRecord::new(id.to_string(), &service, ttl, now)
                    };
                    self.core.save(&record).await?;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(reply)
    }

    /// `GET /service/{id}`.
    pub async fn query(&self, id: &str) -> Result<Reply> {
        let record = self.core.load(id).await?;
        Ok(record.to_reply(self.core.clock.now_ms()))
    }

    /// `/service/{id}/request/{name}` (and `/service/{id}/{name}`): request `name` on the live instance `id`,
    /// answered by its kind; `update` changes the instance's stored user data.
    pub async fn request(
        &self,
        id: &str,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Answer> {
        let record = self.core.load(id).await?;
        let Some(kind) = self.kinds.get(&record.kind) else {
            return Err(Error::NotHandled {
                id: record.id,
                kind: record.kind,
            });
        };
        if name == UPDATE {
            let config = self.config.get();
            let reply = kind.update(&self.core, &config, &record, params).await?;
            return Ok(Answer::positive(reply));
        }
        kind.request(&self.core, &record, name, params).await
    }

    /// Whether chats on instance `record` are routed by its kind ([`ServiceKind::routes_chats`]).
    pub fn routes_chats(&self, record: &ServiceRecord) -> bool {
        self.kinds
            .get(&record.kind)
            .is_some_and(|kind| kind.routes_chats())
    }

    /// `DELETE /service/{id}`: releases its resources, tells its kind, forgets it.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let record = self.core.load(id).await?;
        self.core.release_access(&record).await?;
        if let Some(kind) = self.kinds.get(&record.kind) {
            kind.cancel(&self.core, &record).await?;
        }
        self.core.forget(id).await
    }
}
