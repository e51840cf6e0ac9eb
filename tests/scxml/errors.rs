//! Errors an author can act on: `error.execution` and `error.communication` of W3C charts carry the element's
//! name, line and column and the reason in `_event.data` (`tagname`, `line`, `column`, `reason`), whichever
//! element raised them and whenever (a delayed send fails when it falls due); ORS documents keep their own fields.

use gms::scxml::{self, NoHost, Session, SessionOptions, Value};

/// Each error is caught by a transition that records `_event.name` and `_event.data` in `errors`.
const CHART: &str = r##"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript" initial="s">
  <datamodel><data id="errors" expr="[]"/></datamodel>
  <state id="s">
    <onentry>
      <assign location="nosuch.x" expr="1"/>
    </onentry>
    <onentry>
      <if cond="false"><log expr="1"/>
      <elseif cond="missing.y"/></if>
    </onentry>
    <onentry>
      <send event="e" type="http://example.invalid/no-such-type"/>
    </onentry>
    <onentry>
      <send event="late" target="#_parent" delay="10ms"/>
    </onentry>
    <transition event="error.*">
      <script>errors.push({name: _event.name, data: _event.data});</script>
    </transition>
  </state>
</scxml>"##;

/// Line and column (from 1) of the first `<{tag}` at or after `from` in `CHART`, and its byte offset.
fn place(tag: &str, from: usize) -> (u32, u32, usize) {
    let at = from + CHART[from..].find(&format!("<{tag}")).unwrap();
    let before = &CHART[..at];
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |nl| nl + 1) + 1;
    (line, column as u32, at)
}

fn json(value: &Value) -> serde_json::Value {
    value.to_json()
}

#[test]
fn w3c_errors_carry_tagname_line_column_and_reason() {
    let model = scxml::parse_str(CHART).unwrap();
    let mut session = Session::new(model, SessionOptions::default());
    session.start(&mut NoHost);
    // The delayed send fails when it falls due.
    let due = session.next_timer().expect("the delayed send waits");
    session.advance(due, &mut NoHost);
    let errors = json(&session.eval("errors").unwrap());
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 4, "{errors:#?}");

    let assign = place("assign", 0);
    let elseif = place("elseif", 0);
    let send = place("send", 0);
    let late = place("send", send.2 + 1);
    for (error, (name, tagname, (line, column, _))) in errors.iter().zip([
        ("error.execution", "assign", assign),
        ("error.execution", "elseif", elseif),
        ("error.execution", "send", send),
        ("error.communication", "send", late),
    ]) {
        assert_eq!(error["name"], name, "{error}");
        let data = &error["data"];
        assert_eq!(data["tagname"], tagname, "{error}");
        assert_eq!(data["line"], line, "{error}");
        assert_eq!(data["column"], column, "{error}");
        assert!(
            data["reason"]
                .as_str()
                .is_some_and(|reason| !reason.is_empty()),
            "{error}"
        );
    }
    assert!(
        errors[3]["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("no parent"),
        "{errors:#?}"
    );
}

#[test]
fn ors_documents_keep_their_own_error_fields() {
    let chart = CHART.replace(
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\"",
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" xmlns:queue=\"http://www.genesyslab.com/modules/queue\"",
    );
    let model = scxml::parse_source(
        &chart,
        &scxml::Source {
            name: "flow.scxml".into(),
            file: None,
            dialect: scxml::Dialect::Ors,
        },
    )
    .unwrap();
    let mut session = Session::new(model, SessionOptions::default());
    session.start(&mut NoHost);
    let errors = json(&session.eval("errors").unwrap());
    let first = &errors[0]["data"];
    assert_eq!(first["element"], "assign", "{errors}");
    assert_eq!(first["linenumber"], place("assign", 0).0, "{errors}");
    assert!(
        first["description"].is_string() && first.get("tagname").is_none(),
        "{errors}"
    );
}
