//! `POST /scxml/session/start` with `idealtime`: the session starts at that time (ms since the epoch), not
//! before; terminating it first cancels the start; a bad value is a clear 400.

use crate::server::{SAMPLE, TestServer, assert_error};

const CHART: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="s">
  <state id="s"/>
</scxml>"#;

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn server() -> (TestServer, String) {
    let server = TestServer::start(SAMPLE).await;
    let path = server.config_path.parent().unwrap().join("later.scxml");
    std::fs::write(&path, CHART).unwrap();
    (server, path.display().to_string())
}

#[tokio::test]
async fn a_session_starts_at_its_idealtime() {
    let (server, src) = server().await;
    let idealtime = (epoch_ms() + 400).to_string();
    let (status, body) = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &src), ("idealtime", &idealtime)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap().to_string();
    let query = format!("/scxml/session/{id}/query");
    let (status, _) = server.post_internal(&query, &[]).await;
    let asked_at = epoch_ms();
    if asked_at < idealtime.parse::<u64>().unwrap() {
        assert_eq!(status, 404, "a session is not there before its idealtime");
    }
    // Bounded wait for the start.
    let mut state = serde_json::Value::Null;
    for _ in 0..500 {
        let (status, body) = server.post_internal(&query, &[]).await;
        if status == 200 {
            state = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(state["states"], serde_json::json!(["s"]), "{state}");
    assert!(epoch_ms() >= idealtime.parse::<u64>().unwrap());
}

#[tokio::test]
async fn terminating_before_the_idealtime_cancels_the_start() {
    let (server, src) = server().await;
    let idealtime = (epoch_ms() + 60_000).to_string();
    let (_, body) = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &src), ("idealtime", &idealtime)],
        )
        .await;
    let id = body["sessionid"].as_str().unwrap().to_string();
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/event/hello"), &[])
        .await;
    assert_eq!(
        status, 404,
        "events do not reach a session before it starts"
    );
    let (status, body) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_past_idealtime_starts_at_once_and_a_bad_one_is_400() {
    let (server, src) = server().await;
    let (status, body) = server
        .post_internal("/scxml/session/start", &[("src", &src), ("idealtime", "1")])
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap();
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/query"), &[])
        .await;
    assert_eq!(status, 200);
    let answer = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &src), ("idealtime", "tomorrow")],
        )
        .await;
    assert_error(&answer, 400, "InvalidParameter");
    assert!(answer.1["message"].as_str().unwrap().contains("idealtime"));
}
