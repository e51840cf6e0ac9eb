//! Every sample flow played by the same client steps twice: against one `gms` running its flows in-process, and
//! against a `gms` (A) that forwards its `type=ors` services to another `gms` standing in for ORS (B), whose DFM
//! files point back at A as a real ORS's would. The answers must be the same (ids and booked numbers aside), and
//! what A sends to B, captured on the wire, must be ORS's HTTP interface and nothing else.
//!
//! And the inbound flows forwarded end to end: the number booked on A, the push of request-inbound-delay
//! delivered by A's Notification API, the customer's call placed on B's contact center, matched on A by
//! match-interaction through B's gsgBasedServices DFM (as the strategy on an ORS access number does), handed to
//! the flow on B and routed to B's agent, the flow's end seen through A; a request no flow takes is refused (409)
//! through A.

use std::sync::{Arc, Mutex};

use crate::sample_flows::{
    POOL, PushReceiver, assert_routed_to, code_of, ended, in_use, number_of,
};
use crate::server::{SAMPLE, TestServer, assert_error};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Value, json};

/// One request A sent to B: method, path, content type.
type Seen = (String, String, String);

/// A proxy on 127.0.0.1:0 that records every request and passes it on to `target`.
async fn capture_proxy(target: Arc<Mutex<String>>, seen: Arc<Mutex<Vec<Seen>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let target = target.lock().unwrap().clone();
            let seen = seen.clone();
            let client = client.clone();
            async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push((
                    method.to_string(),
                    uri.path().to_string(),
                    content_type.clone(),
                ));
                let response = client
                    .request(
                        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                        format!("{target}{uri}"),
                    )
                    .header("content-type", content_type)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    text,
                )
            }
        },
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// Where the app's calls go and where the flows run.
struct Setup {
    /// The node the app talks to.
    front: TestServer,
    /// The node that runs the flows, when it is another one.
    ors: Option<TestServer>,
    seen: Arc<Mutex<Vec<Seen>>>,
    _dir: tempfile::TempDir,
}

/// `[ors]` options for both modes: requests the flow does not answer fail fast.
const ORS: &str = "\n[ors]\nrequest_timeout = 2\n";

