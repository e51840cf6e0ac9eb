//! The cluster as `scripts/cluster` starts it (the command README shows): `redis-server`, three nodes and Debian's
//! Apache (`mod_proxy_balancer`, sticky on `JSESSIONID`, `mod_proxy_hcheck` on the node status) in front. The
//! sample client scripts and the npm `cometd` client run through the balancer; the node holding the CometD client
//! is killed with `kill -9` mid-run and the clients carry on (the CometD client handshakes again on another node);
//! another node is drained and no request fails.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{cluster_options, json};

/// One node as the script prints it.
struct Node {
    internal: String,
    pid: u32,
}

/// `scripts/cluster` running; SIGTERM on drop.
struct Cluster {
    script: Child,
    balancer: String,
    nodes: Vec<Node>,
    output: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Cluster {
    fn start(options: &Path) -> Cluster {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut script = Command::new(root.join("scripts/cluster"))
            .args(["--port", "0", "--config"])
            .arg(options)
            .env("GMS", env!("CARGO_BIN_EXE_gms"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("scripts/cluster runs");
        let output = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (ready, lines) = std::sync::mpsc::channel();
        let stdout = script.stdout.take().unwrap();
        let kept = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = ready.send(line);
            }
        });
        let mut nodes = Vec::new();
        let balancer = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(120))
                .expect("scripts/cluster prints the balancer's URL");
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["node", _, "public", _, "internal", internal, "pid", pid] = words[..] {
                nodes.push(Node {
                    internal: internal.to_string(),
                    pid: pid.parse().unwrap(),
                });
            }
            if let Some(url) = line.strip_prefix("gms cluster: load balancer ") {
                break url
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string();
            }
        };
        assert_eq!(nodes.len(), 3);
        Cluster {
            script,
            balancer,
            nodes,
            output,
        }
    }

    fn kill_node(&self, index: usize) {
        let status = Command::new("kill")
            .args(["-9", &self.nodes[index].pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Stops the script with SIGTERM and waits (bounded) for it to stop everything.
    fn stop(&mut self) {
        if self.script.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.script.id().to_string()])
            .status();
        for _ in 0..600 {
            if self.script.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.script.kill();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `samples/<flow>.py` with the balancer as the public API and node 01 (flows and contact center) as the
/// internal one.
async fn play(cluster: &Cluster, flow: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = tokio::process::Command::new("python3");
    command
        .current_dir(root.join("samples"))
        .arg(format!("{flow}.py"))
        .env("GMS_PUBLIC", &cluster.balancer)
        .env("GMS_INTERNAL", &cluster.nodes[0].internal)
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("{flow}.py did not finish"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{flow}.py failed through the balancer:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" ended\n"), "{flow}.py:\n{stdout}");
}

/// Starts the npm CometD client (long-polling) as user `erin` on the balancer; its output lines arrive on the
/// receiver, read on a task of their own so that waiting for one can time out safely.
fn npm_client(
    balancer: &str,
) -> (
    tokio::process::Child,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use tokio::io::AsyncBufReadExt;
    let npm = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/cometd-npm");
    let mut client = tokio::process::Command::new("node")
        .current_dir(&npm)
        .arg("interop.mjs")
        .arg(format!("{balancer}/genesys/cometd"))
        .arg("erin")
        .env("COMETD_TRANSPORT", "long-polling")
        // It stays until the test ends (killed on drop).
        .env("COMETD_NOTIFICATIONS", "1000")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (scripts/test installs the npm client)");
    let mut reader = tokio::io::BufReader::new(client.stdout.take().unwrap()).lines();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = reader.next_line().await {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    (client, receiver)
}

/// Storage writes and reads through the balancer, one after another, until `stop`; counts the failures and
/// when they happened.
struct Load {
    done: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failed: Arc<std::sync::Mutex<Vec<(Instant, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(balancer: &str) -> Load {
        let done = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = format!("{balancer}/genesys/1/storage");
        let task = tokio::spawn({
            let (done, ok, failed) = (done.clone(), ok.clone(), failed.clone());
            async move {
                let http = reqwest::Client::new();
                while !done.load(Ordering::Relaxed) {
                    let written = http
                        .post(format!("{base}/60"))
                        .form(&[("k", "v")])
                        .send()
                        .await;
                    let outcome = match written {
                        Ok(response) if response.status() == 200 => {
                            let (_, body) = json(response).await;
                            let id = body["id"].as_str().unwrap_or_default().to_string();
                            match http.get(format!("{base}/{id}")).send().await {
                                Ok(read) if read.status() == 200 => Ok(()),
                                Ok(read) => Err(format!("read {}", read.status())),
                                Err(error) => Err(format!("read {error}")),
                            }
                        }
                        Ok(response) => Err(format!("write {}", response.status())),
                        Err(error) => Err(format!("write {error}")),
                    };
                    match outcome {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => failed.lock().unwrap().push((Instant::now(), error)),
                    }
                }
            }
        });
        Load {
            done,
            ok,
            failed,
            task,
        }
    }

    async fn stop(self) -> (usize, Vec<(Instant, String)>) {
        self.done.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let failed = self.failed.lock().unwrap().clone();
        (self.ok.load(Ordering::Relaxed), failed)
    }
}

/// Waits until `count` requests of the load have succeeded after `since`.
async fn served_again(load: &Load, count: usize) {
    let start = load.ok.load(Ordering::Relaxed);
    for _ in 0..600 {
        if load.ok.load(Ordering::Relaxed) >= start + count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the balancer did not serve requests again");
}

#[tokio::test]
async fn clients_run_through_the_balancer_while_a_node_is_killed_and_another_drained() {
    let dir = tempfile::tempdir().unwrap();
    let options = cluster_options(dir.path(), "");
    // Outbound calls answered at once, as in the single-node script tests.
    let text = std::fs::read_to_string(&options)
        .unwrap()
        .replace("ewt = 60\n", "ewt = 60\nring_time = 0\n")
        .replace("app_name = gms", "app_name = gms\ndrain_timeout = 3");
    std::fs::write(&options, text).unwrap();
    let mut cluster = Cluster::start(&options);

    // The sample client scripts play the app through the balancer.
    play(&cluster, "request-inbound-immediate").await;
    play(&cluster, "request-outbound-poll").await;

    // The npm CometD client, through the balancer, gets notifications published on any node.
    let http = reqwest::Client::new();
    let (status, subscribed) = json(
        http.post(format!("{}/genesys/1/notification/subscription", cluster.balancer))
            .json(&json!({"subscriberId": "erin", "notificationDetails": {"deviceId": "erin", "type": "comet"}, "filter": "lb.*"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{subscribed}");
    // A publish on node `index` reports `delivered` when the client is connected there, `relayed` otherwise.
    let publish = |index: usize, n: usize| {
        let http = http.clone();
        let url = format!(
            "{}/genesys/1/notification/publish",
            cluster.nodes[index].internal
        );
        async move {
            let (status, report) = json(
                http.post(url)
                    .json(&json!({"tag": "lb.1", "message": format!("note {n}")}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, 200, "{report}");
            report["deliveries"][0]["status"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    // Started again until it lands on node 02 or 03 (node 01 runs the flows and stays up); that node is then
    // killed under it.
    let mut n = 0;
    let mut attempt = 0;
    let (_client, mut lines, doomed) = loop {
        attempt += 1;
        assert!(
            attempt <= 8,
            "the balancer never sent the npm client to node 02 or 03"
        );
        let (client, mut lines) = npm_client(&cluster.balancer);
        let line = tokio::time::timeout(Duration::from_secs(30), lines.recv())
            .await
            .expect("the npm client subscribes")
            .expect("the npm client prints");
        assert!(line.starts_with("subscribed true"), "{line}");
        let mut found = None;
        for index in [1, 2] {
            n += 1;
            let status = publish(index, n).await;
            let line = tokio::time::timeout(Duration::from_secs(30), lines.recv())
                .await
                .expect("the notification arrives")
                .expect("the npm client prints");
            assert_eq!(line.trim(), format!("received note {n}"));
            if status == "delivered" {
                found = Some(index);
            }
        }
        if let Some(index) = found {
            break (client, lines, index);
        }
    };

    // kill -9 of the client's node under load: the balancer carries on through the others.
    let load = Load::start(&cluster.balancer);
    served_again(&load, 20).await;
    let killed_at = Instant::now();
    cluster.kill_node(doomed);
    served_again(&load, 50).await;
    let (ok, failures) = load.stop().await;
    let recovered_after = failures
        .last()
        .map(|(at, _)| at.duration_since(killed_at))
        .unwrap_or_default();
    println!(
        "kill -9: {ok} requests served, {} failed {:?}, served again {:.2} s after the kill",
        failures.len(),
        failures.iter().map(|(_, why)| why).collect::<Vec<_>>(),
        recovered_after.as_secs_f64()
    );
    assert!(failures.len() <= 2, "{failures:?}");
    // The client, whose node is gone, is told to handshake again, does so on a live node, subscribes again, and
    // gets notifications again (published until it has one, since its resubscribe may still be under way).
    let mut resubscribed = false;
    let received = loop {
        n += 1;
        publish(0, n).await;
        match tokio::time::timeout(Duration::from_millis(500), lines.recv()).await {
            Ok(Some(line)) if line.starts_with("subscribed true") => resubscribed = true,
            Ok(Some(line)) => break line,
            Ok(None) => panic!("the npm client stopped"),
            Err(_) => assert!(n < 120, "the npm client got nothing after the kill"),
        }
    };
    assert!(resubscribed, "the client handshook again before {received}");
    assert!(received.starts_with("received note"), "{received}");

    // The other of nodes 02 and 03 drained under load: no request fails.
    let drained_node = 3 - doomed;
    let load = Load::start(&cluster.balancer);
    served_again(&load, 20).await;
    let (status, _) = json(
        http.post(format!(
            "{}/genesys/1/admin/node/changestatus/OFFLINE",
            cluster.nodes[drained_node].internal
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    // The drain lasts 3 s; the node then exits. Requests keep being served all along and after.
    let drained = Instant::now();
    while drained.elapsed() < Duration::from_secs(5) {
        served_again(&load, 10).await;
    }
    let (ok, failures) = load.stop().await;
    println!("drain: {ok} requests served, {} failed", failures.len());
    assert!(failures.is_empty(), "{failures:?}");
    play(&cluster, "request-inbound-immediate").await;

    cluster.stop();
    let output = cluster.output.lock().unwrap().join("\n");
    assert!(output.contains("gms cluster stopped"), "{output}");
}
