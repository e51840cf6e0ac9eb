//! State diagrams: the SVG of every sample flow and of the W3C charts of `tests/w3c` is well-formed XML, has one
//! group per state and per transition carrying the model's ids, names every state and draws every transition;
//! marks become classes; `gms diagram` writes to a file or standard output and prints positioned errors for a bad
//! chart; one sample flow's SVG is rasterised by headless Chromium (the PNG is left under `target/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::cli::gms;
use gms::cli::validate::dialect_of;
use gms::diagram::{Marks, render};
use gms::scxml::model::Model;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parse(path: &Path) -> std::sync::Arc<Model> {
    gms::scxml::parse::parse_file_with(path, |text| dialect_of(None, text))
        .unwrap_or_else(|errors| panic!("{} does not parse: {errors}", path.display()))
}

/// Charts of `dir` whose names end with `suffix`, sorted.
fn charts(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no chart in {dir}");
    found
}

/// A transition group as drawn: its attributes, how many paths it has, its texts.
type DrawnTransition = (BTreeMap<String, String>, usize, Vec<String>);

/// What the SVG text says about the chart.
#[derive(Debug, Default)]
struct Drawn {
    /// `data-state` → the texts inside that group (its own, not its children's).
    states: BTreeMap<String, Vec<String>>,
    /// `data-index` → (attributes, number of paths, texts).
    transitions: BTreeMap<usize, DrawnTransition>,
    /// Every `class` of every group.
    classes: BTreeMap<String, BTreeSet<String>>,
}

fn attrs(element: &BytesStart) -> BTreeMap<String, String> {
    element
        .attributes()
        .map(|attr| {
            let attr = attr.expect("well-formed attribute");
            (
                attr.key.as_ref().to_string(),
                attr.normalized_value(XmlVersion::Implicit1_0)
                    .expect("attribute value")
                    .into_owned(),
            )
        })
        .collect()
}

