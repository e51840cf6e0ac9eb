//! `type=ors` services over the public Service API: a flow that never answers `gms.start` (and the number it
//! booked meanwhile released), one that has no transition for it, a flow that refuses, a request the flow does
//! not take, requests after the flow has ended, the TTL ending the session (in real time, and on one virtual time
//! with the service's record when the clock jumps), and a broken `service` document. The release when a sample
//! flow ends by cancel or TTL is in `tests/flows/release.rs`.

use crate::sample_flows::{PATIENCE, POOL, STEP, ended, in_use};
use crate::server::{SAMPLE, TestServer, assert_error};

/// Takes `gms.start` and never answers it.
const SILENT: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="s">
  <state id="s"><transition event="gms.start"/><transition event="quit" target="end"/></state>
  <final id="end"/>
</scxml>"#;

/// Books an access number for itself on `gms.start` (as request-inbound-immediate does; for ten minutes, so only a
/// release frees it within the test) and never answers.
const BOOKING_SILENT: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" datamodel="ecmascript"
       xmlns:ws="http://www.genesyslab.com/modules/ws"
       xmlns:service="http://www.genesyslab.com/modules/dfm/gsgBasedServices/v1" initial="s">
  <state id="s">
    <transition event="gms.start">
      <service:request-access _id="_sessionid" _resource_group="'Dnis_Pool'" _booking_expiration_timeout="600"/>
    </transition>
    <transition event="gsgBasedServices.request-access.done"/>
  </state>
</scxml>"#;

/// Has no transition for `gms.start` at all.
const DEAF: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="s">
  <state id="s"><transition event="quit" target="end"/></state>
  <final id="end"/>
</scxml>"#;

const REFUSING: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="s">
  <state id="s">
    <transition event="gms.start">
      <ws:response requestid="_event.sendid" type="negative" resultcode="'closed'"/>
    </transition>
  </state>
</scxml>"#;

const ANSWERING: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="s">
  <datamodel><data id="_ttl" expr="'30'"/></datamodel>
  <state id="s">
    <transition event="gms.start">
      <ws:response requestid="_event.sendid" type="positive">
        <param name="_action" expr="'Message'"/><param name="_text" expr="'ttl ' + _data._ttl"/>
      </ws:response>
    </transition>
    <transition event="bye" target="end">
      <ws:response requestid="_event.sendid" type="positive"/>
    </transition>
  </state>
  <final id="end"/>
</scxml>"#;

async fn server() -> TestServer {
    let options = format!(
        "{SAMPLE}\n[ors]\nrequest_timeout = 1\n\n[service.silent]\ntype = ors\nservice = silent.scxml\n\n\
         [service.refusing]\ntype = ors\nservice = refusing.scxml\n\n[service.answering]\ntype = ors\n\
         service = answering.scxml\nttl = 1\n\n[service.broken]\ntype = ors\nservice = broken.scxml\n\n\
         [service.deaf]\ntype = ors\nservice = deaf.scxml\n\n[service.booking-silent]\ntype = ors\n\
         service = booking-silent.scxml\n\n[service.answering-long]\ntype = ors\n\
         service = answering.scxml\nttl = 600\n"
    );
    let server = TestServer::start(&options).await;
    let dir = server.config_path.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("silent.scxml"), SILENT).unwrap();
    std::fs::write(dir.join("refusing.scxml"), REFUSING).unwrap();
    std::fs::write(dir.join("deaf.scxml"), DEAF).unwrap();
    std::fs::write(dir.join("booking-silent.scxml"), BOOKING_SILENT).unwrap();
    std::fs::write(dir.join("answering.scxml"), ANSWERING).unwrap();
    std::fs::write(
        dir.join("broken.scxml"),
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\">\n<state id=\"a\"></scxml>",
    )
    .unwrap();
    server
}

