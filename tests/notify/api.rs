//! The Notification API over real HTTP: subscribe, unsubscribe, publish to httpcb, orscb and comet peers on
//! 127.0.0.1, and every kind of bad input.

use std::time::Duration;

use crate::node::{Answer, Recorder, closed_port_url, quick_http, start};
use gms::cometd::{GENESYS_CHANNEL, Message, Transport};
use serde_json::{Value, json};

const PUSH_ALL: &[(&str, &str)] = &[
    ("pushEnabled", "httpcb,comet"),
    ("defaultSubscriptionExpiration", "60"),
];

fn httpcb(url: &str, filter: &str) -> Value {
    json!({
        "subscriberId": "customer-1",
        "notificationDetails": {"deviceId": url, "type": "httpcb", "properties": {"language": "en"}},
        "filter": filter,
    })
}

#[tokio::test]
async fn httpcb_gets_the_message_and_publish_reports_it() {
    let node = start(&[("push", PUSH_ALL)], quick_http()).await;
    let receiver = Recorder::start(Answer::Status(200)).await;
    let (status, reply) = node
        .subscribe(httpcb(&format!("{}/cb", receiver.url), "ors.contact.*"))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expire"], 60, "defaultSubscriptionExpiration applies");
    let id = reply["id"].as_str().unwrap().to_string();

    let (status, report) = node
        .publish(json!({"tag": "ors.contact.123", "message": "An agent is ready now", "mediatype": "text/plain"}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"tag": "ors.contact.123", "deliveries": [{
            "subscriptionId": id, "subscriberId": "customer-1", "type": "httpcb", "channel": "production",
            "status": "delivered"
        }]})
    );
    let requests = receiver.taken();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].uri, "/cb");
    assert_eq!(requests[0].headers["content-type"], "text/plain");
    assert_eq!(requests[0].body.as_ref(), b"An agent is ready now");

    // A tag outside the filter reaches nobody; after DELETE the subscription is gone.
    let (_, report) = node
        .publish(json!({"tag": "other.1", "message": "x"}))
        .await;
    assert_eq!(report["deliveries"], json!([]));
    let deleted = node
        .http
        .delete(format!(
            "{}/genesys/1/notification/subscription/{id}",
            node.public
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let (_, report) = node
        .publish(json!({"tag": "ors.contact.123", "message": "x"}))
        .await;
    assert_eq!(report["deliveries"], json!([]));
    assert_eq!(receiver.taken().len(), 1);
}

#[tokio::test]
async fn httpcb_success_only_on_200_and_failures_are_reported() {
    let node = start(&[("push", PUSH_ALL)], quick_http()).await;
    let refusing = Recorder::start(Answer::Status(202)).await;
    let slow = Recorder::start(Answer::Slow(Duration::from_secs(30))).await;
    node.subscribe_ok(httpcb(&refusing.url, "t")).await;
    node.subscribe_ok(httpcb(&slow.url, "t")).await;
    node.subscribe_ok(httpcb(&closed_port_url().await, "t"))
        .await;
    let (status, report) = node.publish(json!({"tag": "t", "message": "m"})).await;
    assert_eq!(status, 200);
    let details: Vec<String> = report["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|delivery| {
            assert_eq!(delivery["status"], "failed", "{delivery}");
            delivery["detail"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        details.iter().any(|d| d.contains("answered 202")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("timed out")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("callback failed")),
        "{details:?}"
    );
}

#[tokio::test]
async fn a_slow_callback_blocks_no_other_publish() {
    let node = start(&[("push", PUSH_ALL)], quick_http()).await;
    let slow = Recorder::start(Answer::Slow(Duration::from_secs(30))).await;
    let fast = Recorder::start(Answer::Status(200)).await;
    node.subscribe_ok(httpcb(&slow.url, "slow")).await;
    node.subscribe_ok(httpcb(&fast.url, "fast")).await;
    let slow_publish = {
        let http = node.http.clone();
        let url = format!("{}/genesys/1/notification/publish", node.internal);
        tokio::spawn(async move {
            http.post(url)
                .json(&json!({"tag": "slow", "message": "m"}))
                .send()
                .await
        })
    };
    // Wait until the slow callback holds its request, then publish elsewhere while it is held.
    for _ in 0..500 {
        if !slow.taken().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slow.taken().len(), 1);
    let (_, report) = node.publish(json!({"tag": "fast", "message": "m"})).await;
    assert_eq!(report["deliveries"][0]["status"], "delivered");
    assert!(
        !slow_publish.is_finished(),
        "the fast publish did not wait for the slow one"
    );
    let slow_reply = slow_publish.await.unwrap().unwrap();
    let slow_report: Value = slow_reply.json().await.unwrap();
    assert_eq!(slow_report["deliveries"][0]["status"], "failed");
}

#[tokio::test]
async fn client_port_range_is_honoured() {
    let mut http = quick_http();
    // A high range unlikely to be taken by ephemeral ports; ports are tried serially when one is in use.
    http.client_port_range = Some(47_310..=47_390);
    let node = start(&[("push", PUSH_ALL)], http).await;
    let receiver = Recorder::start(Answer::Status(200)).await;
    node.subscribe_ok(httpcb(&receiver.url, "t")).await;
    node.publish(json!({"tag": "t", "message": "m"})).await;
    let requests = receiver.taken();
    assert_eq!(requests.len(), 1);
    assert!(
        (47_310..=47_390).contains(&requests[0].peer.port()),
        "{}",
        requests[0].peer
    );
}

#[tokio::test]
async fn orscb_sends_an_event_to_the_ors_session() {
    let ors = Recorder::start(Answer::Status(200)).await;
    let push: &[(&str, &str)] = &[("pushEnabled", "orscb"), ("orscb.url", &ors.url)];
    let node = start(&[("push", push)], quick_http()).await;
    let id = node
        .subscribe_ok(json!({
            "subscriberId": "flow",
            "notificationDetails": {"deviceId": "SESSION-42", "type": "orscb"},
            "filter": "*",
        }))
        .await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "go now"}))
        .await;
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
    let requests = ors.taken();
    assert_eq!(
        requests[0].uri,
        "/scxml/session/SESSION-42/event/agent.ready"
    );
    assert_eq!(
        requests[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        std::str::from_utf8(&requests[0].body).unwrap(),
        format!("message=go+now&tag=agent.ready&subscriptionId={id}")
    );
}

