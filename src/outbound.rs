//! The outbound HTTP client of every call `gms` makes (notifications: httpcb, orscb, FCM, APNs; the ORS layer's
//! calls to a remote ORS): `gms` section timeouts,
//! `http.client_port_range` source ports, TLS with the web PKI roots, HTTP/1.1 and HTTP/2.
//!
//! Built on hyper-util's pooled client with a connector of our own, because binding the client socket to a port
//! taken serially from a range (the `http.client_port_range` rule) is something no higher-level client offers.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

/// The `gms` section options that govern outbound HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `http.connection_timeout` (default 2 s).
    pub connection_timeout: Duration,
    /// `http.socket_timeout` (default 2 s): the longest wait for a reply once connected.
    pub socket_timeout: Duration,
    /// `http.max_connections_per_route` (default 20): concurrent requests per host; more wait their turn.
    pub max_connections_per_route: usize,
    /// `http.max_connections_total` (default 100): concurrent requests in all; more wait their turn.
    pub max_connections_total: usize,
    /// `http.client_port_range`: source ports to bind, tried serially; `None` lets the OS choose.
    pub client_port_range: Option<RangeInclusive<u16>>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connection_timeout: Duration::from_secs(2),
            socket_timeout: Duration::from_secs(2),
            max_connections_per_route: 20,
            max_connections_total: 100,
            client_port_range: None,
        }
    }
}

impl HttpSettings {
    /// The settings of the `gms` section (`http.connection_timeout`, `http.socket_timeout`,
    /// `http.max_connections_per_route`, `http.client_port_range`).
    pub fn from_gms(gms: &crate::config::GmsSection) -> HttpSettings {
        HttpSettings {
            connection_timeout: gms.http_connection_timeout,
            socket_timeout: gms.http_socket_timeout,
            max_connections_per_route: gms.http_max_connections_per_route as usize,
            max_connections_total: gms.http_max_connections_total as usize,
            client_port_range: gms.http_client_port_range.clone(),
        }
    }
}

/// Why an outbound request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting or waiting for the reply took longer than the configured timeouts.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The peer could not be reached or the exchange failed.
    #[error("{0}")]
    Transport(String),
    /// The request could not be built (bad URL, bad header).
    #[error("bad request: {0}")]
    Request(String),
}

/// A reply read in full.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers (names lower-case).
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// Pooled outbound client; cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    settings: Arc<HttpSettings>,
    http1: Client<HttpsConnector<PortConnector>, Full<Bytes>>,
    http2: Client<HttpsConnector<PortConnector>, Full<Bytes>>,
    /// `http.max_connections_total`.
    total: Arc<Semaphore>,
    /// `http.max_connections_per_route`, one semaphore per `scheme://host:port`.
    routes: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl HttpClient {
    /// A client with the given settings and the web PKI roots.
    pub fn new(settings: HttpSettings) -> HttpClient {
        HttpClient::with_tls(settings, None)
    }

    /// A client; `tls` replaces the default TLS configuration (APNs certificate authentication).
    pub fn with_tls(settings: HttpSettings, tls: Option<rustls::ClientConfig>) -> HttpClient {
        let settings = Arc::new(settings);
        let connector = PortConnector {
            settings: settings.clone(),
            next_port: Arc::new(AtomicU32::new(0)),
        };
        let tls = tls.unwrap_or_else(default_tls);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connector);
        let http1 = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(settings.max_connections_per_route)
            .build(https.clone());
        // APNs speaks only HTTP/2: over TLS ALPN picks it, over plain TCP (a local peer) prior knowledge does.
        let http2 = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(https);
        HttpClient {
            total: Arc::new(Semaphore::new(settings.max_connections_total.max(1))),
            routes: Arc::new(Mutex::new(HashMap::new())),
            settings,
            http1,
            http2,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends `request` over HTTP/1.1 (or HTTP/2 when TLS negotiates it) and reads the whole reply, within the
    /// connection and socket timeouts.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<Reply, Error> {
        self.exchange(&self.http1, request).await
    }

    /// Sends `request` over HTTP/2 only.
    pub async fn send_h2(&self, request: Request<Full<Bytes>>) -> Result<Reply, Error> {
        self.exchange(&self.http2, request).await
    }

    async fn exchange(
        &self,
        client: &Client<HttpsConnector<PortConnector>, Full<Bytes>>,
        request: Request<Full<Bytes>>,
    ) -> Result<Reply, Error> {
        let limit = self.settings.connection_timeout + self.settings.socket_timeout;
        let route = self.route(request.uri());
        let exchange = async {
            // Requests beyond the limits wait their turn, within the same overall timeout.
            let _total = self
                .total
                .acquire()
                .await
                .map_err(|_| Error::Transport("client closed".into()))?;
            let _route = route
                .acquire()
                .await
                .map_err(|_| Error::Transport("client closed".into()))?;
            let response: Response<hyper::body::Incoming> = client
                .request(request)
                .await
                .map_err(|error| Error::Transport(describe(&error)))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|error| Error::Transport(error.to_string()))?
                .to_bytes();
            Ok(Reply {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| Error::Timeout(limit))?
    }
}

impl HttpClient {
    fn route(&self, uri: &Uri) -> Arc<Semaphore> {
        let key = format!(
            "{}://{}:{}",
            uri.scheme_str().unwrap_or("http"),
            uri.host().unwrap_or_default(),
            uri.port_u16().unwrap_or_default()
        );
        let mut routes = crate::sync::lock(&self.routes);
        routes
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Semaphore::new(
                    self.settings.max_connections_per_route.max(1),
                ))
            })
            .clone()
    }
}

