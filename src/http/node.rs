//! Internal-only routes: the Node API (`GET /genesys/1/node`, `GET /genesys/1/admin/node/status`) that load
//! balancers use as a health check, and Prometheus `/metrics`.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::error::{ApiError, ErrorBody};
use super::state::AppState;

/// The node and metrics routes (internal listener).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/genesys/1/node", get(node))
        .route("/genesys/1/admin/node/status", get(status))
        .route("/metrics", get(metrics))
}

async fn healthy(state: &AppState) -> bool {
    state.store.get("node:health").await.is_ok()
}

/// Node health, version and id: 200 when the node can serve, 503 when its store fails.
#[utoipa::path(get, path = "/genesys/1/node", tag = "node",
    responses((status = 200, description = "`{\"status\": \"ONLINE\", \"version\": ..., \"node_id\": \"01\"}`", body = Object),
        (status = 503, body = ErrorBody)))]
pub async fn node(State(state): State<AppState>) -> Response {
    let config = state.config.get();
    if !healthy(&state).await {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the node's store does not answer",
        )
        .into_response();
    }
    Json(json!({
        "status": "ONLINE",
        "version": env!("CARGO_PKG_VERSION"),
        "node_id": format!("{:02}", config.server.node_id),
    }))
    .into_response()
}

/// `ONLINE` or `OFFLINE` as plain text (the 8.1.2 form of the Node API).
#[utoipa::path(get, path = "/genesys/1/admin/node/status", tag = "node",
    responses((status = 200, description = "ONLINE", content_type = "text/plain"), (status = 503, description = "OFFLINE")))]
pub async fn status(State(state): State<AppState>) -> Response {
    if healthy(&state).await {
        "ONLINE".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "OFFLINE").into_response()
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "node",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let config = state.config.get();
    let in_use = match state.resources.in_use(&config).await {
        Ok(in_use) => in_use,
        Err(error) => return ApiError::internal(error).into_response(),
    };
    let alarms = state.resources.alarms();
    let alarms = [
        (2000, alarms.duplicate_resource.load(Ordering::Relaxed)),
        (2001, alarms.no_more_resources.load(Ordering::Relaxed)),
    ];
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&in_use, &alarms),
    )
        .into_response()
}
