//! The ORS HTTP interface (`/scxml/session/...`, `/scxml/basichttp/{id}`) on the internal listener and on ORS's
//! own port (`ors/port`).
//!
//! Parameters come from the query string and from an `application/x-www-form-urlencoded` or `application/json`
//! body ([`super::extract::parameters`]). Answers ([`crate::ors::wire`]): start → `{"sessionid"}`; request → the
//! flow's `<param>`s as a JSON object (200), or for a negative `<ws:response>` 400 `{"message", "exception":
//! "NegativeResponse", "resultcode", "params"}`; unknown session → 404; a request no transition of the flow takes
//! in its current state → 409 `RequestNotHandled` at once (nothing could answer it later); a flow that does not
//! answer in time → 504; a document that cannot be read or parsed → 400 with its `file:line:column` errors; too
//! many sessions → 503.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value as JsonValue, json};

use super::error::{ApiError, ErrorBody};
use super::extract::parameters;
use crate::ors::ioproc::basichttp;
use crate::ors::{Answer, Ors, OrsError, wire};
use crate::scxml::Value;

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

/// The description of the ORS HTTP interface and of the service-request routes, for `Routers::describe`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(start, event, request, terminate, query, basichttp),
    components(schemas(ErrorBody)),
    tags((name = "ors", description = "ORS HTTP interface (internal listener and ORS's own port, `ors/port`): \
        parameters from the query string and an `application/x-www-form-urlencoded` or `application/json` body; \
        event, request, terminate and query take any method"))
)]
pub struct ScxmlDoc;

/// The description of the `/scxml/...` routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <ScxmlDoc as utoipa::OpenApi>::openapi()
}

fn ors_error(error: OrsError) -> ApiError {
    let (status, exception) = wire::error_status(&error);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    ApiError::new(status, exception, error.to_string())
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
    let body = wire::negative_body(answer.resultcode.as_deref(), &answer.params);
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
    let event = basichttp::received(basichttp::Request {
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
