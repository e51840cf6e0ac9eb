//! The inbound sample flows end to end through the public Service API, as the mobile app plays them: create,
//! the `_action` answers, the call to the booked access number (placed on the simulated contact center) matched
//! back to the flow and routed to an agent who becomes ready, cancellation, and the access number's release.

mod common;
mod common_flows;

use common::{SAMPLE, TestServer};
use common_flows::{PushReceiver, ended};

async fn post_internal(server: &TestServer, path: &str) -> (u16, serde_json::Value) {
    server.post_internal(path, &[]).await
}

#[tokio::test]
async fn request_inbound_immediate_books_a_number_and_routes_the_matched_call() {
    let server = TestServer::start(SAMPLE).await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-inbound-immediate",
            &[("_phone_number", "5551234"), ("first_name", "Ann")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["_action"], "DialNumber");
    let id = reply["_id"].as_str().unwrap().to_string();
    let tel = reply["_tel_url"].as_str().unwrap();
    let number = tel.strip_prefix("tel:").unwrap().to_string();
    assert!(number.starts_with("1-888-call-me"), "{reply}");
    assert!(reply["_data_id"].is_string(), "{reply}");
    let (status, record) = server.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(record["_access_number"], number.as_str());

    // The customer dials the number: match-interaction finds this service and releases the number.
    let code = reply["_access_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, _) = server
        .send(server.http.post(server.internal_url(&format!(
            "/genesys/1/contact-center/calls?ani=5551234&dnis={number}&access_code={code}"
        ))))
        .await;
    assert_eq!(status, 200);
    // The call waits in queue until an agent is ready.
    let (status, _) = post_internal(&server, "/genesys/1/contact-center/agents/agent1/ready").await;
    assert_eq!(status, 200);
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
    let (_, record) = server.get(&format!("/genesys/1/service/{id}")).await;
    assert!(record["_access_number"].is_null(), "{record}");
}

#[tokio::test]
async fn request_inbound_immediate_is_cancelled_by_the_app() {
    let server = TestServer::start(SAMPLE).await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-inbound-immediate",
            &[("_phone_number", "5550000")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    let (status, answer) = server
        .post_form(&format!("/genesys/1/service/{id}/cancel"), &[])
        .await;
    assert_eq!((status, &answer["_id"]), (200, &serde_json::json!(id)));
    assert!(ended(&server, &id).await);
    let (status, _) = server
        .post_form(&format!("/genesys/1/service/{id}/request/cancel"), &[])
        .await;
    assert_eq!(status, 404);
    // The session's end forgot the instance (and released its number: tests/ors_services.rs): GET and DELETE
    // know the service no more.
    let mut forgotten = false;
    for _ in 0..500 {
        if server.get(&format!("/genesys/1/service/{id}")).await.0 == 404 {
            forgotten = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(forgotten, "the ended service is still there");
    let deleted = server
        .send(
            server
                .http
                .delete(server.public_url(&format!("/genesys/1/service/{id}"))),
        )
        .await;
    common::assert_error(&deleted, 404, "NotFound");
}

#[tokio::test]
async fn request_inbound_delay_notifies_the_app_when_an_agent_is_ready() {
    let server = TestServer::start(SAMPLE).await;
    let mut device = PushReceiver::start().await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-inbound-delay",
            &[
                ("_phone_number", "5551234"),
                ("_device_os", "httpcb"),
                ("_device_id", &device.url),
                ("_poll_interval", "0.02"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    assert!(reply.get("_action").is_none(), "{reply}");

    // No agent is ready yet: nothing is published. Then one becomes ready, and the flow's publish on
    // ors.contact.<id> reaches the device through the Notification API (httpcb).
    assert!(device.drain().is_empty());
    let (status, _) = post_internal(&server, "/genesys/1/contact-center/agents/agent2/ready").await;
    assert_eq!(status, 200);
    let (_, body) = device.next().await;
    let push: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(push, serde_json::json!({"_id": id, "_action": "connect"}));

    // The app answers the push with `connect` and gets the number to dial.
    let (status, answer) = server
        .post_form(&format!("/genesys/1/service/{id}/connect"), &[])
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_action"], "DialNumber");
    let number = answer["_tel_url"]
        .as_str()
        .unwrap()
        .strip_prefix("tel:")
        .unwrap()
        .to_string();
    let (status, _) = server
        .send(server.http.post(server.internal_url(&format!(
            "/genesys/1/contact-center/calls?ani=5551234&dnis={number}"
        ))))
        .await;
    assert_eq!(status, 200);
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing"
    );
}
