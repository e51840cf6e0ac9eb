//! The live console at `/console/` on the internal listener: one static page (`pages/console.html`, plain HTML
//! and a little JavaScript, no build step, nothing fetched from elsewhere) and the read-only JSON and
//! server-sent-event routes under `/console/api/...` it reads: this node's ORS sessions, one session's state
//! diagram and its macrosteps as they happen, the services with their bookings, the resource pools, the storage
//! data sets the services point to, and the notification subscriptions.
//!
//! What the page changes goes through the routes that already exist on the internal listener: an event or a
//! terminate through the ORS HTTP interface (`/scxml/session/{id}/...`), the contact-center simulator through
//! `/genesys/1/contact-center/...`.
//!
//! A session's trace (`/console/api/sessions/{id}/trace`) is watched only while its stream is open
//! ([`Ors::watch`]): the stream starts with the session's state (`state`), then sends one `step` per macrostep
//! and a last `ended`, and closes; a browser that goes away drops the receiver, which stops the tracing.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use serde_json::{Value as JsonValue, json};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::state::NodeStatus;
use crate::config::AllocationStrategy;
use crate::diagram::{Marks, render};
use crate::notify;
use crate::ors::trace::{TraceLine, Watch};
use crate::ors::{Ors, OrsError};
use crate::services::{self, ServiceRecord};

/// The page.
const PAGE: &str = include_str!("pages/console.html");

/// How many resources of one group are looked up for their holders (a pool of thousands would make the
/// listing slow; the count of bookings stays exact).
const MAX_RESOURCES_LISTED: usize = 200;

/// How many subscriptions are listed at most.
const MAX_SUBSCRIPTIONS: usize = 1000;

/// How often an open trace stream checks that its session is still there (a session that stops without a last
/// line, as one whose worker failed, still ends the stream).
const LIVENESS_CHECK: Duration = Duration::from_secs(2);

/// What the console's routes read.
#[derive(Debug, Clone)]
pub struct Console {
    /// This node's ORS runtime.
    pub ors: Ors,
    /// The node's handles (configuration, services, storage, resources, clock, status).
    pub app: AppState,
    /// The notification service (its subscriptions).
    pub notify: Arc<notify::Service>,
}

/// The page and its `/console/api/...` routes, for the internal listener.
pub fn routes(console: Console) -> Router {
    Router::new()
        .route("/console/", get(page))
        .route("/console", get(page_bare))
        .route("/console/api/sessions", get(sessions))
        .route("/console/api/sessions/{id}", get(session))
        .route("/console/api/sessions/{id}/diagram", get(diagram))
        .route("/console/api/sessions/{id}/trace", get(trace))
        .route("/console/api/services", get(service_list))
        .route("/console/api/resources", get(resources))
        .route("/console/api/storage", get(storage))
        .route("/console/api/storage/{id}", get(data_set))
        .route("/console/api/subscriptions", get(subscriptions))
        .with_state(console)
}

/// The description of the console's routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(page, page_bare, sessions, session, diagram, trace, service_list, resources, storage, data_set, subscriptions),
    components(schemas(ErrorBody)),
    tags((name = "console", description = "The live console (internal listener): a page and the read-only routes it reads"))
)]
pub struct ConsoleDoc;

/// The description of the console's routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <ConsoleDoc as utoipa::OpenApi>::openapi()
}

/// An unknown or ended session: 404, as the ORS HTTP interface says it.
fn session_gone(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no live session with id `{id}` (it never existed or has ended)"
    ))
}

fn ors_error(id: &str, error: OrsError) -> ApiError {
    match error {
        OrsError::NotFound(_) | OrsError::Ended(_) => session_gone(id),
        other => ApiError::internal(other),
    }
}

/// The console page.
#[utoipa::path(get, path = "/console/", tag = "console",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// The same page without the trailing slash.
#[utoipa::path(get, path = "/console", tag = "console",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
async fn page_bare() -> Html<&'static str> {
    Html(PAGE)
}

/// This node's live ORS sessions, oldest first, each with its active (atomic) states.
#[utoipa::path(get, path = "/console/api/sessions", tag = "console",
    responses((status = 200, description = "`{\"now_ms\", \"sessions\": [{\"id\", \"name\", \"file\", \"started_ms\", \"age_s\", \"scheduled\", \"states\"}]}`", body = Object)))]
