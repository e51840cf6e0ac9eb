//! Three `gms serve` nodes on one `redis-server`: what one node writes, books or runs, the others read, refuse,
//! match and answer.

use serde_json::{Value, json};

use crate::common::{cluster_options, get, internal, post_form, public, start_nodes};
use crate::redis_peer::RedisServer;

#[tokio::test]
async fn storage_written_on_one_node_is_read_on_another() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let nodes = start_nodes(&redis, &options, dir.path(), 3);
    let (status, created) = post_form(
        &format!("{}/genesys/1/storage/60", public(&nodes[0])),
        &[("a", "1"), ("b", "two")],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, read) = get(&format!("{}/genesys/1/storage/{id}", public(&nodes[2]))).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, json!({"a": "1", "b": "two"}));
}

#[tokio::test]
async fn a_cluster_group_is_shared_and_a_match_is_found_on_any_node() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let nodes = start_nodes(&redis, &options, dir.path(), 3);
    let request = |node: usize| {
        let url = format!(
            "{}/genesys/1/service/request-interaction",
            public(&nodes[node])
        );
        async move { post_form(&url, &[("_phone_number", "5550100")]).await }
    };

    // request-interaction on A, matched on B: the booking is found and released.
    let (status, first) = request(0).await;
    assert_eq!(status, 200, "{first}");
    let number = first["_access_number"].as_str().unwrap().to_string();
    let code = first["_access_code"].as_str().unwrap().to_string();
    assert!(
        code.starts_with("01"),
        "the code carries node A's id: {code}"
    );
    let (status, matched) = post_form(
        &format!(
            "{}/genesys/1/service/match-interaction",
            internal(&nodes[1])
        ),
        &[("_access_number", &number), ("_access_code", &code)],
    )
    .await;
    assert_eq!(status, 200, "{matched}");
    assert_eq!(matched["_id"], first["_id"]);

    // Three numbers in all: two booked on A and one on B are three different numbers...
    let mut numbers = Vec::new();
    for node in [0, 0, 1] {
        let (status, booked) = request(node).await;
        assert_eq!(status, 200, "{booked}");
        numbers.push(booked["_access_number"].as_str().unwrap().to_string());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "{numbers:?}");
    // ...and the fourth is refused on every node.
    for node in 0..3 {
        let (status, refused) = request(node).await;
        assert_eq!(status, 503, "node {node}: {refused}");
        assert_eq!(refused["exception"], "NoMoreResources", "{refused}");
    }
}

/// Posts a Bayeux `batch` to `base`'s `/genesys/cometd` as `user`; the `Set-Cookie` header (empty when none) and
/// the replies.
async fn bayeux(http: &reqwest::Client, base: &str, user: &str, batch: Value) -> (String, Value) {
    let response = http
        .post(format!("{base}/genesys/cometd"))
        .header("gms_user", user)
        .json(&batch)
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (cookie, response.json().await.unwrap())
}

/// A long-polling connect of `client`, held until something arrives for it.
fn connect(client: &str) -> Value {
    json!([{"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling"}])
}

/// Handshakes a long-polling CometD client of `user` on `base`, subscribed to `/_genesys`; returns its id and the
/// handshake's session cookie.
async fn comet_client(http: &reqwest::Client, base: &str, user: &str) -> (String, String) {
    let handshake = json!([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}]);
    let (cookie, replies) = bayeux(http, base, user, handshake).await;
    let client = replies[0]["clientId"].as_str().unwrap().to_string();
    // Sticky sessions as Jetty does them: `<session>.<route>`, the route being the node id by default.
    assert!(
        cookie.starts_with(&format!("JSESSIONID={client}.")),
        "{cookie}"
    );
    let subscribe =
        json!([{"channel": "/meta/subscribe", "clientId": client, "subscription": "/_genesys"}]);
    let (_, replies) = bayeux(http, base, user, subscribe).await;
    assert_eq!(replies[0]["successful"], true, "{replies}");
    // The first connect returns at once; the next ones are held.
    bayeux(http, base, user, connect(&client)).await;
    (client, cookie)
}

