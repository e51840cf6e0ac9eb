//! request-outbound-delay end to end through the public Service API, as the mobile app plays it: the flow
//! subscribes the app's device and, when the simulated agent becomes ready, publishes `{"_id", "_action":
//! "status"}` (received by a local `httpcb` receiver, or by a CometD client of the app's `gms_user`); the app posts
//! `status`, gets the `ConfirmationDialog`, and on `connect` the flow calls the customer and routes the call; a
//! customer who declines (cancel), a busy line, and the service TTL end it; an app with no device learns of the
//! agent from `status` alone. And request-inbound-delay with the real Notification API: the `connect` push
//! reaches a CometD app, the access number's booking runs on GMS's (manual) clock, and match-interaction releases
//! it when the customer dials; a call cancelled while it waits in queue is withdrawn.

use std::time::Duration;

use crate::sample_flows::{
    CometApp, POOL, PushReceiver, agent_ready, agent_state, agent_to, answered_at_once, ask,
    assert_refused, assert_released, assert_routed_to, code_of, contact_center, create, create_ok,
    dial, ended, number_of, record, status_until, with_ttl,
};
use crate::server::{TestServer, assert_error};
use serde_json::{Value, json};

const SERVICE: &str = "request-outbound-delay";
const CONFIRM: &str = "An agent is available. Do you want to be called now?";

/// Checks a pushed message: the flow's `{"_id", "_action": "status"}` for service `id`.
fn assert_status_push(message: &str, id: &str) {
    let push: Value = serde_json::from_str(message).unwrap_or_else(|_| panic!("{message}"));
    assert_eq!(
        push,
        json!({"_id": id, "_action": "status", "_text": "An agent is available."})
    );
}

/// The app does what the push says: posts `status`, which now answers the `ConfirmationDialog`.
async fn confirmation(server: &TestServer, id: &str) {
    let (status, dialog) = ask(server, id, "status").await;
    assert_eq!(status, 200, "{dialog}");
    assert_eq!(
        dialog,
        json!({"_id": id, "_action": "ConfirmationDialog", "_text": CONFIRM})
    );
}

#[tokio::test]
async fn request_outbound_delay_pushes_status_then_confirms_calls_and_routes() {
    let server = TestServer::start(&answered_at_once()).await;
    let mut device = PushReceiver::start().await;
    let (id, reply) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5557777"),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
            ("_poll_interval", "0.01"),
            ("first_name", "Ann"),
        ],
    )
    .await;
    assert!(reply.get("_action").is_none(), "{reply}");
    assert!(reply["_data_id"].is_string(), "{reply}");
    // No agent yet: status says wait, connect is not offered.
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_action"], "Message", "{wait}");
    assert_eq!(wait["_ewt"], 60.0, "{wait}");
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");

    // The agent becomes ready; at its next check the flow publishes on ors.contact.<id> and GMS pushes it.
    agent_ready(&server, "agent1").await;
    let (path, body) = device.next().await;
    assert_eq!(path, "/push");
    assert_status_push(&body, &id);
    confirmation(&server, &id).await;

    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_action"], "Message");
    assert_eq!(answer["_text"], "You will be called shortly.");
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_routed_to(&server, "agent1").await;
    assert_released(&server, &id, POOL).await;
    // One notification only.
    assert!(device.drain().is_empty());
}

#[tokio::test]
async fn request_outbound_delay_reaches_a_comet_app_which_declines() {
    let server = TestServer::start(&answered_at_once()).await;
    let app = CometApp::connect(&server, "ann@example.com").await;
    let (id, _) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5557778"),
            ("_device_os", "comet"),
            ("_device_id", "ann@example.com"),
            ("_poll_interval", "0.01"),
        ],
    )
    .await;
    agent_ready(&server, "agent2").await;
    let data = app.next().await;
    assert_eq!(data["tag"], format!("ors.contact.{id}"), "{data}");
    assert_status_push(data["message"].as_str().unwrap(), &id);
    confirmation(&server, &id).await;

    // The customer declines: nobody is called and the agent stays ready.
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    assert_eq!(agent_state(&server, "agent2").await, "ready");
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_outbound_delay_without_a_device_is_told_by_status() {
    let server = TestServer::start(&answered_at_once()).await;
    // A poll interval longer than the test: only status can tell the app.
    let (id, _) = create_ok(
        &server,
        SERVICE,
        &[("_phone_number", "5557781"), ("_poll_interval", "600")],
    )
    .await;
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_action"], "Message", "{wait}");
    agent_ready(&server, "agent2").await;
    confirmation(&server, &id).await;
    // Asked again, the dialog stays.
    confirmation(&server, &id).await;
    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!((status, &answer["_action"]), (200, &json!("Message")));
    assert!(ended(&server, &id).await);
    assert_routed_to(&server, "agent2").await;
}

