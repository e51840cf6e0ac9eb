//! `gms run`: runs an SCXML chart locally, with no server.
//!
//! Events come from `--event NAME[:JSON]` or from a SCION harness script (`--script`, the
//! `{"initialConfiguration", "events": [{"after"?, "event": {"name", "data"?}, "nextConfiguration"}]}`
//! format), whose expected configurations are checked step by step. `--trace` prints one JSON line
//! per macrostep. Delays run on the wall clock unless `--virtual-time` is given.
//!
//! The chart's dialect is picked the way the server picks it ([`super::validate::dialect_of`]): a flow written for
//! ORS (its root declares a Genesys module namespace) runs on the ORS runtime with GMS built in-process
//! (`cli/run_ors.rs`, chosen in `cli/mod.rs`); any other chart runs on the engine alone, as W3C SCXML. `--dialect w3c` runs even an ORS
//! flow on the engine alone, as W3C SCXML; `--dialect ors` reads a chart without the namespace in the ORS dialect,
//! on the engine alone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Deserialize;

use crate::scxml::trace_lines::TraceLines;
use crate::scxml::{
    self, Event, Host, Model, Session, SessionInfo, SessionOptions, TraceRecord, Value,
};

/// Arguments of `gms run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The chart to run.
    pub chart: PathBuf,
    /// A SCION harness script: events to send and the configurations expected after each.
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// An external event to send after start, `NAME` or `NAME:JSON` (repeatable, in order).
    #[arg(long = "event", value_name = "NAME[:JSON]")]
    pub events: Vec<String>,
    /// Print each macrostep as a JSON line.
    #[arg(long)]
    pub trace: bool,
    /// Let delays elapse at once instead of on the wall clock.
    #[arg(long)]
    pub virtual_time: bool,
    /// Read the chart in this dialect. Without it the chart is read in its own, as the server reads it: a flow
    /// whose root declares a Genesys module namespace runs as ORS with GMS in-process, any other chart as W3C.
    #[arg(long, value_enum)]
    pub dialect: Option<super::validate::DialectArg>,
    /// Stop the chart when one macrostep takes more microsteps than this (a runaway eventless loop).
    #[arg(long, default_value_t = 100_000)]
    pub max_microsteps: u64,
    /// ORS flows: the option file of the GMS built in-process (default: samples/gms.ini, else the built-in one).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// ORS flows: the `service.NAME` section whose options apply (default: the `type=ors` service whose
    /// `service` option names this chart's file).
    #[arg(long)]
    pub service: Option<String>,
    /// ORS flows: a session parameter `NAME=VALUE`, into the matching `<data>` item (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

/// A SCION harness script.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Script {
    /// ORS flows: session parameters (an addition to the SCION format), as `--param NAME=VALUE` gives them;
    /// a `--param` of the same name wins.
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    /// Atomic states expected after start.
    pub initial_configuration: Vec<String>,
    /// The steps.
    #[serde(default)]
    pub events: Vec<ScriptStep>,
}

/// One step of a SCION script.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptStep {
    /// Milliseconds to wait before sending the event.
    #[serde(default)]
    pub after: Option<u64>,
    /// The event.
    pub event: ScriptEvent,
    /// Atomic states expected after the event's macrostep.
    pub next_configuration: Vec<String>,
}

/// The event of a step.
#[derive(Debug, Clone, Deserialize)]
pub struct ScriptEvent {
    /// Its name.
    pub name: String,
    /// Its data.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

/// One checked step: what was expected and what the session was in.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// `load` or the event name.
    pub step: String,
    /// Expected atomic states (sorted).
    pub expected: Vec<String>,
    /// Actual atomic states (sorted).
    pub actual: Vec<String>,
}

impl StepReport {
    /// True when expected and actual agree.
    pub fn ok(&self) -> bool {
        self.expected == self.actual
    }
}

/// The host of `gms run`: prints logs (or collects them into the trace) and one JSON line per
/// macrostep when tracing.
#[derive(Debug, Default)]
pub struct CliHost {
    trace: bool,
    quiet: bool,
    lines: TraceLines,
}

