//! The outbound sample flows through the public Service API: the app asks to be called, gets a `Message`, the
//! simulated contact center places the call and routes it when an agent is ready; a missing phone number is
//! refused.

mod common;
mod common_flows;

use common::{SAMPLE, TestServer, assert_error};
use common_flows::ended;

async fn server() -> TestServer {
    // Calls are answered at once, so the flow goes straight to routing.
    TestServer::start(&SAMPLE.replace("ewt = 60\n", "ewt = 60\nring_time = 0\n")).await
}

#[tokio::test]
async fn request_outbound_immediate_calls_the_customer_and_routes_the_call() {
    let server = server().await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-outbound-immediate",
            &[("_phone_number", "5557777")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["_action"], "Message");
    assert_eq!(reply["_text"], "You will be called shortly.");
    let id = reply["_id"].as_str().unwrap().to_string();
    let (status, _) = server
        .post_internal("/genesys/1/contact-center/agents/agent1/ready", &[])
        .await;
    assert_eq!(status, 200);
    assert!(
        ended(&server, &id).await,
        "the flow did not end after routing the call"
    );
}

#[tokio::test]
async fn request_outbound_immediate_without_a_number_is_refused() {
    let server = server().await;
    let answer = server
        .post_form("/genesys/1/service/request-outbound-immediate", &[])
        .await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("missing_phone_number")
    );
}
