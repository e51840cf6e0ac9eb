//! HTTP benchmark of the GMS REST API against a bare axum handler, in one run: starts a bare axum "hello" server
//! and a `gms` node (sample options, embedded store in a temporary directory, request log off) in this process,
//! drives each with `wrk`, and prints one JSON line per case plus the ratios to the bare handler.
//! `scripts/bench-http` runs it and writes the figures into BENCHMARKS.md.
//!
//! Arguments: `--duration SECS` per run (default 10), `--connections N` (default 64), `--threads N` (default 2),
//! `--rounds N` (default 3: the three cases run in turn N times; each figure is the median round), `--only LIST`
//! (run only these cases, 0-based and comma-separated, once each in that order, for profiling).

#[path = "support/rest.rs"]
mod rest;

use rest::{Figures, arg, bind, median, wrk};

/// The `gms` binary's allocator (see `src/main.rs`), so the servers here allocate as the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (hello, gms_public) = runtime.block_on(async {
        let (listener, hello) = bind().await;
        let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        tokio::spawn(async move { axum::serve(listener, router).await });

        let public_addr = rest::start_gms(&dir.path().join("data"), None).await;
        (hello, public_addr)
    });

    // Fixtures: one data set to read, and services for request-access to attach to.
    let base = format!("http://{gms_public}");
    let rest::Fixtures { data_id, script } = rest::fixtures(&base, dir.path());

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
