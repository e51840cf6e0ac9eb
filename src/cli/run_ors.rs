//! `gms run` for flows written for ORS (documents declaring a Genesys module namespace): the flow runs on this
//! binary's own ORS runtime with the whole GMS built in-process and no listener, so a flow author tests a flow
//! offline. DFM actions addressed to GMS are served by the in-process router (storage, notification,
//! request-access...), the contact center is the simulator of the options, the store is a fresh one in a
//! temporary directory. The chart's own directory is a document root of the run (the author named the file),
//! besides the `ors/document_roots` of the options. A script may give session parameters in `params`.
//!
//! Each event is sent the way GMS sends it, as an ORS request (`_event.sendid` is the request id); when the flow
//! answers it with `<ws:response>` the answer is printed. After each event the run waits until the session has
//! settled (module calls completed and their events processed), then reads its configuration, which a SCION
//! script checks. `--trace` prints each macrostep of the flow as `gms run --trace` does for any chart, before the
//! line of the step that set it off. Time is the wall clock: delayed sends and the simulator's ring and handle times really pass
//! (a script step's `after` waits for them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::broadcast;

use crate::app::{App, AppOptions};
use crate::clock::SystemClock;
use crate::config::ServiceConfig;
use crate::contact_center::ContactCenter as _;
use crate::ors::node::OrsNode;
use crate::ors::trace::{TraceLine, Watch};
use crate::ors::{Answer, OrsError};
use crate::scxml::Value;
use crate::services::ServiceRecord;

use super::run::{RunArgs, Script, StepReport};

/// How long one step may take to settle before its state is read anyway.
const PATIENCE: Duration = Duration::from_secs(30);

/// A store directory that is removed when the run ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> anyhow::Result<ScratchDir> {
        let path = std::env::temp_dir().join(format!(
            "gms-run-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One event of the run and what came of it.
struct Outcome {
    /// The flow's `<ws:response>` (or the internal API's reply), if any.
    answer: Option<serde_json::Value>,
    /// Atomic states after the event settled (empty once the session has ended).
    configuration: Vec<String>,
    /// The session has ended.
    ended: bool,
}

fn answer_json(answer: &Answer) -> serde_json::Value {
    let mut out = serde_json::json!({
        "type": if answer.positive { "positive" } else { "negative" },
        "params": answer.params,
    });
    if let Some(code) = &answer.resultcode {
        out["resultcode"] = serde_json::Value::from(code.as_str());
    }
    out
}

fn configuration(state: &serde_json::Value) -> Vec<String> {
    let mut states = crate::ors::runtime::active_states(state);
    states.sort();
    states
}

/// Reads the state of `id` once everything its last input set off has happened: module calls completed, the
/// contact center's due work done and its events handed to the session, and all of it processed.
async fn settled(node: &OrsNode, id: &str) -> anyhow::Result<(Vec<String>, bool)> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let emitted = node.cc_events.emitted.load(Ordering::SeqCst);
        node.simulator.tick();
        while node.cc_events.pending.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let state = match node.ors.settle(id, left).await {
            Ok(state) => state,
            Err(OrsError::NotFound(_)) => return Ok((Vec::new(), true)),
            Err(error) => return Err(error.into()),
        };
        // Settling may have called the contact center, which may have work due now: go round until quiet.
        node.simulator.tick();
        let quiet = node.cc_events.emitted.load(Ordering::SeqCst) == emitted
            && node.cc_events.pending.load(Ordering::SeqCst) == 0;
        if quiet || tokio::time::Instant::now() >= deadline {
            return Ok((configuration(&state), false));
        }
    }
}

/// Polls `future` once: its value if it is ready now.
async fn ready_now<T>(future: &mut std::pin::Pin<&mut impl Future<Output = T>>) -> Option<T> {
    tokio::select! {
        biased;
        value = future.as_mut() => Some(value),
        () = std::future::ready(()) => None,
    }
}

/// `--trace`: prints the macrosteps of the run's sessions as they come, each line before the step's own.
struct Tracer {
    lines: Option<broadcast::Receiver<Arc<TraceLine>>>,
    /// The session the run started; lines of any other (started by the flow) name their `sessionid`.
    main: Option<String>,
}

impl Tracer {
    /// Prints the lines that have come so far (the worker publishes a step before the run sees it settled).
    fn print(&mut self) {
        let Some(lines) = &mut self.lines else {
            return;
        };
        loop {
            match lines.try_recv() {
                Ok(traced) => {
                    let mut line = traced.line.clone();
                    if self.main.as_deref() != Some(&*traced.session) {
                        line["sessionid"] = serde_json::Value::from(&*traced.session);
                    }
                    println!("{line}");
                }
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    println!("{}", serde_json::json!({ "missed": missed }));
                }
                Err(_) => return,
            }
        }
    }
}

/// What a run drives: the ORS layer and the internal API of the GMS built in-process.
struct Harness {
    node: OrsNode,
    internal: axum::Router,
}

