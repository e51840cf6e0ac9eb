//! Service API routes: `POST /genesys/1/service/{name}`, `GET` and `DELETE /genesys/1/service/{id}`, and the
//! requests on a live instance, `POST /genesys/1/service/{id}/request/{name}` and `/genesys/1/service/{id}/{name}`.
//! Parameters starting with `_` are control parameters; the others are user data, stored and returned as
//! `_data_id`. The first path segment is named `{id}` in every route, for the path router's sake.
//!
//! Every call goes to the [`crate::services::ServiceRegistry`], which finds the instance's kind: this layer names
//! none. A request's answer is the kind's fields as a JSON object (200), or for a negative answer 400
//! `{"message", "exception": "NegativeResponse", "resultcode", "params"}`, as ORS's HTTP interface answers
//! ([`crate::ors::wire::negative_body`]).

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value as JsonValue, json};

use super::error::{ApiError, ErrorBody};
use super::extract::{Fields, parameters};
use super::state::AppState;
use crate::services::{Answer, Reply};
use crate::storage::DataSet;

/// The Service API routes (public and internal; the public listener blocks match-interaction).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/genesys/1/service/{id}",
            post(create).get(query).delete(cancel),
        )
        .route(
            "/genesys/1/service/{id}/request/{name}",
            post(request_named).layer(DefaultBodyLimit::max(REQUEST_BODY_LIMIT)),
        )
        .route(
            "/genesys/1/service/{id}/{name}",
            post(request).layer(DefaultBodyLimit::max(REQUEST_BODY_LIMIT)),
        )
}

/// The largest body a request on an instance may have (its parameters are read whole, unlike `Fields`, which
/// enforces `gms/storage.max_size` itself).
const REQUEST_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Creates an instance of the configured service `name`.
#[utoipa::path(post, path = "/genesys/1/service/{name}", tag = "service",
    params(("name" = String, Path, description = "A configured service.NAME (request-interaction, request-access, match-interaction, or an ors service)")),
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "Form fields (multipart/form-data is accepted too): `_phone_number`, `_resource_group`, `_provide_code`, `_ttl`, `_id`, `_access_number`, `_access_code`, `_booking_expiration_timeout`...; other fields are user data"),
    responses((status = 200, description = "`_id` and the service's fields (`_access_number`, `_access_code`, `_expiration_time`, `_data_id`)", body = Object),
        (status = 400, body = ErrorBody), (status = 404, description = "Unknown service, unknown `_id`, or no match", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 503, description = "No more resources", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Path(name): Path<String>,
    fields: Fields,
) -> Result<Json<Reply>, ApiError> {
    let mut params = BTreeMap::new();
    let mut data = DataSet::default();
    let query = fields
        .query
        .into_iter()
        .map(|(name, value)| (name, crate::storage::Value::text(&value)));
    for (key, value) in query.chain(fields.body) {
        if key.starts_with('_') {
            let Some(text) = value.as_text() else {
                return Err(ApiError::bad_request(format!(
                    "parameter `{key}` must be text, not a file"
                )));
            };
            params.insert(key, text.to_string());
        } else {
            data.entries.insert(key, value);
        }
    }
    Ok(Json(state.services.create(&name, params, data).await?))
}

/// Reads a live service; given the name of a configured service instead of an id, creates an instance of it
/// from the query string, as a bodiless `POST` would (deployed chat clients create their service this way).
#[utoipa::path(get, path = "/genesys/1/service/{id}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`), or a configured service name to create an instance")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn query(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Reply>, ApiError> {
    if state.config.get().service(&id).is_some() {
        // Ids are random: a configured name is never one.
        let mut params = BTreeMap::new();
        let mut data = DataSet::default();
        for (key, value) in query {
            if key.starts_with('_') {
                params.insert(key, value);
            } else {
                data.entries
                    .insert(key, crate::storage::Value::text(&value));
            }
        }
        return Ok(Json(state.services.create(&id, params, data).await?));
    }
    Ok(Json(state.services.query(&id).await?))
}

/// Ends a service and releases its access number.
#[utoipa::path(delete, path = "/genesys/1/service/{id}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`)")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    state.services.delete(&id).await?;
    Ok(Json(json!({ "_id": id })))
}

fn answer_response(answer: Answer) -> Response {
    if answer.positive {
        return Json(JsonValue::Object(answer.params)).into_response();
    }
    let body = crate::ors::wire::negative_body(answer.resultcode.as_deref(), &answer.params);
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Sends the request `name` to the live service instance `id` (an `ors` service's flow answers it).
#[utoipa::path(post, path = "/genesys/1/service/{id}/request/{name}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`)"), ("name" = String, Path, description = "Request name (`status`, `connect`, `cancel`...; `update` changes the stored user data)")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Request parameters"),
    responses((status = 200, description = "The flow's answer (`_action`, `_tel_url`, `_text`...), or `{\"_id\", \"_data_id\"}` for `update`", body = Object),
        (status = 400, description = "A negative answer, or a service of a type that takes no requests", body = ErrorBody),
        (status = 404, description = "Unknown or ended service", body = ErrorBody),
        (status = 409, description = "The flow takes no such request in its current state (`RequestNotHandled`)", body = ErrorBody),
        (status = 502, description = "The ORS the service runs on is unreachable", body = ErrorBody),
        (status = 504, description = "The flow did not answer in time", body = ErrorBody)))]
pub async fn request_named(
    state: State<AppState>,
    path: Path<BTreeMap<String, String>>,
    query: Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    request(state, path, query, headers, body).await
}

/// The same request in the form clients post (`/service/{id}/{name}`, e.g. the `_action` of a push).
#[utoipa::path(post, path = "/genesys/1/service/{id}/{name}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`)"), ("name" = String, Path, description = "Request name")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Request parameters"),
    responses((status = 200, description = "The flow's answer", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    Path(path): Path<BTreeMap<String, String>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (Some(id), Some(name)) = (path.get("id"), path.get("name")) else {
        return Err(ApiError::not_found("no such route"));
    };
    let params: Vec<(String, String)> = parameters(query, &headers, &body)?
        .into_iter()
        .map(|(name, value)| (name, value.display()))
        .collect();
    let answer = state.services.request(id, name, &params).await?;
    Ok(answer_response(answer))
}
