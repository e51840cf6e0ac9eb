//! Middleware of both listeners: the request log line (method, path, masked parameters, status, time), request
//! counters by route, and the guarantee that every 4xx/5xx answer under `/genesys` has the JSON error body
//! (routing errors, 405s and extractor rejections included).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::LoggedParams;
use super::metrics::Metrics;

/// The route template that answered, carried from the routing layer to the outer middleware (shared, not copied).
#[derive(Debug, Clone)]
struct RouteTag(MatchedPath);

/// Route layer: records which route template answered.
pub async fn tag_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(RouteTag(matched));
    }
    response
}

/// Outer layer: logs the request line, counts it, and gives error answers their JSON body.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    // Only the GMS API promises JSON errors; other interfaces (ORS's `/scxml/...`) keep their own bodies.
    let gms_api = request.uri().path().starts_with("/genesys");
    // The log line's parts are gathered only when it is written: masking parameters costs more than routing.
    let logging = tracing::enabled!(target: "gms::request", tracing::Level::INFO);
    let logged = logging.then(|| {
        let path = request.uri().path().to_string();
        let query = request
            .uri()
            .query()
            .map(|query| crate::log::mask_params(form_urlencoded::parse(query.as_bytes())));
        let slot = LoggedParams::default();
        request.extensions_mut().insert(slot.clone());
        (path, query, slot)
    });
    let response = next.run(request).await;
    let response = if gms_api {
        json_errors(response).await
    } else {
        response
    };
    let status = response.status().as_u16();
    let route = response
        .extensions()
        .get::<RouteTag>()
        .map(|tag| tag.0.as_str())
        .unwrap_or("unmatched");
    metrics.count_request(method.as_str(), route, status);
    let Some((path, query, logged)) = logged else {
        return response;
    };
    let params = logged
        .0
        .lock()
        .ok()
        .and_then(|slot| slot.clone())
        .or(query)
        .unwrap_or_default();
    tracing::info!(
        target: "gms::request",
        method = %method,
        path = %path,
        params = %params,
        status,
        elapsed_us = start.elapsed().as_micros() as u64,
        "request"
    );
    response
}

async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let mut answer = ApiError::new(status, ApiError::kind_of(status), text).into_response();
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}