impl CliHost {
    fn new(trace: bool, quiet: bool) -> Self {
        CliHost {
            trace,
            quiet,
            lines: TraceLines::default(),
        }
    }

    /// Prints what is left of unfinished macrosteps (the one that halted a session ends without a
    /// configuration record).
    pub fn flush(&mut self) {
        for line in self.lines.flush() {
            println!("{line}");
        }
    }
}

impl Host for CliHost {
    fn log(&mut self, session: &SessionInfo, label: &str, message: &str) {
        if !self.trace && !self.quiet {
            match &session.invokeid {
                Some(invokeid) => eprintln!("[{invokeid}] {label}: {message}"),
                None => eprintln!("{label}: {message}"),
            }
        }
    }

    fn trace(&mut self, session: &SessionInfo, record: TraceRecord) {
        if !self.trace {
            // Without --trace, errors raised in the chart still reach the author, on stderr.
            if let TraceRecord::Event(event) = &record
                && event.name.starts_with("error.")
                && !self.quiet
            {
                eprintln!("{}", describe_error(event));
            }
            return;
        }
        if let Some(line) = self.lines.record(session, record) {
            println!("{line}");
        }
    }
}

/// An `error.*` event as an author reads it: `error.execution: line 12, column 7, <assign>: reason` when its data
/// says where (W3C charts' `tagname`, `line`, `column`, `reason`), else its name and data.
fn describe_error(event: &Event) -> String {
    let field = |name: &str| match &event.data {
        Value::Object(entries) => entries
            .iter()
            .find(|(key, _)| &**key == name)
            .map(|(_, value)| value.display()),
        _ => None,
    };
    match (
        field("tagname"),
        field("line"),
        field("column"),
        field("reason"),
    ) {
        (Some(tagname), Some(line), Some(column), Some(reason)) => format!(
            "{}: line {line}, column {column}, <{tagname}>: {reason}",
            event.name
        ),
        _ => format!("{}: {}", event.name, event.data.display()),
    }
}

/// How time passes for the chart `gms run` drives (ms since the run began): virtually (jumping to each timer) or
/// as real time, sleeping until each timer. The chart's engine time, not a date, so not a [`crate::clock::Clock`].
struct Timeline {
    virtual_time: bool,
    start: Instant,
    now: u64,
}

impl Timeline {
    fn now(&self) -> u64 {
        if self.virtual_time {
            self.now
        } else {
            self.start.elapsed().as_millis() as u64
        }
    }

    /// Lets time pass until `until`, firing timers as they fall due.
    fn wait_until(&mut self, session: &mut Session, until: u64, host: &mut dyn Host) {
        loop {
            let now = self.now();
            let next = session.next_timer().filter(|&due| due <= until);
            match next {
                Some(due) => {
                    if self.virtual_time {
                        self.now = self.now.max(due);
                    } else if due > now {
                        std::thread::sleep(Duration::from_millis(due - now));
                    }
                    session.advance(due.max(self.now()), host);
                }
                None => {
                    if self.virtual_time {
                        self.now = self.now.max(until);
                    } else if until > now {
                        std::thread::sleep(Duration::from_millis(until - now));
                    }
                    session.advance(self.now(), host);
                    return;
                }
            }
        }
    }
}

fn sorted(states: Vec<&str>) -> Vec<String> {
    let mut states: Vec<String> = states.into_iter().map(str::to_string).collect();
    states.sort();
    states
}

/// Runs the W3C SCXML chart in `chart` against a SCION script and reports every step.
pub fn run_script(
    chart: &Path,
    script: &Script,
    virtual_time: bool,
    host: &mut dyn Host,
    options: SessionOptions,
) -> anyhow::Result<Vec<StepReport>> {
    let model = scxml::parse_file(chart).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    run_script_on(model, script, virtual_time, host, options)
}

