//! Internal-only routes: the Node API (`GET /genesys/1/node`, `GET /genesys/1/admin/node/status`) that load
//! balancers use as a health check, `POST /genesys/1/admin/node/changestatus/OFFLINE` that stops a node
//! gracefully, and Prometheus `/metrics`.
//!
//! [`NodeStatus`] is the node's ONLINE/OFFLINE switch: going OFFLINE (this route, or SIGTERM) starts the drain
//! that `app.rs` runs; the Node API answers 503 `OFFLINE` from that moment.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::error::{ApiError, ErrorBody};
use super::state::AppState;
pub use super::state::NodeStatus;

/// The node and metrics routes (internal listener).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/genesys/1/node", get(node))
        .route("/genesys/1/admin/node/status", get(status))
        .route(
            "/genesys/1/admin/node/changestatus/{status}",
            post(change_status),
        )
        .route("/metrics", get(metrics))
}

/// The node status for the public listener (`GET /genesys/1/admin/node/status`), which is where a load
/// balancer's health check (Apache `mod_proxy_hcheck`, `hcuri`) reaches a node.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/genesys/1/admin/node/status", get(status))
}

/// Why the node cannot serve, if it cannot: OFFLINE, or its store does not answer.
async fn unavailable(state: &AppState) -> Option<String> {
    if state.status.is_offline() {
        return Some("the node is OFFLINE: it is stopping".to_string());
    }
    match state.store.get("node:health").await {
        Ok(_) => None,
        Err(error) => Some(format!("the node's store does not answer: {error}")),
    }
}

/// Node health, version and id: 200 when the node can serve, 503 when it is stopping or its store fails.
#[utoipa::path(get, path = "/genesys/1/node", tag = "node",
    responses((status = 200, description = "`{\"status\": \"ONLINE\", \"version\": ..., \"node_id\": \"01\"}`", body = Object),
        (status = 503, description = "`{\"status\": \"OFFLINE\", \"message\", \"exception\"}`", body = ErrorBody)))]
pub async fn node(State(state): State<AppState>) -> Response {
    let config = state.config.get();
    let node_id = format!("{:02}", config.server.node_id);
    if let Some(reason) = unavailable(&state).await {
        let exception = if state.status.is_offline() {
            "NodeOffline"
        } else {
            "StoreUnavailable"
        };
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "OFFLINE",
                "node_id": node_id,
                "message": reason,
                "exception": exception,
            })),
        )
            .into_response();
    }
    Json(json!({
        "status": "ONLINE",
        "version": env!("CARGO_PKG_VERSION"),
        "node_id": node_id,
    }))
    .into_response()
}

/// `ONLINE` or `OFFLINE` as plain text (the 8.1.2 form of the Node API).
#[utoipa::path(get, path = "/genesys/1/admin/node/status", tag = "node",
    responses((status = 200, description = "ONLINE", content_type = "text/plain"), (status = 503, description = "OFFLINE")))]
pub async fn status(State(state): State<AppState>) -> Response {
    if unavailable(&state).await.is_none() {
        "ONLINE".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "OFFLINE").into_response()
    }
}

/// `OFFLINE` stops the node gracefully: the Node API answers 503 `OFFLINE` for `server/drain_timeout`, held
/// CometD polls are answered at once, requests in flight finish, then the process exits. `ONLINE` is accepted
/// while the node is online (a stop cannot be taken back).
#[utoipa::path(post, path = "/genesys/1/admin/node/changestatus/{status}", tag = "node",
    params(("status" = String, Path, description = "`OFFLINE` or `ONLINE`")),
    responses((status = 200, description = "`{\"status\": ...}`", body = Object),
        (status = 400, body = ErrorBody), (status = 409, description = "ONLINE asked while stopping", body = ErrorBody)))]
pub async fn change_status(State(state): State<AppState>, Path(status): Path<String>) -> Response {
    match status.to_ascii_uppercase().as_str() {
        "OFFLINE" => {
            if state.status.go_offline() {
                tracing::info!("node going OFFLINE on request");
            }
            Json(json!({"status": "OFFLINE"})).into_response()
        }
        "ONLINE" if !state.status.is_offline() => Json(json!({"status": "ONLINE"})).into_response(),
        "ONLINE" => ApiError::new(
            StatusCode::CONFLICT,
            "NodeOffline",
            "the node is stopping; start it again to bring it ONLINE",
        )
        .into_response(),
        other => {
            ApiError::bad_request(format!("status must be ONLINE or OFFLINE, found `{other}`"))
                .into_response()
        }
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
