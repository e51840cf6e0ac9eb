//! The ORS HTTP interface (`/scxml/session/...`) on the internal listener (and on ORS's own port when `ors/port`
//! is set), the requests of `type=ors` service instances on the Service API (`/genesys/1/service/{id}/request/
//! {name}` and `/genesys/1/service/{id}/{name}`), and the in-process dispatch of DFM requests addressed to this
//! node ([`RouterInProcess`]: the request runs through this node's own router, with no network hop).
//!
//! Parameters come from the query string and from an `application/x-www-form-urlencoded` or `application/json`
//! body. Answers: start → `{"sessionid"}`; request → the flow's `<param>`s as a JSON object (200), or for a
//! negative `<ws:response>` 400 `{"message", "exception": "NegativeResponse", "resultcode", "params"}`; unknown
//! session → 404; a request no transition of the flow takes in its current state → 409 `RequestNotHandled` at
//! once (nothing could answer it later); a flow that does not answer in time → 504; a document that cannot be read or parsed → 400 with
//! its `file:line:column` errors; too many sessions → 503.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value as JsonValue, json};
use tower::ServiceExt;

use super::error::{ApiError, ErrorBody};
use crate::config::ConfigHandle;
use crate::dfm::{BoxFuture, DfmRequest, DfmResponse, InProcess};
use crate::ors::{Answer, Ors, OrsError};
use crate::scxml::Value;
use crate::services::ServiceRegistry;
use crate::services::ors::OrsService;

/// Handles of the `/scxml` routes.
#[derive(Debug, Clone)]
pub struct ScxmlState {
    /// The runtime.
    pub ors: Ors,
}

/// The `/scxml/session/...` routes.
pub fn scxml_routes(ors: Ors) -> Router {
    Router::new()
        .route("/scxml/session/start", post(start))
        .route("/scxml/session/{id}/event/{name}", any(event))
        .route("/scxml/session/{id}/request/{name}", any(request))
        .route("/scxml/session/{id}/terminate", any(terminate))
        .route("/scxml/session/{id}/query", any(query))
        .route("/scxml/basichttp/{id}", post(basichttp))
        .with_state(ScxmlState { ors })
}

/// Handles of the service-request routes.
#[derive(Debug, Clone)]
pub struct ServiceRequestState {
    /// The Service API (to find the instance).
    pub services: Arc<ServiceRegistry>,
    /// The `ors` kind.
    pub kind: Arc<OrsService>,
    /// The configuration.
    pub config: Arc<ConfigHandle>,
}

/// `POST /genesys/1/service/{id}/request/{name}` and `POST /genesys/1/service/{id}/{name}`.
pub fn service_routes(state: ServiceRequestState) -> Router {
    Router::new()
        .route(
            "/genesys/1/service/{id}/request/{name}",
            post(service_request_named),
        )
        .route("/genesys/1/service/{id}/{name}", post(service_request))
        .with_state(state)
}

/// The description of the ORS HTTP interface and of the service-request routes, for `Routers::describe`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(start, event, request, terminate, query, basichttp, service_request_named, service_request),
    components(schemas(ErrorBody)),
    tags((name = "ors", description = "ORS HTTP interface (internal listener and ORS's own port, `ors/port`): \
        parameters from the query string and an `application/x-www-form-urlencoded` or `application/json` body; \
        event, request, terminate and query take any method"),
        (name = "service", description = "Service API"))
)]
pub struct OrsDoc;

/// The description of the `/scxml/...` and service-request routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <OrsDoc as utoipa::OpenApi>::openapi()
}

fn ors_error(error: OrsError) -> ApiError {
    let message = error.to_string();
    match error {
        OrsError::NotFound(_) | OrsError::Ended(_) => ApiError::not_found(message),
        OrsError::Document(_) | OrsError::BadRequest(_) => ApiError::bad_request(message),
        OrsError::Capacity(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "TooManySessions", message)
        }
        OrsError::Timeout { .. } => ApiError::new(StatusCode::GATEWAY_TIMEOUT, "Timeout", message),
        OrsError::Unhandled { .. } => {
            ApiError::new(StatusCode::CONFLICT, "RequestNotHandled", message)
        }
        OrsError::Remote { .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, "BackendUnavailable", message)
        }
    }
}

