//! Hot reload: the option file changes while requests run; no request fails, new bookings use the new group, and a
//! broken file keeps the previous configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::server::TestServer;

fn options(entries: &str) -> String {
    let base = crate::server::SAMPLE
        .split("[Dnis_Pool]")
        .next()
        .unwrap()
        .to_string();
    format!("{base}[Dnis_Pool]\n{entries}")
}

#[tokio::test]
async fn resource_group_changes_apply_without_failing_a_request() {
    let server = Arc::new(TestServer::start(&options("old1 = 100-old\n")).await);
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..3 {
        let server = server.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (status, reply) = server
                    .post_form(
                        "/genesys/1/service/request-interaction",
                        &[("_phone_number", "1")],
                    )
                    .await;
                answers.push((
                    status,
                    reply["_access_number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ));
                if answers.len() > 20_000 {
                    break;
                }
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::fs::write(
        &server.config_path,
        options("new1 = 200-new\nnew2 = 201-new\n"),
    )
    .unwrap();
    let mut switched = false;
    for _ in 0..100 {
        let (_, reply) = server
            .post_form(
                "/genesys/1/service/request-interaction",
                &[("_phone_number", "2")],
            )
            .await;
        if reply["_access_number"]
            .as_str()
            .is_some_and(|n| n.ends_with("-new"))
        {
            switched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(switched, "the new group was never used");
    // After the swap every new booking uses the new group.
    for _ in 0..10 {
        let (status, reply) = server
            .post_form(
                "/genesys/1/service/request-interaction",
                &[("_phone_number", "3")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            reply["_access_number"].as_str().unwrap().ends_with("-new"),
            "{reply}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for worker in workers {
        for (status, number) in worker.await.unwrap() {
            assert_eq!(status, 200, "a request failed during the reload");
            assert!(number == "100-old" || number.ends_with("-new"), "{number}");
            total += 1;
        }
    }
    assert!(total > 0);
}

#[tokio::test]
async fn a_broken_file_keeps_the_previous_configuration() {
    let server = TestServer::start(&options("old1 = 100-old\n")).await;
    std::fs::write(
        &server.config_path,
        options("old1 = 100-old\n_booking_expiration_time = never\n"),
    )
    .unwrap();
    let error = server.state.config.reload().unwrap_err().to_string();
    assert!(
        error.contains("gms.ini:")
            && error.contains("`_booking_expiration_time` must be an integer"),
        "{error}"
    );
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "1")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["_access_number"], "100-old");
}

#[tokio::test]
async fn sighup_rereads_the_file_even_when_its_time_and_size_did_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, crate::server::SAMPLE).unwrap();
    let modified = std::fs::metadata(&config).unwrap().modified().unwrap();
    let server = crate::server::Binary::start(&config, &dir.path().join("data"));
    // Same length, same modification time: only the signal can reveal the change.
    let changed = crate::server::SAMPLE.replace("call-me", "ring-me");
    assert_eq!(changed.len(), crate::server::SAMPLE.len());
    std::fs::write(&config, &changed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&config)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!(
        "http://{}/genesys/1/service/request-interaction",
        server.public
    );
    let number = |reply: serde_json::Value| {
        reply["_access_number"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let before = number(
        http.post(&url)
            .form(&[("_phone_number", "1")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    assert!(before.contains("call-me"), "{before}");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut after = String::new();
    for _ in 0..100 {
        let reply = http
            .post(&url)
            .form(&[("_phone_number", "2")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        after = number(reply);
        if after.contains("ring-me") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        after.contains("ring-me"),
        "SIGHUP did not reload: {after}\n{}",
        server.log()
    );
}
