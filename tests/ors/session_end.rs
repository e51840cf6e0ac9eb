//! However a session ends, nothing it asked the contact center for stays behind: a session terminated while its
//! `queue:submit` waits for an agent leaves no waiting submit (the chart itself withdraws nothing).

use crate::server::{SAMPLE, TestServer};

const QUEUED: &str = r#"<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:queue="http://www.genesyslab.com/modules/queue" initial="s">
  <datamodel><data id="reqid" expr="''"/></datamodel>
  <state id="s">
    <onentry>
      <queue:submit requestid="_data.reqid" priority="1" timeout="300">
        <queue:targets type="agentgroup"><queue:target name="'Sales@StatServer.GA'"/></queue:targets>
      </queue:submit>
    </onentry>
  </state>
</scxml>"#;

async fn waiting(server: &TestServer) -> u64 {
    let snapshot: serde_json::Value = server
        .http
        .get(server.internal_url("/genesys/1/contact-center"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    snapshot["waiting"].as_u64().unwrap()
}

#[tokio::test]
async fn a_terminated_session_leaves_no_waiting_submit() {
    let server = TestServer::start(SAMPLE).await;
    let path = server.config_path.parent().unwrap().join("queued.scxml");
    std::fs::write(&path, QUEUED).unwrap();
    let (status, body) = server
        .post_internal(
            "/scxml/session/start",
            &[("src", &path.display().to_string())],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["sessionid"].as_str().unwrap().to_string();
    // The submit is made while the session starts; wait (bounded) until the contact center has it.
    let mut queued = 0;
    for _ in 0..500 {
        queued = waiting(&server).await;
        if queued == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(queued, 1, "no agent is ready: the submit waits");
    let (status, _) = server
        .post_internal(&format!("/scxml/session/{id}/terminate"), &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        waiting(&server).await,
        0,
        "the ended session's submit was withdrawn"
    );
}