#[tokio::test]
async fn comet_reaches_only_the_subscribers_user() {
    let node = start(&[("push", PUSH_ALL)], quick_http()).await;
    let mut clients = Vec::new();
    for user in ["alice", "bob"] {
        let replies = node
            .cometd
            .handle(
                vec![
                    serde_json::from_value(json!({"channel": "/meta/handshake", "version": "1.0"}))
                        .unwrap(),
                ],
                Some(user.to_string()),
                Transport::LongPolling,
            )
            .await;
        let client = replies[0].client_id.clone().unwrap();
        let subscribe: Message =
            serde_json::from_value(json!({"channel": "/meta/subscribe", "clientId": client, "subscription": GENESYS_CHANNEL}))
                .unwrap();
        node.cometd
            .handle(vec![subscribe], None, Transport::LongPolling)
            .await;
        clients.push(client);
    }
    let id = node
        .subscribe_ok(json!({
            "subscriberId": "alice", "notificationDetails": {"deviceId": "alice", "type": "comet"}, "filter": "chat.*",
        }))
        .await;
    let (_, report) = node
        .publish(json!({"tag": "chat.1", "message": "hello"}))
        .await;
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
    let connect = |client: &str| -> Message {
        serde_json::from_value(
            json!({"channel": "/meta/connect", "clientId": client, "advice": {"timeout": 0}}),
        )
        .unwrap()
    };
    let alice = node
        .cometd
        .handle(vec![connect(&clients[0])], None, Transport::LongPolling)
        .await;
    assert_eq!(alice.len(), 2);
    assert_eq!(alice[1].channel, GENESYS_CHANNEL);
    assert_eq!(
        alice[1].data,
        Some(json!({"message": "hello", "tag": "chat.1", "subscriptionId": id}))
    );
    let bob = node
        .cometd
        .handle(vec![connect(&clients[1])], None, Transport::LongPolling)
        .await;
    assert_eq!(bob.len(), 1, "bob gets nothing");
}

