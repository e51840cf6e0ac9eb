//! What the end-to-end tests of the sample flows share: the app's calls on the Service API, the controls of the
//! simulated contact center, a push receiver standing in for the device (`httpcb`), a CometD client standing in
//! for an app that uses `comet`, the booked access numbers (the pool's metric), and bounded waits (short steps,
//! an overall bound) for what the server does on its own: a push, a flow's end, the instance forgotten.

#![allow(dead_code)]

use std::time::Duration;

use axum::body::Bytes;
use axum::http::Uri;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::server::{SAMPLE, TestServer};

/// The longest a test waits for something the server does on its own (a push, a session's end).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How long a bounded wait sleeps between two looks.
pub const STEP: Duration = Duration::from_millis(20);

/// The resource group of access numbers in the sample options.
pub const POOL: &str = "Dnis_Pool";

/// Creates an instance of `service` with `form`, as the app does; returns status and body.
pub async fn create(server: &TestServer, service: &str, form: &[(&str, &str)]) -> (u16, Value) {
    server
        .post_form(&format!("/genesys/1/service/{service}"), form)
        .await
}

/// Creates an instance that must succeed; returns its `_id` and the whole answer.
pub async fn create_ok(
    server: &TestServer,
    service: &str,
    form: &[(&str, &str)],
) -> (String, Value) {
    let (status, reply) = create(server, service, form).await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().expect("an _id").to_string();
    (id, reply)
}

/// Sends request `name` (`status`, `connect`, `cancel`...) to the instance `id`, as the app does.
pub async fn ask(server: &TestServer, id: &str, name: &str) -> (u16, Value) {
    server
        .post_form(&format!("/genesys/1/service/{id}/{name}"), &[])
        .await
}

/// The service record of `id` (`GET /genesys/1/service/{id}`).
pub async fn record(server: &TestServer, id: &str) -> (u16, Value) {
    server.get(&format!("/genesys/1/service/{id}")).await
}

/// Asserts a negative answer of the flow (`<ws:response type="negative">`): 400 `NegativeResponse` with `resultcode`.
pub fn assert_refused(answer: &(u16, Value), resultcode: &str) {
    crate::server::assert_error(answer, 400, "NegativeResponse");
    assert_eq!(answer.1["resultcode"], resultcode, "{answer:?}");
}

/// Tells the simulated contact center that `agent` is ready now.
pub async fn agent_ready(server: &TestServer, agent: &str) {
    agent_to(server, agent, "ready").await;
}

/// Puts `agent` in `state` (`ready`, `not-ready`, `release`) in the simulated contact center.
pub async fn agent_to(server: &TestServer, agent: &str, state: &str) {
    let (status, body) = server
        .post_internal(
            &format!("/genesys/1/contact-center/agents/{agent}/{state}"),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The number of a `DialNumber` answer (its `_tel_url` without `tel:`).
pub fn number_of(dial_number: &Value) -> String {
    assert_eq!(dial_number["_action"], "DialNumber", "{dial_number}");
    assert_eq!(dial_number["_label"], "Call now", "{dial_number}");
    dial_number["_tel_url"]
        .as_str()
        .and_then(|tel| tel.strip_prefix("tel:"))
        .unwrap_or_else(|| panic!("no tel: URL in {dial_number}"))
        .to_string()
}

/// The access code of a `DialNumber` answer of a service that books one (`provide_code = true`, the default).
pub fn code_of(dial_number: &Value) -> String {
    let code = dial_number["_access_code"]
        .as_str()
        .unwrap_or_else(|| panic!("no _access_code in {dial_number}"));
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_digit()),
        "{dial_number}"
    );
    code.to_string()
}

/// The customer dials `tel` (a `tel:` URL or a number) from `ani`, keying in `code` when not empty.
pub async fn dial(server: &TestServer, tel: &str, ani: &str, code: &str) {
    let number = tel.strip_prefix("tel:").unwrap_or(tel);
    let url = reqwest::Url::parse_with_params(
        &server.internal_url("/genesys/1/contact-center/calls"),
        &[("ani", ani), ("dnis", number), ("access_code", code)],
    )
    .unwrap();
    let (status, body) = server.send(server.http.post(url)).await;
    assert_eq!(status, 200, "{body}");
}