/// Query and body parameters, in order (a JSON body's values keep their JSON type).
fn parameters(
    query: Vec<(String, String)>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, Value)>, ApiError> {
    let mut params: Vec<(String, Value)> = query
        .into_iter()
        .map(|(name, value)| (name, Value::string(value)))
        .collect();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == "application/json" {
        let json: JsonValue = serde_json::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!("the JSON body is not valid: {error}"))
        })?;
        let JsonValue::Object(map) = json else {
            return Err(ApiError::bad_request("the JSON body must be an object"));
        };
        params.extend(
            map.iter()
                .map(|(name, value)| (name.clone(), Value::from_json(value))),
        );
    } else if media == "application/x-www-form-urlencoded" || media.is_empty() {
        params.extend(
            form_urlencoded::parse(body)
                .map(|(name, value)| (name.into_owned(), Value::string(value.into_owned()))),
        );
    } else {
        return Err(ApiError::unsupported_media_type(format!(
            "the body must be application/x-www-form-urlencoded or application/json, not {media}"
        )));
    }
    Ok(params)
}

fn object(params: Vec<(String, Value)>) -> Value {
    Value::Object(
        params
            .into_iter()
            .map(|(name, value)| (Arc::from(name.as_str()), value))
            .collect(),
    )
}

fn answer_response(answer: Answer) -> Response {
    if answer.positive {
        return Json(JsonValue::Object(answer.params)).into_response();
    }
    let resultcode = answer.resultcode.clone().unwrap_or_default();
    let body = json!({
        "message": format!("the flow answered negatively: {}", if resultcode.is_empty() { "no result code" } else { &resultcode }),
        "exception": "NegativeResponse",
        "resultcode": resultcode,
        "params": answer.params,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Starts a session of the document `src`.
#[utoipa::path(post, path = "/scxml/session/start", tag = "ors",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`src` (mandatory: URL, `file:` URL or path of the SCXML document), `idealtime` (ms since the epoch: start then), other parameters into the matching `<data>` items"),
    responses((status = 200, description = "`{\"sessionid\": \"...\"}`", body = Object),
        (status = 400, description = "Missing `src`, bad `idealtime`, or a document that cannot be read or parsed (its `file:line:column` errors)", body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, description = "Too many live sessions", body = ErrorBody)))]
async fn start(
    State(state): State<ScxmlState>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let mut params = parameters(query, &headers, &body)?;
    let src = params
        .iter()
        .position(|(name, _)| name == "src")
        .map(|idx| params.remove(idx).1.display())
        .filter(|src| !src.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("parameter `src` is mandatory"))?;
    // `idealtime`: when the session should start, in ms since the epoch (now when absent or past).
    let idealtime = match params.iter().position(|(name, _)| name == "idealtime") {
        Some(idx) => {
            let text = params.remove(idx).1.display();
            Some(text.trim().parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "parameter `idealtime` must be a time in milliseconds since the epoch, found `{text}`"
                ))
            })?)
        }
        None => None,
    };
    params.retain(|(name, _)| name != "results");
    let id = match idealtime {
        Some(idealtime) => state.ors.start_at(&src, params, None, idealtime).await,
        None => state.ors.start(&src, params, None).await,
    }
    .map_err(ors_error)?;
    Ok(Json(json!({ "sessionid": id })))
}

/// Queues the external event `name` (parameters as `_event.data`) to session `id`.
#[utoipa::path(post, path = "/scxml/session/{id}/event/{name}", tag = "ors",
    params(("id" = String, Path, description = "Session id"), ("name" = String, Path, description = "Event name")),
    responses((status = 200, description = "`{\"sessionid\", \"event\"}`", body = Object),
        (status = 404, description = "Unknown or ended session", body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn event(
    State(state): State<ScxmlState>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let params = parameters(query, &headers, &body)?;
    state
        .ors
        .event(&id, &name, object(params))
        .map_err(ors_error)?;
    Ok(Json(json!({ "sessionid": id, "event": name })))
}

/// Sends the request `name` to session `id` and waits for the flow's `<ws:response>`.
#[utoipa::path(post, path = "/scxml/session/{id}/request/{name}", tag = "ors",
    params(("id" = String, Path, description = "Session id"), ("name" = String, Path, description = "Request name")),
    responses((status = 200, description = "A positive `<ws:response>`: its `<param>`s as a JSON object", body = Object),
        (status = 400, description = "A negative `<ws:response>`: `{\"message\", \"exception\": \"NegativeResponse\", \"resultcode\", \"params\"}`", body = ErrorBody),
        (status = 404, description = "Unknown or ended session", body = ErrorBody),
        (status = 409, description = "No transition of the flow takes this request in its current state (`RequestNotHandled`)", body = ErrorBody),
        (status = 504, description = "The flow did not answer in time (`ors/request_timeout`)", body = ErrorBody)))]
