//! Real CometD clients against `/genesys/cometd`: the npm `cometd` client (long-polling and WebSocket) and the
//! Python `aiocometd` client each handshake, subscribe to `/_genesys`, receive a notification, handshake again
//! after the server drops them, receive a second one and disconnect.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use gms::cometd::{GENESYS_CHANNEL, Server, Settings};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Upper bound on every step; the clients normally take well under a second.
const STEP: Duration = Duration::from_secs(20);

async fn start_server() -> (Arc<Server>, String) {
    let server = Server::new(Settings::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = gms::http::cometd::router(server.clone(), "01");
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (server, format!("http://{address}/genesys/cometd"))
}

fn interop_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// Waits (bounded) until `user` has exactly one client subscribed to `/_genesys`.
async fn until_subscribed(server: &Server, user: &str) {
    tokio::time::timeout(STEP, async {
        while server.user_subscriptions(user, GENESYS_CHANNEL) != 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("client subscribed to /_genesys");
}

async fn next_line(lines: &mut mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = tokio::time::timeout(STEP, lines.recv())
            .await
            .unwrap_or_else(|_| panic!("no `{prefix}` line in time"))
            .unwrap_or_else(|| panic!("client ended before printing `{prefix}`"));
        if line.starts_with(prefix) {
            return line;
        }
    }
}

async fn run_client(mut command: Command, user: &str) {
    let (server, url) = start_server().await;
    let mut child = command
        .arg(&url)
        .arg(user)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("client starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, mut lines) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            eprintln!("client: {line}");
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });

    until_subscribed(&server, user).await;
    assert_eq!(
        server.deliver_to_user(
            "someone-else",
            GENESYS_CHANNEL,
            json!({"message": "not yours"})
        ),
        0
    );
    assert_eq!(
        server.deliver_to_user(
            user,
            GENESYS_CHANNEL,
            json!({"message": "first", "tag": "t"})
        ),
        1
    );
    assert_eq!(next_line(&mut lines, "received").await, "received first");

    assert_eq!(server.drop_user(user), 1);
    until_subscribed(&server, user).await;
    assert_eq!(
        server.deliver_to_user(user, GENESYS_CHANNEL, json!({"message": "second"})),
        1
    );
    assert_eq!(next_line(&mut lines, "received").await, "received second");
    assert_eq!(
        next_line(&mut lines, "disconnected").await,
        "disconnected true"
    );

    let status = tokio::time::timeout(STEP, child.wait())
        .await
        .expect("client exits")
        .unwrap();
    assert!(status.success(), "client exit status {status}");
    tokio::time::timeout(STEP, async {
        while server.client_count() != 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("disconnect removes the client");
}

fn npm_client(transport: &str) -> Command {
    let dir = interop_dir("cometd-npm");
    let mut command = Command::new("node");
    command.current_dir(&dir).arg(dir.join("interop.mjs"));
    // The script reads its transport after url and user.
    command.env("COMETD_TRANSPORT", transport);
    command
}

fn python_client(transport: &str) -> Command {
    let dir = interop_dir("aiocometd");
    let mut command = Command::new("python3");
    command.current_dir(&dir).arg(dir.join("interop.py"));
    command.env("COMETD_TRANSPORT", transport);
    command
}

#[tokio::test]
async fn npm_cometd_client_over_long_polling() {
    run_client(npm_client("long-polling"), "alice").await;
}

#[tokio::test]
async fn npm_cometd_client_over_websocket() {
    run_client(npm_client("websocket"), "bob").await;
}

#[tokio::test]
async fn aiocometd_client_over_long_polling() {
    run_client(python_client("long-polling"), "carol").await;
}

#[tokio::test]
async fn aiocometd_client_over_websocket() {
    run_client(python_client("websocket"), "dave").await;
}
