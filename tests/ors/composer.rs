//! Composer applications: a project laid out as Composer writes it (`tests/composer/DemoProject`: `src-gen/*.scxml`
//! with `profile`, several `<script>`s that XInclude `include/*.js`, a workflow XIncluded with `xpointer` and
//! `resolveid`, `$$_MY_PREFIX_$$`, `_my_prefix`, `_event.toSource()`) validates, draws, runs and tests; a call the
//! contact-center simulator offers to a routing point starts its strategy, which reaches the workflow's first
//! block with `_genesys.ixn.interactions[id]` filled; includes that cannot be resolved are positioned errors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gms::ors::trace::Watch;

use crate::server::TestServer;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/composer/DemoProject")
}

fn entry() -> PathBuf {
    project().join("src-gen/IPD_default_MainWorkflow.scxml")
}

fn gms(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_project_validates_draws_runs_and_tests() {
    let main = project().join("src-gen/Main.scxml");
    let (code, out, err) = gms(&[
        "validate",
        entry().to_str().unwrap(),
        main.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");

    let (code, svg, err) = gms(&["diagram", entry().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for state in [
        "MainWorkflow._composer_entry",
        "MainWorkflow.Entry1",
        "MainWorkflow.Greeting1",
    ] {
        assert!(svg.contains(&format!("data-state=\"{state}\"")), "{state}");
    }

    let (code, out, err) = gms(&[
        "run",
        entry().to_str().unwrap(),
        "--trace",
        "--event",
        r#"interaction.added:{"interactionid":"0001","ani":"5551234","dnis":"5000","udata":{}}"#,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let step = lines
        .iter()
        .find(|line| line["step"] == "interaction.added")
        .unwrap();
    assert_eq!(
        step["configuration"],
        serde_json::json!(["MainWorkflow.Greeting1"])
    );
    let logs: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["logs"].as_array())
        .flatten()
        .filter_map(|log| log["message"].as_str())
        .collect();
    // The project's scripts ran, `_event.toSource()` printed the event, `_my_prefix` matched the resolveid.
    assert!(logs.contains(&"Greeting1: sales"), "{logs:?}");
    assert!(
        logs.iter()
            .any(|log| log.starts_with("Entry1: ({") && log.contains("\"interactionid\":\"0001\"")),
        "{logs:?}"
    );

    let (code, out, err) = gms(&["test", project().to_str().unwrap(), "--coverage"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 test: 1 passed, 0 failed"), "{out}");
}

/// A copy of the project in a temporary directory, with `edit` applied to the entry document.
fn broken_copy(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("DemoProject");
    // A script beside the project, which it must not reach.
    std::fs::write(dir.path().join("outside.js"), "var secret = 1;").unwrap();
    for sub in ["src-gen", "include/user"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    for file in [
        "src-gen/IPD_default_MainWorkflow.scxml",
        "src-gen/Main.scxml",
        "include/common.js",
        "include/user/greeting.js",
    ] {
        std::fs::copy(project().join(file), root.join(file)).unwrap();
    }
    let entry = root.join("src-gen/IPD_default_MainWorkflow.scxml");
    let text = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(&entry, edit(text)).unwrap();
    (dir, entry)
}

/// Line and column (from 1) of `needle` in the entry document of `entry`.
fn place_of(entry: &Path, needle: &str) -> String {
    let text = std::fs::read_to_string(entry).unwrap();
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |nl| nl + 1) + 1;
    format!("{}:{line}:{column}", entry.display())
}

#[test]
fn includes_that_cannot_be_resolved_are_positioned_errors() {
    // A missing workflow, a file outside the project, an id the workflow does not have.
    for (from, to, reason) in [
        (
            "href=\"Main.scxml\"",
            "href=\"Missing.scxml\"",
            "cannot be resolved: no such file",
        ),
        (
            "href=\"../include/common.js\"",
            "href=\"../../outside.js\"",
            "is outside the project",
        ),
        (
            "xpointer=\"_composer_entry\"",
            "xpointer=\"Nowhere\"",
            "has the id \"Nowhere\"",
        ),
    ] {
        let (_dir, entry) = broken_copy(|text| text.replacen(from, to, 1));
        let (code, out, err) = gms(&["validate", entry.to_str().unwrap()]);
        assert_eq!(code, 1, "{to}: {out}{err}");
        let err = format!("{out}{err}");
        let expected = place_of(&entry, "<xi:include");
        let expected = if from.contains("common") {
            expected
        } else {
            // The workflow's include comes after the script's.
            let text = std::fs::read_to_string(&entry).unwrap();
            let at = text
                .find("<xi:include href=\"Missing")
                .or_else(|| text.find("<xi:include href=\"Main"))
                .unwrap();
            let line = text[..at].matches('\n').count() + 1;
            let column = at - text[..at].rfind('\n').map_or(0, |nl| nl + 1) + 1;
            format!("{}:{line}:{column}", entry.display())
        };
        assert!(
            err.contains(&format!("{expected}: <xi:include href=")) && err.contains(reason),
            "{to}: expected {expected} … {reason} in {err}"
        );
        // The same errors from the other commands.
        assert_eq!(gms(&["diagram", entry.to_str().unwrap()]).0, 1);
        assert_ne!(gms(&["run", entry.to_str().unwrap()]).0, 0);
    }
    // An error inside the included workflow names the workflow's file and its own line.
    let (_dir, entry) = broken_copy(|text| text);
    let main = entry.with_file_name("Main.scxml");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        text.replace(
            "target=\"$$_MY_PREFIX_$$.Exit1\"",
            "target=\"$$_MY_PREFIX_$$.Nowhere\"",
        ),
    )
    .unwrap();
    let (code, out, err) = gms(&["validate", entry.to_str().unwrap()]);
    let err = format!("{out}{err}");
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(&main).unwrap();
    let at = text.find("<transition event=\"caller.hangup\"").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let main = std::fs::canonicalize(&main).unwrap();
    assert!(
        err.contains(&format!("{}:{line}:", main.display()))
            && err.contains("MainWorkflow.Nowhere"),
        "{err}"
    );
}

#[tokio::test]
async fn a_call_to_a_routing_point_starts_the_strategy_and_reaches_the_first_block() {
    let server = TestServer::start(&format!(
        "[server]\nnode_id = 1\n[ors]\ndocument_roots = {}\nroute_points = 5000={}\n",
        project().display(),
        entry().display()
    ))
    .await;
    let mut trace = server.ors.watch(Watch::All);
    let (status, body) = server
        .post_internal("/genesys/1/contact-center/calls?dnis=5000&ani=5551234", &[])
        .await;
    assert_eq!(status, 200, "{body}");
    let interaction = body["interactionid"].as_str().unwrap().to_string();
    // The strategy starts, is offered the call and runs into the workflow's first block.
    let session = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = trace.recv().await.unwrap();
            if line.line["configuration"] == serde_json::json!(["MainWorkflow.Greeting1"]) {
                return line.session.to_string();
            }
        }
    })
    .await
    .expect("the strategy reaches MainWorkflow.Greeting1");
    let state = server.ors.query(&session).await.unwrap();
    assert_eq!(
        state["data"]["InteractionId"],
        interaction.as_str(),
        "{state}"
    );
    assert_eq!(state["data"]["Greeting"], "sales", "{state}");
    assert_eq!(
        state["data"]["Described"], "Inbound call from 5551234 to 5000",
        "{state}"
    );

    // The ORS HTTP interface starts the same document by its path.
    let (status, body) = server
        .post_internal(
            "/scxml/session/start",
            &[("src", entry().to_str().unwrap())],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