async fn sessions(State(console): State<Console>) -> Json<JsonValue> {
    let now = console.app.clock.now_ms();
    let listed = console.ors.sessions();
    // Each query waits behind its session's queued work: ask them all at once.
    let states = futures_util::future::join_all(listed.iter().map(|session| async {
        if session.scheduled {
            return Some(JsonValue::Array(Vec::new()));
        }
        let state = console.ors.query(&session.id).await.ok()?;
        Some(state["states"].clone())
    }))
    .await;
    let sessions: Vec<JsonValue> = listed
        .into_iter()
        .zip(states)
        // A session that ended between the listing and its query is left out.
        .filter_map(|(session, states)| {
            let states = states?;
            let mut entry = serde_json::to_value(&session).ok()?;
            entry["age_s"] = json!(now.saturating_sub(session.started_ms) / 1000);
            entry["states"] = states;
            Some(entry)
        })
        .collect();
    Json(json!({ "now_ms": now, "sessions": sessions }))
}

/// One session: its summary, active states and datamodel.
#[utoipa::path(get, path = "/console/api/sessions/{id}", tag = "console",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "`{\"id\", \"name\", \"file\", \"started_ms\", \"age_s\", \"scheduled\", \"states\", \"data\"}`", body = Object),
        (status = 404, description = "Unknown or ended session", body = ErrorBody)))]
async fn session(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let summary = console.ors.session(&id).ok_or_else(|| session_gone(&id))?;
    let (states, data) = if summary.scheduled {
        (json!([]), json!({}))
    } else {
        let state = console
            .ors
            .query(&id)
            .await
            .map_err(|error| ors_error(&id, error))?;
        (state["states"].clone(), state["data"].clone())
    };
    let now = console.app.clock.now_ms();
    let mut entry = serde_json::to_value(&summary).map_err(ApiError::internal)?;
    entry["age_s"] = json!(now.saturating_sub(summary.started_ms) / 1000);
    entry["states"] = states;
    entry["data"] = data;
    Ok(Json(entry))
}

/// The session's chart as an SVG state diagram, its active states marked (class `active`).
#[utoipa::path(get, path = "/console/api/sessions/{id}/diagram", tag = "console",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The diagram", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Unknown or ended session", body = ErrorBody)))]
async fn diagram(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let model = console.ors.model(&id).ok_or_else(|| session_gone(&id))?;
    // A session waiting for its `idealtime` has no state yet: its chart is drawn unmarked.
    let active: Vec<String> = match console.ors.query(&id).await {
        Ok(state) => crate::ors::runtime::active_states(&state),
        Err(_) if console.ors.is_alive(&id) => Vec::new(),
        Err(error) => return Err(ors_error(&id, error)),
    };
    // Laying a chart out is CPU work: off the async threads.
    let svg = tokio::task::spawn_blocking(move || {
        render(
            &model,
            &Marks::with_active_ids(&model, active.iter().map(String::as_str)),
        )
    })
    .await
    .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

/// The session's macrosteps as server-sent events: `state` (its state now), then a `step` per macrostep (the
/// trace line: `event`, `transitions`, `exited`, `entered`, `sends`, `logs`, `configuration`), `lagged` when
/// the page fell behind, and a last `ended` (`{"ended": true, "halt"}`) before the stream closes.
#[utoipa::path(get, path = "/console/api/sessions/{id}/trace", tag = "console",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The stream", content_type = "text/event-stream", body = String),
        (status = 404, description = "Unknown or ended session", body = ErrorBody)))]
async fn trace(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if !console.ors.is_alive(&id) {
        return Err(session_gone(&id));
    }
    // Watch first, then ask the state: no step falls between the two (a step already counted in the state may
    // come again, and its configuration is the same).
    let lines = console.ors.watch(Watch::Session(id.clone()));
    let first = match console.ors.query(&id).await {
        Ok(state) => state,
        Err(_) if console.ors.is_alive(&id) => json!({ "sessionid": id, "states": [] }),
        Err(error) => return Err(ors_error(&id, error)),
    };
    let tail = Tail {
        first: Some(Event::default().event("state").data(first.to_string())),
        lines,
        ors: console.ors.clone(),
        id,
        status: console.app.status.clone(),
        check: tokio::time::interval(LIVENESS_CHECK),
        done: false,
    };
    let stream = futures_util::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        Some((Ok(event), tail))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10))))
}

/// An open trace stream.
struct Tail {
    first: Option<Event>,
    lines: Receiver<Arc<TraceLine>>,
    ors: Ors,
    id: String,
    status: Arc<NodeStatus>,
    check: tokio::time::Interval,
    done: bool,
}

