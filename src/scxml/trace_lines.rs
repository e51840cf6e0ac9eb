//! Macrostep lines: folds a session's [`TraceRecord`]s into one JSON object per macrostep, the format `gms run
//! --trace` prints and the ORS runtime's trace watchers receive.
//!
//! A line holds the macrostep's `event` (none for the first), then in order of occurrence `transitions`
//! (`{index, source, targets}`, `index` being the transition's place in [`crate::scxml::Model::transitions`]),
//! `exited`, `entered`, `sends` and `logs`, and ends with the `configuration` it left (atomic states, document
//! order); an invoked child's lines carry its `invokeid`. Keys with nothing to say are left out.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::host::{SessionInfo, TraceRecord};
use super::{Event, Value};

/// Macrosteps being collected, per session (a parent and its invoked children interleave).
#[derive(Debug, Default)]
pub struct TraceLines {
    steps: BTreeMap<Arc<str>, Map<String, Json>>,
}

impl TraceLines {
    /// Adds `record`; returns the finished line when it ends a macrostep.
    pub fn record(&mut self, session: &SessionInfo, record: TraceRecord) -> Option<Json> {
        match record {
            TraceRecord::Event(event) => {
                self.step(session)
                    .insert("event".into(), event_json(&event));
            }
            TraceRecord::Transition {
                index,
                source,
                targets,
            } => self.push(
                session,
                "transitions",
                json!({"index": index, "source": source, "targets": targets}),
            ),
            TraceRecord::Exit(state) => self.push(session, "exited", Json::from(state)),
            TraceRecord::Enter(state) => self.push(session, "entered", Json::from(state)),
            TraceRecord::Send {
                event,
                target,
                delay,
            } => self.push(
                session,
                "sends",
                json!({"event": &*event, "target": &*target, "delay": delay}),
            ),
            TraceRecord::Log { label, message } => {
                self.push(session, "logs", json!({"label": label, "message": message}))
            }
            TraceRecord::Configuration(states) => {
                let mut step = self.steps.remove(&session.sessionid).unwrap_or_default();
                if let Some(invokeid) = &session.invokeid {
                    step.insert("invokeid".into(), Json::from(&**invokeid));
                }
                step.insert("configuration".into(), json!(states));
                return Some(Json::Object(step));
            }
        }
        None
    }

    /// What is left of unfinished macrosteps (the one that halted a session ends with no configuration).
    pub fn flush(&mut self) -> Vec<Json> {
        std::mem::take(&mut self.steps)
            .into_values()
            .filter(|step| !step.is_empty())
            .map(Json::Object)
            .collect()
    }

    fn step(&mut self, session: &SessionInfo) -> &mut Map<String, Json> {
        self.steps.entry(session.sessionid.clone()).or_default()
    }

    fn push(&mut self, session: &SessionInfo, key: &str, value: Json) {
        let step = self.step(session);
        match step.get_mut(key) {
            Some(Json::Array(items)) => items.push(value),
            _ => {
                step.insert(key.to_string(), Json::Array(vec![value]));
            }
        }
    }
}

/// An event as a trace line shows it: name, type, and data, sendid and invokeid when it has them.
pub fn event_json(event: &Event) -> Json {
    let mut out = json!({"name": &*event.name, "type": event.kind.as_str()});
    if event.data != Value::Undefined {
        out["data"] = event.data.to_json();
    }
    if let Some(sendid) = &event.sendid {
        out["sendid"] = Json::from(&**sendid);
    }
    if let Some(invokeid) = &event.invokeid {
        out["invokeid"] = Json::from(&**invokeid);
    }
    out
}
