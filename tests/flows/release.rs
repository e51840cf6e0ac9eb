//! The inbound sample flows that book an access number (request-inbound-immediate, -delay, -poll,
//! -delay-location) give it back however they end before the customer dials: cancelled by the app, or at the
//! service TTL (the `ttl` option of the service's section, which wins over the app's `_ttl`). Each test books
//! the number as the app does, sees it in the pool's metric and in the service record, ends the flow, and waits
//! (bounded) until the pool is empty and GMS has forgotten the instance (404 `NotFound`).

use crate::sample_flows::{
    POOL, agent_ready, ask, assert_released, create_ok, ended, in_use, number_of, record, with_ttl,
};
use crate::server::{SAMPLE, TestServer, assert_error};
use serde_json::json;

/// How the flow ends.
#[derive(Clone, Copy, PartialEq)]
enum End {
    Cancel,
    Ttl,
}

/// Books a number with `service` the way its app does; returns the instance id and the number.
async fn book(server: &TestServer, service: &str) -> (String, String) {
    let phone = ("_phone_number", "5551234");
    match service {
        "request-inbound-immediate" => {
            let (id, reply) = create_ok(server, service, &[phone]).await;
            (id, number_of(&reply))
        }
        "request-inbound-poll" => {
            agent_ready(server, "agent1").await;
            let (id, _) = create_ok(server, service, &[phone]).await;
            let (status, answer) = ask(server, &id, "status").await;
            assert_eq!(status, 200, "{answer}");
            (id, number_of(&answer))
        }
        // The delay flows, told of the agent by status (no device is given).
        _ => {
            agent_ready(server, "agent1").await;
            let (id, _) = create_ok(server, service, &[phone, ("_poll_interval", "600")]).await;
            let (_, dialog) = ask(server, &id, "status").await;
            assert_eq!(dialog["_action"], "ConfirmationDialog", "{dialog}");
            let (status, answer) = ask(server, &id, "connect").await;
            assert_eq!(status, 200, "{answer}");
            (id, number_of(&answer))
        }
    }
}

/// Books a number with `service`, ends the flow by `end`, and checks that the number is released.
async fn released_when_it_ends(service: &str, end: End) {
    // The TTL leaves time for the booking steps, which take a few milliseconds.
    let options = match end {
        End::Cancel => SAMPLE.to_string(),
        End::Ttl => with_ttl(SAMPLE, service, 2),
    };
    let server = TestServer::start(&options).await;
    assert_eq!(in_use(&server, POOL).await, 0);
    let (id, number) = book(&server, service).await;
    assert_eq!(in_use(&server, POOL).await, 1, "{service}");
    let (status, booked) = record(&server, &id).await;
    assert_eq!(status, 200, "{booked}");
    assert_eq!(booked["_access_number"], number.as_str(), "{booked}");
    if end == End::Cancel {
        let (status, answer) = ask(&server, &id, "cancel").await;
        assert_eq!((status, &answer), (200, &json!({"_id": id})), "{service}");
    }
    assert!(ended(&server, &id).await, "{service}: the flow did not end");
    assert_released(&server, &id, POOL).await;
    assert_error(&ask(&server, &id, "status").await, 404, "NotFound");
}

#[tokio::test]
async fn request_inbound_immediate_releases_its_number_when_cancelled() {
    released_when_it_ends("request-inbound-immediate", End::Cancel).await;
}

#[tokio::test]
async fn request_inbound_immediate_ends_with_its_ttl_and_releases_its_number() {
    released_when_it_ends("request-inbound-immediate", End::Ttl).await;
}

#[tokio::test]
async fn request_inbound_delay_releases_its_number_when_cancelled() {
    released_when_it_ends("request-inbound-delay", End::Cancel).await;
}

#[tokio::test]
async fn request_inbound_delay_ends_with_its_ttl_and_releases_its_number() {
    released_when_it_ends("request-inbound-delay", End::Ttl).await;
}

#[tokio::test]
async fn request_inbound_poll_releases_its_number_when_cancelled() {
    released_when_it_ends("request-inbound-poll", End::Cancel).await;
}

#[tokio::test]
async fn request_inbound_poll_ends_with_its_ttl_and_releases_its_number() {
    released_when_it_ends("request-inbound-poll", End::Ttl).await;
}

#[tokio::test]
async fn request_inbound_delay_location_releases_its_number_when_cancelled() {
    released_when_it_ends("request-inbound-delay-location", End::Cancel).await;
}

#[tokio::test]
async fn request_inbound_delay_location_ends_with_its_ttl_and_releases_its_number() {
    released_when_it_ends("request-inbound-delay-location", End::Ttl).await;
}
