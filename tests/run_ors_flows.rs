//! `gms run` on sample flows written for ORS: the flow runs with GMS built in-process and no server (DFM actions
//! served in-process, the simulated contact center steered by script steps), so a flow author tests it offline.

use std::process::Command;

fn gms_run(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .arg("run")
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (
        output.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn request_inbound_delay_passes_its_script_offline() {
    let (code, lines, stderr) = gms_run(&[
        "scxml/request-inbound-delay.scxml",
        "--script",
        "scxml/scripts/request-inbound-delay.json",
        "--param",
        "_phone_number=5551234",
        "--param",
        "_poll_interval=1",
        "--param",
        "_device_id=app1",
    ]);
    assert_eq!(code, 0, "{lines:?}\n{stderr}");
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines.iter().all(|line| line["ok"] == true), "{lines:?}");
    // The connect request booked a number in-process and answered with it.
    let connect = &lines[3];
    assert_eq!(connect["step"], "connect");
    assert_eq!(connect["answer"]["params"]["_action"], "DialNumber");
    assert!(
        connect["answer"]["params"]["_tel_url"]
            .as_str()
            .unwrap()
            .starts_with("tel:"),
        "{connect}"
    );
}

#[test]
fn request_inbound_immediate_answers_each_event() {
    let (code, lines, stderr) = gms_run(&[
        "scxml/request-inbound-immediate.scxml",
        "--param",
        "_phone_number=5551234",
        "--event",
        "gms.start",
        "--event",
        "cancel",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        lines[0]["configuration"],
        serde_json::json!(["waiting_for_start"])
    );
    assert_eq!(
        lines[1]["answer"]["params"]["_action"], "DialNumber",
        "{lines:?}"
    );
    assert_eq!(
        lines[1]["configuration"],
        serde_json::json!(["waiting_for_call"])
    );
    assert_eq!(lines[2]["answer"]["type"], "positive");
    assert_eq!(lines[2]["ended"], true);
}

#[test]
fn a_wrong_expectation_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("wrong.json");
    std::fs::write(
        &script,
        r#"{"initialConfiguration": ["waiting_for_start"],
            "events": [{"event": {"name": "gms.start"}, "nextConfiguration": ["routing"]}]}"#,
    )
    .unwrap();
    let (code, lines, _) = gms_run(&[
        "scxml/request-inbound-immediate.scxml",
        "--script",
        script.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(lines[1]["ok"], false, "{lines:?}");
    assert_eq!(lines[1]["actual"], serde_json::json!(["waiting_for_call"]));
}

#[test]
fn a_bad_internal_call_is_reported_not_fatal() {
    let (code, lines, stderr) = gms_run(&[
        "scxml/request-inbound-immediate.scxml",
        "--event",
        "/genesys/1/contact-center/agents/nobody/ready",
        "--event",
        "cancel",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines[1]["answer"]["status"], 404, "{lines:?}");
    assert_eq!(lines[2]["ended"], true);
}

#[test]
fn virtual_time_is_refused_for_ors_flows() {
    let (code, _, stderr) = gms_run(&["scxml/request-inbound-immediate.scxml", "--virtual-time"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--virtual-time"), "{stderr}");
}
