//! The ORS HTTP interface of `gms` over real HTTP: start (form and JSON), event, request, query, terminate;
//! the ORS dialect; DFM actions; and the bad inputs (broken documents, unknown sessions, flows that never
//! answer, unknown DFM actions).

use crate::server::{SAMPLE, TestServer, assert_error};

const ECHO: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws"
       xmlns:service="http://www.genesyslab.com/modules/dfm/gsgBasedServices/v1"
       _type="serviceprocess" initial="idle">
  <datamodel>
    <data id="greeting" expr="'hello'"/>
    <data id="count" expr="0"/>
    <data id="last" expr="''"/>
  </datamodel>
  <state id="idle">
    <transition event="hello">
      <assign location="_data.count" expr="_data.count + 1"/>
      <ws:response requestid="_event.sendid" type="positive">
        <param name="greeting" expr="_data.greeting"/>
        <param name="count" expr="_data.count"/>
        <param name="who" expr="_event.data.who"/>
      </ws:response>
    </transition>
    <transition event="refuse">
      <ws:response requestid="_event.sendid" type="negative" resultcode="'not_now'"/>
    </transition>
    <transition event="note">
      <assign location="_data.last" expr="_event.data.text"/>
    </transition>
    <transition event="later">
      <assign location="_data.last" expr="_event.sendid"/>
      <send event="'tick'" delay="'50ms'"/>
    </transition>
    <transition event="tick">
      <ws:response requestid="_data.last" type="positive"><param name="ticked" expr="true"/></ws:response>
    </transition>
    <transition event="bad_action">
      <assign location="_data.last" expr="_event.sendid"/>
      <service:no-such-action x="1"/>
    </transition>
    <transition event="error.gsgBasedServices.no-such-action">
      <ws:response requestid="_data.last" type="positive"><param name="error" expr="_event.name"/></ws:response>
    </transition>
    <transition event="silent"/>
    <transition event="stop" target="end"/>
  </state>
  <final id="end"/>
</scxml>"#;

async fn server_with(chart: &str) -> (TestServer, String) {
    let options = format!("{SAMPLE}\n[ors]\nrequest_timeout = 1\n");
    let server = TestServer::start(&options).await;
    let path = server.config_path.parent().unwrap().join("echo.scxml");
    std::fs::write(&path, chart).unwrap();
    (server, path.display().to_string())
}

#[tokio::test]
async fn a_session_is_started_asked_told_queried_and_terminated() {
    let (server, src) = server_with(ECHO).await;
    let (status, body) = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &src), ("greeting", "bonjour")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap().to_string();

    let (status, body) = server
        .post_internal(
            &format!("/scxml/session/{id}/request/hello"),
            &[("who", "ann")],
        )
        .await;
    assert_eq!(
        (status, &body),
        (
            200,
            &serde_json::json!({"greeting": "bonjour", "count": 1, "who": "ann"})
        )
    );

    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/request/refuse"), &[])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["exception"], "NegativeResponse");
    assert_eq!(body["resultcode"], "not_now");

    let (status, _) = server
        .post_internal(
            &format!("/scxml/session/{id}/event/note"),
            &[("text", "hi")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/query"), &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["states"], serde_json::json!(["idle"]));
    assert_eq!(body["data"]["last"], "hi");

    // A delayed send fires on the worker's clock.
    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/request/later"), &[])
        .await;
    assert_eq!((status, &body["ticked"]), (200, &serde_json::json!(true)));

    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 200);
    let answer = server
        .post_internal(&format!("/scxml/session/{id}/request/hello"), &[])
        .await;
    assert_error(&answer, 404, "NotFound");
    let answer = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_error(&answer, 404, "NotFound");
}

