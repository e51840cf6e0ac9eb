//! The inbound sample flows end to end through the public Service API, as the mobile app plays them: create,
//! the `_action` answers, the call to the booked access number (placed on the simulated contact center) matched
//! back to the flow and routed to an agent who becomes ready, cancellation, and the access number's release.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::Uri;
use common::{SAMPLE, TestServer};

async fn post_internal(server: &TestServer, path: &str) -> (u16, serde_json::Value) {
    server.post_internal(path, &[]).await
}

/// Waits (bounded) until the flow's session has ended, through the ORS query route.
async fn ended(server: &TestServer, id: &str) -> bool {
    for _ in 0..200 {
        let (status, _) = post_internal(server, &format!("/scxml/session/{id}/query")).await;
        if status == 404 {
            return true;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
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
    // DELETE releases the number; the service record goes.
    let (status, _) = server
        .send(
            server
                .http
                .delete(server.public_url(&format!("/genesys/1/service/{id}"))),
        )
        .await;
    assert_eq!(status, 200);
}

/// A local notification receiver standing in for the Notification API: records every request, answers 200.
async fn notification_receiver(seen: Arc<Mutex<Vec<(String, String)>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push((
                uri.path().to_string(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            ([("content-type", "application/json")], "{}")
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

#[tokio::test]
async fn request_inbound_delay_notifies_the_app_when_an_agent_is_ready() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let receiver = notification_receiver(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let notification = std::fs::read_to_string("dfm/cfg_GSG_notification.txt")
        .unwrap()
        .replace(
            "host='localhost' port='8080'",
            &format!("host='127.0.0.1' port='{receiver}'"),
        );
    let path = dir.path().join("cfg_GSG_notification.txt");
    std::fs::write(&path, notification).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let server = TestServer::start(&format!(
        "{SAMPLE}\n[dfm]\ngsgNotification = {}\ngsgBasedServices = {}\n",
        path.display(),
        cwd.join("dfm/cfg_GSG_base_services.txt").display()
    ))
    .await;

    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-inbound-delay",
            &[
                ("_phone_number", "5551234"),
                ("_device_id", "dev-1"),
                ("_poll_interval", "0.02"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    assert!(reply.get("_action").is_none(), "{reply}");

    // No agent is ready yet: nothing is published. Then one becomes ready.
    let (status, _) = post_internal(&server, "/genesys/1/contact-center/agents/agent2/ready").await;
    assert_eq!(status, 200);
    let mut published = None;
    for _ in 0..500 {
        published = seen
            .lock()
            .unwrap()
            .iter()
            .find(|(path, _)| path == "/genesys/1/notification/publish")
            .cloned();
        if published.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (_, body) = published.expect("the flow published nothing");
    assert!(body.contains(&format!("ors.contact.{id}")), "{body}");
    assert!(seen.lock().unwrap()[0].0 == "/genesys/1/notification/subscription");

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