#[tokio::test]
async fn a_flow_that_never_answers_gms_start_is_a_clear_error() {
    let server = server().await;
    let answer = server.post_form("/genesys/1/service/silent", &[]).await;
    assert_error(&answer, 504, "Timeout");
    assert!(
        answer.1["message"].as_str().unwrap().contains("gms.start"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_flow_that_refuses_is_a_clear_error() {
    let server = server().await;
    let answer = server.post_form("/genesys/1/service/refusing", &[]).await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"].as_str().unwrap().contains("closed"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_broken_service_document_names_its_position() {
    let server = server().await;
    // The app is not at fault: the configured flow is, so the answer is a backend failure. The internal listener
    // names the position; the public one names no file, and gives a request id the log has the detail under.
    let answer = server.post_internal("/genesys/1/service/broken", &[]).await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("broken.scxml:"),
        "{answer:?}"
    );
    let public = server.post_form("/genesys/1/service/broken", &[]).await;
    assert_error(&public, 502, "BackendUnavailable");
    let message = public.1["message"].as_str().unwrap();
    assert!(!message.contains("scxml"), "{public:?}");
    assert!(message.contains("could not be loaded"), "{public:?}");
    let request_id = public.1["requestId"].as_str().unwrap();
    assert!(message.contains(request_id), "{public:?}");
}

#[tokio::test]
async fn requests_after_the_flow_ended_are_404_and_the_ttl_ends_the_session() {
    let server = server().await;
    let (status, reply) = server.post_form("/genesys/1/service/answering", &[]).await;
    assert_eq!(status, 200, "{reply}");
    // The section's ttl reaches the flow as `_ttl`.
    assert_eq!(reply["_text"], "ttl 1");
    let id = reply["_id"].as_str().unwrap().to_string();
    let (status, _) = server
        .post_form(&format!("/genesys/1/service/{id}/request/bye"), &[])
        .await;
    assert_eq!(status, 200);
    let answer = server
        .post_form(&format!("/genesys/1/service/{id}/bye"), &[])
        .await;
    assert_error(&answer, 404, "NotFound");

    // A second instance is ended by its TTL (one second).
    let (_, reply) = server.post_form("/genesys/1/service/answering", &[]).await;
    let id = reply["_id"].as_str().unwrap().to_string();
    let gone = ended(&server, &id).await;
    assert!(gone, "the session outlived its TTL");
}

#[tokio::test]
async fn the_session_ttl_and_the_service_expiry_run_on_one_clock() {
    let server = server().await;
    let (status, reply) = server
        .post_form("/genesys/1/service/answering-long", &[])
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    let (_, record) = server.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(record["_ttl"], 600, "{record}");
    // Nine minutes later both are still there, and the record counts the same time the flow does.
    server.advance(std::time::Duration::from_secs(540));
    let (status, record) = server.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(
        (status, record["_ttl"].as_u64()),
        (200, Some(60)),
        "{record}"
    );
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/query"), &[])
        .await;
    assert_eq!(status, 200);
    // Past the TTL, without waiting ten minutes: the session ends on the same clock as the record.
    server.advance(std::time::Duration::from_secs(61));
    let gone = ended(&server, &id).await;
    assert!(gone, "the session outlived its TTL on the server's clock");
    assert_error(
        &server.get(&format!("/genesys/1/service/{id}")).await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn a_flow_without_a_gms_start_transition_is_refused_at_once() {
    let server = server().await;
    let answer = server.post_form("/genesys/1/service/deaf", &[]).await;
    assert_error(&answer, 502, "BackendUnavailable");
    let message = answer.1["message"].as_str().unwrap();
    assert!(
        message.contains("no transition for request `gms.start`"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_request_the_flow_does_not_take_is_refused_at_once() {
    // A request timeout far longer than the test: only the refusal can end the wait.
    let options = format!(
        "{SAMPLE}\n[ors]\nrequest_timeout = 600\n\n[service.answering]\ntype = ors\nservice = answering.scxml\n"
    );
    let server = TestServer::start(&options).await;
    let dir = server.config_path.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("answering.scxml"), ANSWERING).unwrap();
    let (status, reply) = server.post_form("/genesys/1/service/answering", &[]).await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    let answer = server
        .post_form(&format!("/genesys/1/service/{id}/status"), &[])
        .await;
    assert_error(&answer, 409, "RequestNotHandled");
    assert!(
        answer.1["message"].as_str().unwrap().contains("`status`"),
        "{answer:?}"
    );
    // The same over the ORS HTTP interface, and the session goes on.
    let answer = server
        .post_internal(&format!("/scxml/session/{id}/request/status"), &[])
        .await;
    assert_error(&answer, 409, "RequestNotHandled");
    let (status, _) = server
        .post_form(&format!("/genesys/1/service/{id}/bye"), &[])
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_number_booked_by_a_flow_that_never_answers_gms_start_is_released() {
    let server = server().await;
    let create = server.post_form("/genesys/1/service/booking-silent", &[]);
    tokio::pin!(create);
    // While GMS waits for the answer, the flow's request-access books a number.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut booked = false;
    let answer = loop {
        tokio::select! {
            answer = &mut create => break answer,
            _ = tokio::time::sleep(STEP) => {
                booked |= in_use(&server, POOL).await == 1;
                assert!(tokio::time::Instant::now() < deadline, "create never answered");
            }
        }
    };
    assert_error(&answer, 504, "Timeout");
    assert!(booked, "the flow booked no number before the timeout");
    // The failed create lets go of it.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while in_use(&server, POOL).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the number stayed booked"
        );
        tokio::time::sleep(STEP).await;
    }
}
