//! Chat benchmark on one node, in one run: 1,000 chats with an agent each, messages exchanged; then `wrk` drives
//! storage GET and chat refresh (`POST .../ixn/chat/refresh` with a position, across the 1,000 chats) in turn for
//! several rounds, and the refresh rate is reported as a ratio of the storage GET rate; the latency from an agent's
//! message to its CometD delivery (a Bayeux long-poll client of `notify_by=comet`); and the resident memory of idle
//! chats. `scripts/bench-chat` runs it; its figures go into BENCHMARKS.md.
//!
//! Arguments: `--duration SECS` per wrk run (10), `--rounds N` (3), `--chats N` (1000), `--idle N` (10000),
//! `--samples N` (300, CometD latency samples).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gms::app::{App, AppOptions};
use gms::chat::{ChatStart, Chats};
use gms::clock::SystemClock;
use gms::config::{GmsConfig, RawConfig};
use serde_json::{Value, json};

/// The `gms` binary's allocator (see `src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|idx| args.get(idx + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests per second `wrk` reaches on `url` (with the Lua `script`, if any).
fn wrk(url: &str, script: Option<&Path>) -> f64 {
    let mut command = Command::new("wrk");
    command
        .arg("-t2")
        .arg("-c64")
        .arg(format!("-d{}s", arg("--duration", 10)));
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .expect("wrk runs (scripts/bench-chat installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("Non-2xx"), "errors in the run:\n{text}");
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
        .unwrap_or_else(|| panic!("wrk output:\n{text}"))
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

async fn bind() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

fn start(nickname: &str, comet_user: Option<&str>) -> ChatStart {
    ChatStart {
        nickname: nickname.to_string(),
        comet_user: comet_user.map(str::to_string),
        ttl: Duration::from_secs(3600),
        ..ChatStart::default()
    }
}

/// A Bayeux long-polling client of `gms_user` `user`, subscribed to `/_genesys`.
struct Comet {
    http: reqwest::Client,
    url: String,
    user: String,
    client_id: String,
}

impl Comet {
    async fn batch(&self, messages: Value) -> Value {
        self.http
            .post(&self.url)
            .header("gms_user", &self.user)
            .json(&messages)
            .send()
            .await
            .expect("cometd answers")
            .json()
            .await
            .expect("cometd JSON")
    }

    async fn connect(url: String, user: &str) -> Comet {
        let mut comet = Comet {
            http: reqwest::Client::new(),
            url,
            user: user.to_string(),
            client_id: String::new(),
        };
        let reply = comet
            .batch(json!([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}]))
            .await;
        comet.client_id = reply[0]["clientId"]
            .as_str()
            .expect("client id")
            .to_string();
        comet
            .batch(json!([{"channel": "/meta/subscribe", "clientId": comet.client_id, "subscription": "/_genesys"}]))
            .await;
        // The first connect answers at once.
        comet.next().await;
        comet
    }

    /// The messages of the next connect.
    async fn next(&self) -> Vec<Value> {
        let reply = self
            .batch(json!([{"channel": "/meta/connect", "clientId": self.client_id, "connectionType": "long-polling"}]))
            .await;
        reply
            .as_array()
            .map(|messages| {
                messages
                    .iter()
                    .filter(|m| m["channel"] == "/_genesys")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let n_chats = arg("--chats", 1000) as usize;
    let (app, public, internal) = runtime.block_on(async {
        let sample = include_str!("../samples/gms.ini");
        let raw = RawConfig::parse(Path::new("bench.ini"), sample).expect("options");
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
        let (internal, internal_addr) = bind().await;
        tokio::spawn(app.clone().serve(public, internal, std::future::pending()));
        (app, public_addr, internal_addr)
    });
    let chats: Arc<Chats> = app.chat.chats.clone();
    let base = format!("http://{public}");

    // Fixtures: a data set, and the chats with an agent each and a few messages both ways.
    let ids = runtime.block_on(async {
        let http = reqwest::Client::new();
        let stored: Value = http
            .post(format!("{base}/genesys/1/storage/3600"))
            .form(&[("greeting", "hello from storage")])
            .send()
            .await
            .expect("storage")
            .json()
            .await
            .expect("storage JSON");
        let data_id = stored["id"].as_str().expect("data id").to_string();
        let mut ids = Vec::with_capacity(n_chats);
        for idx in 0..n_chats {
            let id = format!("bench{idx:06}");
            chats.create(&id, start("Ann", None)).await.expect("chat");
            chats
                .join(&id, &format!("agent{idx}"), "Bob")
                .await
                .expect("join");
            for round in 0..3 {
                chats
                    .send(&id, &format!("question {round}"))
                    .await
                    .expect("send");
                chats
                    .agent_send(&id, &format!("agent{idx}"), &format!("answer {round}"))
                    .await
                    .expect("agent send");
            }
            ids.push(id);
        }
        (data_id, ids)
    });
    let (data_id, ids) = ids;
    let script = dir.path().join("refresh.lua");
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("\"/genesys/1/service/{id}/ixn/chat/refresh\""))
        .collect();
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             local paths = {{{}}}\nlocal requests = {{}}\nlocal n = 0\n\
             init = function(args)\n  for i, path in ipairs(paths) do\n    requests[i] = wrk.format(nil, path, nil, \"transcriptPosition=6\")\n  end\nend\n\
             request = function()\n  n = n + 1\n  return requests[(n % #requests) + 1]\nend\n",
            paths.join(",")
        ),
    )
    .expect("lua script");

    let rounds = arg("--rounds", 3).max(1) as usize;
    let mut storage_rates = Vec::new();
    let mut refresh_rates = Vec::new();
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let storage = wrk(
            &format!("{base}/genesys/1/storage/{data_id}/greeting"),
            None,
        );
        let refresh = wrk(&format!("{base}/"), Some(&script));
        storage_rates.push(storage);
        refresh_rates.push(refresh);
        ratios.push(refresh / storage);
    }
    let median = |mut values: Vec<f64>| -> f64 {
        values.sort_by(|a, b| a.total_cmp(b));
        values[values.len() / 2]
    };

    // Agent message → CometD delivery.
    let samples = arg("--samples", 300) as usize;
    let latencies = runtime.block_on(async {
        let comet = Comet::connect(format!("{base}/genesys/cometd"), "bench-user").await;
        chats
            .create("bench-comet", start("Ann", Some("bench-user")))
            .await
            .expect("comet chat");
        chats
            .join("bench-comet", "agent-comet", "Bob")
            .await
            .expect("join");
        // Drain what creation and joining delivered.
        let _ = tokio::time::timeout(Duration::from_millis(200), comet.next()).await;
        let mut latencies = Vec::with_capacity(samples);
        for idx in 0..samples {
            let waiting = comet.next();
            tokio::pin!(waiting);
            // Let the connect reach the server and be held before the message is sent.
            let _ = tokio::time::timeout(Duration::from_millis(5), &mut waiting).await;
            let sent = Instant::now();
            chats
                .agent_send("bench-comet", "agent-comet", &format!("m{idx}"))
                .await
                .expect("agent send");
            let delivered = waiting.await;
            assert!(!delivered.is_empty(), "no delivery");
            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(|a, b| a.total_cmp(b));
        latencies
    });
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];

    // Idle chats: resident memory growth per chat.
    let idle = arg("--idle", 10_000) as usize;
    let before = rss_bytes();
    runtime.block_on(async {
        for idx in 0..idle {
            chats
                .create(&format!("idle{idx:06}"), start("Ann", None))
                .await
                .expect("idle chat");
        }
    });
    let per_chat = (rss_bytes().saturating_sub(before)) as f64 / idle as f64;
    let _ = internal;
    println!(
        "{}",
        json!({
            "chats": n_chats,
            "rounds": rounds,
            "storage_get_per_sec": (median(storage_rates) * 10.0).round() / 10.0,
            "refresh_per_sec": (median(refresh_rates) * 10.0).round() / 10.0,
            "refresh_of_storage": (median(ratios.clone()) * 1000.0).round() / 1000.0,
            "ratio_min": (ratios.iter().copied().fold(f64::INFINITY, f64::min) * 1000.0).round() / 1000.0,
            "ratio_max": (ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 1000.0).round() / 1000.0,
            "comet_p50_ms": (percentile(0.5) * 1000.0).round() / 1000.0,
            "comet_p99_ms": (percentile(0.99) * 1000.0).round() / 1000.0,
            "idle_chats": idle,
            "bytes_per_idle_chat": per_chat.round(),
        })
    );
    drop(runtime);
}
