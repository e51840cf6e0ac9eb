//! The flow-author commands as a user runs them: `gms validate`, `gms run` and `gms w3c`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs this build's `gms` with `args`: exit code, stdout, stderr.
pub(crate) fn gms(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(args)
        .output()
        .expect("gms runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn chart(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(name)
        .display()
        .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gms-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn validate_prints_positioned_errors_and_exits_1() {
    let dir = temp_dir("validate");
    let bad = dir.join("bad.scxml");
    std::fs::write(
        &bad,
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n  <state id=\"a\"><transition target=\"b\"/></state>\n</scxml>\n",
    )
    .unwrap();
    let good = chart("tests/charts/history.scxml");
    let (code, stdout, _) = gms(&["validate", &good, bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "{}:2:17: the target \"b\" is not the id of any state.\n",
            bad.display()
        )
    );
    let (code, stdout, _) = gms(&["validate", &good]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_with_events_and_trace() {
    let (code, stdout, _) = gms(&[
        "run",
        &chart("tests/charts/history.scxml"),
        "--event",
        "next",
        "--event",
        "pause:{\"why\":\"lunch\"}",
        "--trace",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["entered"], serde_json::json!(["work", "w1"]));
    assert_eq!(lines[0]["configuration"], serde_json::json!(["w1"]));
    assert_eq!(lines[1]["event"]["name"], "next");
    assert_eq!(
        lines[1]["transitions"],
        serde_json::json!([{"index": 2, "source": "w1", "targets": ["w2"]}])
    );
    assert_eq!(lines[1]["exited"], serde_json::json!(["w1"]));
    assert_eq!(
        lines[2]["event"]["data"],
        serde_json::json!({"why": "lunch"})
    );
    assert_eq!(lines[2]["configuration"], serde_json::json!(["paused"]));
    assert_eq!(
        lines[3],
        serde_json::json!({"configuration": ["paused"], "halt": null})
    );
}

#[test]
fn run_script_reports_each_step_and_fails_on_a_mismatch() {
    let chart = chart("tests/w3c/test190.txml.scxml");
    let script = chart.replace(".scxml", ".json");
    let (code, stdout, _) = gms(&["run", &chart, "--script", &script, "--virtual-time"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.lines().all(|line| line.contains("\"ok\":true")),
        "{stdout}"
    );

    let dir = temp_dir("script");
    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, r#"{"initialConfiguration":["s0"],"events":[{"after":100,"event":{"name":"t1"},"nextConfiguration":["fail"]}]}"#).unwrap();
    let (code, stdout, _) = gms(&[
        "run",
        &chart,
        "--script",
        wrong.to_str().unwrap(),
        "--virtual-time",
    ]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["ok"], false);
    assert_eq!(lines[0]["actual"], serde_json::json!(["s1"]));
    assert_eq!(lines[1]["actual"], serde_json::json!(["pass"]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn w3c_prints_a_summary_line() {
    let (code, stdout, _) = gms(&["w3c", &chart("tests/w3c"), "--json"]);
    assert_eq!(code, 0);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["mandatory"],
        serde_json::json!({"pass": 160, "total": 160})
    );
    assert_eq!(
        last["optional"],
        serde_json::json!({"pass": 33, "total": 33})
    );
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(first["test"].is_string() && first["pass"].is_boolean());
}

#[test]
fn run_on_virtual_time_traces_the_halting_macrostep() {
    let (code, stdout, _) = gms(&[
        "run",
        &chart("tests/charts/delays.scxml"),
        "--trace",
        "--virtual-time",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let n_lines = lines.len();
    assert_eq!(lines[n_lines - 2]["event"]["name"], "late");
    assert_eq!(lines[n_lines - 2]["entered"], serde_json::json!(["done"]));
    assert_eq!(
        lines[n_lines - 1]["halt"],
        serde_json::json!({"final": "done"})
    );
}

#[test]
fn run_tells_where_an_error_was_raised() {
    let dir = temp_dir("run-error");
    let chart = dir.join("bad.scxml");
    std::fs::write(
        &chart,
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\" datamodel=\"ecmascript\">\n  <state id=\"s\">\n    <onentry>\n      <assign location=\"nosuch.x\" expr=\"1\"/>\n    </onentry>\n  </state>\n</scxml>\n",
    )
    .unwrap();
    let (code, _, stderr) = gms(&["run", chart.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "error.execution: line 4, column 7, <assign>: evaluating \"nosuch.x = 1\" failed"
        ),
        "{stderr}"
    );
}
