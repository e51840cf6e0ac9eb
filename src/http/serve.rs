//! The accept loop of every listener: plain HTTP or TLS, HTTP/1.1 and HTTP/2 (by ALPN on TLS, by the connection
//! preface on plain TCP), the client's address handed to the routes, timeouts for clients that are slow on
//! purpose, and a graceful stop.
//!
//! Written on hyper-util's connection builder rather than `axum::serve`, which has no TLS, sets no timer (so a
//! client that sends its headers one byte at a time holds its connection for ever) and does its work in `accept`:
//! here each TLS handshake runs in the connection's own task, under a deadline, so a slow handshake never delays
//! the next client.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::tls::Certificates;

/// How a listener treats its connections.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TLS, with certificates that may change while serving; `None`: plain HTTP.
    pub tls: Option<Arc<Certificates>>,
    /// How long a client may take to send a request's headers, and stay connected with none.
    pub idle_timeout: Duration,
    /// How long a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// Whether requests carry the client's address (`ConnectInfo<SocketAddr>`), for the rate limits.
    pub client_address: bool,
}

impl Settings {
    /// Plain HTTP with the given idle timeout.
    pub fn plain(idle_timeout: Duration) -> Settings {
        Settings {
            tls: None,
            idle_timeout,
            handshake_timeout: Duration::from_secs(10),
            client_address: false,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the connections finish their requests.
/// With [`Settings::client_address`], routes read the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.idle_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        // HTTP/2 clients that stop answering pings are dropped as idle HTTP/1 ones are.
        .keep_alive_interval(settings.idle_timeout)
        .keep_alive_timeout(settings.idle_timeout)
        .enable_connect_protocol();
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, address) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let settings = settings.clone();
        tokio::spawn(async move {
            let client = settings.client_address.then_some(ConnectInfo(address));
            let service = TowerToHyperService::new(router.map_request(
                move |mut request: hyper::Request<Incoming>| {
                    // Only when a route reads it: the first extension of a request costs an allocation.
                    if let Some(client) = client {
                        request.extensions_mut().insert(client);
                    }
                    request
                },
            ));
            match &settings.tls {
                None => {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection.into_owned()).await;
                }
                Some(certificates) => {
                    let Some(stream) =
                        handshake(certificates, stream, address, settings.handshake_timeout).await
                    else {
                        return;
                    };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection.into_owned()).await;
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The TLS handshake of one connection, under a deadline; `None` when it fails (logged at debug: scanners and
/// clients that do not trust the certificate are routine).
async fn handshake(
    certificates: &Certificates,
    stream: TcpStream,
    address: SocketAddr,
    deadline: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let acceptor = certificates.acceptor();
    match tokio::time::timeout(deadline, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(client = %address, "TLS handshake failed: {error}");
            None
        }
        Err(_) => {
            tracing::debug!(client = %address, "TLS handshake timed out");
            None
        }
    }
}
