//! Service API routes: `POST /genesys/1/service/{name}`, `GET` and `DELETE /genesys/1/service/{id}`.
//! Parameters starting with `_` are control parameters; the others are user data, stored and returned as
//! `_data_id`. The first path segment is named `{id}` in every route, for the path router's sake.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{Value as JsonValue, json};

use super::error::{ApiError, ErrorBody};
use super::extract::Fields;
use super::state::AppState;
use crate::services::Reply;
use crate::storage::DataSet;

/// The Service API routes (public and internal; the public listener blocks match-interaction).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/genesys/1/service/{id}",
        post(create).get(query).delete(cancel),
    )
}

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

/// Reads a live service.
#[utoipa::path(get, path = "/genesys/1/service/{id}", tag = "service",
    params(("id" = String, Path, description = "Service id (`_id`)")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn query(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Reply>, ApiError> {
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
