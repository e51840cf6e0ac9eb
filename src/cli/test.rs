//! `gms test [PATH...]`: runs every chart that has a script beside it and says which passed.
//!
//! A test is a chart `NAME.scxml` with a SCION harness script (the format `gms run --script` reads) named
//! `NAME.json` in the same directory, or `scripts/NAME.json` / `scripts/NAME.*.json` below it (the sample flows
//! keep theirs in `scxml/scripts/`). Directories are searched recursively, in name order. A W3C chart runs on the
//! engine alone, in virtual time, in this process; an ORS flow runs as `gms run CHART --script SCRIPT` does (the
//! ORS runtime with GMS in-process, on the wall clock), in a child process of this binary.
//!
//! One line per test, then a summary; the exit code is non-zero when a test failed. `--junit FILE` writes the
//! results as JUnit XML for CI systems. `--coverage` reports, per chart, the states its scripts never entered
//! and the transitions they never took (initial and history-default transitions are taken by entering their
//! state, so they are not counted apart), read from the trace of each run (an ORS flow's child prints it with
//! `--trace`); `--coverage-svg DIR` also draws each chart with those parts in red.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

use crate::diagram::{Marks, render};
use crate::scxml::model::StateKind;
use crate::scxml::{self, Host, Model, SessionInfo, SessionOptions, TraceRecord};

/// Arguments of `gms test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Charts or directories to search for charts with scripts (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Report the states never entered and the transitions never taken by each chart's scripts.
    #[arg(long)]
    pub coverage: bool,
    /// With `--coverage`: write each chart's state diagram to DIR/NAME.svg, its missed states and transitions
    /// in red.
    #[arg(long, value_name = "DIR", requires = "coverage")]
    pub coverage_svg: Option<PathBuf>,
}

/// One chart and one of its scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The chart.
    pub chart: PathBuf,
    /// The script.
    pub script: PathBuf,
}

/// What came of one test.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The test.
    pub case: TestCase,
    /// `None` when it passed, else why it failed.
    pub failure: Option<String>,
    /// Steps checked.
    pub steps: usize,
    /// How long it took, in seconds.
    pub seconds: f64,
}

/// The tests under `paths`: every chart with a script, in path order.
pub fn discover(paths: &[PathBuf]) -> anyhow::Result<Vec<TestCase>> {
    let mut charts = BTreeSet::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).with_context(|| format!("{}: no such file", path.display()))?;
        if metadata.is_dir() {
            collect_charts(path, &mut charts)?;
        } else {
            charts.insert(path.clone());
        }
    }
    let mut cases = Vec::new();
    for chart in charts {
        for script in scripts_of(&chart) {
            cases.push(TestCase {
                chart: chart.clone(),
                script,
            });
        }
    }
    Ok(cases)
}

fn collect_charts(dir: &Path, charts: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_charts(&entry, charts)?;
        } else if entry.extension().is_some_and(|ext| ext == "scxml") {
            charts.insert(entry);
        }
    }
    Ok(())
}

/// The scripts of `chart`: `NAME.json` beside it, `scripts/NAME.json` and `scripts/NAME.*.json`.
fn scripts_of(chart: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(stem)) = (chart.parent(), chart.file_stem().and_then(|s| s.to_str()))
    else {
        return Vec::new();
    };
    let mut scripts = Vec::new();
    let beside = dir.join(format!("{stem}.json"));
    if beside.is_file() {
        scripts.push(beside);
    }
    let mut below: Vec<PathBuf> = std::fs::read_dir(dir.join("scripts"))
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| {
                    name == format!("{stem}.json")
                        || (name.starts_with(&format!("{stem}.")) && name.ends_with(".json"))
                })
        })
        .collect();
    below.sort();
    scripts.extend(below);
    scripts
}

/// What the scripts of one chart reached.
#[derive(Debug, Default)]
pub struct Reached {
    /// States entered.
    pub states: BTreeSet<String>,
    /// Transitions taken (model indices).
    pub transitions: BTreeSet<usize>,
}

/// The host of a W3C test: records what the chart reached, says nothing.
struct CoverageHost<'a> {
    reached: &'a mut Reached,
}

impl Host for CoverageHost<'_> {
    fn trace(&mut self, session: &SessionInfo, record: TraceRecord) {
        // Invoked children are charts of their own.
        if session.invokeid.is_some() {
            return;
        }
        match record {
            TraceRecord::Enter(state) => {
                self.reached.states.insert(state);
            }
            TraceRecord::Transition { index, .. } => {
                self.reached.transitions.insert(index);
            }
            _ => {}
        }
    }
}

