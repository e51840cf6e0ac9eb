//! Middleware of every listener: the access rules of the public listener, a panicking handler answered as a JSON
//! 500, the JSON error body of every 4xx/5xx answer under `/genesys` (routing errors, 405s and extractor
//! rejections included), request counters by route, and the request log line (method, path, masked parameters,
//! status, time).
//!
//! Written as two tower services ([`EdgeLayer`] around the router, [`TagRouteLayer`] on each route) rather than
//! with `axum::middleware::from_fn`, which clones the inner service and boxes its future on every request: on the
//! hottest routes (storage GET, request-access) those clones and allocations were a measurable share of the
//! server's time. The services here call the inner service in place and poll its future inside their own.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::access;
use super::error::{ApiError, HiddenDetail};
use super::extract::LoggedParams;
use super::metrics::Metrics;
use crate::config::ConfigHandle;

/// The route template that answered, carried from the route layer to the outer layer (shared, not copied).
#[derive(Debug, Clone)]
struct RouteTag(MatchedPath);

/// Route layer: records in the response which route template answered.
#[derive(Debug, Clone, Copy, Default)]
pub struct TagRouteLayer;

impl<S> Layer<S> for TagRouteLayer {
    type Service = TagRoute<S>;

    fn layer(&self, inner: S) -> TagRoute<S> {
        TagRoute { inner }
    }
}

/// The service of [`TagRouteLayer`].
#[derive(Debug, Clone)]
pub struct TagRoute<S> {
    inner: S,
}

impl<S> Service<Request> for TagRoute<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TagFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let tag = request.extensions().get::<MatchedPath>().cloned();
        TagFuture {
            inner: self.inner.call(request),
            tag,
        }
    }
}

pin_project! {
    /// The future of [`TagRoute`].
    pub struct TagFuture<F> {
        #[pin]
        inner: F,
        tag: Option<MatchedPath>,
    }
}

impl<F> Future for TagFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(Ok(mut response)) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        if let Some(tag) = this.tag.take() {
            response.extensions_mut().insert(RouteTag(tag));
        }
        Poll::Ready(Ok(response))
    }
}

/// The outer layer of a listener: access rules (on the public listener), panics, JSON errors, counters, log line.
#[derive(Debug, Clone)]
pub struct EdgeLayer {
    metrics: Arc<Metrics>,
    /// On the public listener, the configuration its access rules read (the services' types).
    public: Option<Arc<ConfigHandle>>,
}

impl EdgeLayer {
    /// The layer of the public listener (`public`: the configuration of its access rules; paths outside the
    /// Allow list answer 404) or, with `None`, of another listener.
    pub fn new(metrics: Arc<Metrics>, public: Option<Arc<ConfigHandle>>) -> EdgeLayer {
        EdgeLayer { metrics, public }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            metrics: self.metrics.clone(),
            public: self.public.clone(),
        }
    }
}

/// The service of [`EdgeLayer`].
#[derive(Debug, Clone)]
pub struct Edge<S> {
    inner: S,
    metrics: Arc<Metrics>,
    public: Option<Arc<ConfigHandle>>,
}

/// What the answer needs once it is there: when the request came, for the counters and the log line.
struct Observed {
    method: Method,
    gms_api: bool,
    /// On the public listener, answers that name internals ([`HiddenDetail`]) are told without them.
    public: bool,
    metrics: Arc<Metrics>,
    /// When the request came, its path, masked query parameters and the slot the body extractor fills, when the
    /// log line is written.
    logged: Option<Logged>,
}

/// What the log line of one request needs.
struct Logged {
    start: Instant,
    path: String,
    query: Option<String>,
    params: LoggedParams,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        normalize_path(&mut request);
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
            let params = LoggedParams::default();
            request.extensions_mut().insert(params.clone());
            Logged {
                start: Instant::now(),
                path,
                query,
                params,
            }
        });
        let observed = Observed {
            method: request.method().clone(),
            gms_api,
            public: self.public.is_some(),
            metrics: self.metrics.clone(),
            logged,
        };
        let refused = self
            .public
            .as_ref()
            .is_some_and(|config| !access::is_allowed(request.uri().path(), &config.get()));
        let state = if refused {
            EdgeState::Ready {
                response: Some(access::refused(&request)),
            }
        } else {
            // A bug must not drop the connection: a handler that panics answers 500 with the JSON body.
            match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
                Ok(inner) => EdgeState::Inner { inner },
                Err(_) => EdgeState::Ready {
                    response: Some(panicked()),
                },
            }
        };
        EdgeFuture {
            state,
            observed: Some(observed),
        }
    }
}

