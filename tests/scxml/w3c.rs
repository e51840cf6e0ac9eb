//! The W3C SCXML IRP suite (`tests/w3c/`) on virtual time, with the BasicHTTP Event I/O Processor on a
//! loopback listener, against `tests/w3c/expectations.txt`; and the SCION harness scripts of every passing
//! test through `gms run --script`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gms::cli::run::{read_script, run_script};
use gms::cli::w3c::{Loopback, Verdict, W3cHost, run_dir, summary};
use gms::scxml::SessionOptions;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/w3c")
}

fn expected_failures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir().join("expectations.txt")).expect("expectations file");
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (id, reason) = line.split_once(':').expect("`id: reason` line");
            (id.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

fn verdicts() -> Vec<Verdict> {
    run_dir(&dir()).expect("manifest readable")
}

#[test]
fn irp_verdicts_match_expectations() {
    let expected = expected_failures();
    let mut regressions = Vec::new();
    let mut fixed = Vec::new();
    for verdict in verdicts() {
        let listed = expected.contains_key(&verdict.case.id);
        if !verdict.pass && !listed {
            regressions.push(format!("{}: {}", verdict.case.file, verdict.detail));
        }
        if verdict.pass && listed {
            fixed.push(verdict.case.file.clone());
        }
    }
    assert!(
        regressions.is_empty(),
        "tests that should pass failed: {regressions:#?}"
    );
    assert!(
        fixed.is_empty(),
        "listed failures now pass; remove them from expectations.txt: {fixed:#?}"
    );
}

#[test]
fn irp_summary_counts_every_class() {
    let summary = summary(&verdicts());
    assert_eq!(summary["mandatory"]["total"], 160);
    assert_eq!(summary["mandatory"]["pass"], 160);
    assert_eq!(summary["optional"]["total"], 33);
    assert_eq!(summary["optional"]["pass"], 33);
    assert_eq!(summary["manual"]["total"], 8);
    assert_eq!(summary["manual"]["pass"], 8);
}

/// Manual tests whose SCION scripts expect a `pass` state their charts do not have (the W3C
/// verdict of these comes from the logs; see `gms w3c`).
const SCRIPT_WITHOUT_PASS_STATE: &[&str] = &["230", "250", "307"];

#[test]
fn scion_scripts_pass_for_every_passing_test() {
    let loopback = Loopback::start().expect("a loopback listener");
    let mut mismatches = Vec::new();
    let mut n_checked = 0;
    for verdict in verdicts() {
        if !verdict.pass || SCRIPT_WITHOUT_PASS_STATE.contains(&verdict.case.id.as_str()) {
            continue;
        }
        let chart = dir().join(&verdict.case.file);
        let script_path = chart.with_extension("json");
        if !script_path.is_file() {
            continue;
        }
        n_checked += 1;
        let script = read_script(&script_path).expect("script");
        // Test 201 sends to itself over BasicHTTP, so every script gets the W3C runner's host.
        let reports = run_script(
            &chart,
            &script,
            true,
            &mut W3cHost::new(&loopback),
            SessionOptions::default(),
        )
        .expect("runs");
        loopback.close_all();
        for report in reports.iter().filter(|report| !report.ok()) {
            mismatches.push(format!(
                "{} at {}: expected {:?}, got {:?}",
                verdict.case.file, report.step, report.expected, report.actual
            ));
        }
    }
    assert!(n_checked > 150, "only {n_checked} scripts found");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
