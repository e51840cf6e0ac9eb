//! Run-time control of the simulated contact center, on the internal listener, so tests and demos can say "an
//! agent is ready now": `GET /genesys/1/contact-center` (agents and pending work), `POST
//! /genesys/1/contact-center/agents/{agent}/ready`, `.../not-ready`, `.../release`; `POST
//! /genesys/1/contact-center/calls` with `ani`, `dnis` and optionally `access_code` (a customer dials an access
//! number; the call is handed to the service that booked it); `POST /genesys/1/contact-center/chats` with
//! `service` and any chat parameters (a customer starts a chat, which the Chat Server workflow forwards to that
//! GMS service for routing); `POST /genesys/1/contact-center/outcomes/{outcome}`
//! (the next outbound call is `answered`, `busy`, `no-answer` or `failed`); `POST /genesys/1/contact-center/ewt`
//! with `seconds` and optionally `target` (the estimated wait time flows read).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

use super::error::{ApiError, ErrorBody};
use crate::contact_center::{CallOutcome, CcError, SimSnapshot, Simulator};

/// The control routes over `simulator`.
pub fn routes(simulator: Arc<Simulator>) -> Router {
    Router::new()
        .route("/genesys/1/contact-center", get(snapshot))
        .route(
            "/genesys/1/contact-center/agents/{agent}/{state}",
            post(agent),
        )
        .route("/genesys/1/contact-center/calls", post(call))
        .route("/genesys/1/contact-center/chats", post(chat))
        .route(
            "/genesys/1/contact-center/outcomes/{outcome}",
            post(outcome),
        )
        .route("/genesys/1/contact-center/ewt", post(ewt))
        .with_state(simulator)
}

/// The description of the simulator's control routes, for `Routers::describe`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(snapshot, agent, call, chat, outcome, ewt),
    components(schemas(ErrorBody)),
    tags((name = "contact-center", description = "Control of the simulated contact center (internal listener)"))
)]
pub struct ContactCenterDoc;

/// The description of the control routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <ContactCenterDoc as utoipa::OpenApi>::openapi()
}

fn cc_error(error: CcError) -> ApiError {
    match error {
        CcError::UnknownAgent(_) | CcError::UnknownInteraction(_) | CcError::UnknownRequest(_) => {
            ApiError::not_found(error.to_string())
        }
        CcError::Invalid(_) => ApiError::bad_request(error.to_string()),
    }
}

/// Agents, their states, and the pending work.
#[utoipa::path(get, path = "/genesys/1/contact-center", tag = "contact-center",
    responses((status = 200, body = Object)))]
async fn snapshot(State(simulator): State<Arc<Simulator>>) -> Json<SimSnapshot> {
    Json(simulator.snapshot())
}

/// An agent becomes ready, not ready, or is released from its interaction.
#[utoipa::path(post, path = "/genesys/1/contact-center/agents/{agent}/{state}", tag = "contact-center",
    params(("agent" = String, Path, description = "Agent id"), ("state" = String, Path, description = "`ready`, `not-ready` or `release`")),
    responses((status = 200, description = "`{\"agent\", \"state\"}`", body = Object), (status = 404, body = ErrorBody)))]
async fn agent(
    State(simulator): State<Arc<Simulator>>,
    Path((agent, state)): Path<(String, String)>,
) -> Result<Json<JsonValue>, ApiError> {
    match state.as_str() {
        "ready" => simulator.set_agent_ready(&agent),
        "not-ready" => simulator.set_agent_not_ready(&agent),
        "release" => simulator.release_agent(&agent),
        other => {
            return Err(ApiError::not_found(format!(
                "agent state `{other}` is not ready, not-ready or release"
            )));
        }
    }
    .map_err(cc_error)?;
    Ok(Json(json!({ "agent": agent, "state": state })))
}

/// A customer dials an access number; the call goes to the service that booked it.
#[utoipa::path(post, path = "/genesys/1/contact-center/calls", tag = "contact-center",
    params(("dnis" = String, Query, description = "The number dialled"), ("ani" = Option<String>, Query, description = "The caller's number"),
        ("access_code" = Option<String>, Query, description = "The access code keyed in")),
    responses((status = 200, description = "`{\"interactionid\"}`", body = Object), (status = 400, body = ErrorBody)))]
async fn call(
    State(simulator): State<Arc<Simulator>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<JsonValue>, ApiError> {
    let dnis = params
        .get("dnis")
        .filter(|dnis| !dnis.is_empty())
        .ok_or_else(|| ApiError::bad_request("parameter `dnis` is mandatory"))?;
    let ani = params.get("ani").cloned().unwrap_or_default();
    let mut udata = BTreeMap::new();
    if let Some(code) = params.get("access_code").filter(|code| !code.is_empty()) {
        udata.insert("access_code".to_string(), code.clone());
    }
    let interaction = simulator.place_call(&ani, dnis, udata);
    Ok(Json(json!({ "interactionid": interaction.0 })))
}

/// The outcome of the next outbound call.
#[utoipa::path(post, path = "/genesys/1/contact-center/outcomes/{outcome}", tag = "contact-center",
    params(("outcome" = String, Path, description = "`answered`, `busy`, `no-answer` or `failed`")),
    responses((status = 200, description = "`{\"outcome\"}`", body = Object), (status = 400, body = ErrorBody)))]
async fn outcome(
    State(simulator): State<Arc<Simulator>>,
    Path(outcome): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let parsed = CallOutcome::parse(&outcome).ok_or_else(|| {
        ApiError::bad_request(format!(
            "outcome `{outcome}` is not answered, busy, no-answer or failed"
        ))
    })?;
    simulator.push_call_outcome(parsed);
    Ok(Json(json!({ "outcome": parsed.as_str() })))
}

/// The estimated wait time flows read.
#[utoipa::path(post, path = "/genesys/1/contact-center/ewt", tag = "contact-center",
    params(("seconds" = f64, Query, description = "0..=86400"), ("target" = Option<String>, Query, description = "The target it applies to (all when absent)")),
    responses((status = 200, description = "`{\"ewt\", \"target\"}`", body = Object), (status = 400, body = ErrorBody)))]
async fn ewt(
    State(simulator): State<Arc<Simulator>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<JsonValue>, ApiError> {
    let seconds = params
        .get("seconds")
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && (0.0..=86_400.0).contains(seconds))
        .ok_or_else(|| {
            ApiError::bad_request("parameter `seconds` must be a number of seconds from 0 to 86400")
        })?;
    let target = params.get("target").filter(|target| !target.is_empty());
    simulator.set_ewt(
        target.map(String::as_str),
        std::time::Duration::from_secs_f64(seconds),
    );
    Ok(Json(json!({ "ewt": seconds, "target": target })))
}

/// A customer starts a chat, forwarded to a GMS service for routing.
#[utoipa::path(post, path = "/genesys/1/contact-center/chats", tag = "contact-center",
    params(("service" = String, Query, description = "The service id the chat is forwarded to")),
    responses((status = 200, description = "`{\"interactionid\"}`", body = Object), (status = 400, body = ErrorBody)))]
async fn chat(
    State(simulator): State<Arc<Simulator>>,
    Query(mut params): Query<BTreeMap<String, String>>,
) -> Result<Json<JsonValue>, ApiError> {
    let service = params
        .remove("service")
        .filter(|service| !service.is_empty())
        .ok_or_else(|| ApiError::bad_request("parameter `service` is mandatory"))?;
    let interaction = simulator.forward_chat(&service, params);
    Ok(Json(json!({ "interactionid": interaction.0 })))
}
