//! `<send>` (W3C 6.2) and the SCXML Event I/O Processor (C.1): evaluation, the timer queue for
//! delays, and delivery to this session, its parent, an invoked child or the host.

use std::sync::Arc;

use crate::scxml::event::{Event, EventKind};
use crate::scxml::host::{Host, HostError, OutgoingSend, TraceRecord};
use crate::scxml::interp::{Session, Timer};
use crate::scxml::model::{ContentSpec, Send, ValueOrExpr};
use crate::scxml::parse::Dialect;
use crate::scxml::parse::build::parse_duration;
use crate::scxml::value::Value;

/// The type URI of the SCXML Event I/O Processor.
pub const SCXML_EVENT_PROCESSOR: &str = "http://www.w3.org/TR/scxml/#SCXMLEventProcessor";

/// Where an evaluated send goes.
#[derive(Debug, Clone)]
pub(super) enum Delivery {
    /// This session's external queue.
    SelfExternal(Event),
    /// The invoking parent.
    Parent(Event),
    /// An invoked child (by invoke id).
    Child(Arc<str>, Event),
    /// The host. The flag says whether a refusal means a bad target/type (`error.execution`)
    /// rather than a failed delivery (`error.communication`).
    Host(OutgoingSend, bool),
}

fn is_scxml_type(kind: &str) -> bool {
    matches!(
        kind,
        SCXML_EVENT_PROCESSOR
            | "scxml"
            | "http://www.w3.org/TR/scxml/"
            | "http://www.w3.org/TR/scxml"
    )
}

impl Session {
    fn eval_value_or_expr(
        &mut self,
        value: &Option<ValueOrExpr>,
    ) -> Result<Option<String>, String> {
        match value {
            None => Ok(None),
            Some(ValueOrExpr::Value(value)) => Ok(Some(value.to_string())),
            Some(ValueOrExpr::Expr(expr)) => self.datamodel.eval_string(expr).map(Some),
        }
    }

    /// Evaluates `namelist`, `<param>`s and `<content>` into event data.
    pub(super) fn eval_payload(
        &mut self,
        namelist: &[crate::scxml::model::Expr],
        params: &[crate::scxml::model::Param],
        content: &Option<ContentSpec>,
    ) -> Result<Value, String> {
        if let Some(content) = content {
            return match content {
                ContentSpec::Inline(content) => Ok(super::exec::content_value(content)),
                ContentSpec::Expr(expr) => self.datamodel.eval(expr),
            };
        }
        if namelist.is_empty() && params.is_empty() {
            return Ok(Value::Undefined);
        }
        let mut entries = Vec::new();
        for name in namelist {
            let value = self.datamodel.eval(name)?;
            entries.push((name.text.clone(), value));
        }
        for param in params {
            let value = self.datamodel.eval(&param.expr)?;
            entries.push((param.name.clone(), value));
        }
        Ok(Value::Object(entries))
    }

