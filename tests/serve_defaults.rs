//! `gms serve` with no option file, started outside the repository: the built-in sample options, flows and DFM
//! files serve a sample flow end to end, and no DFM file is reported missing.

mod common;

use common::Binary;

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