impl Harness {
    /// One step: an event named by a path (`/genesys/1/contact-center/agents/agent1/ready`) is a POST to the
    /// internal API with the data as query parameters (steering the contact center, matching a call...); any
    /// other event is sent as a request. Then waits until the session settles; the answer is the flow's
    /// `<ws:response>` if it gave one, or the API's JSON reply.
    async fn step(&self, id: &str, name: &str, data: Value) -> anyhow::Result<Outcome> {
        if name.starts_with('/') {
            let reply = self.call(name, &data).await?;
            let (configuration, ended) = settled(&self.node, id).await?;
            return Ok(Outcome {
                answer: Some(reply),
                configuration,
                ended,
            });
        }
        let request = self.node.ors.request(id, name, data, Some(PATIENCE));
        let mut request = std::pin::pin!(request);
        // The first poll queues the event, so the settling below waits for it.
        let mut answer = ready_now(&mut request).await;
        let (configuration, ended) = settled(&self.node, id).await?;
        // `<ws:response>` answers while the event is processed, so a settled session has answered or never will.
        if answer.is_none() {
            answer = ready_now(&mut request).await;
        }
        Ok(Outcome {
            answer: answer
                .and_then(Result::ok)
                .map(|answer| answer_json(&answer)),
            configuration,
            ended,
        })
    }

    /// POSTs to the internal API in-process; the reply's status and JSON body.
    async fn call(&self, path: &str, data: &Value) -> anyhow::Result<serde_json::Value> {
        use tower::ServiceExt as _;
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Value::Object(entries) = data {
            for (name, value) in entries {
                query.append_pair(name, &value.display());
            }
        }
        let query = query.finish();
        let uri = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        let request = axum::http::Request::post(&uri)
            .body(axum::body::Body::empty())
            .with_context(|| format!("{uri} is not a valid request path"))?;
        let response = self
            .internal
            .clone()
            .oneshot(request)
            .await
            .with_context(|| format!("POST {uri} failed"))?;
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .with_context(|| format!("reading the reply to POST {uri}"))?;
        let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        Ok(serde_json::json!({"status": status, "body": body}))
    }
}

fn parse_param(arg: &str) -> anyhow::Result<(String, Value)> {
    let (name, value) = arg
        .split_once('=')
        .with_context(|| format!("--param {arg}: expected NAME=VALUE"))?;
    Ok((name.to_string(), Value::string(value)))
}

fn event_of(arg: &str) -> anyhow::Result<(String, Value)> {
    match arg.split_once(':') {
        Some((name, json)) => {
            let json: serde_json::Value = serde_json::from_str(json)
                .with_context(|| format!("the data of --event {name} is not JSON"))?;
            Ok((name.to_string(), Value::from_json(&json)))
        }
        None => Ok((arg.to_string(), Value::Object(Vec::new()))),
    }
}

