//! request-outbound-delay end to end through the public Service API, as the mobile app plays it: the flow
//! subscribes the app's device, publishes a `ConfirmationDialog` when the simulated agent becomes ready (received
//! by a local `httpcb` receiver, or by a CometD client of the app's `gms_user`), and on `connect` calls the
//! customer and routes the call; a customer who declines (cancel), a busy line, and the service TTL end it. And
//! request-inbound-delay with the real Notification API: the `connect` push reaches a CometD app, the access
//! number's booking runs on GMS's (manual) clock, and match-interaction releases it when the customer dials.

mod common;
mod common_flows;

use std::time::Duration;

use common::{SAMPLE, TestServer};
use common_flows::{
    CometApp, PushReceiver, agent_ready, agent_state, ask, create_ok, ended, record, with_ttl,
};
use serde_json::Value;

const SERVICE: &str = "request-outbound-delay";
const CONFIRM: &str = "An agent is available. Do you want to be called now?";

fn options() -> String {
    SAMPLE.replace("ewt = 60\n", "ewt = 60\nring_time = 0\n")
}

/// Checks a pushed message: the flow's `ConfirmationDialog` for service `id`.
fn assert_confirmation(message: &str, id: &str) {
    let dialog: Value = serde_json::from_str(message).unwrap_or_else(|_| panic!("{message}"));
    assert_eq!(dialog["_id"], id, "{dialog}");
    assert_eq!(dialog["_action"], "ConfirmationDialog", "{dialog}");
    assert_eq!(dialog["_text"], CONFIRM, "{dialog}");
}

#[tokio::test]
async fn request_outbound_delay_pushes_a_confirmation_then_calls_and_routes() {
    let server = TestServer::start(&options()).await;
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

    // The agent becomes ready; at its next check the flow publishes on ors.contact.<id> and GMS pushes it.
    agent_ready(&server, "agent1").await;
    let (path, body) = device.next().await;
    assert_eq!(path, "/push");
    assert_confirmation(&body, &id);

    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_action"], "Message");
    assert_eq!(answer["_text"], "You will be called shortly.");
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_eq!(agent_state(&server, "agent1").await, "busy");
    // One notification only.
    assert!(device.drain().is_empty());
}

#[tokio::test]
async fn request_outbound_delay_reaches_a_comet_app_which_declines() {
    let server = TestServer::start(&options()).await;
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
    assert_confirmation(data["message"].as_str().unwrap(), &id);

    // The customer declines: nobody is called and the agent stays ready.
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer["_id"]), (200, &serde_json::json!(id)));
    assert!(ended(&server, &id).await);
    assert_eq!(agent_state(&server, "agent2").await, "ready");
}

#[tokio::test]
async fn request_outbound_delay_ends_when_the_line_is_busy() {
    let server = TestServer::start(&options()).await;
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
    assert_confirmation(&device.next().await.1, &id);
    let (_, answer) = ask(&server, &id, "connect").await;
    assert_eq!(answer["_action"], "Message", "{answer}");
    assert!(
        ended(&server, &id).await,
        "a busy line did not end the flow"
    );
    assert_eq!(agent_state(&server, "agent1").await, "ready");
}

#[tokio::test]
async fn request_outbound_delay_ends_with_its_ttl_without_an_agent() {
    let server = TestServer::start(&with_ttl(&options(), SERVICE, 1)).await;
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
    server.clock.advance(Duration::from_secs(2));
    assert_eq!(record(&server, &id).await.0, 404);
}

#[tokio::test]
async fn request_inbound_delay_pushes_connect_to_a_comet_app_then_books_a_number() {
    let server = TestServer::start(&options()).await;
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
    let (status, refused) = ask(&server, &id, "connect").await;
    assert!((400..500).contains(&status), "{status} {refused}");
    agent_ready(&server, "agent2").await;
    let data = app.next().await;
    assert_eq!(data["tag"], format!("ors.contact.{id}"), "{data}");
    let push: Value = serde_json::from_str(data["message"].as_str().unwrap()).unwrap();
    assert_eq!(push, serde_json::json!({"_id": id, "_action": "connect"}));

    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_action"], "DialNumber", "{answer}");
    let tel = answer["_tel_url"].as_str().unwrap();
    // The booking runs on GMS's clock: `_booking_expiration_timeout` is 20 s in Dnis_Pool.
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_access_number"], tel.strip_prefix("tel:").unwrap());
    assert_eq!(booked["_expiration_time"], 20, "{booked}");
    server.clock.advance(Duration::from_secs(5));
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_expiration_time"], 15, "{booked}");

    let code = answer["_access_code"].as_str().unwrap();
    common_flows::dial(&server, tel, "5551234", code).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    let (_, released) = record(&server, &id).await;
    assert!(released["_access_number"].is_null(), "{released}");
}