impl Setup {
    async fn in_process() -> Setup {
        Setup {
            front: TestServer::start(&format!("{SAMPLE}{ORS}")).await,
            ors: None,
            seen: Arc::new(Mutex::new(Vec::new())),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    async fn forwarded() -> Setup {
        let target = Arc::new(Mutex::new(String::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let proxy = capture_proxy(target.clone(), seen.clone()).await;
        let front = TestServer::start(&format!(
            "{SAMPLE}\n[ors]\nurl = http://127.0.0.1:{proxy}\n"
        ))
        .await;
        // B's DFM files name A's internal listener as their GMS.
        let dir = tempfile::tempdir().unwrap();
        let mut dfm = String::from("\n[dfm]\n");
        for name in [
            "cfg_GSG_storage",
            "cfg_GSG_notification",
            "cfg_GSG_base_services",
            "cfg_GSG_geocoding",
        ] {
            let text = std::fs::read_to_string(format!("dfm/{name}.txt"))
                .unwrap()
                .replace("port='8081'", &format!("port='{}'", front.internal.port()));
            let path = dir.path().join(format!("{name}.txt"));
            std::fs::write(&path, text).unwrap();
            dfm.push_str(&format!("{name} = {}\n", path.display()));
        }
        let ors = TestServer::start(&format!("{SAMPLE}{ORS}{dfm}")).await;
        *target.lock().unwrap() = format!("http://{}", ors.internal);
        Setup {
            front,
            ors: Some(ors),
            seen,
            _dir: dir,
        }
    }

    fn flows(&self) -> &TestServer {
        self.ors.as_ref().unwrap_or(&self.front)
    }

    async fn create(&self, service: &str, params: &[(&str, &str)]) -> (u16, Value) {
        self.front
            .post_form(&format!("/genesys/1/service/{service}"), params)
            .await
    }

    async fn request(&self, id: &str, name: &str) -> (u16, Value) {
        self.front
            .post_form(&format!("/genesys/1/service/{id}/{name}"), &[])
            .await
    }

    /// Asks `status` (every [`crate::sample_flows::STEP`], for at most [`crate::sample_flows::PATIENCE`]) until its
    /// `_text` is `text`; returns that answer.
    async fn status_until(&self, id: &str, text: &str) -> (u16, Value) {
        let deadline = tokio::time::Instant::now() + crate::sample_flows::PATIENCE;
        loop {
            let answer = self.request(id, "status").await;
            if answer.0 == 200 && answer.1["_text"] == text {
                return answer;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never {text}: {answer:?}"
            );
            tokio::time::sleep(crate::sample_flows::STEP).await;
        }
    }

    async fn agent_ready(&self, agent: &str) {
        let (status, body) = self
            .flows()
            .post_internal(
                &format!("/genesys/1/contact-center/agents/{agent}/ready"),
                &[],
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

/// An answer with what differs from run to run (ids, booked numbers, codes) replaced by placeholders.
fn normalize(answer: &(u16, Value)) -> Value {
    let (status, body) = answer;
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        // The session id also appears inside other values (`_start_chat_url`).
        if let Some(id) = object
            .get("_id")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            for value in object.values_mut() {
                if let Some(text) = value.as_str().filter(|text| text.contains(&id)) {
                    *value = Value::from(text.replace(&id, "<id>"));
                }
            }
        }
        for (key, placeholder) in [
            ("_id", "<id>"),
            ("_tel_url", "tel:<number>"),
            ("_access_code", "<code>"),
            ("_data_id", "<data>"),
        ] {
            if object.contains_key(key) {
                object.insert(key.to_string(), Value::from(placeholder));
            }
        }
    }
    json!({"status": status, "body": body})
}

fn id_of(answer: &(u16, Value)) -> String {
    answer.1["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no _id in {answer:?}"))
        .to_string()
}

/// Plays the mobile app of `flow` against `setup` and returns the normalized answers.
async fn play(flow: &str, setup: &Setup) -> Vec<Value> {
    let mut answers = Vec::new();
    let phone = ("_phone_number", "5551234");
    match flow {
        "request-inbound-immediate" => {
            let created = setup.create(flow, &[phone]).await;
            let id = id_of(&created);
            answers.push(normalize(&created));
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "cancel").await));
        }
        "request-inbound-poll" => {
            let created = setup.create(flow, &[phone]).await;
            let id = id_of(&created);
            answers.push(normalize(&created));
            answers.push(normalize(&setup.request(&id, "status").await));
            setup.agent_ready("agent2").await;
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "cancel").await));
        }
        // The delay flows are told of the agent by status (the poll interval is longer than the test, and no
        // device is given), so no step depends on a timer.
        "request-inbound-delay" | "request-inbound-delay-location" => {
            let mut params = vec![phone, ("_poll_interval", "600"), ("first_name", "Ann")];
            if flow.ends_with("location") {
                params.extend([("_lat", "48.8566"), ("_long", "2.3522")]);
            }
            let created = setup.create(flow, &params).await;
            let id = id_of(&created);
            answers.push(normalize(&created));
            // The location flow first geocodes the position ("Please wait."), then watches the agents.
            let waiting = setup
                .status_until(&id, "All agents are busy, please wait.")
                .await;
            answers.push(normalize(&waiting));
            setup.agent_ready("agent2").await;
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "connect").await));
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "cancel").await));
        }
        "request-outbound-immediate" => {
            let created = setup.create(flow, &[phone]).await;
            let id = id_of(&created);
            answers.push(normalize(&created));
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "cancel").await));
        }
        "request-outbound-delay" | "request-outbound-poll" => {
            let created = setup
                .create(flow, &[phone, ("_poll_interval", "600")])
                .await;
            let id = id_of(&created);
            answers.push(normalize(&created));
            answers.push(normalize(&setup.request(&id, "status").await));
            setup.agent_ready("agent2").await;
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "connect").await));
            // The call rings (5 s in the sample options): the customer is about to be called.
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "cancel").await));
        }
        "request-chat-poll" => {
            let created = setup.create(flow, &[]).await;
            let id = id_of(&created);
            answers.push(normalize(&created));
            answers.push(normalize(&setup.request(&id, "status").await));
            answers.push(normalize(&setup.request(&id, "cancel").await));
        }
        other => panic!("no client steps for {other}"),
    }
    answers
}