/// Runs an ORS flow: with `--script`, checks each step; else sends each `--event` and prints what came of it.
pub fn run(args: RunArgs, script: Option<Script>) -> anyhow::Result<ExitCode> {
    if args.virtual_time {
        anyhow::bail!(
            "{}: --virtual-time does not apply to ORS flows, which run with the contact center on the wall clock",
            args.chart.display()
        );
    }
    let (config, config_path) = super::serve::load_config(args.config.as_ref())?;
    let mut params = args
        .params
        .iter()
        .map(|arg| parse_param(arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(script) = &script {
        for (name, value) in &script.params {
            if !params.iter().any(|(given, _)| given == name) {
                params.push((name.clone(), Value::string(value.as_str())));
            }
        }
    }
    let service = match &args.service {
        Some(name) => Some(
            config
                .service(name)
                .map(|service| service.as_ref().clone())
                .with_context(|| format!("--service {name}: no [service.{name}] section"))?,
        ),
        None => service_of(&config, &args.chart),
    };
    if let Some(service) = &service {
        // As GMS does: the section's options apply over the request's parameters.
        params.retain(|(name, _)| !service.overrides.contains_key(name));
        params.extend(
            service
                .overrides
                .iter()
                .map(|(name, value)| (name.clone(), Value::string(value.as_str()))),
        );
    }
    let scratch = ScratchDir::new()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let code = runtime.block_on(async {
        let app = App::build(AppOptions {
            // The author named the chart: its directory is a document root, wherever it is.
            overrides: crate::config::Overrides {
                document_roots: args
                    .chart
                    .parent()
                    .map(|dir| {
                        if dir.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            dir
                        }
                    })
                    .map(Path::to_path_buf)
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
            redis: None,
            store: Default::default(),
            config,
            config_path,
            data_dir: scratch.0.clone(),
            clock: Arc::new(SystemClock),
        })
        .context("cannot build GMS in-process")?;
        // Builds the routers, which also makes DFM calls to this node go through them in-process.
        let listeners = app.listeners();
        let harness = Harness {
            node: app.ors.node.clone(),
            internal: listeners.internal.clone(),
        };
        let ors = harness.node.ors.clone();
        let src = chart_src(&args.chart);
        let ttl = ttl_of(&params, service.as_ref());
        // Watching before the start traces the first macrostep too.
        let mut tracer = Tracer {
            lines: args.trace.then(|| ors.watch(Watch::All)),
            main: None,
        };
        let id = ors
            .start(&src, params.clone(), Some(ttl))
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        // The service record GMS keeps for the session, so the flow's request-access finds it.
        let now = app.state.clock.now_ms();
        let record = ServiceRecord {
            id: id.clone(),
            service: service
                .as_ref()
                .map_or_else(|| chart_stem(&args.chart), |service| service.name.clone()),
            kind: "ors".to_string(),
            data_id: param(&params, "_data_id"),
            phone_number: param(&params, "_phone_number"),
            access: None,
            created_ms: now,
            expires_ms: now + ttl.as_millis() as u64,
            node: None,
        };
        app.state
            .services
            .core()
            .save(&record)
            .await
            .context("cannot save the service record")?;
        let (initial, ended) = settled(&harness.node, &id).await?;
        tracer.main = Some(id.clone());
        tracer.print();
        match &script {
            Some(script) => run_script(&harness, &id, script, initial, &mut tracer).await,
            None => run_events(&harness, &id, &args.events, initial, ended, &mut tracer).await,
        }
    });
    drop(runtime);
    drop(scratch);
    code
}

/// The `type=ors` service whose `service` option names this chart's file, if any.
fn service_of(config: &crate::config::GmsConfig, chart: &Path) -> Option<ServiceConfig> {
    let file = chart.file_name()?.to_str()?;
    config
        .services
        .values()
        .find(|service| {
            service.kind == "ors"
                && Path::new(&service.service)
                    .file_name()
                    .and_then(|name| name.to_str())
                    == Some(file)
        })
        .map(|service| service.as_ref().clone())
}

fn param(params: &[(String, Value)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.display())
}

/// The session's TTL: `_ttl`, else the service's `ttl`, else GMS's default.
fn ttl_of(params: &[(String, Value)], service: Option<&ServiceConfig>) -> Duration {
    param(params, "_ttl")
        .and_then(|ttl| ttl.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .or(service.and_then(|service| service.ttl))
        .unwrap_or(Duration::from_secs(crate::services::DEFAULT_TTL_SECS))
}

fn chart_stem(chart: &Path) -> String {
    chart
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("flow")
        .to_string()
}

/// `src` for the runtime: the chart's path as given (relative paths resolve against the working directory).
fn chart_src(chart: &Path) -> String {
    chart.display().to_string()
}

async fn run_script(
    harness: &Harness,
    id: &str,
    script: &Script,
    initial: Vec<String>,
    tracer: &mut Tracer,
) -> anyhow::Result<ExitCode> {
    let mut expected = script.initial_configuration.clone();
    expected.sort();
    let mut all_ok = true;
    let load = StepReport {
        step: "load".to_string(),
        expected,
        actual: initial,
    };
    all_ok &= load.ok();
    print_report(&load, &None);
    for scripted in &script.events {
        if let Some(after) = scripted.after {
            tokio::time::sleep(Duration::from_millis(after)).await;
        }
        let data = scripted
            .event
            .data
            .as_ref()
            .map(Value::from_json)
            .unwrap_or(Value::Object(Vec::new()));
        let outcome = harness.step(id, &scripted.event.name, data).await?;
        tracer.print();
        let mut expected = scripted.next_configuration.clone();
        expected.sort();
        let report = StepReport {
            step: scripted.event.name.clone(),
            expected,
            actual: outcome.configuration,
        };
        all_ok &= report.ok();
        print_report(&report, &outcome.answer);
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &StepReport, answer: &Option<serde_json::Value>) {
    let mut line = serde_json::json!({
        "step": report.step,
        "expected": report.expected,
        "actual": report.actual,
        "ok": report.ok(),
    });
    if let Some(answer) = answer {
        line["answer"] = answer.clone();
    }
    println!("{line}");
}

async fn run_events(
    harness: &Harness,
    id: &str,
    events: &[String],
    initial: Vec<String>,
    mut ended: bool,
    tracer: &mut Tracer,
) -> anyhow::Result<ExitCode> {
    println!(
        "{}",
        serde_json::json!({"step": "load", "configuration": initial})
    );
    for arg in events {
        if ended {
            break;
        }
        let (name, data) = event_of(arg)?;
        let outcome = harness.step(id, &name, data).await?;
        tracer.print();
        ended = outcome.ended;
        println!(
            "{}",
            serde_json::json!({
                "step": name,
                "answer": outcome.answer,
                "configuration": outcome.configuration,
                "ended": outcome.ended,
            })
        );
    }
    if !ended {
        // Ends the session, as a service's DELETE would.
        let _ = harness.node.ors.terminate(id).await;
        tracer.print();
    }
    Ok(ExitCode::SUCCESS)
}