impl Tail {
    /// The next event; `None` once the session has ended (after its `ended` event) or the node is stopping.
    async fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        loop {
            tokio::select! {
                biased;
                line = self.lines.recv() => return self.line(line),
                _ = self.check.tick() => {
                    if self.ors.is_alive(&self.id) {
                        continue;
                    }
                    // Gone: its last lines may still be queued (they are published before it is forgotten).
                    return match self.lines.try_recv() {
                        Ok(line) => self.line(Ok(line)),
                        Err(TryRecvError::Lagged(missed)) => self.line(Err(RecvError::Lagged(missed))),
                        Err(TryRecvError::Empty | TryRecvError::Closed) => {
                            self.done = true;
                            Some(Event::default().event("ended").data(
                                json!({"ended": true, "halt": "no longer running"}).to_string(),
                            ))
                        }
                    };
                }
                // A stream left open would hold the drain up until it ends.
                _ = self.status.offline() => return None,
            }
        }
    }

    fn line(&mut self, line: Result<Arc<TraceLine>, RecvError>) -> Option<Event> {
        match line {
            Ok(line) => {
                let ended = line.line.get("ended").and_then(JsonValue::as_bool) == Some(true);
                self.done = ended;
                let kind = if ended { "ended" } else { "step" };
                Some(Event::default().event(kind).data(line.line.to_string()))
            }
            Err(RecvError::Lagged(missed)) => {
                Some(Event::default().event("lagged").data(missed.to_string()))
            }
            Err(RecvError::Closed) => None,
        }
    }
}

/// Live service instances this node can find: the records of its flows' sessions and of every instance holding
/// an access number (the match index of each configured resource), by id.
async fn instances(console: &Console) -> Result<BTreeMap<String, ServiceRecord>, ApiError> {
    let core = console.app.services.core();
    let config = console.app.config.get();
    let mut found = BTreeMap::new();
    for session in console.ors.sessions() {
        match core.load(&session.id).await {
            Ok(record) => {
                found.insert(record.id.clone(), record);
            }
            Err(services::Error::NotFound(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    for group in config.resources.groups.values() {
        let numbers = group
            .resources
            .iter()
            .take(MAX_RESOURCES_LISTED)
            .chain(group.backup_resource.iter());
        for number in numbers {
            for record in core.holding(number).await? {
                found.insert(record.id.clone(), record);
            }
        }
    }
    Ok(found)
}

/// The configured services, and the live instances with their bookings.
#[utoipa::path(get, path = "/console/api/services", tag = "console",
    responses((status = 200, description = "`{\"services\": [{\"name\", \"type\", \"service\", \"ttl_s\", \"resource_group\"}], \"instances\": [Service API record + \"age_s\", \"node\", \"session\"]}`", body = Object)))]
async fn service_list(State(console): State<Console>) -> Result<Json<JsonValue>, ApiError> {
    let config = console.app.config.get();
    let services: Vec<JsonValue> = config
        .services
        .values()
        .map(|service| {
            json!({
                "name": service.name,
                "type": service.kind,
                "service": service.service,
                "ttl_s": service.ttl.map(|ttl| ttl.as_secs()),
                "resource_group": service.resource_group,
            })
        })
        .collect();
    let now = console.app.clock.now_ms();
    let mut listed: Vec<ServiceRecord> = instances(&console).await?.into_values().collect();
    listed.sort_by_key(|record| record.created_ms);
    let instances: Vec<JsonValue> = listed
        .iter()
        .map(|record| {
            let mut reply = JsonValue::Object(record.to_reply(now));
            reply["age_s"] = json!(now.saturating_sub(record.created_ms) / 1000);
            reply["node"] = json!(record.node);
            reply["session"] = json!(console.ors.is_alive(&record.id));
            reply
        })
        .collect();
    Ok(Json(
        json!({ "services": services, "instances": instances }),
    ))
}

fn strategy_name(strategy: AllocationStrategy) -> &'static str {
    match strategy {
        AllocationStrategy::Random => "RANDOM",
        AllocationStrategy::Local => "LOCAL",
        AllocationStrategy::Cluster => "CLUSTER",
    }
}

/// The resource groups: strategy, how many resources are booked, and which instance holds which resource.
#[utoipa::path(get, path = "/console/api/resources", tag = "console",
    responses((status = 200, description = "`{\"groups\": [{\"name\", \"strategy\", \"booking_expiration_s\", \"backup_resource\", \"booked\", \"resources\": [{\"value\", \"holders\"}], \"listed_all\"}]}`", body = Object)))]
