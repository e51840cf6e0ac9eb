//! Shared pieces of the notification tests: a `gms` notification node on 127.0.0.1:0 (public and internal
//! listeners), and a recording HTTP peer that stands in for callbacks and ORS.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::any;
use gms::cometd;
use gms::notify::{MemorySubscriptions, PushConfig, SectionInput, Service};
use gms::outbound::HttpSettings;
use serde_json::Value;

/// A running node.
pub struct Node {
    pub service: Arc<Service>,
    pub cometd: Arc<cometd::Server>,
    pub public: String,
    pub internal: String,
    pub http: reqwest::Client,
}

/// Serves `router` on 127.0.0.1:0; returns `http://127.0.0.1:port`.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    format!("http://{address}")
}

/// Short outbound timeouts so failure cases end quickly.
pub fn quick_http() -> HttpSettings {
    HttpSettings {
        connection_timeout: Duration::from_millis(500),
        socket_timeout: Duration::from_millis(500),
        ..HttpSettings::default()
    }
}

/// Starts a node from `push*` sections given as (section, [(option, value)]).
pub async fn start(sections: &[(&str, &[(&str, &str)])], http: HttpSettings) -> Node {
    let sections: Vec<SectionInput> = sections
        .iter()
        .map(|(name, pairs)| SectionInput::from_pairs(name, pairs))
        .collect();
    let config = PushConfig::from_sections(&sections);
    let cometd = cometd::Server::new(cometd::Settings::default());
    let service = Service::new(
        config,
        http,
        Arc::new(MemorySubscriptions::default()),
        Some(cometd.clone()),
    );
    tokio::spawn(
        service
            .clone()
            .run_retries(Duration::from_millis(50), std::future::pending()),
    );
    let public = serve(
        gms::http::notification::public_router(service.clone())
            .merge(gms::http::cometd::router(cometd.clone(), "01")),
    )
    .await;
    let internal = serve(gms::http::notification::internal_router(service.clone())).await;
    Node {
        service,
        cometd,
        public,
        internal,
        http: reqwest::Client::new(),
    }
}

impl Node {
    /// POSTs JSON to the public subscription endpoint; returns status and body.
    pub async fn subscribe(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!(
                "{}/genesys/1/notification/subscription",
                self.public
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// Subscribes and returns the id, asserting success.
    pub async fn subscribe_ok(&self, body: Value) -> String {
        let (status, reply) = self.subscribe(body).await;
        assert_eq!(status, 200, "{reply}");
        reply["id"].as_str().unwrap().to_string()
    }

    /// POSTs JSON to the internal publish endpoint.
    pub async fn publish(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/genesys/1/notification/publish", self.internal))
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

/// One request a recording peer received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: SocketAddr,
}

/// How a recording peer answers.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Waits this long, then answers 200 (a slow callback).
    Slow(Duration),
}

/// A local HTTP peer that records every request and answers as told.
#[derive(Clone)]
pub struct Recorder {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    /// The most requests the peer held at once.
    pub max_in_flight: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct RecorderState {
    requests: Arc<Mutex<Vec<Recorded>>>,
    answer: Answer,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

async fn record(
    State(state): State<RecorderState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    state.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body,
        peer,
    });
    let status = match state.answer {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK
        }
    };
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    status
}

impl Recorder {
    pub async fn start(answer: Answer) -> Recorder {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let router = Router::new()
            .fallback(any(record))
            .with_state(RecorderState {
                requests: requests.clone(),
                answer,
                in_flight: Arc::new(AtomicUsize::new(0)),
                max_in_flight: max_in_flight.clone(),
            });
        Recorder {
            url: serve(router).await,
            requests,
            max_in_flight,
        }
    }

    pub fn taken(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// A URL on 127.0.0.1 where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}/callback")
}
