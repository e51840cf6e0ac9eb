//! What the cluster tests share: an option file with a CLUSTER resource group, nodes started on one Redis, and
//! small HTTP helpers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::redis_peer::RedisServer;
use crate::server::Binary;

/// The sample option file with its access numbers shared by every node (CLUSTER), written to `dir`.
pub fn cluster_options(dir: &Path, extra: &str) -> PathBuf {
    let sample = std::fs::read_to_string("samples/gms.ini").unwrap();
    let text = sample.replace(
        "_allocation_strategy = LOCAL",
        "_allocation_strategy = CLUSTER",
    );
    assert_ne!(
        text, sample,
        "the sample option file has a LOCAL group to change"
    );
    let path = dir.join("gms.ini");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

/// `n` nodes (ids 01..) on `redis`, each with its own data directory under `dir`.
pub fn start_nodes(redis: &RedisServer, options: &Path, dir: &Path, n: usize) -> Vec<Binary> {
    (1..=n)
        .map(|i| start_node(redis, options, dir, &format!("{i:02}")))
        .collect()
}

/// Node `id` on `redis`, once it has joined the store (its Node API answers only after that).
pub fn start_node(redis: &RedisServer, options: &Path, dir: &Path, id: &str) -> Binary {
    let data = dir.join(format!("node-{id}"));
    let node = Binary::start_with(
        Some(options),
        &data,
        Path::new("."),
        &["--store", &redis.url(), "--node-id", id],
    );
    wait_until_serving(&node);
    node
}

/// Waits (bounded) until the node's Node API answers 200.
pub fn wait_until_serving(node: &Binary) {
    use std::io::{Read, Write};
    for _ in 0..600 {
        if let Ok(mut stream) = std::net::TcpStream::connect(node.internal) {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut answer = String::new();
            if stream
                .write_all(b"GET /genesys/1/node HTTP/1.0\r\nHost: gms\r\n\r\n")
                .is_ok()
                && stream.read_to_string(&mut answer).is_ok()
                && answer.starts_with("HTTP/1.")
                && answer[8..].starts_with(" 200")
            {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the node never served; log:\n{}", node.log());
}

/// `http://` + the node's public listener.
pub fn public(node: &Binary) -> String {
    format!("http://{}", node.public)
}

/// `http://` + the node's internal listener.
pub fn internal(node: &Binary) -> String {
    format!("http://{}", node.internal)
}

/// Status and JSON body (Null when not JSON).
pub async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// POSTs a form.
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    json(
        reqwest::Client::new()
            .post(url)
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// GETs.
pub async fn get(url: &str) -> (u16, Value) {
    json(reqwest::get(url).await.unwrap()).await
}