async fn request(
    State(state): State<ScxmlState>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = parameters(query, &headers, &body)?;
    let answer = state
        .ors
        .request(&id, &name, object(params), None)
        .await
        .map_err(ors_error)?;
    Ok(answer_response(answer))
}

/// Ends session `id`.
#[utoipa::path(post, path = "/scxml/session/{id}/terminate", tag = "ors",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "`{\"sessionid\"}`", body = Object), (status = 404, body = ErrorBody)))]
async fn terminate(
    State(state): State<ScxmlState>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    state.ors.terminate(&id).await.map_err(ors_error)?;
    Ok(Json(json!({ "sessionid": id })))
}

/// The session's data: active states and datamodel.
#[utoipa::path(get, path = "/scxml/session/{id}/query", tag = "ors",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn query(
    State(state): State<ScxmlState>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    Ok(Json(state.ors.query(&id).await.map_err(ors_error)?))
}

/// The BasicHTTP Event I/O Processor's receiving end: the request becomes an external event of session `id`
/// (fields from the query and a form or JSON body, other text as `content`, the whole request as `_event.raw`).
#[utoipa::path(post, path = "/scxml/basichttp/{id}", tag = "ors",
    params(("id" = String, Path, description = "Session id")),
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`_scxmleventname` names the event (else `HTTP.POST`); other fields become `_event.data`"),
    responses((status = 200, description = "`{\"sessionid\", \"event\"}`", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn basichttp(
    State(state): State<ScxmlState>,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |target| target.to_string());
    let event = crate::ors::ioproc::basichttp::received(crate::ors::ioproc::basichttp::Request {
        method: "POST",
        target: &target,
        headers: &headers,
        body: &body,
    })
    .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let name = event.name.to_string();
    state.ors.deliver(&id, event).map_err(ors_error)?;
    Ok(Json(json!({ "sessionid": id, "event": name })))
}

/// Sends the request `name` to the flow of `type=ors` service instance `id` (`update` is kept in GMS).
#[utoipa::path(post, path = "/genesys/1/service/{id}/request/{name}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`)"), ("name" = String, Path, description = "Request name (`status`, `connect`, `cancel`...; `update` changes the stored user data)")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Request parameters"),
    responses((status = 200, description = "The flow's answer (`_action`, `_tel_url`, `_text`...), or `{\"_id\", \"_data_id\"}` for `update`", body = Object),
        (status = 400, description = "A negative answer, or a service of a type that takes no requests", body = ErrorBody),
        (status = 404, description = "Unknown or ended service", body = ErrorBody),
        (status = 409, description = "The flow takes no such request in its current state (`RequestNotHandled`)", body = ErrorBody),
        (status = 502, description = "The ORS the service runs on is unreachable", body = ErrorBody),
        (status = 504, description = "The flow did not answer in time", body = ErrorBody)))]
async fn service_request_named(
    state: State<ServiceRequestState>,
    path: Path<BTreeMap<String, String>>,
    query: Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    service_request(state, path, query, headers, body).await
}