async fn resources(State(console): State<Console>) -> Result<Json<JsonValue>, ApiError> {
    let config = console.app.config.get();
    let core = console.app.services.core();
    let booked: BTreeMap<String, usize> = console
        .app
        .resources
        .in_use(&config)
        .await
        .map_err(|error| match error {
            crate::resources::Error::Store(error) => ApiError::store(&error),
            other => ApiError::internal(other),
        })?
        .into_iter()
        .collect();
    let mut groups = Vec::new();
    for group in config.resources.groups.values() {
        let mut resources = Vec::new();
        for value in group.resources.iter().take(MAX_RESOURCES_LISTED) {
            let holders: Vec<String> = core
                .holding(value)
                .await?
                .into_iter()
                .map(|record| record.id)
                .collect();
            resources.push(json!({ "value": value, "holders": holders }));
        }
        groups.push(json!({
            "name": group.name,
            "strategy": strategy_name(group.strategy),
            "booking_expiration_s": group.booking_expiration.as_secs(),
            "backup_resource": group.backup_resource,
            "booked": booked.get(&group.name),
            "resources": resources,
            "listed_all": group.resources.len() <= MAX_RESOURCES_LISTED,
        }));
    }
    Ok(Json(json!({ "groups": groups })))
}

/// A data set's fields as the console shows them: text as text, anything else by its size and type.
fn entries(data: &crate::storage::DataSet) -> JsonValue {
    let fields: serde_json::Map<String, JsonValue> = data
        .entries
        .iter()
        .map(|(key, value)| {
            let shown = match value.as_text() {
                Some(text) => json!({ "text": text }),
                None => json!({
                    "bytes": value.bytes.len(),
                    "content_type": value.content_type,
                    "file_name": value.file_name,
                }),
            };
            (key.clone(), shown)
        })
        .collect();
    JsonValue::Object(fields)
}

/// The storage data sets the live instances point to (`_data_id`; the store keeps no list of data sets, so one
/// created by an app on its own is looked up by id, `/console/api/storage/{id}`).
#[utoipa::path(get, path = "/console/api/storage", tag = "console",
    responses((status = 200, description = "`{\"data_sets\": [{\"id\", \"service\", \"instance\", \"entries\"}]}`", body = Object)))]
async fn storage(State(console): State<Console>) -> Result<Json<JsonValue>, ApiError> {
    let mut data_sets = Vec::new();
    for record in instances(&console).await?.into_values() {
        let Some(data_id) = &record.data_id else {
            continue;
        };
        match console.app.storage.read(data_id).await {
            Ok(data) => data_sets.push(json!({
                "id": data_id,
                "service": record.service,
                "instance": record.id,
                "entries": entries(&data),
            })),
            // Expired before its instance: nothing to show.
            Err(crate::storage::Error::NotFound(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Json(json!({ "data_sets": data_sets })))
}

/// One data set by id.
#[utoipa::path(get, path = "/console/api/storage/{id}", tag = "console",
    params(("id" = String, Path, description = "Data set id")),
    responses((status = 200, description = "`{\"id\", \"entries\"}`", body = Object),
        (status = 404, description = "No such data set", body = ErrorBody)))]
async fn data_set(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let data = console.app.storage.read(&id).await?;
    Ok(Json(json!({ "id": id, "entries": entries(&data) })))
}

/// The live notification subscriptions.
#[utoipa::path(get, path = "/console/api/subscriptions", tag = "console",
    responses((status = 200, description = "`{\"subscriptions\": [{\"id\", \"subscriberId\", \"providerName\", \"type\", \"deviceId\", \"properties\", \"filter\", \"expire\"}]}`", body = Object),
        (status = 503, description = "The subscription storage does not answer", body = ErrorBody)))]
async fn subscriptions(State(console): State<Console>) -> Result<Json<JsonValue>, ApiError> {
    let subscriptions = console
        .notify
        .subscriptions(MAX_SUBSCRIPTIONS)
        .await
        .map_err(|error| {
            tracing::error!(%error, "notification storage failed");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "StoreUnavailable",
                "the subscription storage does not answer; try again shortly",
            )
        })?;
    Ok(Json(json!({ "subscriptions": subscriptions })))
}
