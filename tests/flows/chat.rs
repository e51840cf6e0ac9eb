//! request-chat-poll end to end through the public Service API, as the mobile app plays it: create → `StartChat`,
//! status while the chat is starting, the chat forwarded to the service by the Chat Server workflow (simulated
//! contact center) and queued (`waiting` with the estimated wait), routed to the agent who becomes ready
//! (`routed`, the agent written into the user data); cancellation withdraws the queued chat; the TTL ends it;
//! `_chat_parameters` comes back as a JSON object, and one that is not is refused. And the whole chat through the
//! Chat API on the service's `_id`: the flow routes it, the agent it chose joins, messages go both ways, the agent
//! leaves and the customer sees `DISCONNECTED`.

use crate::sample_flows::{
    POOL, agent_ready, agent_state, ask, assert_refused, assert_released, contact_center, create,
    create_ok, ended, status_until, stored_with, with_ttl,
};
use crate::server::{SAMPLE, TestServer, assert_error};
use serde_json::json;

const SERVICE: &str = "request-chat-poll";

/// The chat workflow forwards a chat of the customer to service `id`.
async fn forward_chat(server: &TestServer, id: &str) -> String {
    let url = reqwest::Url::parse_with_params(
        &server.internal_url("/genesys/1/contact-center/chats"),
        &[("service", id), ("subject", "billing")],
    )
    .unwrap();
    let (status, body) = server.send(server.http.post(url)).await;
    assert_eq!(status, 200, "{body}");
    body["interactionid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn request_chat_poll_starts_a_chat_and_routes_it_to_the_ready_agent() {
    let server = TestServer::start(SAMPLE).await;
    let (id, reply) = create_ok(
        &server,
        SERVICE,
        &[
            ("_chat_parameters", r#"{"subject":"billing"}"#),
            ("first_name", "Ann"),
        ],
    )
    .await;
    assert_eq!(reply["_action"], "StartChat", "{reply}");
    assert_eq!(
        reply["_start_chat_url"],
        format!("/genesys/1/service/{id}/ixn/chat"),
        "{reply}"
    );
    assert_eq!(reply["_comet_url"], "/genesys/cometd", "{reply}");
    // The chat parameters come back as the JSON object the app gave, not as text.
    assert_eq!(
        reply["_chat_parameters"],
        json!({"subject": "billing"}),
        "{reply}"
    );
    let data_id = reply["_data_id"].as_str().unwrap().to_string();

    let (status, starting) = ask(&server, &id, "status").await;
    assert_eq!(status, 200, "{starting}");
    assert_eq!(starting["_status"], "starting", "{starting}");

    // The chat arrives and waits in queue: no agent of the Chat group is ready.
    forward_chat(&server, &id).await;
    let waiting = status_until(&server, &id, "_status", "waiting").await;
    assert_eq!(waiting["_ewt"], 60.0, "{waiting}");
    assert_eq!(contact_center(&server).await["waiting"], 1);

    agent_ready(&server, "agent1").await;
    let routed = status_until(&server, &id, "_status", "routed").await;
    assert_eq!(routed["_agent"], "agent1", "{routed}");
    assert_eq!(agent_state(&server, "agent1").await, "busy");
    let data = stored_with(&server, &data_id, "_agent").await;
    assert_eq!(data["_agent"], "agent1", "{data}");
    assert_eq!(data["first_name"], "Ann", "{data}");

    // The session stays for the app until it is done with it.
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    assert_released(&server, &id, POOL).await;
}

#[tokio::test]
async fn request_chat_poll_gives_empty_chat_parameters_and_refuses_bad_ones() {
    let server = TestServer::start(SAMPLE).await;
    let (id, reply) = create_ok(&server, SERVICE, &[]).await;
    assert_eq!(reply["_chat_parameters"], json!({}), "{reply}");
    // Nothing is offered to connect to.
    assert_refused(&ask(&server, &id, "connect").await, "not_offered");
    for bad in ["{not json", "[1, 2]", "\"text\""] {
        let answer = create(&server, SERVICE, &[("_chat_parameters", bad)]).await;
        assert_error(&answer, 502, "BackendUnavailable");
        assert!(
            answer.1["message"]
                .as_str()
                .unwrap()
                .contains("invalid_chat_parameters"),
            "{bad}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn request_chat_poll_cancelled_while_queued_withdraws_the_chat() {
    let server = TestServer::start(SAMPLE).await;
    let (id, _) = create_ok(&server, SERVICE, &[]).await;
    forward_chat(&server, &id).await;
    status_until(&server, &id, "_status", "waiting").await;
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
    assert!(ended(&server, &id).await);
    // Nothing waits any more, so an agent who becomes ready stays ready.
    assert_eq!(contact_center(&server).await["waiting"], 0);
    agent_ready(&server, "agent1").await;
    assert_eq!(agent_state(&server, "agent1").await, "ready");
}

#[tokio::test]
async fn request_chat_poll_ends_with_its_ttl() {
    let server = TestServer::start(&with_ttl(SAMPLE, SERVICE, 1)).await;
    let (id, reply) = create_ok(&server, SERVICE, &[]).await;
    assert_eq!(reply["_action"], "StartChat");
    assert!(ended(&server, &id).await, "the flow outlived its TTL");
    assert_error(&ask(&server, &id, "status").await, 404, "NotFound");
    assert_released(&server, &id, POOL).await;
}

/// The chats `agent` is in, as the agent side lists them.
async fn agent_chats(server: &TestServer, agent: &str) -> serde_json::Value {
    server
        .send(
            server.http.get(
                server.internal_url(&format!("/genesys/1/contact-center/agents/{agent}/chats")),
            ),
        )
        .await
        .1
}

#[tokio::test]
async fn request_chat_poll_runs_a_whole_chat_through_the_chat_api() {
    let server = TestServer::start(SAMPLE).await;
    let (id, reply) = create_ok(&server, SERVICE, &[]).await;
    let start_chat = reply["_start_chat_url"].as_str().unwrap().to_string();
    // The app creates the chat on the service's `_id`; the flow is told and queues it.
    let (status, created) = server
        .post_form(
            &start_chat,
            &[("userDisplayName", "Ann"), ("_verbose", "true")],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["chatIxnState"], "CONNECTED");
    status_until(&server, &id, "_status", "waiting").await;
    agent_ready(&server, "agent1").await;
    let routed = status_until(&server, &id, "_status", "routed").await;
    assert_eq!(routed["_agent"], "agent1", "{routed}");
    // The agent the flow chose is in the chat.
    let mut joined = false;
    for _ in 0..500 {
        if agent_chats(&server, "agent1").await["chats"][0]["_id"] == id.as_str() {
            joined = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(joined, "{}", agent_chats(&server, "agent1").await);
    let refresh = format!("{start_chat}/refresh");
    let (_, reply) = server.post_form(&refresh, &[("message", "hello")]).await;
    let shown: Vec<&str> = reply["transcriptToShow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry[0].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["Notice.Joined", "Message.Text"], "{reply}");
    let agent_url = |op: &str| format!("/genesys/1/contact-center/agents/agent1/chats/{id}/{op}");
    assert_eq!(
        server
            .post_internal(&agent_url("send"), &[("message", "hi Ann")])
            .await
            .0,
        200
    );
    let chats = agent_chats(&server, "agent1").await;
    let transcript = chats["chats"][0]["transcriptToShow"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        transcript
            .iter()
            .any(|entry| entry[2] == "hello" && entry[4] == "CLIENT"),
        "{chats}"
    );
    let (_, reply) = server.post_form(&refresh, &[]).await;
    assert_eq!(reply["transcriptToShow"][0][2], "hi Ann", "{reply}");
    assert_eq!(server.post_internal(&agent_url("leave"), &[]).await.0, 200);
    let (_, reply) = server.post_form(&refresh, &[]).await;
    assert_eq!(reply["chatIxnState"], "DISCONNECTED", "{reply}");
    let (status, answer) = ask(&server, &id, "cancel").await;
    assert_eq!((status, &answer), (200, &json!({"_id": id})));
}