/// Reads the whole SVG with quick-xml (panicking on any XML error) and collects the groups.
fn read_svg(svg: &str) -> Drawn {
    enum Open {
        State(String),
        Transition(usize),
        Other,
    }
    let mut reader = Reader::from_str(svg);
    let mut drawn = Drawn::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut in_text = false;
    let mut text = String::new();
    let mut saw_svg = false;
    loop {
        match reader.read_event().expect("the SVG is well-formed XML") {
            Event::Start(element) => {
                let name = element.name().as_ref().to_string();
                let attributes = attrs(&element);
                if name == "svg" {
                    saw_svg = true;
                }
                if name == "text" {
                    in_text = true;
                    text.clear();
                }
                let open = if name == "g" {
                    let class = attributes.get("class").cloned().unwrap_or_default();
                    let words: BTreeSet<String> =
                        class.split_whitespace().map(str::to_string).collect();
                    if let Some(id) = attributes.get("data-state") {
                        assert!(words.contains("state"), "{class}");
                        drawn.classes.insert(format!("state:{id}"), words);
                        drawn.states.entry(id.clone()).or_default();
                        Open::State(id.clone())
                    } else if let Some(index) = attributes.get("data-index") {
                        assert!(words.contains("transition"), "{class}");
                        let index: usize = index.parse().unwrap();
                        drawn.classes.insert(format!("transition:{index}"), words);
                        let previous = drawn
                            .transitions
                            .insert(index, (attributes.clone(), 0, Vec::new()));
                        assert!(previous.is_none(), "transition {index} drawn twice");
                        Open::Transition(index)
                    } else {
                        Open::Other
                    }
                } else {
                    Open::Other
                };
                stack.push(open);
            }
            Event::Empty(element) => {
                if element.name().as_ref() == "path"
                    && let Some(Open::Transition(index)) = stack.last()
                {
                    let d = attrs(&element).get("d").cloned().unwrap_or_default();
                    assert!(d.starts_with('M') && d.len() > 4, "empty path: {d}");
                    drawn.transitions.get_mut(index).unwrap().1 += 1;
                }
            }
            Event::Text(content) if in_text => {
                text.push_str(&content.into_inner());
            }
            Event::GeneralRef(reference) if in_text => {
                let name = reference.into_inner();
                text.push(match &*name {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("unexpected entity {other}"),
                });
            }
            Event::End(element) => {
                if element.name().as_ref() == "text" {
                    in_text = false;
                    // The innermost state or transition group holding this text gets it.
                    match stack.iter().rev().find(|open| !matches!(open, Open::Other)) {
                        Some(Open::State(id)) => {
                            drawn.states.get_mut(id).unwrap().push(text.clone())
                        }
                        Some(Open::Transition(index)) => drawn
                            .transitions
                            .get_mut(index)
                            .unwrap()
                            .2
                            .push(text.clone()),
                        _ => {}
                    }
                }
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(saw_svg && stack.is_empty());
    drawn
}

/// Checks the SVG of `model` against the model: one group per state, named; one group per transition, with its
/// source, targets and events, drawn (a path per target, or its line inside its state when targetless).
fn check(model: &Model, svg: &str, chart: &Path) {
    let drawn = read_svg(svg);
    let ids: BTreeSet<String> = model.states.iter().map(|state| state.id.clone()).collect();
    let drawn_ids: BTreeSet<String> = drawn.states.keys().cloned().collect();
    assert_eq!(drawn_ids, ids, "{}", chart.display());
    for state in &model.states[1..] {
        if !state.id.starts_with("__") {
            assert!(
                drawn.states[&state.id].contains(&state.id),
                "{}: state {} is not named: {:?}",
                chart.display(),
                state.id,
                drawn.states[&state.id]
            );
        }
    }
    assert_eq!(
        drawn.transitions.len(),
        model.transitions.len(),
        "{}",
        chart.display()
    );
    for (index, transition) in model.transitions.iter().enumerate() {
        let (attributes, paths, texts) = &drawn.transitions[&index];
        let context = format!("{} transition {index}", chart.display());
        assert_eq!(
            attributes["data-source"],
            model.state_id(transition.source),
            "{context}"
        );
        let targets: Vec<&str> = transition
            .targets
            .iter()
            .map(|&target| model.state_id(target))
            .collect();
        assert_eq!(attributes["data-targets"], targets.join(" "), "{context}");
        assert_eq!(
            attributes["data-event"],
            transition.events.join(" "),
            "{context}"
        );
        if transition.targets.is_empty() {
            assert_eq!(*paths, 0, "{context}");
            assert_eq!(texts.len(), 1, "{context}: its line in its state");
            for event in &transition.events {
                assert!(texts[0].contains(event.as_str()), "{context}: {texts:?}");
            }
        } else {
            assert_eq!(*paths, transition.targets.len(), "{context}");
            // The label names every event (unless an over-long list was cut).
            let label = texts.join(" ");
            let events = transition.events.join(" ");
            if events.chars().count() <= 34 {
                assert!(label.contains(&events), "{context}: {label:?}");
            }
            if transition.events.is_empty() && transition.cond.is_none() {
                assert!(texts.is_empty(), "{context}");
            }
        }
    }
}

#[test]
fn every_sample_flow_names_every_state_and_draws_every_transition() {
    for chart in charts("scxml", ".scxml") {
        let model = parse(&chart);
        check(&model, &render(&model, &Marks::default()), &chart);
    }
}

#[test]
fn every_w3c_chart_names_every_state_and_draws_every_transition() {
    let charts = charts("tests/w3c", ".scxml");
    assert!(charts.len() > 200);
    let mut refused = Vec::new();
    for chart in charts {
        // A few W3C charts test that a document is refused (test301: a script that cannot be loaded).
        match gms::scxml::parse::parse_file_with(&chart, |text| dialect_of(None, text)) {
            Ok(model) => check(&model, &render(&model, &Marks::default()), &chart),
            Err(_) => refused.push(chart.file_name().unwrap().to_string_lossy().into_owned()),
        }
    }
    assert_eq!(refused, ["test301.txml.scxml"]);
}

#[test]
fn charts_with_nesting_parallel_history_and_internal_transitions_draw_their_markers() {
    // test 403b: parallel regions; 387: shallow and deep history; 533: type="internal".
    for (file, classes) in [
        ("tests/w3c/test403b.txml.scxml", &["parallel"][..]),
        ("tests/w3c/test387.txml.scxml", &["history", "compound"][..]),
        ("tests/w3c/test533.txml.scxml", &["parallel"][..]),
    ] {
        let model = parse(&root().join(file));
        let svg = render(&model, &Marks::default());
        let drawn = read_svg(&svg);
        for class in classes {
            assert!(
                drawn
                    .classes
                    .iter()
                    .any(|(key, words)| key.starts_with("state:") && words.contains(*class)),
                "{file}: no {class} state"
            );
        }
        if classes.contains(&"parallel") {
            assert!(svg.contains("class=\"divider\""), "{file}");
        }
        if classes.contains(&"history") {
            assert!(
                svg.contains(">H*</text>") && svg.contains(">H</text>"),
                "{file}"
            );
        }
    }
    let model = parse(&root().join("tests/w3c/test533.txml.scxml"));
    let svg = render(&model, &Marks::default());
    let internal = model
        .transitions
        .iter()
        .position(|transition| transition.internal)
        .unwrap();
    let drawn = read_svg(&svg);
    assert!(drawn.classes[&format!("transition:{internal}")].contains("internal"));
    assert!(svg.contains("url(#arrow-open)"));
    assert!(svg.contains("class=\"initial\""));
}

#[test]
fn marks_become_classes_and_red_arrowheads() {
    let chart = root().join("scxml/request-inbound-delay.scxml");
    let model = parse(&chart);
    let waiting = model.find_state("waiting_for_agent").unwrap();
    let done = model.find_state("done").unwrap();
    let taken = model.states[waiting].transitions[0];
    let marks = Marks {
        missed_states: [done].into(),
        missed_transitions: [taken].into(),
        ..Marks::with_active_ids(
            &model,
            ["advanced_async", "waiting_for_agent", "no_such_state"],
        )
    };
    assert_eq!(marks.active.len(), 2);
    let svg = render(&model, &marks);
    check(&model, &svg, &chart);
    let drawn = read_svg(&svg);
    assert!(drawn.classes["state:waiting_for_agent"].contains("active"));
    assert!(drawn.classes["state:advanced_async"].contains("active"));
    assert!(!drawn.classes["state:subscribing"].contains("active"));
    assert!(drawn.classes["state:done"].contains("missed"));
    assert!(drawn.classes[&format!("transition:{taken}")].contains("missed"));
    assert_eq!(
        drawn
            .classes
            .values()
            .filter(|words| words.contains("missed"))
            .count(),
        2
    );
    assert!(svg.contains("url(#arrow-missed)"));
    let plain = render(&model, &Marks::default());
    assert!(!plain.contains(" active\"") && !plain.contains(" missed\""));
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("diagram-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn command_writes_the_svg_to_a_file_or_standard_output() {
    let chart = root().join("tests/charts/history.scxml");
    let chart = chart.to_str().unwrap();
    let (code, stdout, stderr) = gms(&["diagram", chart]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("<svg "), "{stdout}");
    let model = parse(Path::new(chart));
    check(&model, &stdout, Path::new(chart));

    let file = out_dir("command").join("history.svg");
    let (code, stdout, stderr) = gms(&["diagram", chart, "-o", file.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        render(&model, &Marks::default())
    );
}

#[test]
fn command_prints_positioned_errors_of_a_bad_chart_and_exits_1() {
    let dir = out_dir("bad");
    let bad = dir.join("bad.scxml");
    std::fs::write(
        &bad,
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n  <state id=\"a\"><transition target=\"b\"/></state>\n</scxml>\n",
    )
    .unwrap();
    let svg = dir.join("bad.svg");
    let _ = std::fs::remove_file(&svg);
    let (code, stdout, stderr) = gms(&[
        "diagram",
        bad.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "{}:2:17: the target \"b\" is not the id of any state.\n",
            bad.display()
        )
    );
    assert!(!svg.exists());

    let missing = dir.join("missing.scxml");
    let (code, _, stderr) = gms(&["diagram", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!(
            "{}:1:1: the file cannot be read",
            missing.display()
        )),
        "{stderr}"
    );
}

/// Runs `command`, killing it if it has not ended after `limit`; returns whether it succeeded.
fn run_bounded(mut command: Command, limit: Duration) -> bool {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut child = child;
        let _ = done.send(child.wait().map(|status| status.success()).unwrap_or(false));
    });
    match finished.recv_timeout(limit) {
        Ok(success) => success,
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("chromium did not finish within {limit:?}");
        }
    }
}

#[test]
fn a_sample_flow_rasterises_in_headless_chromium() {
    let dir = out_dir("chromium");
    let svg = dir.join("request-inbound-delay.svg");
    let png = dir.join("request-inbound-delay.png");
    let _ = std::fs::remove_file(&png);
    let (code, _, stderr) = gms(&[
        "diagram",
        root()
            .join("scxml/request-inbound-delay.scxml")
            .to_str()
            .unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = Command::new("/usr/bin/chromium");
    chromium.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]);
    chromium
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,1000")
        .arg(format!("file://{}", svg.display()));
    assert!(
        run_bounded(chromium, Duration::from_secs(60)),
        "chromium failed"
    );
    let bytes = std::fs::read(&png).expect("chromium wrote the screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank 1400×1000 page compresses to a few kilobytes; a drawing with text does not.
    assert!(bytes.len() > 20_000, "{} bytes", bytes.len());
}
