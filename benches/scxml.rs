//! SCXML engine throughput and memory, measured the way the SCION probes of
//! `scxml-conformance/tools/` measure them: uSCXML "mark entries per second" on the benchmark charts
//! (null datamodel, eventless loops), toggle events per second (ECMAScript `<assign>` per event),
//! session starts per second and resident memory per idle session.
//!
//! Usage: `cargo bench --bench scxml -- BENCHMARK_DIR TOGGLE_CHART [events] [sessions]`. Prints one
//! `key=value` line per figure.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gms::scxml::datamodel::ecmascript::{EcmaScriptRuntime, ScriptLimits};
use gms::scxml::{self, Event, NoHost, Session, SessionOptions};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Entries of `mark` per second while the chart loops without events.
fn mark_entries_per_second(chart: &Path) -> f64 {
    let model = scxml::parse_file(chart).expect("benchmark chart parses");
    let mut microsteps: u64 = 1_000;
    loop {
        let options = SessionOptions {
            max_microsteps: microsteps,
            count_entries: true,
            ..SessionOptions::default()
        };
        let mut session = Session::new(model.clone(), options);
        let started = Instant::now();
        session.start(&mut NoHost);
        let elapsed = started.elapsed();
        let entries = session.entry_count("mark");
        if elapsed >= Duration::from_millis(1000) || microsteps >= 1 << 40 {
            return entries as f64 / elapsed.as_secs_f64();
        }
        microsteps *= if elapsed < Duration::from_millis(100) {
            10
        } else {
            2
        };
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    let bench_dir = PathBuf::from(args.first().map(String::as_str).unwrap_or("benchmarks"));
    let toggle = PathBuf::from(args.get(1).map(String::as_str).unwrap_or("toggle.scxml"));
    let n_events: usize = args
        .get(2)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(200_000);
    let n_sessions: usize = args
        .get(3)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(10_000);

    for name in [
        "Transitions.4",
        "Transitions.16",
        "Transitions.64",
        "LCCA.4",
        "LCCA.16",
        "LCCA.64",
    ] {
        let chart = bench_dir.join(format!("{name}.scxml"));
        if chart.is_file() {
            println!(
                "chart={name} entries_per_s={:.0}",
                mark_entries_per_second(&chart)
            );
        }
    }

    // One runtime per thread, as a server runs its sessions.
    let runtime = EcmaScriptRuntime::new(ScriptLimits::default(), None);
    let options = SessionOptions {
        ecmascript: Some(runtime.clone()),
        ..SessionOptions::default()
    };
    let model = scxml::parse_file(&toggle).expect("toggle chart parses");
    let mut session = Session::new(model.clone(), options.clone());
    session.start(&mut NoHost);
    for _ in 0..10_000 {
        session.feed(Event::external("t"), &mut NoHost);
    }
    let started = Instant::now();
    for _ in 0..n_events {
        session.feed(Event::external("t"), &mut NoHost);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "toggle events_per_s={:.0} ({n_events} events, 1 session)",
        n_events as f64 / seconds
    );

    let rss_before = rss_bytes();
    let started = Instant::now();
    let mut sessions = Vec::with_capacity(n_sessions);
    for _ in 0..n_sessions {
        let mut session = Session::new(model.clone(), options.clone());
        session.start(&mut NoHost);
        sessions.push(session);
    }
    let seconds = started.elapsed().as_secs_f64();
    let rss_after = rss_bytes();
    println!(
        "sessions={n_sessions} start_per_s={:.0} rss_per_session_bytes={}",
        n_sessions as f64 / seconds,
        rss_after.saturating_sub(rss_before) / n_sessions as u64
    );
    drop(sessions);
}
