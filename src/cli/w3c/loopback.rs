//! The BasicHTTP Event I/O Processor of `gms w3c`: a real HTTP listener on `127.0.0.1:0` (axum, on a small
//! tokio runtime of its own) that gives every session an access URI, and a client that POSTs sends to it.
//!
//! A send blocks until its POST is answered (bounded by [`POST_TIMEOUT`]), and the listener queues the event
//! for its session before it answers, so an event a session posts to itself is waiting when the send returns;
//! the host hands it over through [`crate::scxml::Host::take_arrived`] and it takes its place in the external
//! queue ahead of what the session queues next (W3C test 201 sends `event1` this way, then queues `timeout`
//! to itself at once). The sessions themselves stay on the caller's thread and on virtual time.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::post;

use crate::ors::ioproc::basichttp::{self, FORM, Post, Request};
use crate::scxml::{Event, HostError};

/// The longest a POST may take before the send fails with `error.communication`.
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// Events received per session id; a session has an entry while it may receive.
type Inboxes = Arc<Mutex<HashMap<String, VecDeque<Event>>>>;

fn lock(inboxes: &Inboxes) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Event>>> {
    crate::sync::lock(inboxes)
}

/// The listener, its runtime and the client.
pub struct Loopback {
    runtime: tokio::runtime::Runtime,
    base: String,
    inboxes: Inboxes,
    client: reqwest::Client,
}

impl std::fmt::Debug for Loopback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loopback")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Loopback {
    /// Binds `127.0.0.1:0` and starts serving.
    pub fn start() -> anyhow::Result<Loopback> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gms-w3c-http")
            .enable_all()
            .build()
            .context("starting the BasicHTTP runtime")?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .context("binding the BasicHTTP listener on 127.0.0.1")?;
        let address = listener
            .local_addr()
            .context("reading the BasicHTTP listener's address")?;
        let inboxes: Inboxes = Arc::default();
        let app = Router::new()
            .route("/scxml/basichttp/{id}", post(receive))
            .with_state(inboxes.clone());
        runtime.spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the BasicHTTP listener stopped");
            }
        });
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .build()
            .context("building the BasicHTTP client")?;
        Ok(Loopback {
            runtime,
            base: format!("http://{address}"),
            inboxes,
            client,
        })
    }

    /// Opens the inbox of `sessionid` and returns its access URI.
    pub fn open(&self, sessionid: &str) -> String {
        lock(&self.inboxes)
            .entry(sessionid.to_string())
            .or_default();
        format!("{}{}", self.base, basichttp::path(sessionid))
    }

    /// Closes every inbox (the document has finished); later POSTs to them get 404.
    pub fn close_all(&self) {
        lock(&self.inboxes).clear();
    }

    /// The events received for `sessionid` so far, oldest first.
    pub fn take(&self, sessionid: &str) -> Vec<Event> {
        lock(&self.inboxes)
            .get_mut(sessionid)
            .map(|inbox| inbox.drain(..).collect())
            .unwrap_or_default()
    }

    /// POSTs `post` and waits for the answer; anything but a 2xx answer is a failed delivery.
    pub fn post(&self, post: Post) -> Result<(), HostError> {
        let Post { url, body } = post;
        let request = self
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .body(body);
        // The request future must be made inside the runtime (it arms the timeout).
        match self.runtime.block_on(async move { request.send().await }) {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(HostError::Failed(format!(
                "{url} answered {}",
                response.status()
            ))),
            Err(error) => Err(HostError::Failed(format!("{url}: {error}"))),
        }
    }
}

/// `POST /scxml/basichttp/{id}`: queues the event for session `id`, then answers 200 (404 for a session
/// that is not receiving, 400 for a body that cannot become an event).
async fn receive(
    State(inboxes): State<Inboxes>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), ToString::to_string);
    let event = match basichttp::received(Request {
        method: method.as_str(),
        target: &target,
        headers: &headers,
        body: &body,
    }) {
        Ok(event) => event,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()),
    };
    match lock(&inboxes).get_mut(&id) {
        Some(inbox) => {
            inbox.push_back(event);
            (StatusCode::OK, String::new())
        }
        None => (StatusCode::NOT_FOUND, format!("no session \"{id}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_reach_open_sessions_before_they_are_answered() {
        let loopback = Loopback::start().expect("a listener");
        let location = loopback.open("s1");
        assert!(location.starts_with("http://127.0.0.1:"), "{location}");
        let sent = loopback.post(Post {
            url: format!("{location}?x=1"),
            body: "_scxmleventname=go&n=2".to_string(),
        });
        assert_eq!(sent, Ok(()));
        let arrived = loopback.take("s1");
        assert_eq!(arrived.len(), 1);
        assert_eq!(&*arrived[0].name, "go");
        assert_eq!(
            arrived[0].data.get("x"),
            Some(&crate::scxml::Value::string("1"))
        );
        let raw = arrived[0].raw.as_deref().unwrap_or_default();
        assert!(
            raw.starts_with("POST /scxml/basichttp/s1?x=1 HTTP/1.1\r\n"),
            "{raw}"
        );
        loopback.close_all();
        let refused = loopback.post(Post {
            url: location,
            body: String::new(),
        });
        assert!(
            matches!(&refused, Err(HostError::Failed(reason)) if reason.contains("404")),
            "{refused:?}"
        );
    }
}
