//! Executing DFM actions: over real HTTP against a local server on 127.0.0.1:0, and in-process through a fake
//! dispatcher; answers map to the completion events of `<globalevents>`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use gms::dfm::{
    AttrValues, BoxFuture, Completion, DfmRequest, DfmResponse, Executor, InProcess, load_str,
};
use serde_json::{Value, json};

use crate::dfm_values as values;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
struct Hit {
    method: String,
    uri: String,
    content_type: Option<String>,
    body: String,
}

#[derive(Clone, Default)]
struct Peer {
    hits: Arc<Mutex<Vec<Hit>>>,
}

/// A GMS-like peer: storage ids under `/genesys/1/storage/`, 404 for `missing`, plain text at `/text`.
async fn handle(
    State(peer): State<Peer>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    peer.hits.lock().unwrap().push(Hit {
        method: method.to_string(),
        uri: uri.to_string(),
        content_type: headers
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_string()),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let path = uri.path();
    if path.ends_with("/missing") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "no such data"})),
        )
            .into_response();
    }
    if path == "/hang" {
        std::future::pending::<()>().await;
    }
    if path == "/text" {
        return "plain words".into_response();
    }
    if path == "/empty" {
        return StatusCode::NO_CONTENT.into_response();
    }
    axum::Json(json!({"id": "d-1", "path": path})).into_response()
}

async fn start_peer() -> (Peer, u16) {
    let peer = Peer::default();
    let app = Router::new().fallback(handle).with_state(peer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (peer, port)
}

fn storage_dfm(port: u16) -> gms::dfm::Dfm {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dfm/cfg_GSG_storage.txt"),
    )
    .unwrap()
    .replace("port='8081'", &format!("port='{port}'"))
    .replace("host='localhost'", "host='127.0.0.1'");
    load_str(&text, "cfg_GSG_storage.txt").unwrap()
}

#[tokio::test]
async fn a_successful_call_raises_done_with_the_json_body() {
    let (peer, port) = start_peer().await;
    let dfm = Arc::new(storage_dfm(port));
    // The ORS layer runs each call on its own task, so the call must be `Send`.
    let executor = Executor::new();
    let task = tokio::spawn(async move {
        let values = values(json!({"ttl": 60, "data": {"name": "Ann"}}));
        executor.execute(&dfm, "create", &values).await
    });
    let completion = task.await.unwrap();
    assert_eq!(
        completion,
        Completion {
            event: "gsgStorage.create.done".into(),
            status: 200,
            data: json!({"id": "d-1", "path": "/genesys/1/storage/60"}),
        }
    );
    assert_eq!(
        peer.hits.lock().unwrap().clone(),
        [Hit {
            method: "POST".into(),
            uri: "/genesys/1/storage/60".into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            body: "name=Ann".into(),
        }]
    );
}

#[tokio::test]
async fn an_error_status_raises_the_error_event_with_the_body() {
    let (_peer, port) = start_peer().await;
    let dfm = storage_dfm(port);
    let completion = Executor::new()
        .execute(&dfm, "read", &values(json!({"id": "missing"})))
        .await;
    assert_eq!(completion.event, "error.gsgStorage.read");
    assert_eq!(completion.status, 404);
    assert_eq!(completion.data, json!({"message": "no such data"}));
}

#[tokio::test]
async fn a_refused_connection_is_status_zero() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dfm = storage_dfm(port);
    let completion = Executor::new()
        .execute(&dfm, "read", &values(json!({"id": "x"})))
        .await;
    assert_eq!(completion.event, "error.gsgStorage.read");
    assert_eq!(completion.status, 0);
    assert_eq!(completion.data["error"], "connection");
}

#[tokio::test]
async fn a_bad_call_completes_with_an_error_and_sends_nothing() {
    let (peer, port) = start_peer().await;
    let dfm = storage_dfm(port);
    let completion = Executor::new()
        .execute(&dfm, "read", &AttrValues::new())
        .await;
    assert_eq!(completion.event, "error.gsgStorage.read");
    assert_eq!(completion.status, 0);
    assert_eq!(
        completion.data,
        json!({"error": "attribute", "description": "action 'read' needs attribute 'id'"})
    );
    let completion = Executor::new()
        .execute(&dfm, "nope", &AttrValues::new())
        .await;
    assert_eq!(completion.event, "error.gsgStorage.nope");
    assert!(peer.hits.lock().unwrap().is_empty());
}

/// A DFM of one connection to the given servers, with actions for the peer's special paths.
fn test_dfm(mode: &str, ports: &[u16], timeout: &str, mapping: &str) -> gms::dfm::Dfm {
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(idx, port)| format!("<server name='s{idx}' host='127.0.0.1' port='{port}'/>"))
        .collect();
    let text = format!(
        "<dfm name='t' namespace='urn:t'>
  <protocols><protocol type='http'><params><param name='timeout' expr='{timeout}'/></params>
    <globalevents>{mapping}</globalevents></protocol></protocols>
  <connections><connection name='c' type='http' selectionmode='{mode}'><servers>{servers}</servers></connection></connections>
  <transports><transport name='get' conntype='c'><param name='method' expr='GET'/><param name='url' expr='/'/></transport></transports>
  <actions>
    <action name='hang' transport='get'><overrides><param name='url' expr='/hang'/></overrides></action>
    <action name='text' transport='get'><overrides><param name='url' expr='/text'/></overrides></action>
    <action name='empty' transport='get'><overrides><param name='url' expr='/empty'/></overrides></action>
    <action name='ping' transport='get'><overrides><param name='url' expr='/ping/${{n}}'/></overrides>
      <attributes><attribute name='n' type='Integer'/></attributes></action>
  </actions>
</dfm>"
    );
    load_str(&text, "t.txt").unwrap()
}

