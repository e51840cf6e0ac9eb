//! Data-driven chart tests: a chart from `tests/charts/`, the inputs, and the expected trace, all
//! through one [`check`] helper.
//!
//! Inputs are event names (`go`, `go:{"json":1}` with data, `go@id` from the host-run invocation
//! `id`) and clock moves (`+500` advances the injected clock by 500 ms). The trace has one line per step: `event`, `take`, `exit`, `enter`,
//! `send`, `log`, `config`, host calls (`host-send`, `custom`) and finally `halt`.

use std::path::Path;
use std::sync::Arc;

use boa_engine::js_string;
use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use gms::scxml::{
    self, ActionScope, Event, Host, HostError, OutgoingSend, Session, SessionInfo, SessionOptions,
    TraceRecord, Value,
};

/// Records everything a session does, and plays the host for a storage module and BasicHTTP.
#[derive(Default)]
struct TestHost {
    lines: Vec<String>,
}

impl TestHost {
    fn line(&mut self, session: &SessionInfo, text: String) {
        match &session.invokeid {
            Some(invokeid) => self.lines.push(format!("[{invokeid}] {text}")),
            None => self.lines.push(text),
        }
    }
}

impl Host for TestHost {
    fn send(&mut self, session: &SessionInfo, send: OutgoingSend) -> Result<(), HostError> {
        if &*send.kind != "http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor" {
            return Err(HostError::Unsupported(format!("type {}", send.kind)));
        }
        let data = send.event.data.to_json();
        self.line(
            session,
            format!(
                "host-send {} to {} data {data}",
                send.event.name, send.target
            ),
        );
        Ok(())
    }

    fn custom_action(
        &mut self,
        session: &SessionInfo,
        action: &scxml::model::CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        if &*action.ns != "http://www.genesyslab.com/modules/dfm/gsgStorage/v1" {
            return Err(HostError::Unsupported(format!("namespace {}", action.ns)));
        }
        let key = scope
            .eval(action.attr("keyexpr").unwrap_or("undefined"))
            .map_err(HostError::Failed)?;
        let location = action.attr("location").unwrap_or("result");
        scope
            .assign(
                location,
                Value::string(format!("value-of-{}", key.display())),
            )
            .or_else(|_| {
                // `result` is not declared: a host may create it the way ORS does.
                scope.eval(&format!("{location} = undefined")).map(|_| ())?;
                scope.assign(
                    location,
                    Value::string(format!("value-of-{}", key.display())),
                )
            })
            .map_err(HostError::Failed)?;
        scope.raise(Event::new("storage.get.done", scxml::EventKind::Internal));
        let option = &action.children[0];
        self.line(
            session,
            format!(
                "custom {}:{} key={} option {}={}",
                "storage",
                action.name,
                key.display(),
                option.attr("name").unwrap_or(""),
                option.text
            ),
        );
        Ok(())
    }

    fn invoke(
        &mut self,
        session: &SessionInfo,
        request: scxml::InvokeRequest,
    ) -> Result<(), HostError> {
        let params: Vec<String> = request
            .params
            .iter()
            .map(|(name, value)| format!("{name}={}", value.display()))
            .collect();
        self.line(
            session,
            format!(
                "host-invoke {} type {} src {} params {}",
                request.invokeid,
                request.kind,
                request.src.as_deref().unwrap_or(""),
                params.join(",")
            ),
        );
        Ok(())
    }

    fn cancel_invoke(&mut self, session: &SessionInfo, invokeid: &str) {
        self.line(session, format!("host-cancel {invokeid}"));
    }

    fn log(&mut self, _session: &SessionInfo, _label: &str, _message: &str) {}

    fn trace(&mut self, session: &SessionInfo, record: TraceRecord) {
        let text = match record {
            TraceRecord::Event(event) => match &event.data {
                // Error events carry a sentence naming the file; the name is enough here.
                _ if event.name.starts_with("error.") => format!("event {}", event.name),
                Value::Undefined => format!("event {}", event.name),
                data => format!("event {} {}", event.name, data.to_json()),
            },
            TraceRecord::Transition {
                source, targets, ..
            } => {
                format!("take {source} -> {}", targets.join(" "))
            }
            TraceRecord::Exit(state) => format!("exit {state}"),
            TraceRecord::Enter(state) => format!("enter {state}"),
            TraceRecord::Send {
                event,
                target,
                delay,
            } => format!("send {event} to '{target}' +{delay}ms"),
            TraceRecord::Log { label, message } => format!("log {label}: {message}"),
            TraceRecord::Configuration(states) => format!("config {}", states.join(" ")),
        };
        self.line(session, text);
    }
}

/// Runs `chart` with `inputs` and compares the trace with `expected` (line by line, indentation
/// ignored). On a mismatch the actual trace is printed whole, ready to paste.
fn check(chart: &str, inputs: &[&str], expected: &str) {
    check_with(chart, inputs, expected, SessionOptions::default());
}

