//! HTTP benchmark of the GMS REST API against a bare axum handler, in one run: starts a bare axum "hello" server
//! and a `gms` node (sample options, embedded store in a temporary directory, request log off) in this process,
//! drives each with `wrk`, and prints one JSON line per case plus the ratios to the bare handler.
//! `scripts/bench-http` runs it and writes the figures into BENCHMARKS.md.
//!
//! Arguments: `--duration SECS` per run (default 10), `--connections N` (default 64), `--threads N` (default 2),
//! `--rounds N` (default 3: the three cases run in turn N times; each figure is the median round), `--only LIST`
//! (run only these cases, 0-based and comma-separated, once each in that order, for profiling).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use gms::app::{App, AppOptions};
use gms::clock::SystemClock;
use gms::config::{GmsConfig, RawConfig};

/// The `gms` binary's allocator (see `src/main.rs`), so the servers here allocate as the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Figures {
    name: &'static str,
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn arg(name: &str, default: u64) -> u64 {
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

fn wrk(name: &'static str, url: &str, script: Option<&Path>) -> Figures {
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
        .expect("wrk runs (scripts/bench-http installs it)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut figures = Figures {
        name,
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

async fn bind() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (hello, gms_public) = runtime.block_on(async {
        let (listener, hello) = bind().await;
        let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        tokio::spawn(async move { axum::serve(listener, router).await });

        // The sample options, with a resource group large enough that request-access never runs dry.
        let sample = include_str!("../samples/gms.ini");
        let mut options = sample
            .split("[Dnis_Pool]")
            .next()
            .expect("sample")
            .to_string();
        // Services for request-access to attach to live an hour and take their first number from a RANDOM group.
        options.push_str(
            "[service.bench-session]\ntype = builtin\nservice = request-interaction\nttl = 3600\n\
             resource_group = Bench_Sessions\n[Bench_Sessions]\nsession = 1-800-0000\n",
        );
        options.push_str("[Dnis_Pool]\n_allocation_strategy = LOCAL\n");
        for idx in 0..512 {
            options.push_str(&format!("dnis{idx} = 1-888-{idx:04}\n"));
        }
        let raw = RawConfig::parse(Path::new("bench.ini"), &options).expect("options");
        let app = App::build(AppOptions {
            overrides: Default::default(),
            redis: None,
            store: Default::default(),
            config: GmsConfig::from_raw(raw).expect("typed options"),
            config_path: None,
            data_dir: dir.path().join("data"),
            clock: Arc::new(SystemClock),
        })
        .expect("app");
        let (public, public_addr) = bind().await;
        let (internal, _) = bind().await;
        tokio::spawn(app.serve(public, internal, std::future::pending()));
        (hello, public_addr)
    });

    // Fixtures: one data set to read, and services for request-access to attach to.
    let client = reqwest::blocking::Client::new();
    let base = format!("http://{gms_public}");
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
    let script = dir.path().join("request-access.lua");
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

    if let Some(only) = std::env::args().position(|a| a == "--only") {
        let list = std::env::args().nth(only + 1).unwrap_or_default();
        for case in list.split(',') {
            let figures = match case {
                "0" => wrk("bare axum hello", &format!("http://{hello}/hello"), None),
                "1" => wrk(
                    "GET /genesys/1/storage/{id}/{key}",
                    &format!("{base}/genesys/1/storage/{data_id}/greeting"),
                    None,
                ),
                _ => wrk(
                    "POST /genesys/1/service/request-access",
                    &format!("{base}/genesys/1/service/request-access"),
                    Some(&script),
                ),
            };
            println!(
                "{}: {:.0} requests/s, p99 {} ms",
                figures.name, figures.requests_per_sec, figures.p99_ms
            );
        }
        return;
    }
    // Rounds of the three cases in turn, so a drift of the machine's speed during the run falls on every case
    // alike; each case's figure is its median round, and the ratio's spread over the rounds is printed too.
    let rounds = arg("--rounds", 3).max(1) as usize;
    let mut runs: Vec<[Figures; 3]> = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        runs.push([
            wrk("bare axum hello", &format!("http://{hello}/hello"), None),
            wrk(
                "GET /genesys/1/storage/{id}/{key}",
                &format!("{base}/genesys/1/storage/{data_id}/greeting"),
                None,
            ),
            wrk(
                "POST /genesys/1/service/request-access",
                &format!("{base}/genesys/1/service/request-access"),
                Some(&script),
            ),
        ]);
    }
    let median = |mut values: Vec<f64>| -> f64 {
        values.sort_by(|a, b| a.total_cmp(b));
        values[values.len() / 2]
    };
    let bare = median(runs.iter().map(|run| run[0].requests_per_sec).collect());
    for case in 0..3 {
        let rates: Vec<f64> = runs.iter().map(|run| run[case].requests_per_sec).collect();
        let rate = median(rates.clone());
        // The round whose rate is the median gives the latencies.
        let typical = runs
            .iter()
            .map(|run| &run[case])
            .find(|figures| figures.requests_per_sec == rate)
            .unwrap_or(&runs[0][case]);
        let ratios: Vec<f64> = runs
            .iter()
            .map(|run| run[case].requests_per_sec / run[0].requests_per_sec)
            .collect();
        let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{}",
            serde_json::json!({
                "case": typical.name,
                "rounds": rounds,
                "requests_per_sec": (rate * 10.0).round() / 10.0,
                "ratio_to_bare": (rate / bare * 1000.0).round() / 1000.0,
                "ratio_min": (lowest * 1000.0).round() / 1000.0,
                "ratio_max": (highest * 1000.0).round() / 1000.0,
                "p50_ms": typical.p50_ms,
                "p99_ms": typical.p99_ms,
                "non_2xx": runs.iter().map(|run| run[case].non_2xx).sum::<u64>(),
            })
        );
    }
    drop(runtime);
}
