//! `<invoke>` (W3C 6.4): starting SCXML children in-process, handing other types to the host,
//! cancelling on exit, `<finalize>`, autoforward, and moving events between parent and child.

use std::sync::Arc;

use crate::scxml::event::Event;
use crate::scxml::host::{Host, InvokeRequest};
use crate::scxml::interp::{ActiveInvoke, Session, SessionOptions};
use crate::scxml::model::{Content, ContentSpec, Invoke, Model, StateId, ValueOrExpr};
use crate::scxml::parse;
use crate::scxml::parse::build::resolve_src;
use crate::scxml::value::Value;

fn is_scxml_invoke_type(kind: &str) -> bool {
    matches!(
        kind,
        "http://www.w3.org/TR/scxml/"
            | "http://www.w3.org/TR/scxml"
            | "scxml"
            | super::SCXML_EVENT_PROCESSOR
    )
}

impl Session {
    /// Starts every `<invoke>` of `state` (called at the end of a macrostep, W3C 6.4).
    pub(super) fn invoke_state(&mut self, state: StateId, host: &mut dyn Host) {
        let model = self.model.clone();
        for invoke in &model.states[state].invokes {
            self.invoke(state, invoke, host);
        }
    }

    fn invoke(&mut self, state: StateId, invoke: &Arc<Invoke>, host: &mut dyn Host) {
        self.at("invoke", invoke.pos);
        let invokeid: Arc<str> = match &invoke.id {
            Some(id) => id.clone(),
            None => {
                self.id_counter += 1;
                let id: Arc<str> = Arc::from(format!(
                    "{}.{}",
                    self.model.state_id(state),
                    self.id_counter
                ));
                if let Some(location) = &invoke.idlocation
                    && let Err(message) = self
                        .datamodel
                        .assign_value(location, Value::String(id.clone()))
                {
                    self.raise_error("error.execution", &message, None);
                    return;
                }
                id
            }
        };
        match self.start_invoke(invoke, invokeid.clone(), host) {
            Ok(child) => self.invokes.push(ActiveInvoke {
                state,
                invokeid,
                invoke: invoke.clone(),
                child,
            }),
            Err(message) => self.raise_error("error.execution", &message, None),
        }
    }

    fn start_invoke(
        &mut self,
        invoke: &Arc<Invoke>,
        invokeid: Arc<str>,
        host: &mut dyn Host,
    ) -> Result<Option<Box<Session>>, String> {
        let kind = match &invoke.kind {
            None => "http://www.w3.org/TR/scxml/".to_string(),
            Some(ValueOrExpr::Value(kind)) => kind.to_string(),
            Some(ValueOrExpr::Expr(expr)) => self.datamodel.eval_string(expr)?,
        };
        let src = match &invoke.src {
            None => None,
            Some(ValueOrExpr::Value(src)) => Some(src.to_string()),
            Some(ValueOrExpr::Expr(expr)) => Some(self.datamodel.eval_string(expr)?),
        };
        let params = match self.eval_payload(&invoke.namelist, &invoke.params, &None)? {
            Value::Object(entries) => entries,
            _ => Vec::new(),
        };
        if !is_scxml_invoke_type(&kind) {
            let content = match &invoke.content {
                None => None,
                Some(ContentSpec::Inline(content)) => Some(super::exec::content_value(content)),
                Some(ContentSpec::Expr(expr)) => Some(self.datamodel.eval(expr)?),
            };
            let request = InvokeRequest {
                kind: Arc::from(kind),
                invokeid,
                src: src.map(Arc::from),
                content,
                params,
                autoforward: invoke.autoforward,
            };
            host.invoke(&self.info, request)
                .map_err(|error| error.to_string())?;
            return Ok(None);
        }
        let model = self.child_model(invoke, src)?;
        let options = SessionOptions {
            sessionid: Some(format!("{}.{}", self.info.sessionid, invokeid)),
            ..self.options.clone()
        };
        let mut child = Session::new(model, options);
        child.info.invokeid = Some(invokeid);
        child.initial_values = params;
        child.now = self.now;
        child.start(host);
        Ok(Some(Box::new(child)))
    }

