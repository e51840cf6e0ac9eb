//! Axum glue for `/genesys/cometd`: long-polling POSTs and the WebSocket transport, both handing batches to
//! `cometd::Server`. The protocol itself lives in `crate::cometd`.
//!
//! A CometD client lives on one node (its client id is known there only), so behind a load balancer it must keep
//! reaching that node: as Jetty does for GMS, a successful handshake (and a WebSocket upgrade) sets the cookie
//! `JSESSIONID=<id>.<route>`, `route` being this node's `server/route`, which Apache's
//! `stickysession=JSESSIONID` with `BalancerMember ... route=<route>` follows. When the node goes away the
//! balancer sends the client elsewhere, where its client id is unknown: it is told to handshake again (402).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::cometd::{Message, Server, Transport, message};

/// The header GMS clients name their user with on every transport request.
pub const GMS_USER_HEADER: &str = "gms_user";

/// What the CometD routes need: the Bayeux server and this node's sticky-session route.
#[derive(Debug, Clone)]
struct Cometd {
    server: Arc<Server>,
    route: Arc<str>,
}

impl Cometd {
    fn session_cookie(&self, id: &str) -> header::HeaderValue {
        let cookie = format!("JSESSIONID={id}.{}; Path=/; HttpOnly", self.route);
        header::HeaderValue::from_str(&cookie)
            .unwrap_or_else(|_| header::HeaderValue::from_static("JSESSIONID=x; Path=/"))
    }
}

/// Routes for `/genesys/cometd` (and `/genesys/cometd/<message type>`, which clients append by default), with
/// the server already applied as state; handshakes set `JSESSIONID=<id>.<route>`. Belongs on the public listener.
pub fn router(server: Arc<Server>, route: &str) -> Router {
    Router::new()
        .route("/genesys/cometd", post(long_poll).get(websocket))
        .route("/genesys/cometd/", post(long_poll).get(websocket))
        .route("/genesys/cometd/{*kind}", post(long_poll).get(websocket))
        .with_state(Cometd {
            server,
            route: route.into(),
        })
}

/// The description of the CometD endpoint, for `Routers::describe`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(long_poll, websocket),
    tags((name = "cometd", description = "CometD (Bayeux 1.0) for notifications: long-polling and WebSocket \
        transports; `/genesys/cometd/...` (the message type clients append) is served the same way"))
)]
pub struct CometdDoc;

/// The description of `/genesys/cometd`.
pub fn describe() -> utoipa::openapi::OpenApi {
    <CometdDoc as utoipa::OpenApi>::openapi()
}

fn user_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(GMS_USER_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .filter(|user| !user.is_empty())
}

fn bad_batch(error: message::ParseError) -> Response {
    let body =
        serde_json::json!({"message": error.to_string(), "exception": "MalformedBayeuxMessage"});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn json_reply(replies: &[Message]) -> Response {
    match serde_json::to_vec(replies) {
        Ok(body) => (
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cometd reply not serializable");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Long-polling transport: a JSON array of Bayeux messages in, the replies out (a `/meta/connect` is held
/// until a message arrives or the timeout of its advice).
#[utoipa::path(post, path = "/genesys/cometd", tag = "cometd",
    params(("gms_user" = Option<String>, Header, description = "The end user; `/_genesys` notifications reach only this user's clients")),
    request_body(content = Object, content_type = "application/json", description = "A Bayeux message or an array of them (handshake, connect, subscribe, unsubscribe, publish, disconnect)"),
    responses((status = 200, description = "The array of Bayeux replies", body = [Object]),
        (status = 400, description = "Not a Bayeux message batch", body = super::error::ErrorBody)))]
async fn long_poll(State(cometd): State<Cometd>, headers: HeaderMap, body: Bytes) -> Response {
    let batch = match message::parse_batch(&body) {
        Ok(batch) => batch,
        Err(error) => return bad_batch(error),
    };
    let replies = cometd
        .server
        .handle(batch, user_of(&headers), Transport::LongPolling)
        .await;
    let mut response = json_reply(&replies);
    let handshaken = replies
        .iter()
        .find(|reply| reply.channel == "/meta/handshake" && reply.successful == Some(true));
    if let Some(client_id) = handshaken.and_then(|reply| reply.client_id.as_deref()) {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cometd.session_cookie(client_id));
    }
    response
}

/// WebSocket transport (subprotocol `cometd`): each text frame is a batch, answered on the same socket.
#[utoipa::path(get, path = "/genesys/cometd/", tag = "cometd",
    params(("gms_user" = Option<String>, Header, description = "The end user")),
    responses((status = 101, description = "Switching to the WebSocket transport"),
        (status = 400, description = "Not a WebSocket upgrade request", body = super::error::ErrorBody)))]
async fn websocket(
    State(cometd): State<Cometd>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let user = user_of(&headers);
    let server = cometd.server.clone();
    let mut response = upgrade
        .protocols(["cometd"])
        .on_upgrade(move |socket| run_socket(server, user, socket));
    let bytes: [u8; 8] = rand::random();
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cometd.session_cookie(&id));
    response
}

/// Reads frames and answers each batch on its own task, so a held connect never blocks a subscribe or publish
/// sent on the same socket; one writer task owns the sending half.
async fn run_socket(server: Arc<Server>, user: Option<String>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (replies_tx, mut replies_rx) = mpsc::channel::<String>(64);
    let writer = tokio::spawn(async move {
        while let Some(text) = replies_rx.recv().await {
            if sink.send(Frame::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    let mut handlers = JoinSet::new();
    while let Some(Ok(frame)) = stream.next().await {
        let text = match frame {
            Frame::Text(text) => text.to_string(),
            Frame::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Frame::Close(_) => break,
            Frame::Ping(_) | Frame::Pong(_) => continue,
        };
        let server = server.clone();
        let user = user.clone();
        let replies_tx = replies_tx.clone();
        handlers.spawn(async move {
            let replies = match message::parse_batch(text.as_bytes()) {
                Ok(batch) => server.handle(batch, user, Transport::WebSocket).await,
                Err(error) => {
                    tracing::debug!(%error, "bad cometd frame");
                    vec![Message {
                        channel: "/meta/unknown".to_string(),
                        successful: Some(false),
                        error: Some(format!("400::{error}")),
                        ..Message::default()
                    }]
                }
            };
            if let Ok(text) = serde_json::to_string(&replies) {
                let _ = replies_tx.send(text).await;
            }
        });
        // Reap finished handlers so a long-lived socket does not accumulate them.
        while handlers.try_join_next().is_some() {}
    }
    handlers.abort_all();
    drop(replies_tx);
    let _ = writer.await;
}
