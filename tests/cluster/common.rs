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

/// Node `id` on `redis`.
pub fn start_node(redis: &RedisServer, options: &Path, dir: &Path, id: &str) -> Binary {
    let data = dir.join(format!("node-{id}"));
    Binary::start_with(
        Some(options),
        &data,
        Path::new("."),
        &["--store", &redis.url(), "--node-id", id],
    )
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
