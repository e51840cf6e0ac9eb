//! Storage API routes: `POST /genesys/1/storage/{ttl}`, `POST /genesys/1/storage/{id}/{ttl}`,
//! `GET /genesys/1/storage/{id}`, `GET /genesys/1/storage/{id}/{key}`, `DELETE /genesys/1/storage/{id}`.
//!
//! The router names the first segment `{id}` and the second `{key}` in every route, because the path router
//! needs one name per position; the handlers read them as TTL where the API says so.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value as JsonValue, json};

use super::error::{ApiError, ErrorBody};
use super::extract::Fields;
use super::state::AppState;
use crate::storage::{DataSet, parse_ttl};

/// The Storage API routes (public and internal).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/genesys/1/storage/{id}",
            post(create).get(read_all).delete(remove),
        )
        .route("/genesys/1/storage/{id}/{key}", post(update).get(read_key))
}

fn data_set(fields: Fields) -> Result<DataSet, ApiError> {
    let mut data = DataSet::default();
    for (name, value) in fields.body {
        data.entries.insert(name, value);
    }
    if data.entries.is_empty() {
        return Err(ApiError::bad_request(
            "the request has no fields to store (send a urlencoded or multipart body)",
        ));
    }
    Ok(data)
}

/// Stores a new data set for `ttl` seconds.
#[utoipa::path(post, path = "/genesys/1/storage/{ttl}", tag = "storage",
    params(("ttl" = String, Path, description = "Seconds to keep the data; not a positive integer: 30")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Fields to store (multipart/form-data is accepted too; files keep their content type)"),
    responses((status = 200, description = "Stored", body = Object, example = json!({"id": "9f0c..."})),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Path(ttl): Path<String>,
    fields: Fields,
) -> Result<Json<JsonValue>, ApiError> {
    let data = data_set(fields)?;
    let max_keys = state.config.get().gms.storage_max_keys;
    let id = state
        .storage
        .create(data, parse_ttl(&ttl), max_keys)
        .await?;
    Ok(Json(json!({ "id": id })))
}

/// Adds or replaces fields of a data set and restarts its TTL.
#[utoipa::path(post, path = "/genesys/1/storage/{id}/{ttl}", tag = "storage",
    params(("id" = String, Path, description = "Data id"), ("ttl" = String, Path, description = "New TTL in seconds")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Fields to add or replace (multipart/form-data is accepted too)"),
    responses((status = 200, description = "Updated", body = Object),
        (status = 400, description = "No fields to store, or a bad field", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path((id, ttl)): Path<(String, String)>,
    fields: Fields,
) -> Result<Json<JsonValue>, ApiError> {
    let data = data_set(fields)?;
    let max_keys = state.config.get().gms.storage_max_keys;
    state
        .storage
        .update(&id, data, parse_ttl(&ttl), max_keys)
        .await?;
    Ok(Json(json!({ "id": id })))
}

/// Reads a whole data set: text fields as strings, files as the URL that downloads them.
#[utoipa::path(get, path = "/genesys/1/storage/{id}", tag = "storage",
    params(("id" = String, Path, description = "Data id")),
    responses((status = 200, description = "Key to value", body = Object), (status = 404, body = ErrorBody)))]
pub async fn read_all(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let data = state.storage.read(&id).await?;
    let mut object = Map::new();
    for (key, value) in data.entries {
        let shown = match value.as_text() {
            Some(text) => text.to_string(),
            None => format!("/genesys/1/storage/{id}/{key}"),
        };
        object.insert(key, shown.into());
    }
    Ok(Json(JsonValue::Object(object)))
}

/// Reads one field as it was sent, with its content type.
#[utoipa::path(get, path = "/genesys/1/storage/{id}/{key}", tag = "storage",
    params(("id" = String, Path, description = "Data id"), ("key" = String, Path, description = "Field name")),
    responses((status = 200, description = "The raw value"), (status = 404, body = ErrorBody)))]
pub async fn read_key(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let value = state.storage.read_key(&id, &key).await?;
    let content_type = value
        .content_type
        .clone()
        .unwrap_or_else(|| "text/plain; charset=utf-8".to_string());
    let mut response = ([(CONTENT_TYPE, content_type)], value.bytes).into_response();
    if let Some(file_name) = &value.file_name {
        let safe: String = file_name
            .chars()
            .filter(|c| !c.is_control() && *c != '"')
            .collect();
        if let Ok(header) = format!("attachment; filename=\"{safe}\"").parse() {
            response.headers_mut().insert(CONTENT_DISPOSITION, header);
        }
    }
    Ok(response)
}

/// Deletes a data set.
#[utoipa::path(delete, path = "/genesys/1/storage/{id}", tag = "storage",
    params(("id" = String, Path, description = "Data id")),
    responses((status = 200, description = "Deleted", body = Object), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    state.storage.delete(&id).await?;
    Ok(Json(json!({})))
}
