//! Many sessions in one shared ECMAScript runtime: each sees only its own variables, whatever the
//! order in which they run, and a dropped session leaves nothing behind.

use std::sync::Arc;

use gms::scxml::datamodel::ecmascript::{EcmaScriptRuntime, ScriptLimits};
use gms::scxml::{self, Event, NoHost, Session, SessionOptions, Value};

const COUNTER: &str = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="a">
  <datamodel><data id="n" expr="0"/><data id="tag" expr="'none'"/></datamodel>
  <script>var helper = 10; function bump(by) { return n + by; }</script>
  <state id="a">
    <transition event="set"><assign location="tag" expr="_event.data.tag"/></transition>
    <transition event="t" target="b"><assign location="n" expr="bump(1)"/></transition>
  </state>
  <state id="b">
    <transition event="t" target="a"><assign location="n" expr="bump(helper)"/></transition>
  </state>
</scxml>"#;

fn shared_options(runtime: &EcmaScriptRuntime) -> SessionOptions {
    SessionOptions {
        ecmascript: Some(runtime.clone()),
        ..SessionOptions::default()
    }
}

#[test]
fn interleaved_sessions_keep_their_own_variables() {
    let runtime = EcmaScriptRuntime::new(ScriptLimits::default(), None);
    let model = scxml::parse_str(COUNTER).unwrap();
    let mut sessions: Vec<Session> = (0..5)
        .map(|_| Session::new(Arc::clone(&model), shared_options(&runtime)))
        .collect();
    for (idx, session) in sessions.iter_mut().enumerate() {
        session.start(&mut NoHost);
        let data = Value::Object(vec![(Arc::from("tag"), Value::string(format!("s{idx}")))]);
        session.feed(Event::external("set").with_data(data), &mut NoHost);
    }
    // Session i gets i+1 toggles, round-robin, so every step switches the live session.
    for round in 0..5 {
        for (idx, session) in sessions.iter_mut().enumerate() {
            if round <= idx {
                session.feed(Event::external("t"), &mut NoHost);
            }
        }
    }
    for (idx, session) in sessions.iter_mut().enumerate() {
        let n_toggles = idx + 1;
        // Odd toggles add 1, even toggles add 10.
        let expected = (n_toggles.div_ceil(2) + 10 * (n_toggles / 2)) as f64;
        assert_eq!(
            session.eval("n").unwrap(),
            Value::Number(expected),
            "session {idx}"
        );
        assert_eq!(
            session.eval("tag").unwrap(),
            Value::string(format!("s{idx}"))
        );
        assert_eq!(
            session.eval("_sessionid").unwrap(),
            Value::string(session.sessionid().to_string())
        );
    }
    assert_eq!(runtime.n_parked(), 4);
    drop(sessions);
    assert_eq!(runtime.n_parked(), 0);
}

#[test]
fn a_new_session_does_not_see_the_previous_ones_data() {
    let runtime = EcmaScriptRuntime::new(ScriptLimits::default(), None);
    let model = scxml::parse_str(COUNTER).unwrap();
    let mut first = Session::new(Arc::clone(&model), shared_options(&runtime));
    first.start(&mut NoHost);
    first.feed(Event::external("t"), &mut NoHost);
    let other = scxml::parse_str(
        r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"><state id="s"/></scxml>"#,
    )
    .unwrap();
    let mut second = Session::new(other, shared_options(&runtime));
    second.start(&mut NoHost);
    assert!(
        second.eval("n").is_err(),
        "`n` belongs to the first session"
    );
    assert_eq!(first.eval("n").unwrap(), Value::Number(1.0));
}

