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

/// The text log (the default format): a value with a line break and a terminal escape, sent by a client, stays on
/// its own log line, escaped, and forges no line.
#[tokio::test]
async fn text_logs_escape_control_characters_from_requests() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, crate::server::SAMPLE).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args([
            "serve",
            "--public-port",
            "0",
            "--internal-port",
            "0",
            "--ors-port",
            "0",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (ready, public) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let kept = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("gms listening")
                && let Some(address) = line
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix("public="))
            {
                let _ = ready.send(address.to_string());
            }
            kept.lock().unwrap().push(line);
        }
    });
    let public = public
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the server reports its listeners");
    let forged = "x\n2026-12-04T00:00:00Z ERROR gms::forged: INJECTED \u{1b}[31m";
    let stored = reqwest::Client::new()
        .post(format!("http://{public}/genesys/1/storage/60"))
        .form(&[("a", "1"), ("b", forged)])
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    // The request line is written after the answer.
    let mut line = None;
    for _ in 0..200 {
        line = lines
            .lock()
            .unwrap()
            .iter()
            .find(|line| line.contains("INJECTED"))
            .cloned();
        if line.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the request is logged");
    assert!(
        line.contains("b=x\\n2026-12-04T00:00:00Z ERROR gms::forged: INJECTED \\u{1b}[31m"),
        "{line}"
    );
    let all = lines.lock().unwrap();
    assert!(
        !all.iter()
            .any(|line| line.starts_with("2026-12-04T00:00:00Z")),
        "a forged line: {all:?}"
    );
    assert!(!all.iter().any(|line| line.contains('\u{1b}')), "{all:?}");
}
