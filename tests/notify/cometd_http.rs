//! `/genesys/cometd` over real HTTP with hand-written Bayeux messages: bad batches get a 400 JSON body, bad
//! messages get unsuccessful Bayeux replies naming the problem, and the `gms_user` header binds the client.

use std::time::Duration;

use gms::cometd::{GENESYS_CHANNEL, Server, Settings};
use serde_json::{Value, json};

async fn start() -> (std::sync::Arc<Server>, String) {
    let server = Server::new(Settings {
        timeout: Duration::from_secs(5),
        ..Settings::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/genesys/cometd", listener.local_addr().unwrap());
    let router = gms::http::cometd::router(server.clone(), "01");
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (server, url)
}

async fn post(url: &str, body: &str, user: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(user) = user {
        request = request.header("gms_user", user);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn malformed_batches_get_a_400_json_body() {
    let (_, url) = start().await;
    for body in ["", "{", "[]", "42", "[{\"channel\": 5}]"] {
        let (status, reply) = post(&url, body, None).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(reply["exception"], "MalformedBayeuxMessage", "{body}");
    }
}

#[tokio::test]
async fn bad_messages_get_unsuccessful_replies() {
    let (server, url) = start().await;
    let (_, reply) = post(
        &url,
        r#"[{"channel":"/meta/handshake","version":"1.0","id":"1"}]"#,
        Some("alice"),
    )
    .await;
    assert_eq!(reply[0]["successful"], true);
    assert_eq!(reply[0]["id"], "1");
    assert_eq!(reply[0]["advice"]["reconnect"], "retry");
    let client = reply[0]["clientId"].as_str().unwrap().to_string();

    let cases = [
        (
            json!([{"channel": "/meta/connect", "clientId": "unknown"}]),
            "402::",
        ),
        (
            json!([{"channel": "/meta/subscribe", "clientId": client}]),
            "400::",
        ),
        (
            json!([{"channel": "/meta/subscribe", "clientId": client, "subscription": "no-slash"}]),
            "403::",
        ),
        (
            json!([{"channel": "/meta/subscribe", "clientId": client, "subscription": "/meta/connect"}]),
            "403::",
        ),
        (
            json!([{"channel": "/_genesys", "clientId": client, "data": {}}]),
            "403::",
        ),
        (
            json!([{"channel": "/a/*", "clientId": client, "data": {}}]),
            "400::",
        ),
        (json!([{"channel": "/chat", "data": {}}]), "402::"),
    ];
    for (body, code) in cases {
        let (status, reply) = post(&url, &body.to_string(), None).await;
        assert_eq!(status, 200);
        assert_eq!(reply[0]["successful"], false, "{body}: {reply}");
        assert!(
            reply[0]["error"].as_str().unwrap().starts_with(code),
            "{body}: {reply}"
        );
    }

    // The header bound the client to alice.
    post(&url, &json!([{"channel": "/meta/subscribe", "clientId": client, "subscription": GENESYS_CHANNEL}]).to_string(), None).await;
    assert_eq!(server.user_subscriptions("alice", GENESYS_CHANNEL), 1);
    let (_, reply) = post(
        &url,
        &json!([{"channel": "/meta/disconnect", "clientId": client}]).to_string(),
        None,
    )
    .await;
    assert_eq!(reply[0]["successful"], true);
    assert_eq!(server.client_count(), 0);
}
