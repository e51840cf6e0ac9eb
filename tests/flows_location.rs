//! request-inbound-delay-location end to end through the public Service API: the app gives its position
//! (`_lat`/`_long`); the flow reverse-geocodes it with the geocoding DFM (the embedded gazetteer), writes the place
//! into the service's user data, books the access number from the resource group of the customer's country, and
//! otherwise behaves as request-inbound-delay (push when an agent is ready, `connect` → `DialNumber`, the matched
//! call routed). A position near no place falls back to the service's resource group; without a position and
//! without a ready agent nothing is pushed and the service ends with its TTL.

mod common;
mod common_flows;

use common::{SAMPLE, TestServer};
use common_flows::{
    PushReceiver, agent_ready, ask, contact_center, create_ok, dial, ended, record, stored_with,
    with_ttl,
};
use serde_json::Value;

const SERVICE: &str = "request-inbound-delay-location";

/// The sample options plus a resource group of Paris numbers. A `resource_group` option in
/// `[service.request-access]` would override the group the flow asks for (section options win over request
/// parameters), so request-access takes the group from the flow here.
async fn server() -> TestServer {
    let request_access = "service = request-access\nresource_group = Dnis_Pool\n";
    assert!(SAMPLE.contains(request_access));
    let options = SAMPLE.replace(request_access, "service = request-access\n");
    TestServer::start(&format!(
        "{options}\n[Paris_Pool]\n_allocation_strategy = RANDOM\nparis1 = +33-1-5555-0101\n"
    ))
    .await
}

fn push_for(body: &str, id: &str) {
    let message: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}"));
    assert_eq!(message["_id"], id, "{message}");
    assert_eq!(message["_action"], "connect", "{message}");
}

#[tokio::test]
async fn request_inbound_delay_location_books_a_number_of_the_customers_country() {
    let server = server().await;
    let mut device = PushReceiver::start().await;
    let (id, reply) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5551234"),
            ("_lat", "48.8566"),
            ("_long", "2.3522"),
            ("_resource_groups", r#"{"FR": "Paris_Pool"}"#),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
            ("_poll_interval", "0.01"),
            ("first_name", "Ann"),
        ],
    )
    .await;
    assert!(reply.get("_action").is_none(), "{reply}");
    let data_id = reply["_data_id"].as_str().unwrap().to_string();

    agent_ready(&server, "agent2").await;
    let (_, body) = device.next().await;
    push_for(&body, &id);
    // The flow has located the customer and adds the place to the user data, beside the app's own.
    let data = stored_with(&server, &data_id, "location").await;
    assert_eq!(data["location"], "Paris, France", "{data}");
    assert_eq!(data["first_name"], "Ann", "{data}");

    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_action"], "DialNumber", "{answer}");
    assert_eq!(answer["_tel_url"], "tel:+33-1-5555-0101", "{answer}");
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_access_number"], "+33-1-5555-0101", "{booked}");

    let code = answer["_access_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    dial(&server, "tel:+33-1-5555-0101", "5551234", &code).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    let (_, released) = record(&server, &id).await;
    assert!(released["_access_number"].is_null(), "{released}");
    let snapshot = contact_center(&server).await;
    assert!(
        snapshot["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|agent| agent["id"] == "agent2" && agent["state"] == "busy"),
        "{snapshot}"
    );
}

#[tokio::test]
async fn request_inbound_delay_location_far_from_any_place_uses_the_service_group() {
    let server = server().await;
    let mut device = PushReceiver::start().await;
    agent_ready(&server, "agent1").await;
    let (id, reply) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5551235"),
            // The middle of the Pacific.
            ("_lat", "-30"),
            ("_long", "-140"),
            ("_resource_groups", r#"{"FR": "Paris_Pool"}"#),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
            ("_poll_interval", "0.01"),
            ("first_name", "Bob"),
        ],
    )
    .await;
    push_for(&device.next().await.1, &id);
    let data_id = reply["_data_id"].as_str().unwrap();
    let (_, data) = server.get(&format!("/genesys/1/storage/{data_id}")).await;
    assert!(data.get("location").is_none(), "{data}");
    let (_, answer) = ask(&server, &id, "connect").await;
    assert_eq!(answer["_action"], "DialNumber", "{answer}");
    assert!(
        answer["_tel_url"]
            .as_str()
            .unwrap()
            .starts_with("tel:1-888-call-me"),
        "{answer}"
    );
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer["_id"]), (200, &serde_json::json!(id)));
    assert!(ended(&server, &id).await);
}

#[tokio::test]
async fn request_inbound_delay_location_without_a_position_waits_and_ends_with_its_ttl() {
    let server = TestServer::start(&with_ttl(SAMPLE, SERVICE, 1)).await;
    let mut device = PushReceiver::start().await;
    let (id, reply) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5551236"),
            ("_device_os", "httpcb"),
            ("_device_id", &device.url),
            ("_poll_interval", "0.01"),
            ("first_name", "Cid"),
        ],
    )
    .await;
    assert!(reply.get("_action").is_none(), "{reply}");
    // No agent becomes ready: nothing is pushed, and the service ends when its TTL passes.
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    assert!(device.drain().is_empty(), "pushed without a ready agent");
    let data_id = reply["_data_id"].as_str().unwrap();
    let (_, data) = server.get(&format!("/genesys/1/storage/{data_id}")).await;
    assert!(data.get("location").is_none(), "{data}");
    server.clock.advance(std::time::Duration::from_secs(2));
    assert_eq!(record(&server, &id).await.0, 404);
}
