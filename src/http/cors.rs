//! CORS for browser clients of the public API (web chat and callback widgets send `Origin`), from the `server`
//! section's `cors_allowed_origins`, `cors_allowed_methods` and `cors_allowed_headers`: preflights are answered and
//! answers carry `Access-Control-Allow-Origin` for allowed origins only. Nothing is allowed by default. Built on
//! tower-http's `CorsLayer`; read when the listeners are built (a change takes effect at the next start).

use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::server::ServerSection;

/// How long a browser may keep a preflight's answer.
const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// The CORS layer of the public listener, or `None` when no origin is allowed.
pub fn layer(server: &ServerSection) -> Option<CorsLayer> {
    if server.cors_allowed_origins.is_empty() {
        return None;
    }
    let origins = if server
        .cors_allowed_origins
        .iter()
        .any(|origin| origin == "*")
    {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            server
                .cors_allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    let methods: Vec<Method> = server
        .cors_allowed_methods
        .iter()
        .filter_map(|method| method.parse().ok())
        .collect();
    let headers: Vec<HeaderName> = server
        .cors_allowed_headers
        .iter()
        .filter_map(|header| header.parse().ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods(methods)
            .allow_headers(headers)
            .max_age(MAX_AGE),
    )
}
