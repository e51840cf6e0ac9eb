//! CometD at scale: N long-poll clients (default 10,000) held on one `gms` CometD server, one message published
//! to all of them; reports publish-to-delivery latency (p50/p99), the server's memory per connected client, and,
//! in the same run, the npm `cometd` client's round trip against gms and against a bare Node long-poll echo.
//!
//! The server runs in a child process (this binary with `--serve`) so its memory is measured alone (VmRSS before
//! and after the clients connect). Clients are raw HTTP/1.1 keep-alive connections, one per client, so the load
//! generator stays light. Run with `scripts/bench-cometd` (it raises the open-file limit).

use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

/// The child: a CometD server plus a local trigger that publishes the current time to every client.
async fn serve() {
    let settings = gms::cometd::Settings {
        timeout: Duration::from_secs(120),
        max_interval: Duration::from_secs(120),
        ..gms::cometd::Settings::default()
    };
    let server = gms::cometd::Server::new(settings);
    let trigger = server.clone();
    let router = gms::http::cometd::router(server.clone(), "01").route(
        "/bench/publish",
        axum::routing::post(move || {
            let server = trigger.clone();
            async move {
                let reached =
                    server.publish("/bench", json!({"sent_us": now_micros().to_string()}));
                axum::Json(json!({"reached": reached}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    axum::serve(listener, router).await.unwrap();
}

/// One HTTP/1.1 exchange on a keep-alive connection.
async fn post(stream: &mut BufReader<TcpStream>, path: &str, body: &str) -> Value {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .unwrap();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut buffer = vec![0; length];
    stream.read_exact(&mut buffer).await.unwrap();
    serde_json::from_slice(&buffer).unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

async fn npm_rtt(url: &str, round_trips: usize) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/cometd-npm");
    let output = tokio::process::Command::new("node")
        .current_dir(dir)
        .arg("rtt.mjs")
        .arg(url)
        .arg(round_trips.to_string())
        .output()
        .await
        .unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)))
}

async fn run(clients: usize) {
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe)
        .arg("--serve")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port: u16 = lines
        .next_line()
        .await
        .unwrap()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let address = format!("127.0.0.1:{port}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = rss_kib(pid);

    // Connect every client: handshake, subscribe, first connect; then hold a second connect.
    let held = Arc::new(tokio::sync::Semaphore::new(0));
    let connect_started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let address = address.clone();
        let held = held.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = BufReader::new(TcpStream::connect(&address).await.unwrap());
            let reply = post(&mut stream, "/genesys/cometd", r#"[{"channel":"/meta/handshake","version":"1.0"}]"#).await;
            let client = reply[0]["clientId"].as_str().unwrap().to_string();
            post(
                &mut stream,
                "/genesys/cometd",
                &json!([{"channel": "/meta/subscribe", "clientId": client, "subscription": "/bench"}]).to_string(),
            )
            .await;
            let connect = json!([{"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling"}]).to_string();
            post(&mut stream, "/genesys/cometd", &connect).await;
            held.add_permits(1);
            let replies = post(&mut stream, "/genesys/cometd", &connect).await;
            let received = now_micros();
            let sent: u128 = replies[1]["data"]["sent_us"].as_str().unwrap().parse().unwrap();
            (received - sent) as f64
        }));
    }
    let _ = held.acquire_many(clients as u32).await.unwrap();
    // Let the last connects reach the server and be held.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let connect_time = connect_started.elapsed();
    let rss_held = rss_kib(pid);

    let mut trigger = BufReader::new(TcpStream::connect(&address).await.unwrap());
    let published = post(&mut trigger, "/bench/publish", "{}").await;
    let mut latencies = Vec::with_capacity(clients);
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());

    let gms_rtt = npm_rtt(&format!("http://{address}/genesys/cometd"), 2000).await;
    let mut echo = tokio::process::Command::new("node")
        .current_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/cometd-npm"
        ))
        .arg("echo-server.mjs")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut echo_lines = BufReader::new(echo.stdout.take().unwrap()).lines();
    let echo_port = echo_lines.next_line().await.unwrap().unwrap();
    let echo_rtt = npm_rtt(
        &format!("http://127.0.0.1:{}/cometd", echo_port.trim()),
        2000,
    )
    .await;
    let _ = echo.kill().await;
    let _ = child.kill().await;

    let per_client = (rss_held.saturating_sub(rss_before)) as f64 * 1024.0 / clients as f64;
    println!(
        "clients held: {clients} (reached by the publish: {})",
        published["reached"]
    );
    println!("connect phase: {:.1} s", connect_time.as_secs_f64());
    println!(
        "publish-to-delivery: p50 {:.1} ms, p99 {:.1} ms, last {:.1} ms",
        percentile(&latencies, 0.5) / 1000.0,
        percentile(&latencies, 0.99) / 1000.0,
        latencies[latencies.len() - 1] / 1000.0
    );
    println!(
        "server RSS: {} KiB idle, {} KiB with clients held: {:.0} bytes per client",
        rss_before, rss_held, per_client
    );
    let ratio = |key: &str| gms_rtt[key].as_f64().unwrap() / echo_rtt[key].as_f64().unwrap();
    println!(
        "npm cometd round trip (2000): gms p50 {:.0} us p99 {:.0} us; bare node echo p50 {:.0} us p99 {:.0} us; ratio p50 {:.2} p99 {:.2}",
        gms_rtt["p50_us"].as_f64().unwrap(),
        gms_rtt["p99_us"].as_f64().unwrap(),
        echo_rtt["p50_us"].as_f64().unwrap(),
        echo_rtt["p99_us"].as_f64().unwrap(),
        ratio("p50_us"),
        ratio("p99_us"),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if args.iter().any(|arg| arg == "--serve") {
        runtime.block_on(serve());
        return;
    }
    let clients = std::env::var("COMETD_BENCH_CLIENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000);
    runtime.block_on(run(clients));
}
