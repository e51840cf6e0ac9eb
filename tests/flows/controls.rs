//! The contact-center controls the flow tests and client scripts steer the simulator with, over real HTTP on the
//! internal listener: the estimated wait time a polling app is told, the outcome of the next outbound call, a chat
//! forwarded to a service, and clear 4xx answers to bad parameters.

use crate::sample_flows::{ask, contact_center, create_ok, ended};
use crate::server::{SAMPLE, TestServer, assert_error};

#[tokio::test]
async fn the_estimated_wait_reaches_a_polling_app() {
    let server = TestServer::start(SAMPLE).await;
    let (id, _) = create_ok(
        &server,
        "request-inbound-poll",
        &[("_phone_number", "5551234")],
    )
    .await;
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_ewt"], 60.0, "{wait}");
    // A wait set for the routing target's group wins over the default.
    let (status, body) = server
        .post_internal("/genesys/1/contact-center/ewt?seconds=95&target=Sales", &[])
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_ewt"], 95.0, "{wait}");
    let (status, _) = server
        .post_internal("/genesys/1/contact-center/ewt?seconds=30", &[])
        .await;
    assert_eq!(status, 200);
    let (_, wait) = ask(&server, &id, "status").await;
    assert_eq!(wait["_ewt"], 95.0, "{wait}");
    let (_, answer) = ask(&server, &id, "cancel").await;
    assert_eq!(answer["_id"], id.as_str());
    assert!(ended(&server, &id).await);
}

#[tokio::test]
async fn a_failed_outbound_call_ends_the_immediate_flow() {
    // Dialing ends at once (no ring time).
    let server =
        TestServer::start(&SAMPLE.replace("ewt = 60\n", "ewt = 60\nring_time = 0\n")).await;
    let (status, body) = server
        .post_internal("/genesys/1/contact-center/outcomes/no-answer", &[])
        .await;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &serde_json::json!("no-answer"))
    );
    assert_eq!(
        contact_center(&server).await["queued_outcomes"],
        serde_json::json!(["no-answer"])
    );
    let (id, reply) = create_ok(
        &server,
        "request-outbound-immediate",
        &[("_phone_number", "5557777")],
    )
    .await;
    assert_eq!(reply["_action"], "Message");
    assert!(
        ended(&server, &id).await,
        "an unanswered call did not end the flow"
    );
}

#[tokio::test]
async fn bad_control_parameters_get_a_clear_error() {
    let server = TestServer::start(SAMPLE).await;
    for (path, problem) in [
        ("/genesys/1/contact-center/outcomes/maybe", "maybe"),
        ("/genesys/1/contact-center/ewt", "seconds"),
        ("/genesys/1/contact-center/ewt?seconds=-1", "seconds"),
        ("/genesys/1/contact-center/ewt?seconds=soon", "seconds"),
        ("/genesys/1/contact-center/chats", "service"),
        ("/genesys/1/contact-center/chats?service=", "service"),
        ("/genesys/1/contact-center/calls?ani=1", "dnis"),
    ] {
        let answer = server.post_internal(path, &[]).await;
        assert_error(&answer, 400, "InvalidParameter");
        assert!(
            answer.1["message"].as_str().unwrap().contains(problem),
            "{path}: {answer:?}"
        );
    }
    let answer = server
        .post_internal("/genesys/1/contact-center/agents/nobody/ready", &[])
        .await;
    assert_error(&answer, 404, "NotFound");
}
