//! request-inbound-delay-location end to end through the public Service API: the app gives its position
//! (`_lat`/`_long`); the flow reverse-geocodes it with the geocoding DFM (the embedded gazetteer), writes the place
//! into the service's user data, books the access number from the resource group of the customer's country, and
//! otherwise behaves as request-inbound-delay (push when an agent is ready, `connect` → `DialNumber`, the matched
//! call routed), over `httpcb` or to a CometD app. A position near no place falls back to the service's resource
//! group; without a position and without a ready agent nothing is pushed and the service ends with its TTL.

use crate::sample_flows::{
    CometApp, POOL, PushReceiver, agent_ready, ask, assert_released, assert_routed_to, code_of,
    create_ok, dial, ended, in_use, number_of, record, stored_with, with_ttl,
};
use crate::server::{SAMPLE, TestServer, assert_error};
use serde_json::{Value, json};

const SERVICE: &str = "request-inbound-delay-location";

/// The sample options plus a resource group of Paris numbers, booked as the service's own are. A
/// `resource_group` option in `[service.request-access]` would override the group the flow asks for (section
/// options win over request parameters), so request-access takes the group from the flow here.
async fn server() -> TestServer {
    let request_access = "service = request-access\nresource_group = Dnis_Pool\n";
    assert!(SAMPLE.contains(request_access));
    let options = SAMPLE.replace(request_access, "service = request-access\n");
    TestServer::start(&format!(
        "{options}\n[Paris_Pool]\n_allocation_strategy = LOCAL\n_booking_expiration_timeout = 20\n\
         paris1 = +33-1-5555-0101\n"
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
    assert_eq!(number_of(&answer), "+33-1-5555-0101", "{answer}");
    let (_, booked) = record(&server, &id).await;
    assert_eq!(booked["_access_number"], "+33-1-5555-0101", "{booked}");
    assert_eq!(in_use(&server, "Paris_Pool").await, 1);
    assert_eq!(in_use(&server, POOL).await, 0);

    // The service books a code too (`provide_code`, true by default).
    let code = code_of(&answer);
    dial(&server, "tel:+33-1-5555-0101", "5551234", &code).await;
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    assert_routed_to(&server, "agent2").await;
    assert_released(&server, &id, "Paris_Pool").await;
}

#[tokio::test]
async fn request_inbound_delay_location_pushes_connect_to_a_comet_app() {
    let server = server().await;
    let app = CometApp::connect(&server, "eve@example.com").await;
    let (id, _) = create_ok(
        &server,
        SERVICE,
        &[
            ("_phone_number", "5551237"),
            ("_lat", "48.8566"),
            ("_long", "2.3522"),
            ("_resource_groups", r#"{"FR": "Paris_Pool"}"#),
            ("_device_os", "comet"),
            ("_device_id", "eve@example.com"),
            ("_poll_interval", "0.01"),
        ],
    )
    .await;
    agent_ready(&server, "agent1").await;
    // The publish on ors.contact.<id> reaches the app's CometD connection as its gms_user.
    let data = app.next().await;
    assert_eq!(data["tag"], format!("ors.contact.{id}"), "{data}");
    let push: Value = serde_json::from_str(data["message"].as_str().unwrap()).unwrap();
    assert_eq!(push, json!({"_id": id, "_action": "connect"}));
    let (status, answer) = ask(&server, &id, "connect").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(number_of(&answer), "+33-1-5555-0101", "{answer}");
    let (status, cancelled) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &cancelled), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    assert_released(&server, &id, "Paris_Pool").await;
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
    assert!(number_of(&answer).starts_with("1-888-call-me"), "{answer}");
    assert_eq!(in_use(&server, POOL).await, 1);
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    assert_released(&server, &id, POOL).await;
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
    assert_released(&server, &id, POOL).await;
    assert_error(&ask(&server, &id, "connect").await, 404, "NotFound");
}
