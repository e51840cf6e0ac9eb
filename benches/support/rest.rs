//! What the REST benchmarks share (`benches/http.rs`, `benches/cluster.rs`): their arguments, `wrk` runs and the
//! figures read from them, and the `gms` fixtures they drive (a data set to read, services for request-access).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one `wrk` run measured.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The case.
    pub name: String,
    /// Throughput.
    pub requests_per_sec: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Answers that were not 2xx or 3xx.
    pub non_2xx: u64,
}

/// The value of command-line option `name`, or `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|idx| args.get(idx + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn millis(text: &str) -> f64 {
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}

/// Runs `wrk` (`--threads`, `--connections`, `--duration` from the command line) against `url`, with a Lua
/// `script` when given.
pub fn wrk(name: &str, url: &str, script: Option<&Path>) -> Figures {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", arg("--threads", 2)))
        .arg(format!("-c{}", arg("--connections", 64)))
        .arg(format!("-d{}s", arg("--duration", 10)))
        .arg("--latency");
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .expect("wrk runs (the bench scripts install it)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut figures = Figures {
        name: name.to_string(),
        requests_per_sec: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        non_2xx: 0,
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => {
                figures.requests_per_sec = value.parse().unwrap_or(f64::NAN)
            }
            ["50%", value] => figures.p50_ms = millis(value),
            ["99%", value] => figures.p99_ms = millis(value),
            ["Non-2xx", "or", "3xx", "responses:", value] => {
                figures.non_2xx = value.parse().unwrap_or(0)
            }
            _ => {}
        }
    }
    if figures.requests_per_sec.is_nan() {
        eprintln!(
            "wrk output for {name}:\n{text}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    figures
}

/// A listener on 127.0.0.1 and a port the system picks.
pub async fn bind() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

/// The sample options, with a resource group large enough that request-access never runs dry (512 numbers of a
/// LOCAL group), and services for request-access to attach to that live an hour and take their first number
/// from a RANDOM group.
pub fn options() -> String {
    let sample = include_str!("../../samples/gms.ini");
    let mut options = sample
        .split("[Dnis_Pool]")
        .next()
        .expect("sample")
        .to_string();
    options.push_str(
        "[service.bench-session]\ntype = builtin\nservice = request-interaction\nttl = 3600\n\
         resource_group = Bench_Sessions\n[Bench_Sessions]\nsession = 1-800-0000\n",
    );
    options.push_str("[Dnis_Pool]\n_allocation_strategy = LOCAL\n");
    for idx in 0..512 {
        options.push_str(&format!("dnis{idx} = 1-888-{idx:04}\n"));
    }
    options
}

/// Starts a `gms` node with [`options`] (on `redis` when given, else the embedded store in `data_dir`) on this
/// runtime; returns its public address.
pub async fn start_gms(data_dir: &Path, redis: Option<gms::store::redis::Redis>) -> SocketAddr {
    use gms::app::{App, AppOptions};
    let raw = gms::config::RawConfig::parse(Path::new("bench.ini"), &options()).expect("options");
    let app = App::build(AppOptions {
        overrides: Default::default(),
        redis,
        store: Default::default(),
        config: gms::config::GmsConfig::from_raw(raw).expect("typed options"),
        config_path: None,
        data_dir: data_dir.to_path_buf(),
        clock: std::sync::Arc::new(gms::clock::SystemClock),
    })
    .expect("app");
    let (public, public_addr) = bind().await;
    let (internal, _) = bind().await;
    tokio::spawn(app.serve(public, internal, std::future::pending()));
    public_addr
}

/// What the cases read and post: a data set's id, and a `wrk` script posting request-access for 128 services.
pub struct Fixtures {
    /// The data set (key `greeting`).
    pub data_id: String,
    /// The request-access script.
    pub script: PathBuf,
}

/// Creates the fixtures on the node whose public API is `base`; the script goes in `dir`.
pub fn fixtures(base: &str, dir: &Path) -> Fixtures {
    let client = reqwest::blocking::Client::new();
    let stored: serde_json::Value = client
        .post(format!("{base}/genesys/1/storage/3600"))
        .form(&[("greeting", "hello from storage")])
        .send()
        .and_then(|r| r.json())
        .expect("storage fixture");
    let data_id = stored["id"].as_str().expect("data id").to_string();
    let mut ids = Vec::new();
    for idx in 0..128 {
        let created: serde_json::Value = client
            .post(format!("{base}/genesys/1/service/bench-session"))
            .form(&[("_phone_number", format!("555{idx:04}").as_str())])
            .send()
            .and_then(|r| r.json())
            .expect("service fixture");
        ids.push(created["_id"].as_str().expect("service id").to_string());
    }
    let script = dir.join("request-access.lua");
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    std::fs::write(
        &script,
        format!(
            // The requests are formatted once per wrk thread, so the load generator spends its share of the two
            // cores on sending them rather than on Lua string building.
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             local ids = {{{}}}\nlocal requests = {{}}\nlocal n = 0\n\
             init = function(args)\n  for i, id in ipairs(ids) do\n    requests[i] = wrk.format(nil, nil, nil, \"_id=\" .. id)\n  end\nend\n\
             request = function()\n  n = n + 1\n  return requests[(n % #requests) + 1]\nend\n",
            quoted.join(",")
        ),
    )
    .expect("lua script");
    Fixtures { data_id, script }
}

/// The median of `values`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}
