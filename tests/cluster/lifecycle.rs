//! Nodes coming and going: a duplicate node id is refused, a bad store is refused at start, a killed node's
//! sessions end at once on the other nodes, a drained node answers OFFLINE and then exits, and a Redis outage
//! answers 503 and heals by itself.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::{
    cluster_options, get, internal, json, post_form, public, start_node, start_nodes,
};
use crate::redis_peer::{RedisServer, free_port};
use crate::server::Binary;

/// Waits (bounded) for the process to exit by itself; its exit status.
fn exit_status(node: &mut Binary) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = node.child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the node did not exit; log:\n{}", node.log());
}

/// Runs `gms serve` with `args` to its end (it must refuse to start); exit success and stderr.
fn refused(args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args([
            "serve",
            "--public-port",
            "0",
            "--internal-port",
            "0",
            "--ors-port",
            "0",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The `gms_resources_in_use` figure of `group` on `node`.
async fn in_use(node: &Binary, group: &str) -> u64 {
    let metrics = reqwest::get(format!("{}/metrics", internal(node)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("gms_resources_in_use{{group=\"{group}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|figure| figure.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"))
}

#[tokio::test]
async fn a_second_live_node_with_the_same_id_is_refused() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let _first = start_node(&redis, &options, dir.path(), "07");
    let mut second = Binary::start_with(
        Some(&options),
        &dir.path().join("other"),
        Path::new("."),
        &["--store", &redis.url(), "--node-id", "07"],
    );
    let status = exit_status(&mut second);
    assert!(!status.success());
    let log = second.log();
    assert!(log.contains("node id 07 is already taken"), "{log}");
}

#[tokio::test]
async fn a_bad_or_unreachable_store_is_refused_at_start() {
    let (ok, stderr) = refused(&["--store", "mysql://127.0.0.1/gms"]);
    assert!(!ok);
    assert!(
        stderr.contains("expected `embedded`, `redis://HOST:PORT[/DB]`"),
        "{stderr}"
    );
    let unreachable = format!("redis://127.0.0.1:{}", free_port());
    let (ok, stderr) = refused(&["--store", &unreachable]);
    assert!(!ok);
    assert!(stderr.contains("cannot open the store"), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
    // The option file's `[store] url` is read the same way.
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), &format!("[store]\nurl = {unreachable}\n"));
    let (ok, stderr) = refused(&["--config", options.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("cannot open the store {unreachable}")),
        "{stderr}"
    );
    let (ok, stderr) = refused(&["--node-id", "100"]);
    assert!(!ok);
    assert!(stderr.contains("--node-id"), "{stderr}");
}

#[tokio::test]
async fn a_killed_node_takes_its_sessions_and_their_bookings_with_it() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let mut nodes = start_nodes(&redis, &options, dir.path(), 2);
    let create = || {
        let url = format!(
            "{}/genesys/1/service/request-inbound-immediate",
            public(&nodes[1])
        );
        async move { post_form(&url, &[("_phone_number", "5551234")]).await }
    };
    let (status, asked) = create().await;
    assert_eq!(status, 200, "{asked}");
    let (status, swept) = create().await;
    assert_eq!(status, 200, "{swept}");
    assert_eq!(in_use(&nodes[0], "Dnis_Pool").await, 2);
    nodes[1].kill();

    // A request for a session of the dead node answers 404 at once, naming the node, and frees its number.
    let id = asked["_id"].as_str().unwrap();
    let (status, gone) = post_form(
        &format!("{}/genesys/1/service/{id}/cancel", public(&nodes[0])),
        &[],
    )
    .await;
    assert_eq!(status, 404, "{gone}");
    assert!(
        gone["message"].as_str().unwrap().contains("node 02"),
        "{gone}"
    );
    assert_eq!(in_use(&nodes[0], "Dnis_Pool").await, 1);
    // The other instance, never asked for, is ended by the live node once the dead one's registration lapses.
    let mut released = false;
    for _ in 0..300 {
        if in_use(&nodes[0], "Dnis_Pool").await == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(released, "the dead node's bookings are released");
    let other = swept["_id"].as_str().unwrap();
    let (status, _) = get(&format!("{}/genesys/1/service/{other}", public(&nodes[0]))).await;
    assert_eq!(status, 404);
}

/// A long-polling CometD client of `user` on `base` whose next connect will be held; returns its id.
async fn held_client(http: &reqwest::Client, base: &str) -> String {
    let url = format!("{base}/genesys/cometd");
    let replies: Value = http
        .post(&url)
        .header("gms_user", "dora")
        .json(&serde_json::json!([{"channel": "/meta/handshake", "version": "1.0"}]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = replies[0]["clientId"].as_str().unwrap().to_string();
    // The first connect returns at once.
    http.post(&url)
        .json(&serde_json::json!([{"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling"}]))
        .send()
        .await
        .unwrap();
    client
}

async fn drains(stop: impl AsyncFnOnce(&Binary)) {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let text = std::fs::read_to_string(&options)
        .unwrap()
        .replace("app_name = gms", "app_name = gms\ndrain_timeout = 2");
    std::fs::write(&options, text).unwrap();
    let mut node = start_node(&redis, &options, dir.path(), "01");
    let http = reqwest::Client::new();
    let client = held_client(&http, &public(&node)).await;
    let url = format!("{}/genesys/cometd", public(&node));
    let held = tokio::spawn({
        let http = http.clone();
        async move {
            http.post(&url)
                .json(&serde_json::json!([{"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling"}]))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    stop(&node).await;
    // The held poll is answered at once (well before its 30 s hold), telling the client to handshake again.
    let answer = tokio::time::timeout(Duration::from_secs(20), held)
        .await
        .expect("the held connect is answered during the drain")
        .unwrap();
    assert_eq!(answer[0]["advice"]["reconnect"], "handshake", "{answer}");
    // During the drain the Node API says OFFLINE, and requests are still served.
    let (status, offline) = get(&format!("{}/genesys/1/node", internal(&node))).await;
    assert_eq!(status, 503, "{offline}");
    assert_eq!(offline["status"], "OFFLINE", "{offline}");
    let text = reqwest::get(format!("{}/genesys/1/admin/node/status", public(&node)))
        .await
        .unwrap();
    assert_eq!(text.status(), 503);
    let (status, created) = post_form(
        &format!("{}/genesys/1/storage/60", public(&node)),
        &[("during", "drain")],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    // Then the process exits by itself, cleanly.
    let status = exit_status(&mut node);
    assert!(status.success(), "{status:?}\n{}", node.log());
}

#[tokio::test]
async fn changestatus_offline_drains_the_node_then_it_exits() {
    drains(async |node: &Binary| {
        let (status, answer) = json(
            reqwest::Client::new()
                .post(format!(
                    "{}/genesys/1/admin/node/changestatus/OFFLINE",
                    internal(node)
                ))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    })
    .await;
}

#[tokio::test]
async fn sigterm_drains_the_node_then_it_exits() {
    drains(async |node: &Binary| {
        let killed = Command::new("kill")
            .args(["-TERM", &node.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        // The Node API turns OFFLINE as soon as the signal is handled.
        for _ in 0..200 {
            let status = reqwest::get(format!("{}/genesys/1/node", internal(node)))
                .await
                .unwrap()
                .status();
            if status == 503 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the node never said OFFLINE");
    })
    .await;
}

#[tokio::test]
async fn a_redis_outage_answers_503_and_heals_without_losing_acknowledged_writes() {
    let mut redis = RedisServer::start_persistent();
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    let node = start_node(&redis, &options, dir.path(), "01");
    let base = public(&node);
    let write = |n: usize| {
        let url = format!("{base}/genesys/1/storage/300");
        async move { post_form(&url, &[("n", &n.to_string())]).await }
    };
    let mut acknowledged = Vec::new();
    let mut unavailable = 0;
    for n in 0..20 {
        let (status, body) = write(n).await;
        assert_eq!(status, 200, "{body}");
        acknowledged.push((n, body["id"].as_str().unwrap().to_string()));
    }
    redis.stop();
    for n in 20..25 {
        let (status, body) = write(n).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["exception"], "StoreUnavailable", "{body}");
        unavailable += 1;
    }
    let (status, health) = get(&format!("{}/genesys/1/node", internal(&node))).await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["exception"], "StoreUnavailable", "{health}");
    redis.resume();
    // Heals by itself: the first writes after the restart may still fail while the connection comes back.
    let mut n = 25;
    let mut healed = 0;
    while healed < 20 {
        assert!(n < 1000, "the node did not recover");
        let (status, body) = write(n).await;
        match status {
            200 => {
                healed += 1;
                acknowledged.push((n, body["id"].as_str().unwrap().to_string()));
            }
            503 => {
                assert_eq!(healed, 0, "a 503 after recovery: {body}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("{other}: {body}"),
        }
        n += 1;
    }
    assert_eq!(unavailable, 5);
    for (n, id) in &acknowledged {
        let (status, data) = get(&format!("{base}/genesys/1/storage/{id}")).await;
        assert_eq!(status, 200, "write {n} lost: {data}");
        assert_eq!(data["n"], n.to_string());
    }
    let (status, _) = get(&format!("{}/genesys/1/node", internal(&node))).await;
    assert_eq!(status, 200);
}
