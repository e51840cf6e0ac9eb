//! `gms test`: a directory of charts with passing, failing and unparsable ones gives one line per test, a
//! summary, a non-zero exit code, valid JUnit XML, and coverage naming exactly the unreached state and transition.

use std::path::Path;
use std::process::Command;

const LIGHT: &str = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="red">
  <state id="red"><transition event="go" target="green"/></state>
  <state id="green">
    <transition event="stop" target="red"/>
    <transition event="panic" target="broken"/>
  </state>
  <state id="broken"/>
</scxml>
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn gms_test(args: &[&str], cwd: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .arg("test")
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn passing_failing_and_broken_charts_are_reported_with_junit_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "light.scxml", LIGHT);
    write(
        root,
        "light.json",
        r#"{"initialConfiguration": ["red"], "events": [
            {"event": {"name": "go"}, "nextConfiguration": ["green"]},
            {"event": {"name": "stop"}, "nextConfiguration": ["red"]}]}"#,
    );
    std::fs::create_dir(root.join("more")).unwrap();
    write(&root.join("more"), "wrong.scxml", LIGHT);
    write(
        &root.join("more"),
        "wrong.json",
        r#"{"initialConfiguration": ["red"], "events": [{"event": {"name": "go"}, "nextConfiguration": ["red"]}]}"#,
    );
    write(
        root,
        "bad.scxml",
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n<state id=\"a\"><transition target=\"nowhere\"/></state>\n</scxml>\n",
    );
    write(root, "bad.json", r#"{"initialConfiguration": ["a"]}"#);
    // A chart without a script is no test.
    write(root, "alone.scxml", LIGHT);

    let (code, out) = gms_test(
        &[
            ".",
            "--coverage",
            "--coverage-svg",
            "svg",
            "--junit",
            "junit.xml",
        ],
        root,
    );
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.contains(&"PASS ./light.scxml (./light.json, 3 steps)"),
        "{out}"
    );
    assert!(
        lines.contains(&"FAIL ./more/wrong.scxml (./more/wrong.json)"),
        "{out}"
    );
    assert!(
        lines.contains(&"     after `go` expected [red], the chart is in [green]"),
        "{out}"
    );
    assert!(lines.contains(&"FAIL ./bad.scxml (./bad.json)"), "{out}");
    assert!(
        out.contains("./bad.scxml:2:15: the target \"nowhere\" is not the id of any state."),
        "positioned errors: {out}"
    );
    assert_eq!(lines.last(), Some(&"3 tests: 1 passed, 2 failed"), "{out}");
    // Coverage of light.scxml names exactly what its script never reached.
    let coverage: Vec<&str> = out
        .split("coverage ./light.scxml: ")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|line| line.starts_with("     ") || line.starts_with("states"))
        .collect();
    assert_eq!(
        coverage,
        [
            "states 2/3, transitions 2/3",
            "     state never entered: broken (line 7)",
            "     transition never taken: green -> broken on `panic` (line 5)",
        ]
    );

    // The coverage diagram marks exactly those as missed.
    let svg = std::fs::read_to_string(root.join("svg/light.svg")).unwrap();
    let missed: Vec<&str> = svg
        .split("<g class=\"")
        .skip(1)
        .filter(|group| {
            group
                .split('"')
                .next()
                .unwrap()
                .split(' ')
                .any(|c| c == "missed")
        })
        .map(|group| {
            let attr = if group.starts_with("state") {
                "data-state=\""
            } else {
                "data-event=\""
            };
            group.split(attr).nth(1).unwrap().split('"').next().unwrap()
        })
        .collect();
    assert_eq!(missed, ["broken", "panic"], "{svg}");

    // The JUnit file is well-formed XML with one testcase per test and the failures marked.
    let xml = std::fs::read_to_string(root.join("junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((cases, failures), (3, 2), "{xml}");
    assert!(xml.contains("<testsuite name=\"gms test\" tests=\"3\" failures=\"2\""));

    // Only the passing chart: exit 0.
    let (code, out) = gms_test(&["light.scxml"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("1 test: 1 passed, 0 failed\n"), "{out}");
    // Nothing to test is a failure too (a wrong path in CI must not pass silently).
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(gms_test(&["."], empty.path()).0, 1);
    assert_ne!(gms_test(&["no/such/dir"], root).0, 0);
}