#[test]
fn models_and_errors_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<scxml::Model>();
    send_sync::<scxml::ParseErrors>();
    send_sync::<Event>();
    // A model parsed on one thread runs on another.
    let model = scxml::parse_str(COUNTER).unwrap();
    let n = std::thread::spawn(move || {
        let mut session = Session::new(model, SessionOptions::default());
        session.start(&mut NoHost);
        session.feed(Event::external("t"), &mut NoHost);
        session.eval("n").unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(n, Value::Number(1.0));
}

#[test]
fn start_parameters_replace_data() {
    let model = scxml::parse_str(COUNTER).unwrap();
    let mut session = Session::new(model, SessionOptions::default());
    session.set_params(vec![(Arc::from("n"), Value::Number(40.0))]);
    session.start(&mut NoHost);
    session.feed(Event::external("t"), &mut NoHost);
    assert_eq!(session.eval("n").unwrap(), Value::Number(41.0));
}

#[test]
fn ors_dialect_reads_send_attributes_as_expressions() {
    let chart = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="s" _type="serviceprocess">
      <datamodel><data id="wait" expr="2"/></datamodel>
      <state id="s">
        <onentry>
          <send event="'tick'" delay="wait + 's'" hints="{}"/>
          <send event="'now'" target="_sessionid" targettype="'scxml'"/>
        </onentry>
        <transition event="now" target="t"/>
      </state>
      <state id="t"><transition event="tick" target="done"/></state>
      <final id="done"/>
    </scxml>"#;
    let w3c = scxml::parse_str(chart).unwrap_err().to_string();
    assert!(
        w3c.contains("`delay=\"wait + 's'\"` is not a CSS2 duration"),
        "{w3c}"
    );
    assert!(w3c.contains("<send> has no attribute `hints`"), "{w3c}");

    let source = scxml::parse::Source {
        name: "ors.scxml".to_string(),
        file: None,
        dialect: scxml::parse::Dialect::Ors,
    };
    let model = scxml::parse::parse_source(chart, &source).unwrap();
    let mut session = Session::new(model, SessionOptions::default());
    session.start(&mut NoHost);
    session.run(&mut NoHost);
    assert_eq!(session.atomic_configuration(), vec!["t"]);
    assert_eq!(session.next_timer(), Some(2000));
    session.advance(2000, &mut NoHost);
    assert_eq!(
        session.halt(),
        Some(&scxml::Halt::Final("done".to_string()))
    );
}

/// Keeps what the chart sends out.
#[derive(Default)]
struct Outbox(Vec<scxml::OutgoingSend>);

impl scxml::Host for Outbox {
    fn send(
        &mut self,
        _session: &scxml::SessionInfo,
        send: scxml::OutgoingSend,
    ) -> Result<(), scxml::HostError> {
        self.0.push(send);
        Ok(())
    }
}

#[test]
fn ors_send_extras_reach_the_host() {
    let chart = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="s">
      <datamodel><data id="url" expr="'http://127.0.0.1:9/cb'"/></datamodel>
      <state id="s">
        <onentry>
          <send event="'notify'" target="url" targettype="'basichttp'" hints="({'Content-Type': 'application/json'})" timeout="'5s'"/>
        </onentry>
      </state>
    </scxml>"#;
    let source = scxml::parse::Source {
        name: "ors.scxml".to_string(),
        file: None,
        dialect: scxml::parse::Dialect::Ors,
    };
    let model = scxml::parse::parse_source(chart, &source).unwrap();
    let mut session = Session::new(model, SessionOptions::default());
    let mut outbox = Outbox::default();
    session.start(&mut outbox);
    assert_eq!(outbox.0.len(), 1);
    let send = &outbox.0[0];
    assert_eq!(
        (&*send.event.name, &*send.target, &*send.kind),
        ("notify", "http://127.0.0.1:9/cb", "basichttp")
    );
    let hints = Value::Object(vec![(
        Arc::from("Content-Type"),
        Value::string("application/json"),
    )]);
    assert_eq!(
        send.extra,
        vec![
            (Arc::from("hints"), hints),
            (Arc::from("timeout"), Value::string("5s"))
        ]
    );
}