async fn raw_post(
    node: &crate::node::Node,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let base = if path.ends_with("publish") {
        &node.internal
    } else {
        &node.public
    };
    let response = node
        .http
        .post(format!("{base}{path}"))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_problem() {
    let node = start(&[("push", PUSH_ALL)], quick_http()).await;
    let subscription = "/genesys/1/notification/subscription";
    let cases: Vec<(&str, &str, &str, u16, &str)> = vec![
        (
            subscription,
            "application/x-www-form-urlencoded",
            "a=b",
            415,
            "UnsupportedMediaType",
        ),
        (
            subscription,
            "application/json",
            "{\"subscriberId\": ",
            400,
            "MalformedJson",
        ),
        (
            subscription,
            "application/json",
            "[1, 2]",
            400,
            "InvalidRequest",
        ),
        (
            subscription,
            "application/json",
            r#"{"filter": "t", "notificationDetails": {"deviceId": "http://127.0.0.1:1/", "type": "httpcb"}}"#,
            400,
            "MissingField",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "notificationDetails": {"deviceId": "http://127.0.0.1:1/", "type": "httpcb"}}"#,
            400,
            "MissingField",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "expire": 10, "notificationDetails": {"deviceId": "http://127.0.0.1:1/", "type": "httpcb"}}"#,
            400,
            "InvalidExpire",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "notificationDetails": {"deviceId": "x", "type": "c2dm"}}"#,
            400,
            "UnknownType",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "notificationDetails": {"deviceId": "ab12", "type": "ios"}}"#,
            400,
            "TypeDisabled",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "notificationDetails": {"deviceId": "not a url", "type": "httpcb"}}"#,
            400,
            "InvalidDeviceId",
        ),
        // A device id that would change the APNs request's path, or an FCM token with a space.
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "notificationDetails": {"deviceId": "abc/../../x?y=1", "type": "ios"}}"#,
            400,
            "InvalidDeviceId",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "notificationDetails": {"deviceId": "a token", "type": "android"}}"#,
            400,
            "InvalidDeviceId",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "t", "providerName": "nope", "notificationDetails": {"deviceId": "u", "type": "comet"}}"#,
            400,
            "UnknownProvider",
        ),
        (
            subscription,
            "application/json",
            r#"{"subscriberId": "s", "filter": "a*b", "notificationDetails": {"deviceId": "u", "type": "comet"}}"#,
            400,
            "InvalidFilter",
        ),
        (
            "/genesys/1/notification/publish",
            "text/plain",
            "hi",
            415,
            "UnsupportedMediaType",
        ),
        (
            "/genesys/1/notification/publish",
            "application/json",
            r#"{"message": "m"}"#,
            400,
            "MissingField",
        ),
        (
            "/genesys/1/notification/publish",
            "application/json",
            r#"{"tag": "t"}"#,
            400,
            "MissingField",
        ),
        (
            "/genesys/1/notification/publish",
            "application/json",
            "nope",
            400,
            "MalformedJson",
        ),
    ];
    for (path, content_type, body, status, exception) in cases {
        let (got, reply) = raw_post(&node, path, content_type, body).await;
        assert_eq!(got, status, "{body}: {reply}");
        assert_eq!(reply["exception"], exception, "{body}: {reply}");
        assert!(
            reply["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{reply}"
        );
    }
    let unknown = node
        .http
        .delete(format!(
            "{}/genesys/1/notification/subscription/does-not-exist",
            node.public
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let reply: Value = unknown.json().await.unwrap();
    assert_eq!(reply["exception"], "SubscriptionNotFound");
    // Publish is not served on the public listener.
    let public_publish = node
        .http
        .post(format!("{}/genesys/1/notification/publish", node.public))
        .json(&json!({"tag": "t", "message": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(public_publish.status(), 404);
}

#[tokio::test]
async fn max_connections_per_route_queues_the_rest() {
    let mut http = quick_http();
    http.socket_timeout = Duration::from_secs(5);
    http.max_connections_per_route = 1;
    let node = start(&[("push", PUSH_ALL)], http).await;
    let receiver = Recorder::start(Answer::Slow(Duration::from_millis(50))).await;
    for n in 0..3 {
        node.subscribe_ok(httpcb(&format!("{}/{n}", receiver.url), "t"))
            .await;
    }
    let (_, report) = node.publish(json!({"tag": "t", "message": "m"})).await;
    for delivery in report["deliveries"].as_array().unwrap() {
        assert_eq!(delivery["status"], "delivered", "{report}");
    }
    assert_eq!(receiver.taken().len(), 3);
    assert_eq!(
        receiver
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[test]
fn the_openapi_description_names_every_route() {
    let document = gms::http::notification::describe();
    let mut paths: Vec<&String> = document.paths.paths.keys().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/genesys/1/notification/publish",
            "/genesys/1/notification/subscription",
            "/genesys/1/notification/subscription/{id}"
        ]
    );
}
