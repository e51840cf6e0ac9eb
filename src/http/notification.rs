//! Axum glue for the Notification API: `POST /genesys/1/notification/subscription` and
//! `DELETE /genesys/1/notification/subscription/{id}` (public), `POST /genesys/1/notification/publish`
//! (internal listener only). JSON bodies only: anything else is 415. Errors are
//! `{"message": "...", "exception": "<kind>"}`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use serde_json::{Value, json};

use super::error::ErrorBody;
use crate::notify::{self, Service};

/// Subscribe and unsubscribe, with the service applied as state. Belongs on the public listener.
pub fn public_router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/genesys/1/notification/subscription", post(subscribe))
        .route(
            "/genesys/1/notification/subscription/{id}",
            delete(unsubscribe),
        )
        .with_state(service)
}

/// Publish, with the service applied as state. Belongs on the internal listener only (the access rules block
/// `/genesys/{version}/notification/publish` for customers).
pub fn internal_router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/genesys/1/notification/publish", post(publish))
        .with_state(service)
}

/// The Notification API's description, for `Routers::describe`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(subscribe, unsubscribe, publish),
    components(schemas(ErrorBody)),
    tags((name = "notification", description = "Notification API (publish on the internal listener only)"))
)]
pub struct NotificationDoc;

/// The description of the Notification API routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <NotificationDoc as utoipa::OpenApi>::openapi()
}

fn error(status: StatusCode, message: String, exception: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "exception": exception})),
    )
        .into_response()
}

fn service_error(failure: notify::Error) -> Response {
    let status = match &failure {
        notify::Error::NotFound(_) => StatusCode::NOT_FOUND,
        notify::Error::Storage(_) => {
            // The store's own words (a Redis address, a file) stay in the log.
            tracing::error!(error = %failure, "notification storage failed");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the subscription storage does not answer, so nothing was done; try again shortly"
                    .to_string(),
                failure.kind(),
            );
        }
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, failure.to_string(), failure.kind())
}

/// The JSON body, or the 415/400 reply that refuses it.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Box<Response>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if crate::media::essence(content_type) != crate::media::JSON {
        return Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the Notification API takes application/json bodies (found `{content_type}`)"),
            "UnsupportedMediaType",
        )));
    }
    serde_json::from_slice(body).map_err(|parse| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("malformed JSON: {parse}"),
            "MalformedJson",
        ))
    })
}

/// Subscribe: `{"subscriberId", "providerName", "notificationDetails": {"deviceId", "type", "properties"},
/// "expire", "filter"}` → `{"id", "expire"}`.
#[utoipa::path(post, path = "/genesys/1/notification/subscription", tag = "notification",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`{\"id\": \"...\", \"expire\": 30}`", body = Object),
        (status = 400, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn subscribe(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    match service.subscribe(&body).await {
        Ok(subscription) => {
            axum::Json(json!({"id": subscription.id, "expire": subscription.expire}))
                .into_response()
        }
        Err(failure) => service_error(failure),
    }
}

/// Unsubscribe.
#[utoipa::path(delete, path = "/genesys/1/notification/subscription/{id}", tag = "notification",
    params(("id" = String, Path, description = "subscription id")),
    responses((status = 200, description = "`{\"id\": \"...\"}`", body = Object), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(State(service): State<Arc<Service>>, Path(id): Path<String>) -> Response {
    match service.unsubscribe(&id).await {
        Ok(()) => axum::Json(json!({"id": id})).into_response(),
        Err(failure) => service_error(failure),
    }
}

/// Publish (internal listener only): `{"tag", "message", "mediatype", "expire"}` → one report per delivery.
#[utoipa::path(post, path = "/genesys/1/notification/publish", tag = "notification",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`{\"tag\", \"deliveries\": [{\"subscriptionId\", \"subscriberId\", \"type\", \"channel\", \"status\", \"detail\"}]}`", body = Object),
        (status = 400, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn publish(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    match service.publish(&body).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(failure) => service_error(failure),
    }
}