fn check_with(chart: &str, inputs: &[&str], expected: &str, options: SessionOptions) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/charts")
        .join(chart);
    let model = scxml::parse_file(&path).unwrap_or_else(|errors| panic!("{errors}"));
    let mut host = TestHost::default();
    let options = SessionOptions {
        trace: true,
        sessionid: Some("test".to_string()),
        ..options
    };
    let mut session = Session::new(model, options);
    session.start(&mut host);
    session.run(&mut host);
    for input in inputs {
        if let Some(ms) = input.strip_prefix('+') {
            let now = session.now() + ms.parse::<u64>().expect("milliseconds");
            host.lines.push(format!("clock {now}"));
            session.advance(now, &mut host);
            continue;
        }
        // `name@invokeid:json`: an event from an invocation the host runs.
        let (head, json) = match input.split_once(':') {
            Some((head, json)) => (head, Some(json)),
            None => (*input, None),
        };
        let (name, invokeid) = match head.split_once('@') {
            Some((name, invokeid)) => (name, Some(invokeid)),
            None => (head, None),
        };
        let mut event = Event::external(name);
        if let Some(json) = json {
            event.data = Value::from_json(&serde_json::from_str(json).expect("json"));
        }
        event.invokeid = invokeid.map(Arc::from);
        session.feed(event, &mut host);
    }
    host.lines.push(format!("halt {:?}", session.halt()));
    let actual = host.lines.join("\n");
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let actual_lines: Vec<&str> = actual.lines().map(str::trim).collect();
    assert!(
        expected == actual_lines,
        "trace of {chart} differs; actual:\n{actual}\n"
    );
}

#[test]
fn parallel_regions_and_conflicts() {
    check(
        "parallel_conflicts.scxml",
        &["step", "leave"],
        r#"
        enter p
        enter r1
        enter a1
        enter r2
        enter a2
        config a1 a2
        event step
        take a1 -> b1
        take a2 -> b2
        exit a2
        exit a1
        enter b1
        enter b2
        config b1 b2
        event leave
        take b1 -> out
        exit b2
        exit r2
        exit b1
        exit r1
        exit p
        enter out
        config out
        halt None
        "#,
    );
}

#[test]
fn shallow_and_deep_history() {
    check(
        "history.scxml",
        &[
            "next",
            "next",
            "pause",
            "resume.shallow",
            "pause",
            "resume.deep",
        ],
        r#"
        enter work
        enter w1
        config w1
        event next
        take w1 -> w2
        exit w1
        enter w2
        enter w2a
        config w2a
        event next
        take w2a -> w2b
        exit w2a
        enter w2b
        config w2b
        event pause
        take work -> paused
        exit w2b
        exit w2
        exit work
        enter paused
        config paused
        event resume.shallow
        take paused -> shallow
        exit paused
        enter work
        enter w2
        enter w2a
        config w2a
        event pause
        take work -> paused
        exit w2a
        exit w2
        exit work
        enter paused
        config paused
        event resume.deep
        take paused -> deep
        exit paused
        enter work
        enter w2
        enter w2a
        config w2a
        halt None
        "#,
    );
}

#[test]
fn done_events_of_compound_and_parallel_states() {
    check(
        "done_state.scxml",
        &["finish1", "finish2"],
        r#"
        enter p
        enter r1
        enter r1a
        enter r2
        enter r2a
        config r1a r2a
        event finish1
        take r1a -> r1done
        exit r1a
        enter r1done
        event done.state.r1 {"region":1}
        take p ->
        log r1 done: 1
        config r1done r2a
        event finish2
        take r2a -> r2done
        exit r2a
        enter r2done
        event done.state.r2
        event done.state.p
        take p -> end
        exit r2done
        exit r2
        exit r1done
        exit r1
        exit p
        enter end
        exit end
        halt Some(Final("end"))
        "#,
    );
}

#[test]
fn eventless_then_internal_then_external() {
    check(
        "queues.scxml",
        &[],
        r#"
        enter s0
        send external1 to '' +0ms
        take s0 -> s1
        exit s0
        enter s1
        event internal1
        take s1 -> s1
        exit s1
        enter s1
        event internal2
        take s1 -> s1
        exit s1
        enter s1
        config s1
        event external1
        take s1 -> end
        exit s1
        enter end
        log order: eventless internal1 internal2 external1
        exit end
        halt Some(Final("end"))
        "#,
    );
}

#[test]
fn delays_run_on_the_injected_clock() {
    check(
        "delays.scxml",
        &["+499", "+1", "+1499", "+1"],
        r#"
        enter waiting
        send late to '' +2000ms
        send cancelled to '' +1500ms
        send early to '' +500ms
        config waiting
        clock 499
        clock 500
        event early
        take waiting -> half
        exit waiting
        enter half
        config half
        clock 1999
        clock 2000
        event late
        take half -> done
        exit half
        enter done
        exit done
        halt Some(Final("done"))
        "#,
    );
}