fn describe(error: &hyper_util::client::legacy::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn default_tls() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    tls_builder()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A rustls builder on the ring provider (the one crypto backend this crate builds).
pub fn tls_builder() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder_with_protocol_versions(rustls::DEFAULT_VERSIONS)
        })
}

/// The web PKI roots, for callers building their own TLS configuration.
pub fn web_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// Connects TCP within `http.connection_timeout`, binding the source port from `http.client_port_range`.
#[derive(Clone, Debug)]
pub struct PortConnector {
    settings: Arc<HttpSettings>,
    next_port: Arc<AtomicU32>,
}

impl tower_service::Service<Uri> for PortConnector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let settings = self.settings.clone();
        let next_port = self.next_port.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URL without a host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let default_port = if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            };
            let port = uri.port_u16().unwrap_or(default_port);
            let connect = async {
                let mut last_error = io::Error::new(io::ErrorKind::NotFound, "host has no address");
                for address in tokio::net::lookup_host((host.as_str(), port)).await? {
                    match connect_from_range(
                        address,
                        settings.client_port_range.as_ref(),
                        &next_port,
                    )
                    .await
                    {
                        Ok(stream) => return Ok(stream),
                        Err(error) => last_error = error,
                    }
                }
                Err(last_error)
            };
            let stream = tokio::time::timeout(settings.connection_timeout, connect)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connection timed out"))??;
            let _ = stream.set_nodelay(true);
            Ok(TokioIo::new(stream))
        })
    }
}

/// Connects to `address`; with a range, binds the first free port starting after the last one used, trying
/// ports serially as the `http.client_port_range` option describes.
async fn connect_from_range(
    address: SocketAddr,
    range: Option<&RangeInclusive<u16>>,
    next_port: &AtomicU32,
) -> io::Result<TcpStream> {
    let new_socket = || {
        if address.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
    };
    let Some(range) = range else {
        return new_socket()?.connect(address).await;
    };
    let size = u32::from(*range.end() - *range.start()) + 1;
    let start = next_port.fetch_add(1, Ordering::Relaxed) % size;
    let local_ip = if address.is_ipv4() {
        std::net::IpAddr::from([0, 0, 0, 0])
    } else {
        std::net::IpAddr::from([0u16; 8])
    };
    let mut last_error = io::Error::new(
        io::ErrorKind::AddrInUse,
        "every port of http.client_port_range is in use",
    );
    for offset in 0..size {
        let port = *range.start() as u32 + (start + offset) % size;
        let socket = new_socket()?;
        if let Err(error) = socket.bind(SocketAddr::new(local_ip, port as u16)) {
            last_error = error;
            continue;
        }
        match socket.connect(address).await {
            Ok(stream) => {
                next_port.store(start + offset + 1, Ordering::Relaxed);
                return Ok(stream);
            }
            Err(error)
                if error.kind() == io::ErrorKind::AddrInUse
                    || error.kind() == io::ErrorKind::AddrNotAvailable =>
            {
                last_error = error;
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error)
}
