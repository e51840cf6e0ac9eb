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
    // A poll interval far longer than the run: the flow learns of the ready agent from `status` alone, so no step
    // depends on when its timer fires.
    let (code, lines, stderr) = gms_run(&[
        "scxml/request-inbound-delay.scxml",
        "--script",
        "scxml/scripts/request-inbound-delay.json",
        "--param",
        "_phone_number=5551234",
        "--param",
        "_poll_interval=60",
        "--param",
        "_device_id=app1",
    ]);
    assert_eq!(code, 0, "{lines:?}\n{stderr}");
    let steps: Vec<&str> = lines
        .iter()
        .map(|line| line["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "load",
            "gms.start",
            "status",
            "connect",
            "/genesys/1/contact-center/agents/agent1/ready",
            "status",
            "connect",
            "status",
            "cancel"
        ],
        "{lines:?}"
    );
    assert!(lines.iter().all(|line| line["ok"] == true), "{lines:?}");
    let params = |at: usize| &lines[at]["answer"]["params"];
    // No agent yet: wait, with the estimated wait; connect is not offered.
    assert_eq!(params(2)["_action"], "Message", "{lines:?}");
    assert_eq!(params(2)["_ewt"], 60, "{lines:?}");
    assert_eq!(lines[3]["answer"]["type"], "negative", "{lines:?}");
    assert_eq!(lines[3]["answer"]["resultcode"], "not_offered", "{lines:?}");
    // The agent is ready: status offers the call, and connect books a number in-process and answers with it.
    assert_eq!(params(5)["_action"], "ConfirmationDialog", "{lines:?}");
    let connect = params(6);
    assert_eq!(connect["_action"], "DialNumber", "{lines:?}");
    assert_eq!(connect["_label"], "Call now", "{lines:?}");
    assert!(
        connect["_tel_url"].as_str().unwrap().starts_with("tel:"),
        "{lines:?}"
    );
    assert!(
        !connect["_access_code"].as_str().unwrap().is_empty(),
        "{lines:?}"
    );
    // Asked again, status repeats the number.
    assert_eq!(params(7), connect, "{lines:?}");
    // Cancelled: the session has ended, no state is active.
    assert_eq!(lines[8]["actual"], serde_json::json!([]), "{lines:?}");
    assert_eq!(lines[8]["answer"]["type"], "positive", "{lines:?}");
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

#[test]
fn trace_prints_each_macrostep_of_an_ors_flow_before_its_step() {
    let (code, lines, stderr) = gms_run(&[
        "scxml/request-inbound-immediate.scxml",
        "--param",
        "_phone_number=5551234",
        "--event",
        "gms.start",
        "--event",
        "cancel",
        "--trace",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // The first macrostep enters the start state, before the load line.
    assert!(lines[0]["step"].is_null(), "{lines:?}");
    assert!(
        lines[0]["entered"]
            .as_array()
            .unwrap()
            .contains(&"waiting_for_start".into()),
        "{lines:?}"
    );
    assert_eq!(lines[1]["step"], "load", "{lines:?}");
    // gms.start's macrostep names its event and its transitions by index, source and targets.
    let start = lines
        .iter()
        .position(|line| line["event"]["name"] == "gms.start")
        .expect("a macrostep of gms.start");
    let taken = &lines[start]["transitions"][0];
    assert!(
        taken["index"].is_u64() && taken["source"].is_string(),
        "{lines:?}"
    );
    let start_step = lines
        .iter()
        .position(|line| line["step"] == "gms.start")
        .unwrap();
    assert!(start < start_step, "{lines:?}");
    // cancel ends the flow: its last macrostep, then the end, then the step's own line.
    let n = lines.len();
    assert_eq!(lines[n - 2]["ended"], true, "{lines:?}");
    assert_eq!(lines[n - 2]["halt"], "final done", "{lines:?}");
    assert_eq!(lines[n - 1]["step"], "cancel", "{lines:?}");
}

#[test]
fn gms_test_measures_the_coverage_of_an_ors_flow_and_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("request-inbound-immediate.scxml");
    std::fs::copy("scxml/request-inbound-immediate.scxml", &flow).unwrap();
    // Parameters from the script; the flow is only started and cancelled.
    std::fs::write(
        dir.path().join("request-inbound-immediate.json"),
        r#"{"params": {"_phone_number": "5551234"}, "initialConfiguration": ["waiting_for_start"], "events": [
            {"event": {"name": "cancel"}, "nextConfiguration": []}]}"#,
    )
    .unwrap();
    let svg = dir.path().join("svg");
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(["test", "--coverage", "--coverage-svg"])
        .arg(&svg)
        .arg(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{out}");
    let coverage = out
        .lines()
        .find(|line| line.starts_with("coverage "))
        .expect("a coverage line");
    // service, waiting_for_start and done entered, the transition of cancel taken, the rest missed.
    assert!(coverage.contains(": states 3/6, transitions 1/"), "{out}");
    assert!(out.contains("     state never entered: booking"), "{out}");
    assert!(out.contains("on `gms.start`"), "{out}");
    assert!(!out.contains("on `cancel`"), "{out}");
    let drawn = std::fs::read_to_string(svg.join("request-inbound-immediate.svg")).unwrap();
    assert!(drawn.contains("missed"), "{drawn}");
}