#[test]
fn invoked_child_session() {
    check(
        "invoke.scxml",
        &[],
        r#"
        enter calling
        [child] enter c
        [child] send reply to '#_parent' +0ms
        [child] config c
        config calling
        event reply {"value":42}
        take calling ->
        send thanks to '#_child' +0ms
        config calling
        [child] event thanks
        [child] take c -> cdone
        [child] exit c
        [child] enter cdone
        [child] exit cdone
        event done.invoke.child
        take calling -> end
        exit calling
        enter end
        log answer: 42
        exit end
        halt Some(Final("end"))
        "#,
    );
}

#[test]
fn custom_actions_reach_the_host() {
    check(
        "custom_actions.scxml",
        &[],
        r#"
        enter s
        custom storage:get key=k1 option ttl=30
        event storage.get.done
        take s -> t
        exit s
        log stored: value-of-k1
        enter t
        event error.execution
        take t -> end
        exit t
        log error: error.execution
        enter end
        exit end
        halt Some(Final("end"))
        "#,
    );
}

#[test]
fn runaway_scripts_and_eventless_loops_stop() {
    let options = SessionOptions {
        max_microsteps: 10,
        script_limits: scxml::datamodel::ecmascript::ScriptLimits {
            loop_iterations: 1000,
            recursion: 100,
        },
        ..SessionOptions::default()
    };
    check_with(
        "runaway.scxml",
        &[],
        r#"
        enter script
        event error.execution
        take script -> loop1
        exit script
        enter loop1
        take loop1 -> loop2
        exit loop1
        enter loop2
        take loop2 -> loop1
        exit loop2
        enter loop1
        take loop1 -> loop2
        exit loop1
        enter loop2
        take loop2 -> loop1
        exit loop2
        enter loop1
        take loop1 -> loop2
        exit loop1
        enter loop2
        take loop2 -> loop1
        exit loop2
        enter loop1
        take loop1 -> loop2
        exit loop1
        enter loop2
        take loop2 -> loop1
        exit loop2
        enter loop1
        take loop1 -> loop2
        exit loop1
        enter loop2
        exit loop2
        halt Some(Runaway(10))
        "#,
        options,
    );
}

#[test]
fn host_sends_and_host_globals() {
    let options = SessionOptions {
        globals: Some(Arc::new(|context: &mut boa_engine::Context| {
            let genesys = ObjectInitializer::new(context)
                .property(js_string!("name"), js_string!("gms"), Attribute::all())
                .build();
            context
                .register_global_property(js_string!("_genesys"), genesys, Attribute::all())
                .expect("fresh context");
        })),
        ..SessionOptions::default()
    };
    check_with(
        "host_send.scxml",
        &[],
        r#"
        enter s
        send hello to 'http://127.0.0.1:1/x' +0ms
        host-send hello to http://127.0.0.1:1/x data {"who":"gms"}
        send lost to '' +0ms
        event error.execution
        take s -> end
        exit s
        enter end
        exit end
        halt Some(Final("end"))
        "#,
        options,
    );
}

#[test]
fn host_invocations() {
    check(
        "host_invoke.scxml",
        &["found@lookup:{\"agent\":\"alice\"}", "hangup"],
        r#"
        enter waiting
        host-invoke lookup type urn:example:lookup src directory://agents params skill=sales
        config waiting
        event found {"agent":"alice"}
        take waiting -> talking
        host-cancel lookup
        exit waiting
        log agent: alice
        enter talking
        config talking
        event hangup
        take talking -> end
        exit talking
        enter end
        exit end
        halt Some(Final("end"))
        "#,
    );
}

#[test]
fn a_guard_that_always_fails_is_a_runaway_too() {
    let options = SessionOptions {
        max_microsteps: 3,
        ..SessionOptions::default()
    };
    check_with(
        "failing_guard.scxml",
        &[],
        r#"
        enter s
        event error.execution
        event error.execution
        event error.execution
        event error.execution
        exit s
        halt Some(Runaway(3))
        "#,
        options,
    );
}

#[test]
fn a_chart_feeding_itself_stops() {
    let options = SessionOptions {
        max_microsteps: 2,
        ..SessionOptions::default()
    };
    check_with(
        "self_send.scxml",
        &[],
        r#"
        enter a
        send again to '' +0ms
        config a
        event again
        take a -> a
        exit a
        enter a
        send again to '' +0ms
        config a
        event again
        take a -> a
        exit a
        enter a
        send again to '' +0ms
        config a
        exit a
        halt Some(Runaway(2))
        "#,
        options,
    );
}
