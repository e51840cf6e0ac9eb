//! The live console (`/console/` on the internal listener): its JSON and server-sent-event routes over real HTTP
//! (listings of a running flow's session, service, booking pool, data set and subscription; a trace stream that
//! ends with its session and stops tracing when its client goes away; 404 for sessions that are gone), and the
//! page itself in a real headless Chromium following a session a sample client script started, changing its
//! state with an event sent from the page, and terminating it.

use std::path::Path;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::sample_flows::{PATIENCE, STEP, create_ok};
use crate::server::{TestServer, assert_error};

/// The parameters that keep a request-inbound-delay session waiting for an agent until it is told to look
/// (`check_agents`), with a device subscribed to its pushes.
const WAITING: [(&str, &str); 5] = [
    ("_phone_number", "5551234"),
    ("_poll_interval", "3600"),
    ("_device_id", "ann"),
    ("_device_os", "comet"),
    ("first_name", "Ann"),
];

async fn get_internal(server: &TestServer, path: &str) -> (u16, Value) {
    server
        .send(server.http.get(server.internal_url(path)))
        .await
}

/// Waits (bounded) until `done` holds for the answer to `GET path` on the internal listener; returns it.
async fn until_json(server: &TestServer, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, body) = get_internal(server, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never got there: {body}"
        );
        tokio::time::sleep(STEP).await;
    }
}

/// The session `id` as `/console/api/sessions` lists it, once its active states are `states`.
async fn listed_in(server: &TestServer, id: &str, states: &[&str]) -> Value {
    let listing = until_json(server, "/console/api/sessions", |body| {
        body["sessions"].as_array().is_some_and(|sessions| {
            sessions
                .iter()
                .any(|session| session["id"] == id && session["states"] == json!(states))
        })
    })
    .await;
    listing["sessions"]
        .as_array()
        .and_then(|sessions| sessions.iter().find(|session| session["id"] == id))
        .cloned()
        .unwrap_or_default()
}