#[tokio::test]
async fn start_takes_a_json_body_too() {
    let (server, src) = server_with(ECHO).await;
    let (status, body) = server
        .send(
            server
                .http
                .post(server.internal_url("/scxml/session/start"))
                .json(&serde_json::json!({"src": src, "count": 41})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap();
    let (_, body) = server
        .post_internal(&format!("/scxml/session/{id}/request/hello"), &[])
        .await;
    assert_eq!(body["count"], 42);
}

#[tokio::test]
async fn bad_documents_and_missing_src_are_400_with_positions() {
    let (server, _) = server_with(ECHO).await;
    let dir = server.config_path.parent().unwrap();
    let broken = dir.join("broken.scxml");
    std::fs::write(
        &broken,
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n  <state id=\"a\">\n    <transition target=\"nowhere\"/>\n  </state>\n</scxml>",
    )
    .unwrap();
    let answer = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &broken.display().to_string())],
        )
        .await;
    assert_error(&answer, 400, "InvalidParameter");
    let message = answer.1["message"].as_str().unwrap();
    assert!(message.contains("broken.scxml:3:"), "{message}");

    let answer = server
        .post_internal("/scxml/session/start", &[("src", "no/such/file.scxml")])
        .await;
    assert_error(&answer, 400, "InvalidParameter");
    let answer = server.post_internal("/scxml/session/start", &[]).await;
    assert_error(&answer, 400, "InvalidParameter");
    let answer = server
        .post_internal(
            "/scxml/session/start",
            &[("src", "http://127.0.0.1:1/flow.scxml")],
        )
        .await;
    assert_error(&answer, 400, "InvalidParameter");
}

#[tokio::test]
async fn unknown_sessions_are_404() {
    let (server, _) = server_with(ECHO).await;
    for path in [
        "/scxml/session/nope/event/x",
        "/scxml/session/nope/request/x",
        "/scxml/session/nope/terminate",
        "/scxml/session/nope/query",
    ] {
        let answer = server.post_internal(path, &[]).await;
        assert_error(&answer, 404, "NotFound");
    }
}

#[tokio::test]
async fn a_flow_that_does_not_answer_gets_504_and_a_finished_one_404() {
    let (server, src) = server_with(ECHO).await;
    let (_, body) = server
        .post_internal("/scxml/session/start", &[("src", &src)])
        .await;
    let id = body["sessionid"].as_str().unwrap().to_string();
    let answer = server
        .post_internal(&format!("/scxml/session/{id}/request/silent"), &[])
        .await;
    assert_error(&answer, 504, "Timeout");
    // A request that ends the flow without an answer fails at once.
    let answer = server
        .post_internal(&format!("/scxml/session/{id}/request/stop"), &[])
        .await;
    assert_error(&answer, 404, "NotFound");
}

#[tokio::test]
async fn an_unknown_dfm_action_completes_with_its_error_event() {
    let (server, src) = server_with(ECHO).await;
    let (_, body) = server
        .post_internal("/scxml/session/start", &[("src", &src)])
        .await;
    let id = body["sessionid"].as_str().unwrap().to_string();
    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/request/bad_action"), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error"], "error.gsgBasedServices.no-such-action");
    // The session is still there.
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/request/hello"), &[])
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn starting_beyond_the_session_cap_is_a_clear_503() {
    let server = TestServer::start(&format!("{SAMPLE}\n[ors]\nmax_sessions = 1\n")).await;
    let path = server.config_path.parent().unwrap().join("echo.scxml");
    std::fs::write(&path, ECHO).unwrap();
    let src = path.display().to_string();
    let (status, body) = server
        .post_internal("/scxml/session/start", &[("src", &src)])
        .await;
    assert_eq!(status, 200, "{body}");
    let answer = server
        .post_internal("/scxml/session/start", &[("src", &src)])
        .await;
    assert_error(&answer, 503, "TooManySessions");
    // Once the first ends, there is room again.
    let id = body["sessionid"].as_str().unwrap();
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post_internal("/scxml/session/start", &[("src", &src)])
        .await;
    assert_eq!(status, 200);
}