#[tokio::test]
async fn request_outbound_delay_without_a_number_is_refused() {
    let server = TestServer::start(&answered_at_once()).await;
    let answer = create(&server, SERVICE, &[("_poll_interval", "0.01")]).await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("missing_phone_number"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn request_outbound_delay_ends_when_the_line_is_busy() {
    let server = TestServer::start(&answered_at_once()).await;
    let mut device = PushReceiver::start().await;
    let (status, _) = server
        .post_internal("/genesys/1/contact-center/outcomes/busy", &[])
        .await;
    assert_eq!(status, 200);
    agent_ready(&server, "agent1").await;
    let (id, _) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5557779"),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
            ("_poll_interval", "0.01"),
        ],
    )
    .await;
    assert_status_push(&device.next().await.1, &id);
    confirmation(&server, &id).await;
    let (_, answer) = ask(&server, &id, "connect").await;
    assert_eq!(answer["_action"], "Message", "{answer}");
    assert!(
        ended(&server, &id).await,
        "a busy line did not end the flow"
    );
    assert_eq!(agent_state(&server, "agent1").await, "ready");
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_outbound_delay_ends_with_its_ttl_without_an_agent() {
    let server = TestServer::start(&with_ttl(&answered_at_once(), SERVICE, 1)).await;
    let mut device = PushReceiver::start().await;
    let (id, _) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5557780"),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
        ],
    )
    .await;
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    assert!(device.drain().is_empty(), "pushed without a ready agent");
    assert_released(&server, &id, POOL).await;
    assert_error(&ask(&server, &id, "status").await, 404, "NotFound");
}

#[tokio::test]
async fn request_inbound_delay_pushes_connect_to_a_comet_app_then_books_a_number() {
    let server = TestServer::start(&answered_at_once()).await;
    let app = CometApp::connect(&server, "dan@example.com").await;
    let (id, reply) = create_ok(
        &server,
        "request-inbound-delay",
        &[
            ("_phone_number", "5551234"),
            ("_device_os", "comet"),
            ("_device_id", "dan@example.com"),
            ("_poll_interval", "0.01"),
        ],
    )
    .await;
    assert!(reply.get("_action").is_none(), "{reply}");
    // Before the push the number is not offered.
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");
    agent_ready(&server, "agent2").await;
    let data = app.next().await;
    assert_eq!(data["tag"], format!("ors.contact.{id}"), "{data}");
    let push: Value = serde_json::from_str(data["message"].as_str().unwrap()).unwrap();
    assert_eq!(push, json!({"_id": id, "_action": "connect"}));

    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    let number = number_of(&answer);
    // The booking runs on GMS's clock: `_booking_expiration_timeout` is 20 s in Dnis_Pool.
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_access_number"], number.as_str(), "{booked}");
    assert_eq!(booked["_expiration_time"], 20, "{booked}");
    server.advance(Duration::from_secs(5));
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_expiration_time"], 15, "{booked}");
    // connect again (an app that lost the answer) repeats the number.
    assert_eq!(ask(&server, &id, "connect").await, (200, answer.clone()));

    dial(&server, &number, "5551234", &code_of(&answer)).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_routed_to(&server, "agent2").await;
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_inbound_delay_is_cancelled_while_the_call_waits_in_queue() {
    let server = TestServer::start(&answered_at_once()).await;
    agent_ready(&server, "agent2").await;
    let (id, _) = create_ok(
        &server,
        "request-inbound-delay",
        &[("_phone_number", "5551234"), ("_poll_interval", "600")],
    )
    .await;
    // No device: status tells the app of the agent, and connect gives the number.
    let (_, dialog) = ask(&server, &id, "status").await;
    assert_eq!(dialog["_action"], "ConfirmationDialog", "{dialog}");
    let (_, answer) = ask(&server, &id, "connect").await;
    let number = number_of(&answer);
    // The agent leaves before the customer dials: the call waits in queue, with music.
    agent_to(&server, "agent2", "not-ready").await;
    dial(&server, &number, "5551234", &code_of(&answer)).await;
    let waiting = status_until(&server, &id, "_text", "Your call is waiting for an agent.").await;
    assert_eq!(waiting["_ewt"], 60.0, "{waiting}");
    assert_eq!(contact_center(&server).await["waiting"], 1);

    let (status, cancelled) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &cancelled), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    // The submit was withdrawn: nothing waits, and an agent who becomes ready stays ready.
    assert_eq!(contact_center(&server).await["waiting"], 0);
    agent_ready(&server, "agent1").await;
    assert_eq!(agent_state(&server, "agent1").await, "ready");
    assert_released(&server, &id, POOL).await;
}