/// Runs one test; W3C charts add what they reached to `reached`.
pub fn run_case(case: &TestCase, reached: &mut Reached) -> Outcome {
    let started = Instant::now();
    let (failure, steps) = match run_checked(case, reached) {
        Ok((failure, steps)) => (failure, steps),
        Err(error) => (Some(format!("{error:#}")), 0),
    };
    Outcome {
        case: case.clone(),
        failure,
        steps,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn run_checked(case: &TestCase, reached: &mut Reached) -> anyhow::Result<(Option<String>, usize)> {
    let text = std::fs::read_to_string(&case.chart)
        .with_context(|| format!("reading {}", case.chart.display()))?;
    let script = super::run::read_script(&case.script)?;
    if crate::ors::dialect::is_ors_document(&text) {
        return run_ors_case(case, reached);
    }
    let model = parse(&case.chart, &text)?;
    let options = SessionOptions {
        trace: true,
        ..SessionOptions::default()
    };
    let mut host = CoverageHost { reached };
    let reports = super::run::run_script_on(model, &script, true, &mut host, options)?;
    let steps = reports.len();
    let failure = reports.iter().find(|report| !report.ok()).map(|report| {
        format!(
            "after `{}` expected [{}], the chart is in [{}]",
            report.step,
            report.expected.join(", "),
            report.actual.join(", ")
        )
    });
    Ok((failure, steps))
}

fn parse(chart: &Path, text: &str) -> anyhow::Result<Arc<Model>> {
    let source = scxml::Source {
        name: chart.display().to_string(),
        file: Some(chart.to_path_buf()),
        dialect: super::validate::dialect_of(None, text),
    };
    scxml::parse_source(text, &source).map_err(|errors| anyhow::anyhow!("{errors}"))
}

/// An ORS flow's test: `gms run CHART --script SCRIPT --trace` in a child process, each of its step lines
/// checked; its trace lines tell what the flow reached.
fn run_ors_case(case: &TestCase, reached: &mut Reached) -> anyhow::Result<(Option<String>, usize)> {
    let exe = std::env::current_exe().context("finding this program")?;
    let output = std::process::Command::new(exe)
        .arg("run")
        .arg(&case.chart)
        .arg("--script")
        .arg(&case.script)
        .arg("--trace")
        .output()
        .context("running the flow")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (steps, traced): (Vec<serde_json::Value>, Vec<serde_json::Value>) = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .partition(|line| line.get("ok").is_some());
    for line in &traced {
        // Other sessions (started by the flow) and invoked children are charts of their own.
        if line.get("sessionid").is_some() || line.get("invokeid").is_some() {
            continue;
        }
        for state in line["entered"].as_array().into_iter().flatten() {
            if let Some(state) = state.as_str() {
                reached.states.insert(state.to_string());
            }
        }
        for transition in line["transitions"].as_array().into_iter().flatten() {
            if let Some(index) = transition["index"].as_u64() {
                reached.transitions.insert(index as usize);
            }
        }
    }
    let failure = steps
        .iter()
        .find(|step| step["ok"] != true)
        .map(|step| {
            format!(
                "after `{}` expected {}, the flow is in {}",
                step["step"].as_str().unwrap_or_default(),
                step["expected"],
                step["actual"]
            )
        })
        .or_else(|| {
            (!output.status.success()).then(|| {
                let stderr = String::from_utf8_lossy(&output.stderr);
                format!("the flow did not run: {}", stderr.trim())
            })
        });
    Ok((failure, steps.len()))
}

/// The parts of a chart its scripts never reached.
pub type Missed = (Vec<(String, u32)>, Vec<(usize, String, u32)>);

/// What coverage counts: every state but the root and history pseudo-states, and every transition but those
/// taken by entering a state (initial and history-default transitions).
fn counted(model: &Model) -> (Vec<usize>, Vec<usize>) {
    let pseudo = |kind: &StateKind| {
        matches!(
            kind,
            StateKind::Root | StateKind::HistoryShallow | StateKind::HistoryDeep
        )
    };
    let states = (0..model.states.len())
        .filter(|&state| !pseudo(&model.states[state].kind))
        .collect();
    let initial: BTreeSet<usize> = model.states.iter().filter_map(|s| s.initial).collect();
    let transitions = (0..model.transitions.len())
        .filter(|index| {
            !initial.contains(index)
                && !pseudo(&model.states[model.transitions[*index].source].kind)
        })
        .collect();
    (states, transitions)
}

/// The parts of `model` its scripts never reached: states (id, line) and transitions (index, description, line).
pub fn missed(model: &Model, reached: &Reached) -> Missed {
    let (states, transitions) = counted(model);
    let states = states
        .into_iter()
        .map(|state| &model.states[state])
        .filter(|state| !reached.states.contains(&state.id))
        .map(|state| (state.id.clone(), model.included.place(state.pos).1.line))
        .collect();
    let transitions = transitions
        .into_iter()
        .filter(|index| !reached.transitions.contains(index))
        .map(|index| {
            let line = model.included.place(model.transitions[index].pos).1.line;
            (index, describe(model, index), line)
        })
        .collect();
    (states, transitions)
}

/// `source -> targets on `events``, as a coverage line names a transition.
fn describe(model: &Model, index: usize) -> String {
    let transition = &model.transitions[index];
    let targets: Vec<&str> = transition
        .targets
        .iter()
        .map(|&target| model.state_id(target))
        .collect();
    let mut text = format!(
        "{} -> {}",
        model.state_id(transition.source),
        if targets.is_empty() {
            "(no target)".to_string()
        } else {
            targets.join(" ")
        }
    );
    if transition.events.is_empty() {
        text.push_str(" (eventless)");
    } else {
        let _ = write!(text, " on `{}`", transition.events.join(" "));
    }
    text
}

/// The JUnit XML of `outcomes`.
pub fn junit(outcomes: &[Outcome]) -> String {
    let failures = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let total: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">",
        outcomes.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"gms test\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{total:.3}\">",
        outcomes.len()
    );
    for outcome in outcomes {
        let name = escape(&outcome.case.script.display().to_string());
        let class = escape(&outcome.case.chart.display().to_string());
        match &outcome.failure {
            None => {
                let _ = writeln!(
                    xml,
                    "    <testcase classname=\"{class}\" name=\"{name}\" time=\"{:.3}\"/>",
                    outcome.seconds
                );
            }
            Some(failure) => {
                let _ = writeln!(
                    xml,
                    "    <testcase classname=\"{class}\" name=\"{name}\" time=\"{:.3}\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    outcome.seconds,
                    escape(failure.lines().next().unwrap_or_default()),
                    escape(failure)
                );
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn escape(text: &str) -> String {
    // Characters XML 1.0 cannot hold at all are dropped; the rest escaped.
    let kept: String = text
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || c >= ' ')
        .collect();
    quick_xml::escape::escape(kept.as_str()).into_owned()
}

/// `gms test`.
pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let cases = discover(&paths)?;
    let mut outcomes = Vec::new();
    let mut per_chart: Vec<(PathBuf, Reached)> = Vec::new();
    for case in &cases {
        if per_chart
            .last()
            .is_none_or(|(chart, _)| chart != &case.chart)
        {
            per_chart.push((case.chart.clone(), Reached::default()));
        }
        let reached = match per_chart.last_mut() {
            Some((_, reached)) => reached,
            None => continue,
        };
        let outcome = run_case(case, reached);
        match &outcome.failure {
            None => println!(
                "PASS {} ({}, {} steps)",
                case.chart.display(),
                case.script.display(),
                outcome.steps
            ),
            Some(failure) => {
                println!("FAIL {} ({})", case.chart.display(), case.script.display());
                for line in failure.lines() {
                    println!("     {line}");
                }
            }
        }
        outcomes.push(outcome);
    }
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    if args.coverage {
        if let Some(dir) = &args.coverage_svg {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        for (chart, reached) in &per_chart {
            print_coverage(chart, reached, args.coverage_svg.as_deref())?;
        }
    }
    println!(
        "{} test{}: {} passed, {failed} failed",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        outcomes.len() - failed
    );
    if let Some(path) = &args.junit {
        std::fs::write(path, junit(&outcomes))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if failed == 0 && !outcomes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints the coverage of one chart and, with `svg`, writes its diagram with the missed parts marked.
fn print_coverage(chart: &Path, reached: &Reached, svg: Option<&Path>) -> anyhow::Result<()> {
    // A chart that does not read or parse has failed its tests already, with its errors.
    let Ok(text) = std::fs::read_to_string(chart) else {
        return Ok(());
    };
    let Ok(model) = parse(chart, &text) else {
        return Ok(());
    };
    let (states, transitions) = missed(&model, reached);
    if let Some(dir) = svg {
        let marks = Marks {
            missed_states: states
                .iter()
                .filter_map(|(id, _)| model.find_state(id))
                .collect(),
            missed_transitions: transitions.iter().map(|(index, _, _)| *index).collect(),
            ..Marks::default()
        };
        let stem = chart
            .file_stem()
            .map_or_else(|| "chart".into(), |stem| stem.to_string_lossy());
        let path = dir.join(format!("{stem}.svg"));
        std::fs::write(&path, render(&model, &marks))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let (counted_states, counted_transitions) = counted(&model);
    let (counted_states, counted_transitions) = (counted_states.len(), counted_transitions.len());
    println!(
        "coverage {}: states {}/{counted_states}, transitions {}/{counted_transitions}",
        chart.display(),
        counted_states - states.len(),
        counted_transitions - transitions.len()
    );
    for (state, line) in &states {
        println!("     state never entered: {state} (line {line})");
    }
    for (_, transition, line) in &transitions {
        println!("     transition never taken: {transition} (line {line})");
    }
    Ok(())
}
