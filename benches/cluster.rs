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

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gms::app::{App, AppOptions};
use gms::clock::SystemClock;
use gms::config::{GmsConfig, RawConfig};

/// The `gms` binary's allocator (see `src/main.rs`), so the servers here allocate as the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone)]
struct Figures {
    name: String,
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
        _ => f64::NAN,
    }
}

fn wrk(name: &str, url: &str, script: Option<&Path>) -> Figures {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", arg("--threads", 2)))
        .arg(format!("-c{}", arg("--connections", 64)))
        .arg(format!("-d{}s", arg("--duration", 10)))
        .arg("--latency");
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().expect("wrk runs");
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
        eprintln!("wrk output for {name}:\n{text}");
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

/// The options of the node under test: the sample, with request-access numbers from a LOCAL group of 512.
fn options() -> String {
    let sample = include_str!("../samples/gms.ini");
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

        let raw = RawConfig::parse(Path::new("bench.ini"), &options()).expect("options");
        let store = gms::store::redis::Redis::open(&url, Arc::new(SystemClock), Default::default())
            .await
            .expect("redis store");
        let app = App::build(AppOptions {
            overrides: Default::default(),
            redis: Some(store),
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
        (floor, public_addr)
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
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             local ids = {{{}}}\nlocal requests = {{}}\nlocal n = 0\n\
             init = function(args)\n  for i, id in ipairs(ids) do\n    requests[i] = wrk.format(nil, nil, nil, \"_id=\" .. id)\n  end\nend\n\
             request = function()\n  n = n + 1\n  return requests[(n % #requests) + 1]\nend\n",
            quoted.join(",")
        ),
    )
    .expect("lua script");
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
    let median = |mut values: Vec<f64>| -> f64 {
        values.sort_by(|a, b| a.total_cmp(b));
        values[values.len() / 2]
    };
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