async fn same_answers_in_process_and_forwarded(flow: &str) {
    let local = play(flow, &Setup::in_process().await).await;
    let forwarded_setup = Setup::forwarded().await;
    let forwarded = play(flow, &forwarded_setup).await;
    assert!(
        local.iter().all(|answer| answer["status"] == 200),
        "{flow} in-process: {local:#?}"
    );
    eprintln!("{flow}: {}", serde_json::to_string(&local).unwrap());
    assert_eq!(local, forwarded, "{flow}: in-process vs forwarded");
    // A spoke ORS's HTTP interface to B, and only that.
    let seen = forwarded_setup.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert_eq!(seen[0].1, "/scxml/session/start", "{seen:?}");
    for (method, path, content_type) in &seen {
        assert_eq!(method, "POST", "{seen:?}");
        assert_eq!(
            content_type, "application/x-www-form-urlencoded",
            "{seen:?}"
        );
        let parts: Vec<&str> = path.split('/').collect();
        let ors_form = path == "/scxml/session/start"
            || (parts.len() >= 5
                && parts[1] == "scxml"
                && parts[2] == "session"
                && matches!(parts[4], "request" | "event" | "terminate"));
        assert!(ors_form, "not ORS's interface: {path}");
    }
}

#[tokio::test]
async fn request_inbound_immediate_forwarded() {
    same_answers_in_process_and_forwarded("request-inbound-immediate").await;
}

#[tokio::test]
async fn request_inbound_poll_forwarded() {
    same_answers_in_process_and_forwarded("request-inbound-poll").await;
}

#[tokio::test]
async fn request_inbound_delay_forwarded() {
    same_answers_in_process_and_forwarded("request-inbound-delay").await;
}

#[tokio::test]
async fn request_inbound_delay_location_forwarded() {
    same_answers_in_process_and_forwarded("request-inbound-delay-location").await;
}

#[tokio::test]
async fn request_outbound_immediate_forwarded() {
    same_answers_in_process_and_forwarded("request-outbound-immediate").await;
}

#[tokio::test]
async fn request_outbound_delay_forwarded() {
    same_answers_in_process_and_forwarded("request-outbound-delay").await;
}

#[tokio::test]
async fn request_outbound_poll_forwarded() {
    same_answers_in_process_and_forwarded("request-outbound-poll").await;
}

#[tokio::test]
async fn request_chat_poll_forwarded() {
    same_answers_in_process_and_forwarded("request-chat-poll").await;
}

/// The customer dials `number` from `ani` (keying in `code`) on the contact center of `node`; returns the call's
/// interaction id.
async fn place_call(node: &TestServer, number: &str, ani: &str, code: &str) -> String {
    let url = reqwest::Url::parse_with_params(
        &node.internal_url("/genesys/1/contact-center/calls"),
        &[("ani", ani), ("dnis", number), ("access_code", code)],
    )
    .unwrap();
    let (status, body) = node.send(node.http.post(url)).await;
    assert_eq!(status, 200, "{body}");
    body["interactionid"].as_str().unwrap().to_string()
}

