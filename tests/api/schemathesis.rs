//! The whole described API against generated input: schemathesis reads `/genesys/openapi.json` from the real
//! binary (the sample options) and sends schema-driven requests, valid and invalid, to every operation of the
//! internal listener (which serves everything); no answer may be a server error.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::Binary;

#[test]
fn generated_requests_to_every_operation_never_get_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    // The sample options with a resource group large enough that generated bookings never exhaust it (503
    // NoMoreResources is the documented answer then, but a 5xx all the same).
    let sample =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/gms.ini")).unwrap();
    let numbers: String = (0..2000)
        .map(|n| format!("dnis{n} = 1-888-{n:07}\n"))
        .collect();
    let options = sample.replace(
        "dnis1 = 1-888-call-me1\ndnis2 = 1-888-call-me2\ndnis3 = 1-888-call-me3\n",
        &numbers,
    );
    assert_ne!(options, sample, "the sample's resource group moved");
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, options).unwrap();
    let server = Binary::start_in(Some(&config), &dir.path().join("data"), dir.path());
    let base = format!("http://{}", server.internal);
    let runner = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/schemathesis/run.py"
    );
    let mut child = Command::new("python3")
        .current_dir(dir.path())
        .args([
            runner,
            "run",
            &format!("{base}/genesys/openapi.json"),
            "--url",
            &base,
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--workers",
            "1",
            "--seed",
            "20261201",
            "--request-timeout",
            "40",
            "--no-color",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with schemathesis (scripts/test installs it)");
    // Bounded: the run takes seconds; a hang is a failure, not a stuck test.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        status.is_some_and(|status| status.success()),
        "schemathesis found server errors (or did not finish):\n{report}\nserver log:\n{}",
        server.log()
    );
    assert!(report.contains("passed"), "{report}");
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}