/// The simulated contact center's state (agents, waiting work).
pub async fn contact_center(server: &TestServer) -> Value {
    let (status, body) = server
        .send(
            server
                .http
                .get(server.internal_url("/genesys/1/contact-center")),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Whether the flow's session `id` has ended, asked through the ORS query route.
pub async fn is_running(server: &TestServer, id: &str) -> bool {
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/query"), &[])
        .await;
    status != 404
}

/// Waits (at most [`PATIENCE`]) until the flow's session has ended. The session runs on its own worker thread
/// and reports nothing when it ends, so this asks now and then.
pub async fn ended(server: &TestServer, id: &str) -> bool {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if !is_running(server, id).await {
            return true;
        }
        tokio::time::sleep(STEP).await;
    }
    false
}

/// How many access numbers of resource group `group` are booked (`gms_resources_in_use` on `/metrics`).
pub async fn in_use(server: &TestServer, group: &str) -> u64 {
    let metrics = server
        .http
        .get(server.internal_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("gms_resources_in_use{{group=\"{group}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().parse::<f64>().unwrap() as u64)
        .unwrap_or_else(|| panic!("no {prefix} in the metrics:\n{metrics}"))
}

/// Waits (at most [`PATIENCE`]) until GMS has forgotten the instance `id` (its record answers 404 `NotFound`)
/// and no number of `group` is booked any more: what GMS does just after a flow's session ends.
pub async fn assert_released(server: &TestServer, id: &str, group: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let record = record(server, id).await;
        let booked = in_use(server, group).await;
        if record.0 == 404 && booked == 0 {
            crate::server::assert_error(&record, 404, "NotFound");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: not released ({booked} booked in {group}): {record:?}"
        );
        tokio::time::sleep(STEP).await;
    }
}

/// Asserts that `agent` has been given the work: busy, and nothing waits in the queue any more.
pub async fn assert_routed_to(server: &TestServer, agent: &str) {
    let snapshot = contact_center(server).await;
    let state = snapshot["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == agent)
        .unwrap_or_else(|| panic!("no agent {agent}: {snapshot}"))["state"]
        .clone();
    assert_eq!(state, "busy", "{snapshot}");
    assert_eq!(snapshot["waiting"], 0, "{snapshot}");
}

/// Asks `status` until the answer's `field` is `wanted` (the flow learns of each step by an event it waits for);
/// returns that answer. Asks every [`STEP`], for at most [`PATIENCE`].
pub async fn status_until(server: &TestServer, id: &str, field: &str, wanted: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, answer) = ask(server, id, "status").await;
        assert_eq!(status, 200, "{answer}");
        if answer[field] == wanted {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never {field} = {wanted}: {answer}"
        );
        tokio::time::sleep(STEP).await;
    }
}

/// Asks `status` until the answer's `_action` is `action` (the flow learns of a ready agent at its next check).
pub async fn poll_until(server: &TestServer, id: &str, action: &str) -> Value {
    status_until(server, id, "_action", action).await
}

/// A device reached by `httpcb`: a local HTTP peer that hands every request it gets to the test.
pub struct PushReceiver {
    /// The URL to give as `_device_id` (with `_device_os=httpcb`).
    pub url: String,
    received: mpsc::UnboundedReceiver<(String, String)>,
}

impl PushReceiver {
    /// Starts the receiver on 127.0.0.1:0.
    pub async fn start() -> PushReceiver {
        let (sender, received) = mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/push", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
            let sender = sender.clone();
            async move {
                let _ = sender.send((
                    uri.path().to_string(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                "ok"
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        PushReceiver { url, received }
    }

    /// The next push (path, body), waiting at most [`PATIENCE`].
    pub async fn next(&mut self) -> (String, String) {
        tokio::time::timeout(PATIENCE, self.received.recv())
            .await
            .expect("no push arrived in time")
            .expect("the receiver stopped")
    }

    /// The pushes that have arrived so far, without waiting.
    pub fn drain(&mut self) -> Vec<(String, String)> {
        let mut all = Vec::new();
        while let Ok(push) = self.received.try_recv() {
            all.push(push);
        }
        all
    }
}

/// An app connected to `/genesys/cometd` as the `gms_user` it was created with, subscribed to `/_genesys`.
pub struct CometApp {
    url: String,
    user: String,
    client_id: String,
    http: reqwest::Client,
}

impl CometApp {
    /// Handshakes as `user` and subscribes to `/_genesys`.
    pub async fn connect(server: &TestServer, user: &str) -> CometApp {
        let mut app = CometApp {
            url: server.public_url("/genesys/cometd"),
            user: user.to_string(),
            client_id: String::new(),
            http: reqwest::Client::new(),
        };
        let reply = app
            .batch(json!([{"channel": "/meta/handshake", "version": "1.0",
                "supportedConnectionTypes": ["long-polling"]}]))
            .await;
        assert_eq!(reply[0]["successful"], true, "{reply}");
        app.client_id = reply[0]["clientId"].as_str().unwrap().to_string();
        let reply = app
            .batch(
                json!([{"channel": "/meta/subscribe", "clientId": app.client_id,
                "subscription": "/_genesys"}]),
            )
            .await;
        assert_eq!(reply[0]["successful"], true, "{reply}");
        app
    }

    async fn batch(&self, body: Value) -> Value {
        let response = self
            .http
            .post(&self.url)
            .header("gms_user", &self.user)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Long-polls until a message arrives on `/_genesys`; returns its `data`. Waits at most [`PATIENCE`] in all.
    pub async fn next(&self) -> Value {
        let polls = async {
            loop {
                let reply = self
                    .batch(
                        json!([{"channel": "/meta/connect", "clientId": self.client_id,
                        "connectionType": "long-polling"}]),
                    )
                    .await;
                if let Some(message) = reply
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|message| message["channel"] == "/_genesys")
                {
                    return message["data"].clone();
                }
            }
        };
        tokio::time::timeout(PATIENCE, polls)
            .await
            .expect("no message on /_genesys in time")
    }
}

/// The sample options with outbound calls answered at once (`ring_time = 0`), so a flow goes straight to routing.
pub fn answered_at_once() -> String {
    SAMPLE.replace("ewt = 60\n", "ewt = 60\nring_time = 0\n")
}

/// `options` with the `ttl` of section `service.<service>` set to `secs`.
pub fn with_ttl(options: &str, service: &str, secs: u64) -> String {
    let header = format!("[service.{service}]\n");
    let start = options.find(&header).expect("no such service section") + header.len();
    let end = options[start..]
        .find("\n[")
        .map_or(options.len(), |at| start + at + 1);
    let section: String = options[start..end]
        .lines()
        .map(|line| {
            if line.starts_with("ttl =") {
                format!("ttl = {secs}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    format!("{}{section}{}", &options[..start], &options[end..])
}

/// The user data `data_id` once it holds `key` (flows write it with an asynchronous `storage:update`), waiting at
/// most [`PATIENCE`].
pub async fn stored_with(server: &TestServer, data_id: &str, key: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, data) = server.get(&format!("/genesys/1/storage/{data_id}")).await;
        assert_eq!(status, 200, "{data}");
        if data.get(key).is_some() {
            return data;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "`{key}` never stored: {data}"
        );
        tokio::time::sleep(STEP).await;
    }
}

/// The state (`ready`, `not-ready`, `busy`) of `agent` in the simulated contact center.
pub async fn agent_state(server: &TestServer, agent: &str) -> String {
    let snapshot = contact_center(server).await;
    snapshot["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == agent)
        .map(|entry| entry["state"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no agent {agent}: {snapshot}"))
}
