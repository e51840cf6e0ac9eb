//! The ORS dialect's `error.*` fields: an error raised in a document written for ORS carries `description`,
//! `document`, `element` and `linenumber`; a plain W3C document keeps W3C's event data.

use crate::server::{SAMPLE, TestServer};

const FAILING: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="s">
  <datamodel><data id="error" expr="null"/></datamodel>
  <state id="s">
    <transition event="go">
      <assign location="_data.x" expr="no.such.thing"/>
    </transition>
    <transition event="error.execution">
      <assign location="_data.error" expr="_event.data"/>
    </transition>
  </state>
</scxml>"#;

#[tokio::test]
async fn an_ors_error_names_its_document_element_and_line() {
    let server = TestServer::start(SAMPLE).await;
    let path = server.config_path.parent().unwrap().join("failing.scxml");
    std::fs::write(&path, FAILING).unwrap();
    let src = path.display().to_string();
    let (status, body) = server
        .post_internal("/scxml/session/start", &[("src", &src)])
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap().to_string();
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/event/go"), &[])
        .await;
    assert_eq!(status, 200);
    // The query is queued behind the event, so it sees the handler's work.
    let (_, state) = server
        .post_internal(&format!("/scxml/session/{id}/query"), &[])
        .await;
    let error = state["data"]["error"].clone();
    assert_eq!(error["element"], "assign", "{error}");
    assert_eq!(error["linenumber"], 6, "{error}");
    assert_eq!(error["document"], src.as_str(), "{error}");
    assert!(
        error["description"].as_str().unwrap().contains("no"),
        "{error}"
    );
}
