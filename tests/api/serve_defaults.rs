//! `gms serve` with no option file, started outside the repository: the built-in sample options, flows and DFM
//! files serve a sample flow end to end, and no DFM file is reported missing.

use crate::server::Binary;

#[tokio::test]
async fn serve_with_no_file_runs_the_sample_flows_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start_in(None, &dir.path().join("data"), dir.path());
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "http://{}/genesys/1/service/request-inbound-immediate",
            server.public
        ))
        .form(&[("_phone_number", "5551234")])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let reply: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{reply}\n{}", server.log());
    assert_eq!(reply["_action"], "DialNumber", "{reply}");
    assert!(
        reply["_tel_url"].as_str().unwrap().starts_with("tel:"),
        "{reply}"
    );
    let log = server.log();
    assert!(!log.contains("not found"), "{log}");
}

#[tokio::test]
async fn the_ors_port_serves_the_ors_http_interface_only() {
    let dir = tempfile::tempdir().unwrap();
    // `scxml/` under the working directory is a document root by default.
    std::fs::create_dir(dir.path().join("scxml")).unwrap();
    let chart = dir.path().join("scxml/wait.scxml");
    std::fs::write(
        &chart,
        r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" initial="waiting">
             <datamodel><data id="customer" expr="''"/></datamodel>
             <state id="waiting"><transition event="stop" target="done"/></state>
             <final id="done"/>
           </scxml>"#,
    )
    .unwrap();
    let server = Binary::start_in(None, &dir.path().join("data"), dir.path());
    let ors = server.ors.expect("the sample options open ORS's port");
    assert!(ors.ip().is_loopback(), "{ors}");
    assert_ne!(ors, server.internal);
    let client = reqwest::Client::new();
    let started: serde_json::Value = client
        .post(format!("http://{ors}/scxml/session/start"))
        .form(&[("src", chart.to_str().unwrap()), ("customer", "ann")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["sessionid"].as_str().expect("a session id");
    // The same session through the internal listener: one runtime behind both.
    let query: serde_json::Value = client
        .get(format!(
            "http://{}/scxml/session/{id}/query",
            server.internal
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["data"]["customer"], "ann", "{query}");
    assert_eq!(query["states"], serde_json::json!(["waiting"]), "{query}");
    let event = client
        .post(format!("http://{ors}/scxml/session/{id}/event/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 200);
    // Only the ORS interface is there: the GMS API answers 404 with a JSON body.
    let other = client
        .post(format!(
            "http://{ors}/genesys/1/service/request-interaction"
        ))
        .form(&[("_phone_number", "5551234")])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let body: serde_json::Value = other.json().await.unwrap();
    assert_eq!(body["exception"], "NotFound", "{body}");
}
