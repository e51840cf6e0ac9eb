//! Benchmark of `gms` on Redis, in one run on one `redis-server` started here: storage GET and request-access
//! through a `gms` node on the Redis store, against bare axum handlers doing one Redis GET (resp. one scripted
//! booking, the store's own booking script); then three `gms serve` nodes behind Apache as `scripts/cluster`
//! starts them, storage GET through the balancer against one node direct. Prints one JSON line per case.
//! `scripts/bench-cluster` runs it and writes the figures into BENCHMARKS.md.
//!
//! Arguments: `--duration SECS` per run (default 10), `--connections N` (default 64), `--threads N` (default 2),
//! `--rounds N` (default 3: the Redis cases run in turn N times; each figure is the median round).

#[path = "../tests/support/redis.rs"]
mod redis_peer;
#[path = "support/rest.rs"]
mod rest;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gms::clock::SystemClock;
use rest::{Figures, arg, bind, median, wrk};

/// The `gms` binary's allocator (see `src/main.rs`), so the servers here allocate as the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn json_line(case: &Figures, ratio: Option<(f64, f64, f64)>, rounds: usize) {
    let mut line = serde_json::json!({
        "case": case.name,
        "rounds": rounds,
        "requests_per_sec": (case.requests_per_sec * 10.0).round() / 10.0,
        "p50_ms": case.p50_ms,
        "p99_ms": case.p99_ms,
        "non_2xx": case.non_2xx,
    });
    if let Some((ratio, lowest, highest)) = ratio {
        line["ratio_to_floor"] = serde_json::json!((ratio * 1000.0).round() / 1000.0);
        line["ratio_min"] = serde_json::json!((lowest * 1000.0).round() / 1000.0);
        line["ratio_max"] = serde_json::json!((highest * 1000.0).round() / 1000.0);
    }
    println!("{line}");
}