/// Runs a parsed chart against a SCION script and reports every step.
pub fn run_script_on(
    model: Arc<Model>,
    script: &Script,
    virtual_time: bool,
    host: &mut dyn Host,
    options: SessionOptions,
) -> anyhow::Result<Vec<StepReport>> {
    let mut session = Session::new(model, options);
    let mut clock = Timeline {
        virtual_time,
        start: Instant::now(),
        now: 0,
    };
    let mut reports = Vec::new();
    session.start(host);
    let mut expected = script.initial_configuration.clone();
    expected.sort();
    reports.push(StepReport {
        step: "load".to_string(),
        expected,
        actual: sorted(session.atomic_configuration()),
    });
    session.run(host);
    for step in &script.events {
        let until = clock.now().saturating_add(step.after.unwrap_or(0));
        clock.wait_until(&mut session, until, host);
        let mut event = Event::external(step.event.name.as_str());
        if let Some(data) = &step.event.data {
            event.data = Value::from_json(data);
        }
        session.feed(event, host);
        let mut expected = step.next_configuration.clone();
        expected.sort();
        reports.push(StepReport {
            step: step.event.name.clone(),
            expected,
            actual: sorted(session.atomic_configuration()),
        });
    }
    Ok(reports)
}

/// Reads a SCION script.
pub fn read_script(path: &Path) -> anyhow::Result<Script> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a SCION script", path.display()))
}

fn parse_event_arg(arg: &str) -> anyhow::Result<Event> {
    let (name, data) = match arg.split_once(':') {
        Some((name, json)) => {
            let json: serde_json::Value = serde_json::from_str(json)
                .with_context(|| format!("the data of --event {name} is not JSON"))?;
            (name, Value::from_json(&json))
        }
        None => (arg, Value::Undefined),
    };
    Ok(Event::external(name).with_data(data))
}

/// The most timers `gms run --virtual-time` fires before giving up on a chart that never settles.
const MAX_VIRTUAL_STEPS: usize = 100_000;

/// Runs `gms run` of the chart `text` (read from `args.chart`) on the engine alone.
pub fn run(args: RunArgs, text: String) -> anyhow::Result<ExitCode> {
    let options = SessionOptions {
        // Tracing is always on: the host prints either the trace or just the errors.
        trace: true,
        max_microsteps: args.max_microsteps,
        ..SessionOptions::default()
    };
    let source = scxml::Source {
        name: args.chart.display().to_string(),
        file: Some(args.chart.clone()),
        dialect: super::validate::dialect_of(args.dialect, &text),
    };
    let model =
        scxml::parse_source(&text, &source).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let mut host = CliHost::new(args.trace, false);
    if let Some(script_path) = &args.script {
        let script = read_script(script_path)?;
        let reports = run_script_on(model, &script, args.virtual_time, &mut host, options)?;
        host.flush();
        let mut all_ok = true;
        for report in &reports {
            all_ok &= report.ok();
            let line = serde_json::json!({
                "step": report.step,
                "expected": report.expected,
                "actual": report.actual,
                "ok": report.ok(),
            });
            println!("{line}");
        }
        return Ok(if all_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let events = args
        .events
        .iter()
        .map(|arg| parse_event_arg(arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut session = Session::new(model, options);
    let mut clock = Timeline {
        virtual_time: args.virtual_time,
        start: Instant::now(),
        now: 0,
    };
    session.start(&mut host);
    session.run(&mut host);
    for event in events {
        session.feed(event, &mut host);
    }
    for _ in 0..MAX_VIRTUAL_STEPS {
        let Some(due) = session.next_timer() else {
            break;
        };
        clock.wait_until(&mut session, due, &mut host);
    }
    host.flush();
    let halt = match session.halt() {
        Some(scxml::Halt::Final(id)) => serde_json::json!({"final": id}),
        Some(scxml::Halt::Cancelled) => serde_json::json!("cancelled"),
        Some(scxml::Halt::Runaway(limit)) => serde_json::json!({"runaway_microsteps": limit}),
        None => serde_json::Value::Null,
    };
    let line = serde_json::json!({"configuration": session.atomic_configuration(), "halt": halt});
    println!("{line}");
    Ok(match session.halt() {
        Some(scxml::Halt::Runaway(limit)) => {
            eprintln!(
                "{}: stopped after {limit} microsteps in one macrostep (an eventless loop that never settles?)",
                args.chart.display()
            );
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    })
}
