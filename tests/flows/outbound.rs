//! request-outbound-immediate through the public Service API: the app asks to be called, gets a `Message`, the
//! simulated contact center places the call and routes it when an agent is ready; status tells the app where
//! the call stands; the app cancels while the call waits in queue, or the service TTL ends it there, and the
//! queued call is withdrawn; a missing phone number is refused.

use crate::sample_flows::{
    POOL, agent_ready, agent_state, answered_at_once, ask, assert_refused, assert_released,
    assert_routed_to, contact_center, create_ok, ended, status_until, with_ttl,
};
use crate::server::{TestServer, assert_error};
use serde_json::json;

const SERVICE: &str = "request-outbound-immediate";

/// Creates an instance and waits (bounded) until its answered call waits in queue for an agent.
async fn queued(server: &TestServer, phone: &str) -> String {
    let (id, reply) = create_ok(server, SERVICE, &[("_phone_number", phone)]).await;
    assert_eq!(reply["_action"], "Message", "{reply}");
    assert_eq!(reply["_text"], "You will be called shortly.", "{reply}");
    let waiting = status_until(server, &id, "_text", "Your call is waiting for an agent.").await;
    assert_eq!(waiting["_action"], "Message", "{waiting}");
    assert_eq!(waiting["_ewt"], 60.0, "{waiting}");
    assert_eq!(contact_center(server).await["waiting"], 1);
    id
}

#[tokio::test]
async fn request_outbound_immediate_calls_the_customer_and_routes_the_call() {
    let server = TestServer::start(&answered_at_once()).await;
    let id = queued(&server, "5557777").await;
    // Nothing is offered to connect to.
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");
    agent_ready(&server, "agent1").await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing the call"
    );
    assert_routed_to(&server, "agent1").await;
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_outbound_immediate_is_cancelled_while_the_call_waits() {
    let server = TestServer::start(&answered_at_once()).await;
    let id = queued(&server, "5557778").await;
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    // The queued call was withdrawn: an agent who becomes ready stays ready.
    assert_eq!(contact_center(&server).await["waiting"], 0);
    agent_ready(&server, "agent1").await;
    assert_eq!(agent_state(&server, "agent1").await, "ready");
    assert_released(&server, &id, POOL).await;
    assert_error(&ask(&server, &id, "status").await, 404, "NotFound");
}

#[tokio::test]
async fn request_outbound_immediate_ends_with_its_ttl_while_the_call_waits() {
    // The TTL leaves time for the call to be placed and queued, which takes a few milliseconds.
    let server = TestServer::start(&with_ttl(&answered_at_once(), SERVICE, 2)).await;
    let id = queued(&server, "5557779").await;
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    assert_eq!(contact_center(&server).await["waiting"], 0);
    agent_ready(&server, "agent2").await;
    assert_eq!(agent_state(&server, "agent2").await, "ready");
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_outbound_immediate_without_a_number_is_refused() {
    let server = TestServer::start(&answered_at_once()).await;
    let answer = server
        .post_form(&format!("/genesys/1/service/{SERVICE}"), &[])
        .await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("missing_phone_number"),
        "{answer:?}"
    );
}