    /// Runs a `<send>`.
    pub(super) fn execute_send(&mut self, send: &Send, host: &mut dyn Host) -> Result<(), ()> {
        let explicit_id = match (&send.id, &send.idlocation) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(location)) => {
                let id = self.next_id("send.");
                if let Err(message) = self
                    .datamodel
                    .assign_value(location, Value::String(id.clone()))
                {
                    self.raise_error("error.execution", &message, None);
                    return Err(());
                }
                Some(id)
            }
            (None, None) => None,
        };
        let sendid = explicit_id.clone().unwrap_or_else(|| self.next_id("send."));
        match self.prepare_send(send, explicit_id.clone()) {
            Ok((delivery, delay)) => {
                if self.options.trace {
                    let (event, target) = match &delivery {
                        Delivery::SelfExternal(event) => (event.name.clone(), Arc::from("")),
                        Delivery::Parent(event) => (event.name.clone(), Arc::from("#_parent")),
                        Delivery::Child(invokeid, event) => {
                            (event.name.clone(), Arc::from(format!("#_{invokeid}")))
                        }
                        Delivery::Host(send, _) => (send.event.name.clone(), send.target.clone()),
                    };
                    host.trace(
                        &self.info,
                        TraceRecord::Send {
                            event,
                            target,
                            delay: delay.unwrap_or(0),
                        },
                    );
                }
                match delay {
                    Some(delay) => {
                        self.timer_seq += 1;
                        self.timers.push(Timer {
                            due: self.now.saturating_add(delay),
                            seq: self.timer_seq,
                            sendid,
                            delivery,
                            pos: send.pos,
                        });
                    }
                    None => return self.deliver(delivery, true, host),
                }
                Ok(())
            }
            Err(Prepared::Internal(event)) => {
                self.internal.push_back(*event);
                Ok(())
            }
            Err(Prepared::Error(message)) => {
                self.raise_error("error.execution", &message, explicit_id);
                Err(())
            }
        }
    }

    fn prepare_send(
        &mut self,
        send: &Send,
        sendid: Option<Arc<str>>,
    ) -> Result<(Delivery, Option<u64>), Prepared> {
        let name = self
            .eval_value_or_expr(&send.event)
            .map_err(Prepared::Error)?;
        let target = self
            .eval_value_or_expr(&send.target)
            .map_err(Prepared::Error)?;
        let kind = self
            .eval_value_or_expr(&send.kind)
            .map_err(Prepared::Error)?
            .unwrap_or_else(|| SCXML_EVENT_PROCESSOR.to_string());
        let delay = match self
            .eval_value_or_expr(&send.delay)
            .map_err(Prepared::Error)?
        {
            None => None,
            Some(text) => match parse_duration(&text) {
                Some(0) => None,
                Some(delay) => Some(delay),
                None => {
                    return Err(Prepared::Error(format!(
                        "\"{text}\" is not a delay such as \"2s\"."
                    )));
                }
            },
        };
        let data = self
            .eval_payload(&send.namelist, &send.params, &send.content)
            .map_err(Prepared::Error)?;
        let mut extra = Vec::with_capacity(send.extra.len());
        for (name, expr) in &send.extra {
            let value = self.datamodel.eval(expr).map_err(Prepared::Error)?;
            extra.push((name.clone(), value));
        }
        let event = Event {
            name: Arc::from(name.unwrap_or_default()),
            kind: EventKind::External,
            sendid,
            origin: Some(Arc::from(format!("#_scxml_{}", self.info.sessionid))),
            origintype: Some(Arc::from(SCXML_EVENT_PROCESSOR)),
            invokeid: None,
            data,
            raw: None,
        };
        let mut target = target.unwrap_or_default();
        if self.model.dialect == Dialect::Ors {
            // ORS names targets without the `#_` prefix: `_internal`, `_parent`, a session id.
            if target == "_internal" || target == "_parent" {
                target.insert(0, '#');
            } else if target == *self.info.sessionid {
                target = format!("#_scxml_{target}");
            }
        }
        if !is_scxml_type(&kind) {
            let outgoing = OutgoingSend {
                event,
                target: Arc::from(target),
                kind: Arc::from(kind),
                extra: extra.clone(),
            };
            return Ok((Delivery::Host(outgoing, true), delay));
        }
        let delivery = if target.is_empty() {
            Delivery::SelfExternal(event)
        } else if target == "#_internal" {
            if delay.is_some() {
                return Err(Prepared::Error(
                    "a send to #_internal cannot be delayed.".to_string(),
                ));
            }
            let mut event = event;
            event.kind = EventKind::Internal;
            return Err(Prepared::Internal(Box::new(event)));
        } else if target == "#_parent" {
            Delivery::Parent(event)
        } else if let Some(sessionid) = target.strip_prefix("#_scxml_") {
            let child = self.invokes.iter().find(|active| {
                active
                    .child
                    .as_ref()
                    .is_some_and(|child| &*child.info.sessionid == sessionid)
            });
            if sessionid == &*self.info.sessionid {
                Delivery::SelfExternal(event)
            } else if let Some(active) = child {
                // A reply to `_event.origin` of an event from an invoked child.
                Delivery::Child(active.invokeid.clone(), event)
            } else {
                let outgoing = OutgoingSend {
                    event,
                    target: Arc::from(target.as_str()),
                    kind: Arc::from(SCXML_EVENT_PROCESSOR),
                    extra: extra.clone(),
                };
                Delivery::Host(outgoing, false)
            }
        } else if let Some(invokeid) = target.strip_prefix("#_") {
            Delivery::Child(Arc::from(invokeid), event)
        } else {
            let outgoing = OutgoingSend {
                event,
                target: Arc::from(target.as_str()),
                kind: Arc::from(SCXML_EVENT_PROCESSOR),
                extra: extra.clone(),
            };
            Delivery::Host(outgoing, true)
        };
        Ok((delivery, delay))
    }

    /// Delivers an evaluated send. `immediate` is false for sends fired by the clock, whose
    /// failures are always communication errors.
    /// Returns `Err` when the send raised `error.execution` (the rest of the block is skipped).
    fn deliver(
        &mut self,
        delivery: Delivery,
        immediate: bool,
        host: &mut dyn Host,
    ) -> Result<(), ()> {
        match delivery {
            Delivery::SelfExternal(event) => self.external.push_back(event),
            Delivery::Parent(event) => {
                if self.info.invokeid.is_some() {
                    self.to_parent.push(event);
                } else {
                    self.raise_error(
                        "error.communication",
                        "this session has no parent.",
                        event.sendid,
                    );
                }
            }
            Delivery::Child(invokeid, event) => {
                let child = self
                    .invokes
                    .iter_mut()
                    .find(|active| active.invokeid == invokeid);
                match child {
                    Some(active) => match &mut active.child {
                        Some(child) => child.enqueue(event),
                        None => {
                            let outgoing = OutgoingSend {
                                event,
                                target: Arc::from(format!("#_{invokeid}")),
                                kind: Arc::from(SCXML_EVENT_PROCESSOR),
                                extra: Vec::new(),
                            };
                            let sent = host.send(&self.info, outgoing);
                            self.take_arrived(host);
                            if let Err(error) = sent {
                                self.raise_error("error.communication", &error.to_string(), None);
                            }
                        }
                    },
                    None => {
                        let message = format!("no invoked session has the id \"{invokeid}\".");
                        self.raise_error("error.communication", &message, event.sendid);
                    }
                }
            }
            Delivery::Host(outgoing, bad_target_is_execution) => {
                let sendid = outgoing.event.sendid.clone();
                let sent = host.send(&self.info, outgoing);
                self.take_arrived(host);
                match sent {
                    Ok(()) => {}
                    Err(HostError::Unsupported(message))
                        if immediate && bad_target_is_execution =>
                    {
                        self.raise_error("error.execution", &message, sendid);
                        return Err(());
                    }
                    Err(error) => {
                        self.raise_error("error.communication", &error.to_string(), sendid)
                    }
                }
            }
        }
        Ok(())
    }

    /// Appends what reached this session while the host was sending ([`Host::take_arrived`]).
    fn take_arrived(&mut self, host: &mut dyn Host) {
        self.external.extend(host.take_arrived(&self.info));
    }

    /// Fires every timer (of this session and its children) due at `due`, in scheduling order.
    pub(super) fn fire_timers(&mut self, due: u64, host: &mut dyn Host) {
        self.now = self.now.max(due);
        for active in &mut self.invokes {
            if let Some(child) = &mut active.child
                && child.next_timer().is_some_and(|next| next <= due)
            {
                child.fire_timers(due, host);
            }
        }
        loop {
            let next = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, timer)| timer.due <= due)
                .min_by_key(|(_, timer)| (timer.due, timer.seq))
                .map(|(idx, _)| idx);
            let Some(idx) = next else { break };
            let timer = self.timers.remove(idx);
            self.at("send", timer.pos);
            let _ = self.deliver(timer.delivery, false, host);
        }
        self.run_queues(host);
    }
}

/// A send that does not go through delivery: an internal event, or an evaluation error.
enum Prepared {
    Internal(Box<Event>),
    Error(String),
}