fn main() {
    let redis = redis_peer::RedisServer::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = redis.url();
    let (floor, gms_public) = runtime.block_on(async {
        // The floors: one Redis GET, and one run of the store's booking script, behind bare axum handlers.
        let client = redis::Client::open(url.as_str()).expect("redis url");
        let conn = client
            .get_connection_manager()
            .await
            .expect("redis connection");
        let mut setup = conn.clone();
        let _: () = redis::cmd("SET")
            .arg("floor:key")
            .arg("0000000000000000hello from storage")
            .query_async(&mut setup)
            .await
            .expect("set");
        let book = Arc::new(redis::Script::new(gms::store::redis::scripts::BOOK));
        let holders = Arc::new(AtomicUsize::new(0));
        let candidates: Arc<Vec<String>> =
            Arc::new((0..512).map(|idx| format!("1-888-{idx:04}")).collect());
        let get_conn = conn.clone();
        let router = axum::Router::new()
            .route(
                "/floor/get",
                axum::routing::get(move || {
                    let mut conn = get_conn.clone();
                    async move {
                        let value: Option<Vec<u8>> = redis::cmd("GET")
                            .arg("floor:key")
                            .query_async(&mut conn)
                            .await
                            .unwrap_or_default();
                        value.map(|value| value[16..].to_vec()).unwrap_or_default()
                    }
                }),
            )
            .route(
                "/floor/book",
                axum::routing::post(move || {
                    let (mut conn, book, holders, candidates) = (
                        conn.clone(),
                        book.clone(),
                        holders.clone(),
                        candidates.clone(),
                    );
                    async move {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|since| since.as_millis() as u64)
                            .unwrap_or_default();
                        let holder = holders.fetch_add(1, Ordering::Relaxed) % 128;
                        let mut invocation = book.prepare_invoke();
                        invocation
                            .key("b:{floor}z")
                            .key("b:{floor}r")
                            .key("b:{floor}h")
                            .arg(now)
                            .arg(now + 30_000)
                            .arg(format!("holder{holder}"))
                            .arg(30_000);
                        let start = holder * 4 % candidates.len();
                        for candidate in candidates[start..].iter().chain(&candidates[..start]) {
                            invocation.arg(candidate.as_str());
                        }
                        let booked: Option<String> =
                            invocation.invoke_async(&mut conn).await.unwrap_or_default();
                        booked.unwrap_or_default()
                    }
                }),
            );
        let (listener, floor) = bind().await;
        tokio::spawn(async move { axum::serve(listener, router).await });

        let store = gms::store::redis::Redis::open(&url, Arc::new(SystemClock), Default::default())
            .await
            .expect("redis store");
        let public_addr = rest::start_gms(&dir.path().join("data"), Some(store)).await;
        (floor, public_addr)
    });

    // Fixtures: one data set to read, and services for request-access to attach to.
    let base = format!("http://{gms_public}");
    let rest::Fixtures { data_id, script } = rest::fixtures(&base, dir.path());
    let post = dir.path().join("post.lua");
    std::fs::write(&post, "wrk.method = \"POST\"\n").expect("lua script");

    let rounds = arg("--rounds", 3).max(1) as usize;
    let mut runs: Vec<[Figures; 4]> = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        runs.push([
            wrk(
                "bare axum: one Redis GET",
                &format!("http://{floor}/floor/get"),
                None,
            ),
            wrk(
                "GET /genesys/1/storage/{id}/{key} on Redis",
                &format!("{base}/genesys/1/storage/{data_id}/greeting"),
                None,
            ),
            wrk(
                "bare axum: one booking script",
                &format!("http://{floor}/floor/book"),
                Some(&post),
            ),
            wrk(
                "POST /genesys/1/service/request-access on Redis",
                &format!("{base}/genesys/1/service/request-access"),
                Some(&script),
            ),
        ]);
    }
    for case in 0..4 {
        let rate = median(runs.iter().map(|run| run[case].requests_per_sec).collect());
        let typical = runs
            .iter()
            .map(|run| &run[case])
            .find(|figures| figures.requests_per_sec == rate)
            .unwrap_or(&runs[0][case])
            .clone();
        let ratio = (case % 2 == 1).then(|| {
            let floor = median(
                runs.iter()
                    .map(|run| run[case - 1].requests_per_sec)
                    .collect(),
            );
            let ratios: Vec<f64> = runs
                .iter()
                .map(|run| run[case].requests_per_sec / run[case - 1].requests_per_sec)
                .collect();
            (
                rate / floor,
                ratios.iter().copied().fold(f64::INFINITY, f64::min),
                ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        });
        json_line(&typical, ratio, rounds);
    }
    drop(runtime);

    // Three nodes behind Apache, as scripts/cluster starts them: storage GET through the balancer and direct.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cluster = Command::new(root.join("scripts/cluster"))
        .args(["--port", "0"])
        .env("GMS", env!("CARGO_BIN_EXE_gms"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("scripts/cluster runs");
    let mut balancer = String::new();
    let mut node = String::new();
    for line in BufReader::new(cluster.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        if node.is_empty()
            && let Some(rest) = line.strip_prefix("node 01: public ")
        {
            node = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
        if let Some(url) = line.strip_prefix("gms cluster: load balancer ") {
            balancer = url
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string();
            break;
        }
    }
    let client = reqwest::blocking::Client::new();
    let stored: serde_json::Value = client
        .post(format!("{balancer}/genesys/1/storage/3600"))
        .form(&[("greeting", "hello from storage")])
        .send()
        .and_then(|r| r.json())
        .expect("storage fixture through the balancer");
    let data_id = stored["id"].as_str().expect("data id").to_string();
    let direct = wrk(
        "GET /genesys/1/storage/{id}/{key}, one node direct",
        &format!("{node}/genesys/1/storage/{data_id}/greeting"),
        None,
    );
    let through = wrk(
        "GET /genesys/1/storage/{id}/{key}, Apache in front of 3 nodes",
        &format!("{balancer}/genesys/1/storage/{data_id}/greeting"),
        None,
    );
    let ratio = through.requests_per_sec / direct.requests_per_sec;
    json_line(&direct, None, 1);
    json_line(&through, Some((ratio, ratio, ratio)), 1);
    let _ = Command::new("kill")
        .args(["-TERM", &cluster.id().to_string()])
        .status();
    let _ = cluster.wait();
}
