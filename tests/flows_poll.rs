//! The polling sample flows end to end through the public Service API, as the mobile app plays them:
//! request-inbound-poll (status → `Message` with the wait, then `DialNumber`; the call to the booked number is
//! matched back to the flow, which releases the number, and routed) and request-outbound-poll (status →
//! `Message`, then `ConfirmationDialog`; connect → the customer is called and routed), with cancellation and the
//! service TTL.

mod common;
mod common_flows;

use std::time::Duration;

use common::{SAMPLE, TestServer};
use common_flows::{
    agent_ready, agent_state, ask, create_ok, dial, ended, is_running, poll_until, record, with_ttl,
};

/// The sample options with outbound calls answered at once.
fn options() -> String {
    SAMPLE.replace("ewt = 60\n", "ewt = 60\nring_time = 0\n")
}

async fn server() -> TestServer {
    TestServer::start(&options()).await
}

#[tokio::test]
async fn request_inbound_poll_waits_then_gives_a_number_and_routes_the_matched_call() {
    let server = server().await;
    let (id, reply) = create_ok(
        &server,
        "request-inbound-poll",
        &[("_phone_number", "5551234"), ("first_name", "Ann")],
    )
    .await;
    // The create answer carries the id only: no number before an agent is ready.
    assert!(reply.get("_action").is_none(), "{reply}");
    assert!(reply.get("_tel_url").is_none(), "{reply}");

    // No agent ready: the app is told to wait, with the estimated wait time of the simulated center.
    let (status, wait) = ask(&server, &id, "status").await;
    assert_eq!(status, 200, "{wait}");
    assert_eq!(wait["_id"], id.as_str());
    assert_eq!(wait["_action"], "Message", "{wait}");
    assert_eq!(wait["_ewt"], 60.0, "{wait}");
    let (_, booked) = record(&server, &id).await;
    assert!(booked["_access_number"].is_null(), "{booked}");

    // An agent becomes ready: the next status books an access number and answers with it.
    agent_ready(&server, "agent2").await;
    let dial_number = poll_until(&server, &id, "DialNumber").await;
    let tel = dial_number["_tel_url"].as_str().unwrap().to_string();
    let number = tel.strip_prefix("tel:").unwrap();
    assert!(number.starts_with("1-888-call-me"), "{dial_number}");
    let code = dial_number["_access_code"].as_str().unwrap().to_string();
    assert!(!code.is_empty(), "{dial_number}");
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_access_number"], number, "{booked}");
    assert_eq!(booked["_access_code"], code.as_str(), "{booked}");
    // Asking again repeats the same number.
    let (_, again) = ask(&server, &id, "status").await;
    assert_eq!(again["_action"], "DialNumber");
    assert_eq!(again["_tel_url"], tel.as_str());

    // The customer dials it: match-interaction hands the call to this flow and releases the number; the flow
    // routes the call to the ready agent and ends.
    dial(&server, &tel, "5551234", &code).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    let (_, released) = record(&server, &id).await;
    assert!(released["_access_number"].is_null(), "{released}");
    assert_eq!(agent_state(&server, "agent2").await, "busy");
}

#[tokio::test]
async fn request_inbound_poll_is_cancelled_by_the_app() {
    let server = server().await;
    let (id, _) = create_ok(
        &server,
        "request-inbound-poll",
        &[("_phone_number", "5550001")],
    )
    .await;
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_action"], "Message", "{wait}");
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer["_id"]), (200, &serde_json::json!(id)));
    assert!(ended(&server, &id).await);
    let (status, _) = ask(&server, &id, "status").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn request_inbound_poll_ends_with_its_ttl() {
    // The service's `ttl` (section option, which wins over the request's `_ttl`) is one second.
    let server = TestServer::start(&with_ttl(&options(), "request-inbound-poll", 1)).await;
    agent_ready(&server, "agent1").await;
    let (id, _) = create_ok(
        &server,
        "request-inbound-poll",
        &[("_phone_number", "5550002")],
    )
    .await;
    let (_, dial_number) = ask(&server, &id, "status").await;
    assert_eq!(dial_number["_action"], "DialNumber", "{dial_number}");
    // The flow ends by itself when its TTL passes; nobody dialled.
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    let (status, _) = ask(&server, &id, "status").await;
    assert_eq!(status, 404);
    // GMS forgets the service once the TTL has passed on its own clock.
    server.clock.advance(Duration::from_secs(2));
    let (status, _) = record(&server, &id).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn request_outbound_poll_confirms_then_calls_the_customer_and_routes_the_call() {
    let server = server().await;
    let (id, reply) = create_ok(
        &server,
        "request-outbound-poll",
        &[("_phone_number", "5557777")],
    )
    .await;
    assert!(reply.get("_action").is_none(), "{reply}");
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_action"], "Message", "{wait}");
    assert_eq!(wait["_ewt"], 60.0, "{wait}");
    // Nothing is offered yet: connect is refused, and the flow goes on waiting.
    let (status, refused) = ask(&server, &id, "connect").await;
    assert!((400..500).contains(&status), "{status} {refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("not_offered"),
        "{refused}"
    );
    agent_ready(&server, "agent1").await;
    let dialog = poll_until(&server, &id, "ConfirmationDialog").await;
    assert_eq!(
        dialog["_text"], "An agent is available. Do you want to be called now?",
        "{dialog}"
    );
    let (_, again) = ask(&server, &id, "status").await;
    assert_eq!(again["_action"], "ConfirmationDialog");

    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_action"], "Message");
    assert_eq!(answer["_text"], "You will be called shortly.");
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing the call"
    );
    assert_eq!(agent_state(&server, "agent1").await, "busy");
}

#[tokio::test]
async fn request_outbound_poll_cancelled_at_the_confirmation_calls_nobody() {
    let server = server().await;
    agent_ready(&server, "agent2").await;
    let (id, _) = create_ok(
        &server,
        "request-outbound-poll",
        &[("_phone_number", "5557778")],
    )
    .await;
    let (_, dialog) = ask(&server, &id, "status").await;
    assert_eq!(dialog["_action"], "ConfirmationDialog", "{dialog}");
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer["_id"]), (200, &serde_json::json!(id)));
    assert!(ended(&server, &id).await);
    assert!(!is_running(&server, &id).await);
    assert_eq!(agent_state(&server, "agent2").await, "ready");
}

#[tokio::test]
async fn request_outbound_poll_ends_with_its_ttl() {
    let server = TestServer::start(&with_ttl(&options(), "request-outbound-poll", 1)).await;
    let (id, _) = create_ok(
        &server,
        "request-outbound-poll",
        &[("_phone_number", "5557779")],
    )
    .await;
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    server.clock.advance(Duration::from_secs(2));
    let (status, _) = record(&server, &id).await;
    assert_eq!(status, 404);
}
