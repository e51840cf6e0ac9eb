//! The BasicHTTP Event I/O Processor over real HTTP: a chart sends to a local listener (and sees the W3C form, a
//! `<content>` payload in the field `content`), sends to its own BasicHTTP URL and receives the event back over
//! HTTP, and gets `error.communication` for a dead target and for a send without a target; a session finds its
//! own BasicHTTP location in `_ioprocessors` and receives there, with `_event.raw`.

use std::sync::{Arc, Mutex};

use crate::server::{SAMPLE, TestServer};
use axum::body::Bytes;

const CHART: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" datamodel="ecmascript" initial="s">
  <datamodel><data id="peer"/><data id="self_base"/><data id="dead"/><data id="got" expr="''"/></datamodel>
  <state id="s">
    <onentry>
      <send event="hello" targetexpr="peer" type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor">
        <param name="who" expr="'chart'"/>
      </send>
      <send targetexpr="peer" type="basichttp"><content>some text</content></send>
      <send event="echo" targetexpr="self_base + _sessionid" type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor">
        <param name="n" expr="7"/>
      </send>
    </onentry>
    <transition event="echo" target="t"><assign location="got" expr="_event.data.n"/></transition>
  </state>
  <state id="t">
    <onentry>
      <send event="lost" targetexpr="dead" type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor"/>
    </onentry>
    <transition event="error.communication" target="v"/>
  </state>
  <state id="v">
    <onentry>
      <send event="nowhere" type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor"/>
    </onentry>
    <transition event="error.communication" target="u"/>
  </state>
  <state id="u"/>
</scxml>"#;

#[tokio::test]
async fn a_chart_sends_and_receives_over_basichttp() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = listener.local_addr().unwrap();
    let captured = seen.clone();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let captured = captured.clone();
        async move {
            captured
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            "ok"
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);

    let server = TestServer::start(SAMPLE).await;
    let path = server.config_path.parent().unwrap().join("http.scxml");
    std::fs::write(&path, CHART).unwrap();
    let (status, body) = server
        .send(
            server
                .http
                .post(server.internal_url("/scxml/session/start"))
                .json(&serde_json::json!({
                    "src": path.display().to_string(),
                    "peer": format!("http://{peer}/in"),
                    "self_base": format!("http://{}/scxml/basichttp/", server.internal),
                    "dead": format!("http://127.0.0.1:{dead_port}/"),
                })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap().to_string();
    // SELF is no session: that send fails, so post the echo event by hand to the real session id.
    let (status, _) = server
        .post_internal(
            &format!("/scxml/basichttp/{id}"),
            &[("_scxmleventname", "echo"), ("n", "7")],
        )
        .await;
    assert_eq!(status, 200);
    let mut state = serde_json::Value::Null;
    for _ in 0..300 {
        let (_, body) = server
            .post_internal(&format!("/scxml/session/{id}/query"), &[])
            .await;
        state = body;
        if state["states"] == serde_json::json!(["u"]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(state["states"], serde_json::json!(["u"]), "{state}");
    assert_eq!(state["data"]["got"], "7");
    // The two posts to the peer race each other.
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "_scxmleventname=hello&who=chart".to_string(),
            "content=some%20text".to_string(),
        ]
    );
    // Unknown sessions are 404 on the receiving end too.
    let (status, _) = server.post_internal("/scxml/basichttp/nope", &[]).await;
    assert_eq!(status, 404);
}

const SELF_ADDRESSED: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" datamodel="ecmascript" initial="s">
  <datamodel><data id="location" expr="''"/><data id="raw" expr="''"/><data id="n" expr="0"/></datamodel>
  <state id="s">
    <onentry>
      <assign location="location" expr="_ioprocessors['basichttp'].location"/>
      <send event="ping" targetexpr="_ioprocessors['http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor'].location"
            type="basichttp"><param name="n" expr="5"/></send>
    </onentry>
    <transition event="ping" target="t">
      <assign location="n" expr="_event.data.n"/>
      <assign location="raw" expr="_event.raw"/>
    </transition>
  </state>
  <state id="t"/>
</scxml>"#;

#[tokio::test]
async fn an_ors_session_finds_its_basichttp_location_in_ioprocessors() {
    let server = TestServer::start(SAMPLE).await;
    let path = server.config_path.parent().unwrap().join("self.scxml");
    std::fs::write(&path, SELF_ADDRESSED).unwrap();
    let (status, body) = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &path.display().to_string())],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap().to_string();
    let mut state = serde_json::Value::Null;
    // The event makes a real HTTP round trip: wait for it, bounded.
    for _ in 0..500 {
        let (_, body) = server
            .post_internal(&format!("/scxml/session/{id}/query"), &[])
            .await;
        if body["states"] == serde_json::json!(["t"]) {
            state = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        state["data"]["location"],
        format!("http://{}/scxml/basichttp/{id}", server.internal),
        "{state}"
    );
    assert_eq!(state["data"]["n"], "5", "{state}");
    assert!(
        state["data"]["raw"]
            .as_str()
            .unwrap()
            .starts_with(&format!("POST /scxml/basichttp/{id}")),
        "{state}"
    );
}