/// Reads server-sent events from `response` until `stop` holds for one; returns them as (event, data) pairs.
/// `None` in place of the last pair means the stream ended.
async fn read_events(
    response: &mut reqwest::Response,
    buffer: &mut String,
    stop: impl Fn(&str, &Value) -> bool,
) -> Vec<Option<(String, Value)>> {
    let mut events = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let mut kind = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        kind = value.trim().to_string();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let data: Value = serde_json::from_str(&data).unwrap_or(Value::String(data));
                let done = stop(&kind, &data);
                events.push(Some((kind, data)));
                if done {
                    return;
                }
            }
            match response.chunk().await.unwrap() {
                Some(chunk) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
                None => {
                    events.push(None);
                    return;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the stream never got there: {events:?}"));
    events
}

#[tokio::test]
async fn the_console_routes_list_a_flow_and_stream_its_steps_until_it_ends() {
    let server = TestServer::sample().await;
    let (id, _) = create_ok(&server, "request-inbound-delay", &WAITING).await;
    let session = listed_in(&server, &id, &["waiting_for_agent"]).await;
    assert_eq!(session["name"], "request-inbound-delay", "{session}");
    assert!(
        session["file"]
            .as_str()
            .is_some_and(|file| file.ends_with("request-inbound-delay.scxml")),
        "{session}"
    );
    assert_eq!(session["scheduled"], false);
    let (status, one) = get_internal(&server, &format!("/console/api/sessions/{id}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["data"]["_phone_number"], "5551234", "{one}");

    // The service instance, its data set and the device's subscription; the pool, nothing booked yet.
    let services = get_internal(&server, "/console/api/services").await.1;
    assert!(
        services["services"].as_array().is_some_and(|all| all
            .iter()
            .any(|service| service["name"] == "request-inbound-delay" && service["type"] == "ors")),
        "{services}"
    );
    let instance = services["instances"]
        .as_array()
        .and_then(|all| all.iter().find(|instance| instance["_id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no instance {id} in {services}"));
    assert_eq!(instance["_service"], "request-inbound-delay");
    assert_eq!(instance["session"], true);
    let storage = get_internal(&server, "/console/api/storage").await.1;
    let data_set = storage["data_sets"]
        .as_array()
        .and_then(|all| all.iter().find(|set| set["instance"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no data set of {id} in {storage}"));
    assert_eq!(
        data_set["entries"]["first_name"]["text"], "Ann",
        "{data_set}"
    );
    let (status, looked_up) = get_internal(
        &server,
        &format!("/console/api/storage/{}", data_set["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!((status, &looked_up["entries"]), (200, &data_set["entries"]));
    let filter = format!("ors.contact.{id}");
    until_json(&server, "/console/api/subscriptions", |body| {
        body["subscriptions"].as_array().is_some_and(|all| {
            all.iter()
                .any(|sub| sub["filter"] == filter.as_str() && sub["deviceId"] == "ann")
        })
    })
    .await;
    let resources = get_internal(&server, "/console/api/resources").await.1;
    let pool = resources["groups"]
        .as_array()
        .and_then(|all| all.iter().find(|group| group["name"] == "Dnis_Pool"))
        .cloned()
        .unwrap_or_else(|| panic!("no Dnis_Pool in {resources}"));
    assert_eq!(pool["strategy"], "LOCAL", "{pool}");
    assert_eq!(pool["booked"], 0, "{pool}");
    assert_eq!(
        pool["resources"].as_array().map(Vec::len),
        Some(3),
        "{pool}"
    );

    // The diagram has the active state marked.
    let response = server
        .http
        .get(server.internal_url(&format!("/console/api/sessions/{id}/diagram")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let svg = response.text().await.unwrap();
    assert!(
        svg.contains(r#"class="state atomic active" data-state="waiting_for_agent""#),
        "{svg}"
    );

    // The trace: the state now, each step, then the end, and the stream closes.
    let mut stream = server
        .http
        .get(server.internal_url(&format!("/console/api/sessions/{id}/trace")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let first = read_events(&mut stream, &mut buffer, |_, _| true).await;
    assert_eq!(
        first[0]
            .as_ref()
            .map(|(kind, data)| (kind.as_str(), &data["states"])),
        Some(("state", &json!(["waiting_for_agent"])))
    );
    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/event/check_agents"), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    let steps = read_events(&mut stream, &mut buffer, |kind, _| kind == "step").await;
    let (_, step) = steps.last().cloned().flatten().unwrap();
    assert_eq!(step["event"]["name"], "check_agents", "{step}");
    assert_eq!(
        step["configuration"],
        json!(["waiting_for_agent"]),
        "{step}"
    );
    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    let end = read_events(&mut stream, &mut buffer, |_, _| false).await;
    let mut end = end.into_iter().rev();
    assert_eq!(end.next(), Some(None), "the stream closes after the end");
    let (kind, last) = end.next().flatten().unwrap();
    assert_eq!((kind.as_str(), &last["ended"]), ("ended", &json!(true)));

    // Gone: 404 with a JSON body everywhere, never a 500.
    for path in ["", "/diagram", "/trace"] {
        let answer = get_internal(&server, &format!("/console/api/sessions/{id}{path}")).await;
        assert_error(&answer, 404, "NotFound");
    }
    let answer = server
        .post_internal(&format!("/scxml/session/{id}/event/check_agents"), &[])
        .await;
    assert_error(&answer, 404, "NotFound");
    let answer = get_internal(&server, "/console/api/storage/nope").await;
    assert_error(&answer, 404, "NotFound");
    let listing = get_internal(&server, "/console/api/sessions").await.1;
    assert_eq!(listing["sessions"], json!([]), "{listing}");
    // Internal only.
    for path in ["/console/", "/console/api/sessions"] {
        assert_eq!(
            server.get(path).await.0,
            404,
            "{path} on the public listener"
        );
    }
}

#[tokio::test]
async fn a_trace_stream_whose_client_went_away_stops_the_tracing() {
    let server = TestServer::sample().await;
    let (id, _) = create_ok(&server, "request-inbound-delay", &WAITING).await;
    listed_in(&server, &id, &["waiting_for_agent"]).await;
    assert!(!server.ors.is_traced(&id));
    let mut stream = server
        .http
        .get(server.internal_url(&format!("/console/api/sessions/{id}/trace")))
        .send()
        .await
        .unwrap();
    read_events(&mut stream, &mut String::new(), |_, _| true).await;
    assert!(server.ors.is_traced(&id));
    drop(stream);
    // The server learns that the client is gone when it writes to it: steps make it write.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while server.ors.is_traced(&id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session is still traced"
        );
        let (status, body) = server
            .post_internal(&format!("/scxml/session/{id}/event/check_agents"), &[])
            .await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(STEP).await;
    }
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 200);
}

/// Starts a request-inbound-delay service with the sample client (`samples/mobile_app.py`), as an app would;
/// returns its id.
async fn start_with_sample_client(server: &TestServer) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let params: Vec<String> = WAITING
        .iter()
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    let script = format!(
        "import mobile_app\nreply = mobile_app.service('request-inbound-delay', {})\nprint('ID=' + reply['_id'])\n",
        params.join(", ")
    );
    let mut command = tokio::process::Command::new("python3");
    command
        .current_dir(root.join("samples"))
        .args(["-c", &script])
        .env("GMS_PUBLIC", server.public_url(""))
        .env("GMS_INTERNAL", server.internal_url(""))
        .kill_on_drop(true);
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("the sample client finished")
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the sample client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("ID="))
        .unwrap_or_else(|| panic!("no id in {stdout}"))
        .to_string()
}

fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join(name), png).unwrap();
}

#[tokio::test]
async fn the_console_in_chromium_follows_changes_and_terminates_a_session() {
    let server = TestServer::sample().await;
    let mut page = Browser::open(&server.internal_url("/console/")).await;
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let id = start_with_sample_client(&server).await;
    let row = format!("document.querySelector('#sessions tr[data-session=\"{id}\"]')");
    page.until(&format!(
        "{row} !== null && {row}.innerText.includes('request-inbound-delay') && {row}.innerText.includes('waiting_for_agent')"
    ))
    .await;

    // Chosen: its diagram shows the active state and its ancestors.
    page.eval(&format!("{row}.click()")).await;
    let state = |id: &str| format!("document.querySelector('#diagram [data-state=\"{id}\"]')");
    let active = |id: &str| {
        format!(
            "({} || {{classList: {{contains: () => false}}}}).classList.contains('active')",
            state(id)
        )
    };
    page.until(&format!(
        "{} && {} && !{}",
        active("waiting_for_agent"),
        active("advanced_async"),
        active("notifying")
    ))
    .await;

    // An agent made ready on the page, then the event sent from the page: the flow looks and moves on.
    page.eval("document.querySelector('#agents button[data-agent=\"agent1\"][data-state=\"ready\"]').click()")
        .await;
    page.until(
        "document.querySelector('#agents tr[data-agent=\"agent1\"]')?.dataset.state === 'ready'",
    )
    .await;
    page.eval(
        "document.getElementById('event-name').value = 'check_agents'; \
         document.getElementById('send-event').click()",
    )
    .await;
    page.until(&format!(
        "{} && !{}",
        active("notifying"),
        active("waiting_for_agent")
    ))
    .await;
    page.until("document.getElementById('trace').innerText.includes('check_agents')")
        .await;
    page.until(&format!("{row}?.innerText.includes('notifying') === true"))
        .await;
    save("console-session.png", &page.screenshot().await);

    // The other views list the instance, the pool, its data set and the device's subscription.
    for (tab, text) in [
        ("services", "request-inbound-delay"),
        ("resources", "Dnis_Pool"),
        ("storage", "Ann"),
        ("subscriptions", "ors.contact."),
    ] {
        page.eval(&format!(
            "document.querySelector('#tabs button[data-tab=\"{tab}\"]').click()"
        ))
        .await;
        page.until(&format!(
            "document.getElementById('tab-{tab}').innerText.includes('{text}')"
        ))
        .await;
    }
    page.eval("document.querySelector('#tabs button[data-tab=\"session\"]').click()")
        .await;

    // Terminated from the page: the page says so and keeps working; the session is gone everywhere.
    page.eval("document.getElementById('terminate').click()")
        .await;
    page.until("document.getElementById('session-state').innerText.startsWith('ended')")
        .await;
    page.until(&format!("{row} === null")).await;
    assert_eq!(server.ors.live(), 0);
    // The stream ended with the session, and with it the watching.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while server.ors.is_traced(&id) {
        assert!(tokio::time::Instant::now() < deadline, "still traced");
        tokio::time::sleep(STEP).await;
    }
    // An event to the ended session from the page is refused and shown, nothing breaks.
    page.eval(
        "document.getElementById('send-event').disabled = false; \
         document.getElementById('send-event').click()",
    )
    .await;
    page.until("document.getElementById('message').innerText.includes('not sent')")
        .await;
    save("console-ended.png", &page.screenshot().await);
    assert_eq!(page.eval("window.consoleErrors").await, json!([]));
}
