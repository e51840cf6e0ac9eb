//! The inbound sample flows end to end through the public Service API, as the mobile app plays them: create,
//! the `_action` answers, the call to the booked access number (placed on the simulated contact center) matched
//! back to the flow and routed to an agent who becomes ready, cancellation, and the access number's release.

use crate::sample_flows::{
    POOL, PushReceiver, agent_ready, ask, assert_refused, assert_released, assert_routed_to,
    code_of, contact_center, create_ok, dial, ended, in_use, number_of, record, status_until,
};
use crate::server::{SAMPLE, TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn request_inbound_immediate_books_a_number_and_routes_the_matched_call() {
    let server = TestServer::start(SAMPLE).await;
    let (id, reply) = create_ok(
        &server,
        "request-inbound-immediate",
        &[("_phone_number", "5551234"), ("first_name", "Ann")],
    )
    .await;
    let number = number_of(&reply);
    assert!(number.starts_with("1-888-call-me"), "{reply}");
    // The service books a code too (`provide_code = true`).
    let code = code_of(&reply);
    assert!(reply["_data_id"].is_string(), "{reply}");
    let (status, booked) = record(&server, &id).await;
    assert_eq!(status, 200, "{booked}");
    assert_eq!(booked["_access_number"], number.as_str(), "{booked}");
    assert_eq!(in_use(&server, POOL).await, 1);
    // Until the customer dials, status repeats the number; nothing is offered to connect to.
    let (status, again) = ask(&server, &id, "status").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, reply_without_data_id(&reply), "{again}");
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");

    // The customer dials the number: match-interaction finds this service and releases the number. The call
    // waits in queue (the flow plays music) until an agent is ready.
    dial(&server, &number, "5551234", &code).await;
    let waiting = status_until(&server, &id, "_text", "Your call is waiting for an agent.").await;
    assert_eq!(waiting["_action"], "Message", "{waiting}");
    assert_eq!(waiting["_ewt"], 60.0, "{waiting}");
    assert_eq!(contact_center(&server).await["waiting"], 1);
    agent_ready(&server, "agent1").await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_routed_to(&server, "agent1").await;
    assert_released(&server, &id, POOL).await;
}

/// The create answer as status repeats it: the same action, without the user data's id.
fn reply_without_data_id(reply: &serde_json::Value) -> serde_json::Value {
    let mut reply = reply.clone();
    reply.as_object_mut().unwrap().remove("_data_id");
    reply
}

#[tokio::test]
async fn request_inbound_immediate_is_cancelled_by_the_app() {
    let server = TestServer::start(SAMPLE).await;
    let (id, _) = create_ok(
        &server,
        "request-inbound-immediate",
        &[("_phone_number", "5550000")],
    )
    .await;
    assert_eq!(in_use(&server, POOL).await, 1);
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    // The session's end released the number and forgot the instance: requests, GET and DELETE know the service
    // no more.
    assert_released(&server, &id, POOL).await;
    let again = server
        .post_form(&format!("/genesys/1/service/{id}/request/cancel"), &[])
        .await;
    assert_error(&again, 404, "NotFound");
    let deleted = server
        .send(
            server
                .http
                .delete(server.public_url(&format!("/genesys/1/service/{id}"))),
        )
        .await;
    assert_error(&deleted, 404, "NotFound");
}

#[tokio::test]
async fn request_inbound_delay_notifies_the_app_when_an_agent_is_ready() {
    let server = TestServer::start(SAMPLE).await;
    let mut device = PushReceiver::start().await;
    let (id, reply) = create_ok(
        &server,
        "request-inbound-delay",
        &[
            ("_phone_number", "5551234"),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
            ("_poll_interval", "0.02"),
        ],
    )
    .await;
    assert!(reply.get("_action").is_none(), "{reply}");

    // Once the device is subscribed the flow watches the agents; none is ready: it says so (and has pushed
    // nothing, which it does only on leaving that state), and does not offer the number.
    let wait = status_until(&server, &id, "_text", "All agents are busy, please wait.").await;
    assert_eq!(wait["_action"], "Message", "{wait}");
    assert_eq!(wait["_ewt"], 60.0, "{wait}");
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");

    // An agent becomes ready; at its next check the flow publishes on ors.contact.<id>, which reaches the device
    // through the Notification API (httpcb).
    agent_ready(&server, "agent2").await;
    let (path, body) = device.next().await;
    assert_eq!(path, "/push");
    let push: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(push, json!({"_id": id, "_action": "connect"}));

    // The app answers the push with `connect` and gets the number to dial; status repeats it.
    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    let number = number_of(&answer);
    let code = code_of(&answer);
    assert_eq!(ask(&server, &id, "status").await.1, answer);
    assert_eq!(in_use(&server, POOL).await, 1);
    dial(&server, &number, "5551234", &code).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_routed_to(&server, "agent2").await;
    assert_released(&server, &id, POOL).await;
    // The device was told once: the status answers were no pushes.
    assert!(device.drain().is_empty());
}
