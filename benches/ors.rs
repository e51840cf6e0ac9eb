//! ORS layer benchmark: request-inbound-immediate created end to end through the public Service API (create →
//! the flow books an access number in-process → `DialNumber`), flows per second and latency percentiles; then
//! the memory of parked request-inbound-poll sessions (resident set growth per session).
//!
//! `cargo bench --bench ors -- [FLOWS] [CONCURRENCY] [PARKED]` (defaults 4000, 32, 100000); prints one JSON line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gms::app::{App, AppOptions};
use gms::clock::ManualClock;
use gms::config::GmsConfig;
use gms::scxml::Value;

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let flows = args.first().copied().unwrap_or(4000);
    let concurrency = args.get(1).copied().unwrap_or(32);
    let parked = args.get(2).copied().unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(flows, concurrency, parked));
}

async fn run(flows: usize, concurrency: usize, parked: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    // A pool large enough that every flow of the run books its own number.
    let mut options = std::fs::read_to_string("samples/gms.ini").expect("samples/gms.ini");
    let mut numbers = String::from("dnis3 = 1-888-call-me3\n");
    for n in 0..flows + 16 {
        numbers.push_str(&format!("bench{n} = 1-800-{n:07}\n"));
    }
    options = options
        .replace("dnis3 = 1-888-call-me3\n", &numbers)
        .replace(
            "_booking_expiration_timeout = 20\n",
            "_booking_expiration_timeout = 1800\n",
        );
    let config_path = dir.path().join("gms.ini");
    std::fs::write(&config_path, options).expect("write options");
    let config = GmsConfig::load(&config_path).expect("options");
    let app = App::build(AppOptions {
        overrides: Default::default(),
        redis: None,
        store: Default::default(),
        config,
        config_path: Some(config_path),
        data_dir: dir.path().join("data"),
        clock: Arc::new(ManualClock::new(1_800_000_000_000)),
    })
    .expect("app");
    let ors = app.ors.node.ors.clone();
    let public = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = public.local_addr().expect("address");
    tokio::spawn(app.serve(public, internal, std::future::pending()));

    let client = reqwest::Client::new();
    let url = format!("http://{address}/genesys/1/service/request-inbound-immediate");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < flows {
                let begin = Instant::now();
                let answer = client
                    .post(&url)
                    .form(&[("_phone_number", "5551234"), ("first_name", "Ann")])
                    .send()
                    .await;
                match answer {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(begin.elapsed());
                    }
                    Ok(response) => {
                        if failures == 0 {
                            eprintln!(
                                "failed: {} {}",
                                response.status(),
                                response.text().await.unwrap_or_default()
                            );
                        }
                        failures += 1;
                    }
                    Err(error) => {
                        if failures == 0 {
                            eprintln!("failed: {error}");
                        }
                        failures += 1;
                    }
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (mut part, failed) = task.await.expect("client task");
        latencies.append(&mut part);
        failures += failed;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let flows_per_sec = latencies.len() as f64 / elapsed.as_secs_f64();

    // Parked sessions: the poll flow started and left waiting for gms.start.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_bytes();
    let live_before = ors.live();
    let params = vec![("_phone_number".to_string(), Value::string("5551234"))];
    let mut last = Vec::new();
    for _ in 0..parked {
        let id = ors
            .start(
                "scxml/request-inbound-poll.scxml",
                params.clone(),
                Some(Duration::from_secs(3600)),
            )
            .await
            .expect("start");
        last.push(id);
        if last.len() > 8 {
            last.remove(0);
        }
    }
    // Every worker has started all its sessions once it answers a query queued after them.
    for id in &last {
        let _ = ors.query(id).await;
    }
    let after = rss_bytes();
    let n_parked = ors.live() - live_before;
    let per_session = (after.saturating_sub(before)) as f64 / n_parked.max(1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "flows": latencies.len(),
            "failures": failures,
            "concurrency": concurrency,
            "flows_per_sec": (flows_per_sec * 10.0).round() / 10.0,
            "p50_ms": (pct(0.50) * 100.0).round() / 100.0,
            "p99_ms": (pct(0.99) * 100.0).round() / 100.0,
            "parked_sessions": n_parked,
            "bytes_per_parked_session": per_session.round(),
        })
    );
}