#[tokio::test]
async fn a_publish_on_one_node_reaches_a_comet_client_on_another() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let nodes = start_nodes(&redis, &options, dir.path(), 3);
    let http = reqwest::Client::new();
    let (client, cookie) = comet_client(&http, &public(&nodes[2]), "carol").await;
    assert!(cookie.contains(".03; Path=/"), "node 03's route: {cookie}");
    let (status, subscribed) = crate::common::json(
        http.post(format!("{}/genesys/1/notification/subscription", public(&nodes[2])))
            .json(&json!({"subscriberId": "carol", "notificationDetails": {"deviceId": "carol", "type": "comet"}, "filter": "cluster.*"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{subscribed}");
    let (status, report) = crate::common::json(
        http.post(format!(
            "{}/genesys/1/notification/publish",
            internal(&nodes[0])
        ))
        .json(&json!({"tag": "cluster.1", "message": "hello from A"}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["deliveries"][0]["status"], "relayed", "{report}");
    // The held connect on C returns with the message relayed from A.
    let (_, replies) = bayeux(&http, &public(&nodes[2]), "carol", connect(&client)).await;
    let message = replies
        .as_array()
        .unwrap()
        .iter()
        .find(|reply| reply["channel"] == "/_genesys")
        .unwrap_or_else(|| panic!("no /_genesys message in {replies}"));
    assert_eq!(message["data"]["message"], "hello from A", "{message}");
}

#[tokio::test]
async fn an_ors_flow_created_on_one_node_is_answered_on_every_node() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let nodes = start_nodes(&redis, &options, dir.path(), 3);
    let (status, created) = post_form(
        &format!(
            "{}/genesys/1/service/request-inbound-poll",
            public(&nodes[0])
        ),
        &[("_phone_number", "5551234")],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["_id"].as_str().unwrap();
    for node in &nodes {
        let (status, wait) = post_form(
            &format!("{}/genesys/1/service/{id}/status", public(node)),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{wait}");
        assert_eq!(wait["_action"], "Message", "{wait}");
        assert_eq!(wait["_id"], id);
    }
    // Cancelled through C, the session on A ends: every node then answers 404.
    let response = reqwest::Client::new()
        .delete(format!("{}/genesys/1/service/{id}", public(&nodes[2])))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for node in &nodes {
        let (status, gone) = post_form(
            &format!("{}/genesys/1/service/{id}/status", public(node)),
            &[],
        )
        .await;
        assert_eq!(status, 404, "{gone}");
    }
}

#[tokio::test]
async fn a_chat_line_sent_on_one_node_reaches_the_comet_client_on_another() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let nodes = start_nodes(&redis, &options, dir.path(), 3);
    let http = reqwest::Client::new();
    let (client, _) = comet_client(&http, &public(&nodes[2]), "frank").await;
    let post = |node: usize, path: String, form: Vec<(&'static str, &'static str)>| {
        let request = http
            .post(format!("{}{path}", public(&nodes[node])))
            .header("gms_user", "frank")
            .form(&form);
        async move { crate::common::json(request.send().await.unwrap()).await }
    };
    let (status, service) = post(0, "/genesys/1/service/request-chat".into(), vec![]).await;
    assert_eq!(status, 200, "{service}");
    let id = service["_id"].as_str().unwrap().to_string();
    let (status, chat) = post(
        0,
        format!("/genesys/1/service/{id}/ixn/chat"),
        vec![("notify_by", "comet"), ("userDisplayName", "Frank")],
    )
    .await;
    assert_eq!(status, 200, "{chat}");
    let (status, sent) = post(
        1,
        format!("/genesys/1/service/{id}/ixn/chat/send"),
        vec![("message", "hello across nodes")],
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    // The client on C long-polls until the line, written on B for a chat created on A, reaches it: a held connect
    // returns as soon as something arrives (the chat's own entries may come first).
    for _ in 0..3 {
        let (_, replies) = bayeux(&http, &public(&nodes[2]), "frank", connect(&client)).await;
        if replies.to_string().contains("hello across nodes") {
            return;
        }
    }
    panic!("the chat line never reached the CometD client on another node");
}
