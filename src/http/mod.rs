//! The axum edge: routers for `/genesys/1/...` and `/scxml/...`, extractors, and the mapping of errors to HTTP.
//!
//! Two listeners, as the deployment guide's access rules ask:
//! - **public** (apps, behind the gateway): the "Allow" list only; the "Block" list (match-interaction,
//!   notification/publish, node) answers 404 ([`access`]).
//! - **internal** (ORS flows, agents, load-balancer health checks): everything, plus `/genesys/1/node`,
//!   `/metrics` and `/genesys/openapi.json`.
//!
//! A third router, for ORS's own port (`ors/port`, 7210 on a real ORS), serves the `/scxml/...` routes only
//! ([`Routers::ors_port`]), with the same request log, metrics and JSON errors.
//!
//! Other areas add their routes with one line each in `app.rs`, as ready routers (`Router` with their state
//! applied): [`Routers::public`] mounts on both listeners, [`Routers::internal`] on the internal one only, and
//! [`Routers::describe`] adds their OpenAPI paths. Every merged route gets the request log line, metrics, the
//! JSON error bodies and (public) the access rules. Path parameters at the same position must share a name
//! across areas: `/genesys/1/service/{id}/...`, `/genesys/1/storage/{id}/{key}`.

pub mod access;
pub mod agent_page;
pub mod auth;
pub mod chat;
pub mod console;
pub mod contact_center;
pub mod edge;
pub mod error;
pub mod extract;
pub mod geo;
pub mod in_process;
pub mod metrics;
pub mod node;
pub mod openapi;
pub mod rate_limit;
pub mod scxml;
pub mod serve;
pub mod service;
pub mod state;
pub mod storage;
pub mod tls;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::get;

pub use error::ApiError;
pub use state::AppState;

use metrics::Metrics;

/// The routers of both listeners, before the shared layers are applied.
pub struct Routers {
    public: Router,
    internal: Router,
    ors: Router,
    metrics: Arc<Metrics>,
    openapi: utoipa::openapi::OpenApi,
    cors: Option<tower_http::cors::CorsLayer>,
    config: Arc<crate::config::ConfigHandle>,
    users: Option<Arc<auth::Users>>,
    limiter: Option<Arc<rate_limit::Limiter>>,
}

/// The finished routers, one per listener.
#[derive(Debug, Clone)]
pub struct Listeners {
    /// Router of the public listener.
    pub public: Router,
    /// Router of the internal listener.
    pub internal: Router,
    /// Router of ORS's own port (the `/scxml/...` routes only).
    pub ors: Router,
    /// The request counters, for routers made later ([`Listeners::https_redirect`]).
    metrics: Arc<Metrics>,
}

impl Listeners {
    /// The router of the plain public listener when `https_redirect` sends every request to the HTTPS listener
    /// on `port`: 308 (method and body kept) to the same path and query on the host the client asked for.
    pub fn https_redirect(&self, port: u16) -> Router {
        let redirect =
            move |request: axum::extract::Request| async move { https_redirect(&request, port) };
        // Every path is redirected: no routes, only the fallback, with the edge's log line and counters.
        Router::new()
            .fallback(redirect)
            .layer(edge::EdgeLayer::new(self.metrics.clone(), None))
    }
}

impl std::fmt::Debug for Routers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routers").finish_non_exhaustive()
    }
}

impl Routers {
    /// The core routes: Storage and Service APIs on both listeners; node and metrics on the internal one, but for
    /// the node's status, which a load balancer's health check reads on the public one too.
    pub fn new(state: AppState) -> Routers {
        let shared: Router = Router::new()
            .merge(storage::routes())
            .merge(service::routes())
            // `Fields` enforces option gms/storage.max_size itself, so axum's fixed default must not cut first.
            .layer(DefaultBodyLimit::disable())
            .with_state(state.clone());
        let internal = shared
            .clone()
            .merge(node::routes().with_state(state.clone()));
        // A load balancer's health check reaches the public port only; the status says ONLINE or OFFLINE, no more.
        let public = shared.merge(node::public_routes().with_state(state.clone()));
        Routers {
            cors: cors::layer(&state.config.get().server),
            public,
            internal,
            ors: Router::new(),
            metrics: state.metrics.clone(),
            openapi: openapi::document(),
            config: state.config.clone(),
            users: None,
            limiter: None,
        }
    }

