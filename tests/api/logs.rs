//! Logs of the real binary: JSON lines, one request line per request with its parameters, `XXX_*` parameters
//! filtered out and `MMM_*` ones masked.

use crate::server::Binary;

#[tokio::test]
async fn secret_parameters_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, crate::server::SAMPLE).unwrap();
    let server = Binary::start(&config, &dir.path().join("data"));
    let http = reqwest::Client::new();
    let form = [
        ("_phone_number", "5550100"),
        ("XXX_secret", "hunter2-password"),
        ("MMM_card", "4111111111111111"),
        ("visible", "plain-value"),
    ];
    let reply = http
        .post(format!(
            "http://{}/genesys/1/service/request-interaction",
            server.public
        ))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let stored = http
        .post(format!(
            "http://{}/genesys/1/storage/30?XXX_token=query-secret&MMM_pin=9876",
            server.public
        ))
        .form(&[("XXX_key", "body-secret"), ("note", "kept")])
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    // The request line is written after the answer; wait until both lines are there.
    let mut log = String::new();
    for _ in 0..200 {
        log = server.log();
        if log.matches("\"target\":\"gms::request\"").count() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    for secret in [
        "hunter2-password",
        "4111111111111111",
        "query-secret",
        "9876",
        "body-secret",
        "XXX_",
    ] {
        assert!(
            !log.contains(secret),
            "`{secret}` leaked into the log:\n{log}"
        );
    }
    assert!(log.contains("MMM_card=MMM"), "{log}");
    assert!(log.contains("visible=plain-value"), "{log}");
    assert!(log.contains("note=kept"), "{log}");
    let request_line = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|json| json["target"] == "gms::request")
        .expect("a JSON request line");
    assert_eq!(request_line["fields"]["method"], "POST");
    assert_eq!(request_line["fields"]["status"], 200);
}
