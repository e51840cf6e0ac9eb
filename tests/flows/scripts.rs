//! The client scripts of `samples/` (one per sample flow, Python standard library only) play the mobile app
//! against the real `gms serve` with `samples/gms.ini` (outbound calls answered at once rather than after the
//! simulator's ring time, to keep the run short), and each runs its flow through to its real end: the flow's
//! session ends, GMS forgets the service, and the agent has the work (bounded waits inside the scripts).

use std::path::Path;
use std::time::Duration;

use crate::server::Binary;

/// Runs `samples/<flow>.py` against a fresh server; returns its standard output after checking it succeeded.
async fn play(flow: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().unwrap();
    let options = std::fs::read_to_string(root.join("samples/gms.ini"))
        .unwrap()
        .replace("ewt = 60\n", "ewt = 60\nring_time = 0\n");
    assert!(options.contains("ring_time = 0"));
    let config = data.path().join("gms.ini");
    std::fs::write(&config, options).unwrap();
    let server = Binary::start(&config, data.path());
    let mut command = tokio::process::Command::new("python3");
    command
        .current_dir(root.join("samples"))
        .arg(format!("{flow}.py"))
        .env("GMS_PUBLIC", format!("http://{}", server.public))
        .env("GMS_INTERNAL", format!("http://{}", server.internal))
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("{flow}.py did not finish"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{flow}.py failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    assert!(
        stdout.contains(" ended\n"),
        "{flow}.py stopped before the flow ended:\n{stdout}"
    );
    stdout
}

#[tokio::test]
async fn request_inbound_immediate_script() {
    let out = play("request-inbound-immediate").await;
    assert!(out.contains("\"_action\": \"DialNumber\""), "{out}");
    assert!(out.contains("agent agent1 busy"), "{out}");
}

#[tokio::test]
async fn request_inbound_delay_script() {
    let out = play("request-inbound-delay").await;
    assert!(out.contains("push on ors.contact."), "{out}");
    assert!(out.contains("\"_action\": \"DialNumber\""), "{out}");
    assert!(out.contains("agent agent2 busy"), "{out}");
}

#[tokio::test]
async fn request_inbound_poll_script() {
    let out = play("request-inbound-poll").await;
    assert!(out.contains("\"_action\": \"Message\""), "{out}");
    assert!(out.contains("\"_action\": \"DialNumber\""), "{out}");
}

#[tokio::test]
async fn request_inbound_delay_location_script() {
    let out = play("request-inbound-delay-location").await;
    assert!(out.contains("location: Paris, France"), "{out}");
    assert!(out.contains("\"_action\": \"DialNumber\""), "{out}");
}

#[tokio::test]
async fn request_outbound_immediate_script() {
    let out = play("request-outbound-immediate").await;
    assert!(out.contains("You will be called shortly."), "{out}");
}

#[tokio::test]
async fn request_outbound_delay_script() {
    let out = play("request-outbound-delay").await;
    assert!(out.contains("\"_action\":\"status\""), "{out}");
    assert!(out.contains("dialog: An agent is available."), "{out}");
    assert!(out.contains("You will be called shortly."), "{out}");
    assert!(out.contains("agent agent1 busy"), "{out}");
}

#[tokio::test]
async fn request_outbound_poll_script() {
    let out = play("request-outbound-poll").await;
    assert!(out.contains("\"_action\": \"ConfirmationDialog\""), "{out}");
    assert!(out.contains("You will be called shortly."), "{out}");
}

#[tokio::test]
async fn request_chat_poll_script() {
    let out = play("request-chat-poll").await;
    assert!(out.contains("\"_status\": \"waiting\""), "{out}");
    assert!(out.contains("chat routed to agent1"), "{out}");
    assert!(out.contains("agent agent1 joined the chat"), "{out}");
    assert!(out.contains("Hello Dan, let me look"), "{out}");
}

#[tokio::test]
async fn request_chat_script() {
    let out = play("chat").await;
    assert!(out.contains("agent agent1 joined the chat"), "{out}");
    assert!(out.contains("It ships tomorrow"), "{out}");
    assert!(out.contains("\"chatIxnState\": \"DISCONNECTED\""), "{out}");
}