    fn child_model(&mut self, invoke: &Invoke, src: Option<String>) -> Result<Arc<Model>, String> {
        if let Some(src) = src {
            let path = resolve_src(self.model.file.as_deref(), &src);
            return parse::parse_file_as(&path, self.model.dialect)
                .map_err(|errors| format!("the invoked document cannot be loaded: {errors}"));
        }
        let text = match &invoke.content {
            Some(ContentSpec::Inline(Content::Scxml(model, _))) => return Ok(model.clone()),
            Some(ContentSpec::Inline(Content::Text(text) | Content::Xml(text))) => text.to_string(),
            Some(ContentSpec::Expr(expr)) => match self.datamodel.eval(expr)? {
                Value::Xml(text) | Value::String(text) => text.to_string(),
                other => {
                    return Err(format!(
                        "`{}` is not an SCXML document: {}.",
                        expr.text,
                        other.display()
                    ));
                }
            },
            None => {
                return Err(
                    "<invoke> of an SCXML session needs `src`, `srcexpr` or <content>.".to_string(),
                );
            }
        };
        let source = parse::Source {
            name: "<invoke content>".to_string(),
            file: self.model.file.clone(),
            dialect: self.model.dialect,
        };
        parse::parse_source(&text, &source)
            .map_err(|errors| format!("the invoked document is not valid: {errors}"))
    }

    /// Cancels the invocations of `state` (it is being exited).
    pub(super) fn cancel_invokes_of(&mut self, state: StateId, host: &mut dyn Host) {
        let mut idx = 0;
        while idx < self.invokes.len() {
            if self.invokes[idx].state != state {
                idx += 1;
                continue;
            }
            let active = self.invokes.remove(idx);
            match active.child {
                Some(mut child) => child.cancel(host),
                None => host.cancel_invoke(&self.info, &active.invokeid),
            }
        }
    }

    /// Runs `<finalize>` of the invocation that sent `event`, and forwards `event` to every
    /// invocation with `autoforward="true"`.
    pub(super) fn finalize_and_autoforward(&mut self, event: &Event, host: &mut dyn Host) {
        if let Some(invokeid) = &event.invokeid {
            let finalize = self
                .invokes
                .iter()
                .find(|active| &active.invokeid == invokeid)
                .map(|active| active.invoke.finalize.clone());
            if let Some(finalize) = finalize {
                self.execute_block(&finalize, host);
            }
        }
        for idx in 0..self.invokes.len() {
            if !self.invokes[idx].invoke.autoforward {
                continue;
            }
            match &mut self.invokes[idx].child {
                Some(child) => child.enqueue(event.clone()),
                None => {
                    let outgoing = crate::scxml::host::OutgoingSend {
                        event: event.clone(),
                        target: Arc::from(format!("#_{}", self.invokes[idx].invokeid)),
                        kind: Arc::from(super::SCXML_EVENT_PROCESSOR),
                        extra: Vec::new(),
                    };
                    let _ = host.send(&self.info, outgoing);
                }
            }
        }
    }

    /// Runs every SCXML child until it is idle and moves what it sent to `#_parent` (and its
    /// `done.invoke.*`) onto this session's external queue. Returns true when anything moved.
    pub(super) fn run_children(&mut self, host: &mut dyn Host) -> bool {
        let mut moved = false;
        let mut idx = 0;
        while idx < self.invokes.len() {
            let invokeid = self.invokes[idx].invokeid.clone();
            let Some(child) = &mut self.invokes[idx].child else {
                idx += 1;
                continue;
            };
            child.run(host);
            let events = std::mem::take(&mut child.to_parent);
            for mut event in events {
                event.invokeid = Some(invokeid.clone());
                self.external.push_back(event);
                moved = true;
            }
            idx += 1;
        }
        moved
    }
}