const DONE_ERROR: &str =
    "<event name='done' mapping='200'/><event name='error' mapping='0,400-510'/>";

#[tokio::test]
async fn the_protocol_timeout_ends_a_call_without_answer() {
    let (_peer, port) = start_peer().await;
    let dfm = test_dfm("simple", &[port], "0.2", DONE_ERROR);
    let completion = Executor::new()
        .execute(&dfm, "hang", &AttrValues::new())
        .await;
    assert_eq!(completion.event, "error.t.hang");
    assert_eq!(completion.status, 0);
    assert_eq!(completion.data["error"], "timeout");
}

#[tokio::test]
async fn bodies_that_are_not_json_arrive_as_text_or_null() {
    let (_peer, port) = start_peer().await;
    let dfm = test_dfm(
        "simple",
        &[port],
        "5",
        "<event name='done' mapping='200'/><event name='nothing' mapping='204'/><event name='error' mapping='0,400-510'/>",
    );
    let executor = Executor::new();
    let completion = executor.execute(&dfm, "text", &AttrValues::new()).await;
    assert_eq!(
        (completion.event.as_str(), completion.data),
        ("t.text.done", json!("plain words"))
    );
    // Other <globalevents> names become the suffix of the event.
    let completion = executor.execute(&dfm, "empty", &AttrValues::new()).await;
    assert_eq!(
        (completion.event.as_str(), completion.data),
        ("t.empty.nothing", Value::Null)
    );
}

#[tokio::test]
async fn an_unmapped_status_still_completes_as_an_error() {
    let (_peer, port) = start_peer().await;
    let dfm = test_dfm("simple", &[port], "5", "<event name='done' mapping='201'/>");
    let completion = Executor::new()
        .execute(&dfm, "ping", &values(json!({"n": 1})))
        .await;
    assert_eq!(
        (completion.event.as_str(), completion.status),
        ("error.t.ping", 200)
    );
}

#[tokio::test]
async fn round_robin_spreads_calls_over_the_servers() {
    let (first, first_port) = start_peer().await;
    let (second, second_port) = start_peer().await;
    let dfm = test_dfm("round-robin", &[first_port, second_port], "5", DONE_ERROR);
    let executor = Executor::new();
    for n in 0..4 {
        let completion = executor
            .execute(&dfm, "ping", &values(json!({"n": n})))
            .await;
        assert_eq!(completion.event, "t.ping.done");
    }
    let uris = |peer: &Peer| -> Vec<String> {
        peer.hits
            .lock()
            .unwrap()
            .iter()
            .map(|hit| hit.uri.clone())
            .collect()
    };
    assert_eq!(uris(&first), ["/ping/0", "/ping/2"]);
    assert_eq!(uris(&second), ["/ping/1", "/ping/3"]);
}

/// Serves requests for host `gms.local` from memory, recording them.
#[derive(Default)]
struct FakeNode {
    seen: Mutex<Vec<DfmRequest>>,
    silent: bool,
}

impl InProcess for FakeNode {
    fn serves(&self, request: &DfmRequest) -> bool {
        request.server.host == "gms.local"
    }

    fn call<'a>(&'a self, request: &'a DfmRequest) -> BoxFuture<'a, Option<DfmResponse>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(request.clone());
            if self.silent {
                std::future::pending::<()>().await;
            }
            Some(DfmResponse {
                status: 200,
                content_type: Some("application/json".into()),
                body: format!("{{\"served\": \"{}\"}}", request.path()).into_bytes(),
            })
        })
    }
}

#[tokio::test]
async fn calls_to_this_node_are_served_in_process() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dfm/cfg_GSG_storage.txt"),
    )
    .unwrap()
    .replace("host='localhost'", "host='gms.local'");
    let dfm = load_str(&text, "storage.txt").unwrap();
    let node = Arc::new(FakeNode::default());
    let executor = Executor::new().with_in_process(node.clone());
    let completion = executor
        .execute(&dfm, "delete", &values(json!({"id": "abc"})))
        .await;
    assert_eq!(completion.event, "gsgStorage.delete.done");
    assert_eq!(completion.data, json!({"served": "/genesys/1/storage/abc"}));
    let seen = node.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, gms::dfm::model::Method::Delete);
}

#[tokio::test(start_paused = true)]
async fn an_in_process_call_is_bounded_by_the_protocol_timeout() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dfm/cfg_GSG_storage.txt"),
    )
    .unwrap()
    .replace("host='localhost'", "host='gms.local'");
    let dfm = load_str(&text, "storage.txt").unwrap();
    let node = Arc::new(FakeNode {
        silent: true,
        ..FakeNode::default()
    });
    let executor = Executor::new().with_in_process(node);
    // Virtual time: the 10 s timeout of the file passes at once.
    let completion = executor
        .execute(&dfm, "read", &values(json!({"id": "abc"})))
        .await;
    assert_eq!(
        (completion.event.as_str(), completion.status),
        ("error.gsgStorage.read", 0)
    );
    assert_eq!(completion.data["error"], "timeout");
}