/// Routes and access rules see one spelling of a path: runs of `/` become one (the deployment guide itself writes
/// `//genesys/cometd`), and a GMS API path (`/genesys/...`) loses one trailing `/`, as clients add it.
fn normalize_path(request: &mut Request) {
    let path = request.uri().path();
    let trailing =
        path.len() > "/genesys/".len() && path.starts_with("/genesys/") && path.ends_with('/');
    if !path.contains("//") && !trailing {
        return;
    }
    let mut normal = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && normal.ends_with('/') {
            continue;
        }
        normal.push(c);
    }
    if normal.len() > "/genesys/".len() && normal.starts_with("/genesys/") && normal.ends_with('/')
    {
        normal.pop();
    }
    if let Some(query) = request.uri().query() {
        normal.push('?');
        normal.push_str(query);
    }
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = normal.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

fn panicked() -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal("a request handler panicked").into_response()
}

pin_project! {
    /// The future of [`Edge`].
    pub struct EdgeFuture<F> {
        #[pin]
        state: EdgeState<F>,
        observed: Option<Observed>,
    }
}

pin_project! {
    #[project = EdgeStateProj]
    enum EdgeState<F> {
        // The router's answer is being worked out.
        Inner { #[pin] inner: F },
        // An error answer without a JSON body is being given one (its body is read first).
        Converting { converting: Pin<Box<dyn Future<Output = Response> + Send>> },
        // The answer is known already (blocked, or the handler panicked).
        Ready { response: Option<Response> },
    }
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let this = self.as_mut().project();
            let gms_api = this.observed.as_ref().is_some_and(|seen| seen.gms_api);
            let public = this.observed.as_ref().is_some_and(|seen| seen.public);
            let response = match this.state.project() {
                EdgeStateProj::Inner { inner } => {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(Ok(response))) => {
                            if gms_api && needs_json_body(&response) {
                                let converting = Box::pin(json_body(response));
                                self.as_mut()
                                    .project()
                                    .state
                                    .set(EdgeState::Converting { converting });
                                continue;
                            }
                            if public
                                && let Some(HiddenDetail(sentence)) =
                                    response.extensions().get::<HiddenDetail>().copied()
                            {
                                let converting = Box::pin(without_detail(response, sentence));
                                self.as_mut()
                                    .project()
                                    .state
                                    .set(EdgeState::Converting { converting });
                                continue;
                            }
                            response
                        }
                        Err(_) => panicked(),
                    }
                }
                EdgeStateProj::Converting { converting } => match converting.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(response) => response,
                },
                EdgeStateProj::Ready { response } => match response.take() {
                    Some(response) => response,
                    None => ApiError::internal("an answer was asked for twice").into_response(),
                },
            };
            // Whatever comes next, the inner future is not polled again.
            self.as_mut()
                .project()
                .state
                .set(EdgeState::Ready { response: None });
            if let Some(observed) = self.as_mut().project().observed.take() {
                record(observed, &response);
            }
            return Poll::Ready(Ok(response));
        }
    }
}

/// Counts the answer and writes the log line.
fn record(observed: Observed, response: &Response) {
    let status = response.status().as_u16();
    let route = response
        .extensions()
        .get::<RouteTag>()
        .map(|tag| tag.0.as_str())
        .unwrap_or("unmatched");
    observed
        .metrics
        .count_request(observed.method.as_str(), route, status);
    let Some(logged) = observed.logged else {
        return;
    };
    let params = logged
        .params
        .0
        .lock()
        .ok()
        .and_then(|slot| slot.clone())
        .or(logged.query)
        .unwrap_or_default();
    tracing::info!(
        target: "gms::request",
        method = %observed.method,
        path = %logged.path,
        params = %params,
        status,
        elapsed_us = logged.start.elapsed().as_micros() as u64,
        "request"
    );
}

/// The answer as the public listener gives it: `sentence` and a request id instead of a message that names
/// internals; the message goes to the log under that id.
async fn without_detail(response: Response, sentence: &'static str) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let original: serde_json::Value = axum::body::to_bytes(body, 64 * 1024)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let bytes: [u8; 8] = rand::random();
    let request_id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    tracing::warn!(
        request_id = %request_id,
        status = status.as_u16(),
        detail = %original["message"].as_str().unwrap_or_default(),
        "error answered without its detail on the public listener"
    );
    let exception = original["exception"]
        .as_str()
        .unwrap_or(ApiError::kind_of(status))
        .to_string();
    let body = serde_json::json!({
        "message": format!("{sentence} (request {request_id}: the server's log has the detail)"),
        "exception": exception,
        "requestId": request_id,
    });
    let mut answer = (status, axum::Json(body)).into_response();
    if let Some(tag) = parts.extensions.get::<RouteTag>() {
        answer.extensions_mut().insert(tag.clone());
    }
    answer
}

/// A 4xx/5xx answer that is not JSON yet.
fn needs_json_body(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    !response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The same answer with the JSON error body, its text (axum's rejection sentence) as the message.
async fn json_body(response: Response) -> Response {
    let status = response.status();
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
    // The route template stays with the answer, for the counters.
    if let Some(tag) = parts.extensions.get::<RouteTag>() {
        answer.extensions_mut().insert(tag.clone());
    }
    answer
}