/// The same request in the form clients post (`/service/{id}/{name}`, e.g. the `_action` of a push).
#[utoipa::path(post, path = "/genesys/1/service/{id}/{name}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`)"), ("name" = String, Path, description = "Request name")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Request parameters"),
    responses((status = 200, description = "The flow's answer", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn service_request(
    State(state): State<ServiceRequestState>,
    Path(path): Path<BTreeMap<String, String>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (Some(id), Some(name)) = (path.get("id"), path.get("name")) else {
        return Err(ApiError::not_found("no such route"));
    };
    let record = state.services.core().load(id).await?;
    if record.kind != "ors" {
        return Err(ApiError::bad_request(format!(
            "service `{id}` is of type `{}`, which takes no requests",
            record.kind
        )));
    }
    let params: Vec<(String, String)> = parameters(query, &headers, &body)?
        .into_iter()
        .map(|(name, value)| (name, value.display()))
        .collect();
    if name == "update" {
        return update(&state, &record, params).await;
    }
    let answer = match state.kind.request(&record, name, &params).await {
        Ok(answer) => answer,
        Err(error @ (OrsError::NotFound(_) | OrsError::Ended(_))) => {
            // The session is gone. A remote ORS tells GMS nothing when a session ends, so this is where the
            // instance of a forwarded service lets go of its number (in-process ones have done so already).
            let core = state.services.core();
            if let Err(failure) = core.release_access(&record).await {
                tracing::warn!(service = %record.id, error = %failure, "access number of an ended service not released");
            }
            let _ = core.forget(&record.id).await;
            return Err(ors_error(error));
        }
        Err(error) => return Err(ors_error(error)),
    };
    Ok(answer_response(answer))
}

/// `update`: adds or replaces the instance's stored user data (GMS keeps it; the flow is not asked).
async fn update(
    state: &ServiceRequestState,
    record: &crate::services::ServiceRecord,
    params: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let storage = &state.services.core().storage;
    let mut data = crate::storage::DataSet::default();
    for (name, value) in params
        .into_iter()
        .filter(|(name, _)| !name.starts_with('_'))
    {
        data.entries
            .insert(name, crate::storage::Value::text(&value));
    }
    let ttl = std::time::Duration::from_secs(
        record
            .expires_ms
            .saturating_sub(state.services.core().clock.now_ms())
            .div_ceil(1000)
            .max(1),
    );
    let max_keys = state.config.get().gms.storage_max_keys;
    let data_id = match &record.data_id {
        Some(data_id) => {
            storage.update(data_id, data, ttl, max_keys).await?;
            data_id.clone()
        }
        None => storage.create(data, ttl, max_keys).await?,
    };
    Ok(Json(json!({ "_id": record.id, "_data_id": data_id })).into_response())
}

/// Serves DFM requests addressed to this node (a server `localhost`, `127.0.0.1` or `::1` on one of this node's
/// ports) through this node's internal router, so in-process calls get exactly the answers HTTP callers get.
#[derive(Debug, Default)]
pub struct RouterInProcess {
    router: OnceLock<Router>,
    ports: OnceLock<Vec<u16>>,
}

impl RouterInProcess {
    /// Not serving until [`RouterInProcess::set`] is called.
    pub fn new() -> RouterInProcess {
        RouterInProcess::default()
    }

    /// Serves with `router` the requests to these `ports`.
    pub fn set(&self, router: Router, ports: Vec<u16>) {
        let _ = self.router.set(router);
        let _ = self.ports.set(ports);
    }
}

impl InProcess for RouterInProcess {
    fn serves(&self, request: &DfmRequest) -> bool {
        let host = request
            .server
            .host
            .trim_start_matches('[')
            .trim_end_matches(']');
        let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
        local
            && self.router.get().is_some()
            && self
                .ports
                .get()
                .is_some_and(|ports| ports.contains(&request.server.port))
    }

    fn call<'a>(&'a self, request: &'a DfmRequest) -> BoxFuture<'a, Option<DfmResponse>> {
        Box::pin(async move {
            let router = self.router.get()?.clone();
            let mut builder = axum::http::Request::builder()
                .method(request.method.as_str())
                .uri(&request.path_and_query);
            if let Some(content_type) = request.content_type {
                builder = builder.header(CONTENT_TYPE, content_type);
            }
            let http_request = builder.body(Body::from(request.body.clone())).ok()?;
            let response = router.oneshot(http_request).await.ok()?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .ok()?;
            Some(DfmResponse {
                status,
                content_type,
                body: body.to_vec(),
            })
        })
    }
}
