//! In-process dispatch of DFM requests addressed to this node ([`RouterInProcess`]): the request runs through this
//! node's own internal router, with no network hop, so a flow's in-process calls get exactly what HTTP callers get.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use tower::ServiceExt;

use crate::dfm::{BoxFuture, DfmRequest, DfmResponse, InProcess};

/// Serves DFM requests addressed to this node (a server `localhost`, `127.0.0.1` or `::1` on one of this node's
/// ports) through this node's internal router, so in-process calls get exactly the answers HTTP callers get.
#[derive(Debug, Default)]
pub struct RouterInProcess {
    router: OnceLock<Router>,
    ports: OnceLock<Vec<u16>>,
}

impl RouterInProcess {
    /// Not serving until [`RouterInProcess::set`] is called.
    pub fn new() -> RouterInProcess {
        RouterInProcess::default()
    }

    /// Serves with `router` the requests to these `ports`.
    pub fn set(&self, router: Router, ports: Vec<u16>) {
        let _ = self.router.set(router);
        let _ = self.ports.set(ports);
    }
}

impl InProcess for RouterInProcess {
    fn serves(&self, request: &DfmRequest) -> bool {
        let host = request
            .server
            .host
            .trim_start_matches('[')
            .trim_end_matches(']');
        let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
        local
            && self.router.get().is_some()
            && self
                .ports
                .get()
                .is_some_and(|ports| ports.contains(&request.server.port))
    }

    fn call<'a>(&'a self, request: &'a DfmRequest) -> BoxFuture<'a, Option<DfmResponse>> {
        Box::pin(async move {
            let router = self.router.get()?.clone();
            let mut builder = axum::http::Request::builder()
                .method(request.method.as_str())
                .uri(&request.path_and_query);
            if let Some(content_type) = request.content_type {
                builder = builder.header(CONTENT_TYPE, content_type);
            }
            let http_request = builder.body(Body::from(request.body.clone())).ok()?;
            let response = router.oneshot(http_request).await.ok()?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .ok()?;
            Some(DfmResponse {
                status,
                content_type,
                body: body.to_vec(),
            })
        })
    }
}
