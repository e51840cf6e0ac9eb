//! The polling sample flows end to end through the public Service API, as the mobile app plays them:
//! request-inbound-poll (status → `Message` with the wait, then `DialNumber`; the call to the booked number is
//! matched back to the flow, which releases the number, and routed) and request-outbound-poll (status →
//! `Message`, then `ConfirmationDialog`; connect → the customer is called and routed), with cancellation, the
//! service TTL, and a missing phone number refused.

use crate::sample_flows::{
    POOL, agent_ready, agent_state, answered_at_once, ask, assert_refused, assert_released,
    assert_routed_to, code_of, create, create_ok, dial, ended, is_running, number_of, poll_until,
    record, with_ttl,
};
use crate::server::{TestServer, assert_error};

async fn server() -> TestServer {
    TestServer::start(&answered_at_once()).await
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
    let number = number_of(&dial_number);
    assert!(number.starts_with("1-888-call-me"), "{dial_number}");
    let code = code_of(&dial_number);
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_access_number"], number.as_str(), "{booked}");
    assert_eq!(booked["_access_code"], code.as_str(), "{booked}");
    // Asking again repeats the same number, label included; connect is no request of this flow.
    let (_, again) = ask(&server, &id, "status").await;
    assert_eq!(again, dial_number);
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");

    // The customer dials it: match-interaction hands the call to this flow and releases the number; the flow
    // routes the call to the ready agent and ends.
    dial(&server, &number, "5551234", &code).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_routed_to(&server, "agent2").await;
    assert_released(&server, &id, POOL).await;
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
    assert_eq!((status, &answer), (200, &serde_json::json!({"_id": id})));
    assert!(ended(&server, &id).await);
    assert_error(&ask(&server, &id, "status").await, 404, "NotFound");
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_inbound_poll_ends_with_its_ttl() {
    // The service's `ttl` (section option, which wins over the request's `_ttl`) is one second.
    let server = TestServer::start(&with_ttl(&answered_at_once(), "request-inbound-poll", 1)).await;
    agent_ready(&server, "agent1").await;
    let (id, _) = create_ok(
        &server,
        "request-inbound-poll",
        &[("_phone_number", "5550002")],
    )
    .await;
    let (_, dial_number) = ask(&server, &id, "status").await;
    assert_eq!(dial_number["_action"], "DialNumber", "{dial_number}");
    // The flow ends by itself when its TTL passes; nobody dialled. GMS releases the number and forgets the
    // service as the session ends.
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    assert_error(&ask(&server, &id, "status").await, 404, "NotFound");
    assert_released(&server, &id, POOL).await;
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
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");
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
    assert_routed_to(&server, "agent1").await;
    assert_released(&server, &id, POOL).await;
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
    assert_eq!((status, &answer), (200, &serde_json::json!({"_id": id})));
    assert!(ended(&server, &id).await);
    assert!(!is_running(&server, &id).await);
    assert_eq!(agent_state(&server, "agent2").await, "ready");
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_outbound_poll_ends_with_its_ttl() {
    let server =
        TestServer::start(&with_ttl(&answered_at_once(), "request-outbound-poll", 1)).await;
    let (id, _) = create_ok(
        &server,
        "request-outbound-poll",
        &[("_phone_number", "5557779")],
    )
    .await;
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_outbound_poll_without_a_number_is_refused() {
    let server = server().await;
    let answer = create(&server, "request-outbound-poll", &[("_phone_number", "")]).await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("missing_phone_number"),
        "{answer:?}"
    );
}