/// The call to `number` placed on B is matched on A, reaches the flow `id` on B and is routed to B's ready
/// `agent`; the flow ends, which A's answer to a request shows.
async fn call_routed_and_flow_ended(
    setup: &Setup,
    id: &str,
    number: &str,
    code: &str,
    agent: &str,
) {
    let flows = setup.flows();
    setup.agent_ready(agent).await;
    // B's contact center asks A, through the gsgBasedServices DFM, which service booked the number (as the
    // strategy on an ORS access number does); A's match-interaction answers and releases the number.
    place_call(flows, number, "5551234", code).await;
    assert!(ended(flows, id).await, "the flow on B did not end");
    assert_eq!(in_use(&setup.front, POOL).await, 0);
    assert_routed_to(flows, agent).await;
    assert_error(&setup.request(id, "status").await, 404, "NotFound");
    // B's answer told A the session is gone: A forgets the instance.
    let forgotten = setup.front.get(&format!("/genesys/1/service/{id}")).await;
    assert_error(&forgotten, 404, "NotFound");
}

#[tokio::test]
async fn request_inbound_immediate_forwarded_end_to_end() {
    let setup = Setup::forwarded().await;
    let (status, reply) = setup
        .create("request-inbound-immediate", &[("_phone_number", "5551234")])
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = id_of(&(status, reply.clone()));
    // The flow on B booked the number on A, under its own session id.
    let number = number_of(&reply);
    let code = code_of(&reply);
    assert_eq!(in_use(&setup.front, POOL).await, 1);
    let (_, record) = setup.front.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(record["_access_number"], number.as_str(), "{record}");
    call_routed_and_flow_ended(&setup, &id, &number, &code, "agent1").await;
}

#[tokio::test]
async fn request_inbound_delay_forwarded_end_to_end() {
    let setup = Setup::forwarded().await;
    let mut device = PushReceiver::start().await;
    let (status, reply) = setup
        .create(
            "request-inbound-delay",
            &[
                ("_phone_number", "5551234"),
                ("_device_os", "httpcb"),
                ("_device_id", &device.url),
                ("_poll_interval", "0.02"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = id_of(&(status, reply));
    let (status, wait) = setup.request(&id, "status").await;
    assert_eq!(
        (status, &wait["_action"]),
        (200, &json!("Message")),
        "{wait}"
    );
    // B's agent becomes ready; the flow on B publishes through A's Notification API, which pushes to the device.
    setup.agent_ready("agent2").await;
    let (path, body) = device.next().await;
    assert_eq!(path, "/push");
    let push: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(push, json!({"_id": id, "_action": "connect"}));
    let (status, answer) = setup.request(&id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    let number = number_of(&answer);
    let code = code_of(&answer);
    assert_eq!(in_use(&setup.front, POOL).await, 1);
    call_routed_and_flow_ended(&setup, &id, &number, &code, "agent2").await;
    assert!(device.drain().is_empty());
}

#[tokio::test]
async fn a_request_no_flow_takes_is_refused_through_the_forwarding_node() {
    let setup = Setup::forwarded().await;
    let (status, reply) = setup
        .create("request-inbound-immediate", &[("_phone_number", "5551234")])
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = id_of(&(status, reply));
    // B refuses at once a request the flow has no transition for; A passes the refusal on.
    assert_error(
        &setup.request(&id, "check-queue-position").await,
        409,
        "RequestNotHandled",
    );
    // The flow is still there and answers what it knows.
    let (status, answer) = setup.request(&id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(setup.flows(), &id).await);
}

#[tokio::test]
async fn a_forwarded_service_cancelled_on_its_ors_lets_go_of_its_number_on_the_next_request() {
    let setup = Setup::forwarded().await;
    let (status, reply) = setup
        .create("request-inbound-immediate", &[("_phone_number", "5551234")])
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = id_of(&(status, reply));
    assert_eq!(in_use(&setup.front, POOL).await, 1);
    let (status, answer) = setup.request(&id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(setup.flows(), &id).await);
    // The ORS (B) tells A nothing when the session ends; A learns it from B's answer to the next request.
    assert_error(&setup.request(&id, "status").await, 404, "NotFound");
    assert_eq!(in_use(&setup.front, POOL).await, 0);
    let forgotten = setup.front.get(&format!("/genesys/1/service/{id}")).await;
    assert_error(&forgotten, 404, "NotFound");
}
