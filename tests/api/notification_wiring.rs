//! The Notification API and CometD as `gms serve` mounts them: subscribe on the public listener, publish only on
//! the internal one, delivery to an httpcb receiver and to a CometD client of the same server.

use crate::server::{TestServer, assert_error};
use axum::routing::post;
use serde_json::{Value, json};

/// A local httpcb receiver that forwards every body it gets to the test.
async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (sender, bodies) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, bodies)
}

async fn post_json(server: &TestServer, url: String, body: Value) -> (u16, Value) {
    server.send(server.http.post(url).json(&body)).await
}

#[tokio::test]
async fn subscribe_public_publish_internal_delivers_to_httpcb() {
    let server = TestServer::sample().await;
    let (hook, mut bodies) = receiver().await;
    let subscription = json!({
        "subscriberId": "app-1",
        "filter": "ors.contact.42",
        "notificationDetails": {"deviceId": hook, "type": "httpcb"},
    });
    let (status, created) = post_json(
        &server,
        server.public_url("/genesys/1/notification/subscription"),
        subscription,
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert!(created["id"].as_str().is_some_and(|id| !id.is_empty()));

    let publish = json!({"tag": "ors.contact.42", "message": "agent ready"});
    let public = post_json(
        &server,
        server.public_url("/genesys/1/notification/publish"),
        publish.clone(),
    )
    .await;
    assert_error(&public, 404, "NotFound");

    let (status, report) = post_json(
        &server,
        server.internal_url("/genesys/1/notification/publish"),
        publish,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
    let body = tokio::time::timeout(std::time::Duration::from_secs(5), bodies.recv())
        .await
        .expect("the receiver got the message")
        .expect("receiver open");
    assert!(body.contains("agent ready"), "{body}");
}

#[tokio::test]
async fn cometd_handshake_is_served_on_the_public_listener() {
    let server = TestServer::sample().await;
    let handshake = json!([{
        "channel": "/meta/handshake",
        "version": "1.0",
        "supportedConnectionTypes": ["long-polling"],
    }]);
    let (status, reply) = post_json(&server, server.public_url("/genesys/cometd"), handshake).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply[0]["successful"], true, "{reply}");
    assert!(reply[0]["clientId"].as_str().is_some());
}

#[tokio::test]
async fn openapi_describes_the_notification_api() {
    let server = TestServer::sample().await;
    let (status, document) = server
        .send(
            server
                .http
                .get(server.internal_url("/genesys/openapi.json")),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        document["paths"]["/genesys/1/notification/subscription"].is_object(),
        "{}",
        document["paths"]
    );
}

/// The sample options leave `orscb.url` out: orscb events go to this node's own ORS interface, on whatever port
/// its internal listener got (here a free one), and reach the session.
#[tokio::test]
async fn orscb_without_a_url_reaches_this_nodes_own_sessions() {
    let server = TestServer::sample().await;
    let (status, started) = server
        .post_internal(
            "/scxml/session/start",
            &[
                ("src", "scxml/request-outbound-poll.scxml"),
                ("_phone_number", "5550100"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let session = started["sessionid"].as_str().unwrap();
    let (status, subscribed) = post_json(
        &server,
        server.public_url("/genesys/1/notification/subscription"),
        json!({"subscriberId": "flow", "filter": "ors.note.*",
               "notificationDetails": {"deviceId": session, "type": "orscb"}}),
    )
    .await;
    assert_eq!(status, 200, "{subscribed}");
    let (status, report) = post_json(
        &server,
        server.internal_url("/genesys/1/notification/publish"),
        json!({"tag": "ors.note.1", "message": "hello"}),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
}

/// The `gms` section's `http.*` options take effect at once: a callback slower than the connection and socket
/// timeouts together fails, and succeeds once the option file gives it more time, without a restart.
#[tokio::test]
async fn http_options_changed_in_the_file_reach_deliveries_at_once() {
    let options = crate::server::SAMPLE
        .replace("http.socket_timeout = 2", "http.socket_timeout = 1")
        .replace("http.connection_timeout = 2", "http.connection_timeout = 1");
    assert_ne!(options, crate::server::SAMPLE);
    let server = TestServer::start(&options).await;
    // A callback receiver that takes two and a half seconds to answer.
    let app = axum::Router::new().route(
        "/slow",
        post(|| async {
            tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (status, created) = post_json(
        &server,
        server.public_url("/genesys/1/notification/subscription"),
        json!({"subscriberId": "slow", "filter": "slow.*",
               "notificationDetails": {"deviceId": hook, "type": "httpcb"}}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let publish = || {
        post_json(
            &server,
            server.internal_url("/genesys/1/notification/publish"),
            json!({"tag": "slow.1", "message": "m"}),
        )
    };
    let (_, report) = publish().await;
    assert_ne!(report["deliveries"][0]["status"], "delivered", "{report}");
    std::fs::write(
        &server.config_path,
        options.replace("http.socket_timeout = 1", "http.socket_timeout = 3"),
    )
    .unwrap();
    server.state.config.reload().unwrap();
    let mut delivered = false;
    for _ in 0..10 {
        let (_, report) = publish().await;
        if report["deliveries"][0]["status"] == "delivered" {
            delivered = true;
            break;
        }
    }
    assert!(
        delivered,
        "the new socket timeout never reached the deliveries"
    );
}