    /// Protects the public listeners with Basic authentication (`users`) and a per-client rate (`limiter`).
    pub fn protect(
        mut self,
        users: Option<Arc<auth::Users>>,
        limiter: Option<Arc<rate_limit::Limiter>>,
    ) -> Routers {
        self.users = users;
        self.limiter = limiter;
        self
    }

    /// Mounts `router` on both listeners (an area of the "Allow" list).
    pub fn public(mut self, router: Router) -> Routers {
        self.public = self.public.merge(router.clone());
        self.internal = self.internal.merge(router);
        self
    }

    /// Mounts `router` on the internal listener only.
    pub fn internal(mut self, router: Router) -> Routers {
        self.internal = self.internal.merge(router);
        self
    }

    /// Mounts `router` on the internal listener and on ORS's own port (the ORS HTTP interface).
    pub fn ors_port(mut self, router: Router) -> Routers {
        self.internal = self.internal.merge(router.clone());
        self.ors = self.ors.merge(router);
        self
    }

    /// Adds another area's paths to `/genesys/openapi.json`.
    pub fn describe(mut self, document: utoipa::openapi::OpenApi) -> Routers {
        self.openapi.merge(document);
        self
    }

    /// Applies the shared layers and returns the two routers.
    pub fn build(self) -> Listeners {
        let document = Arc::new(self.openapi);
        let internal = self.internal.route(
            "/genesys/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        );
        // Inside the edge, so refused requests are counted and logged like every request. From the inside out:
        // authentication, CORS (a browser's preflight carries no credentials), the rate (cheaper than a hash).
        let mut public = self.public;
        if let Some(users) = self.users {
            public = public.layer(axum::middleware::from_fn_with_state(
                users,
                auth::authenticate,
            ));
        }
        if let Some(cors) = self.cors {
            public = public.layer(cors);
        }
        if let Some(limiter) = self.limiter {
            public = public.layer(axum::middleware::from_fn_with_state(
                limiter,
                rate_limit::limit,
            ));
        }
        Listeners {
            public: finish(public, Some(self.config), self.metrics.clone()),
            internal: finish(internal, None, self.metrics.clone()),
            ors: finish(self.ors, None, self.metrics.clone()),
            metrics: self.metrics,
        }
    }
}

/// The plain listener's answer when `https_redirect` is on.
fn https_redirect(request: &axum::extract::Request, port: u16) -> axum::response::Response {
    use axum::response::IntoResponse;
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .and_then(|host| host.parse::<axum::http::uri::Authority>().ok())
        .map(|authority| authority.host().to_string())
        .unwrap_or_else(|| "localhost".to_string());
    let path = request
        .uri()
        .path_and_query()
        .map(|path| path.as_str())
        .unwrap_or("/");
    let location = if port == 443 {
        format!("https://{host}{path}")
    } else {
        format!("https://{host}:{port}{path}")
    };
    (
        axum::http::StatusCode::PERMANENT_REDIRECT,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

fn finish(
    router: Router,
    public: Option<Arc<crate::config::ConfigHandle>>,
    metrics: Arc<Metrics>,
) -> Router {
    let routed = router.route_layer(edge::TagRouteLayer).fallback(no_route);
    // The edge wraps the whole router rather than its routes (`Router::layer` runs after routing), so the path it
    // normalises is the one routing sees.
    Router::new()
        .fallback_service(routed)
        .layer(edge::EdgeLayer::new(metrics, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_json_500() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let router = Router::new().route("/boom", get(boom));
        let router = finish(router, None, Arc::new(Metrics::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, router).into_future());
        let response = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
        assert_eq!(response.status(), 500);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["exception"], "InternalError");
    }
}
pub mod cometd;
pub mod cors;
pub mod notification;
