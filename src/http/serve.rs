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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use super::tls::Certificates;

/// How a listener treats its connections.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TLS, with certificates that may change while serving; `None`: plain HTTP.
    pub tls: Option<Arc<Certificates>>,
    /// How long a client may take to send a request's headers, and stay connected with no request in flight and
    /// nothing sent either way.
    pub idle_timeout: Duration,
    /// How long a request's body may take to arrive, from when its headers did.
    pub body_timeout: Duration,
    /// How long a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// Whether requests carry the client's address (`ConnectInfo<SocketAddr>`), for the rate limits.
    pub client_address: bool,
}

impl Settings {
    /// Plain HTTP with the given timeouts.
    pub fn plain(idle_timeout: Duration, body_timeout: Duration) -> Settings {
        Settings {
            tls: None,
            idle_timeout,
            body_timeout,
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
    // `stop` tells the connections to finish; the server waits until every clone of `open` is dropped.
    let (stop, stopping) = watch::channel(false);
    let (open_tx, open) = watch::channel(());
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
        let settings = settings.clone();
        let stopping = stopping.clone();
        let open = open.clone();
        tokio::spawn(async move {
            let activity = Arc::new(Activity::new());
            let client = settings.client_address.then_some(ConnectInfo(address));
            let body_timeout = settings.body_timeout;
            let started = activity.clone();
            let service = router
                .map_request(move |mut request: hyper::Request<Incoming>| {
                    started.in_flight.fetch_add(1, Ordering::Relaxed);
                    // Only when a route reads it: the first extension of a request costs an allocation.
                    if let Some(client) = client {
                        request.extensions_mut().insert(client);
                    }
                    let deadline = tokio::time::Instant::now() + body_timeout;
                    request.map(|body| Body::new(DeadlineBody::new(body, deadline)))
                })
                .map_response({
                    let activity = activity.clone();
                    move |response| {
                        activity.in_flight.fetch_sub(1, Ordering::Relaxed);
                        activity.touch();
                        response
                    }
                });
            let service = TowerToHyperService::new(service);
            match &settings.tls {
                None => {
                    let io = TokioIo::new(Watched::new(stream, activity.clone()));
                    let connection = builder.serve_connection_with_upgrades(io, service);
                    drive(connection, &activity, settings.idle_timeout, stopping).await;
                }
                Some(certificates) => {
                    let Some(stream) =
                        handshake(certificates, stream, address, settings.handshake_timeout).await
                    else {
                        return;
                    };
                    let io = TokioIo::new(Watched::new(stream, activity.clone()));
                    let connection = builder.serve_connection_with_upgrades(io, service);
                    drive(connection, &activity, settings.idle_timeout, stopping).await;
                }
            }
            drop(open);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open);
    open_tx.closed().await;
    Ok(())
}

/// Runs one connection to its end: asked to finish when the server stops, or when it has been idle (no request
/// in flight, nothing read or written) for `idle`. hyper's own header timeout starts only with a request's first
/// byte, so a client that connects and sends nothing would otherwise hold its connection for ever.
async fn drive<C>(
    connection: C,
    activity: &Activity,
    idle: Duration,
    mut stopping: watch::Receiver<bool>,
) where
    C: Future + Closable,
{
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let check = tokio::time::sleep(activity.until_idle(idle));
        tokio::select! {
            _ = connection.as_mut() => return,
            changed = stopping.changed(), if !closing => {
                if changed.is_err() || *stopping.borrow() {
                    connection.as_mut().close();
                    closing = true;
                }
            }
            _ = check, if !closing => {
                if activity.until_idle(idle).is_zero() {
                    connection.as_mut().close();
                    closing = true;
                }
            }
        }
    }
}

/// A connection that can be asked to finish what it is doing and close.
trait Closable {
    fn close(self: std::pin::Pin<&mut Self>);
}

impl<I, S, E> Closable for hyper_util::server::conn::auto::UpgradeableConnection<'_, I, S, E>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: hyper::body::Body + Send + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, S::ResBody>,
{
    fn close(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// When a connection last did something, and how many of its requests are being answered.
#[derive(Debug)]
struct Activity {
    origin: std::time::Instant,
    /// Milliseconds after `origin` of the last byte read or written.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            origin: std::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        self.last_ms
            .store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long until the connection has been idle for `idle` (zero: it has).
    fn until_idle(&self, idle: Duration) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return idle;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        (last + idle).saturating_sub(self.origin.elapsed())
    }
}

pin_project! {
    /// A connection's socket that records its activity.
    struct Watched<T> {
        #[pin]
        inner: T,
        activity: Arc<Activity>,
    }
}

impl<T> Watched<T> {
    fn new(inner: T, activity: Arc<Activity>) -> Watched<T> {
        Watched { inner, activity }
    }
}

impl<T: AsyncRead> AsyncRead for Watched<T> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.inner.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite> AsyncWrite for Watched<T> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let polled = this.inner.poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let polled = this.inner.poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The error of a request body that did not arrive in time (`request_body_timeout`).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive in time (option server/request_body_timeout)")]
pub struct BodyTimedOut;

/// Whether `error` (from reading a request body) is a [`BodyTimedOut`].
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.downcast_ref::<BodyTimedOut>().is_some() {
            return true;
        }
        current = error.source();
    }
    false
}

pin_project! {
    /// A request body with a deadline for its whole arrival; its timer starts when the body is first read.
    struct DeadlineBody {
        #[pin]
        inner: Incoming,
        #[pin]
        sleep: Option<tokio::time::Sleep>,
        deadline: tokio::time::Instant,
    }
}

impl DeadlineBody {
    fn new(inner: Incoming, deadline: tokio::time::Instant) -> DeadlineBody {
        DeadlineBody {
            inner,
            sleep: None,
            deadline,
        }
    }
}

impl hyper::body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.sleep.is_none() {
            this.sleep
                .set(Some(tokio::time::sleep_until(*this.deadline)));
        }
        if let Some(sleep) = this.sleep.as_pin_mut()
            && sleep.poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
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
