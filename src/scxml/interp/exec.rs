//! Executable content (W3C 4): `<raise>`, `<if>`, `<foreach>`, `<log>`, `<assign>`, `<script>`,
//! `<send>`, `<cancel>` and custom actions. An error stops the block and raises `error.execution`.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::scxml::datamodel::Datamodel;
use crate::scxml::event::{Event, EventKind};
use crate::scxml::host::{ActionScope, Host, TraceRecord};
use crate::scxml::interp::Session;
use crate::scxml::model::{Action, AssignValue, Block, Content, CustomAction, Expr, ValueOrExpr};
use crate::scxml::value::Value;

/// What a custom action sees of its session.
struct Scope<'a> {
    datamodel: &'a mut dyn Datamodel,
    internal: &'a mut VecDeque<Event>,
    now: u64,
}

impl ActionScope for Scope<'_> {
    fn eval(&mut self, expr: &str) -> Result<Value, String> {
        self.datamodel.eval(&Expr {
            text: Arc::from(expr),
            pos: Default::default(),
        })
    }

    fn assign(&mut self, location: &str, value: Value) -> Result<(), String> {
        self.datamodel.assign_value(
            &Expr {
                text: Arc::from(location),
                pos: Default::default(),
            },
            value,
        )
    }

    fn raise(&mut self, event: Event) {
        self.internal.push_back(event);
    }

    fn now(&self) -> u64 {
        self.now
    }
}

/// The outcome of one action: keep going, or stop the block (an error was raised).
type Flow = Result<(), ()>;

impl Session {
    /// Runs a block; the first failing action ends it (W3C 4.9).
    pub(super) fn execute_block(&mut self, block: &Block, host: &mut dyn Host) {
        let _ = self.execute_actions(block, host);
    }

    fn execute_actions(&mut self, actions: &[Action], host: &mut dyn Host) -> Flow {
        for action in actions {
            self.execute_action(action, host)?;
        }
        Ok(())
    }

    /// Notes where `action` is, as well as the model tells: the element's own position, else that of its
    /// first expression attribute.
    fn note_site(&mut self, action: &Action) {
        let (element, pos) = match action {
            Action::Raise { pos, .. } => ("raise", *pos),
            Action::Log { pos, .. } => ("log", *pos),
            Action::Assign { pos, .. } => ("assign", *pos),
            Action::Script { code } => ("script", code.pos),
            Action::If { pos, .. } => ("if", *pos),
            Action::Foreach { pos, .. } => ("foreach", *pos),
            Action::Send(send) => ("send", send.pos),
            Action::Cancel { pos, .. } => ("cancel", *pos),
            Action::Custom(custom) => ("custom", custom.pos),
        };
        self.at(element, pos);
        if let Action::Custom(custom) = action {
            self.site_custom = Some(custom.clone());
        }
    }

    fn fail(&mut self, message: String) -> Flow {
        self.raise_error("error.execution", &message, None);
        Err(())
    }

    fn execute_action(&mut self, action: &Action, host: &mut dyn Host) -> Flow {
        self.note_site(action);
        match action {
            Action::Raise { event, .. } => {
                self.internal
                    .push_back(Event::new(event.clone(), EventKind::Internal));
                Ok(())
            }
            Action::Log { label, expr, .. } => {
                let message = match expr {
                    Some(expr) => match self.datamodel.eval(expr) {
                        Ok(value) => value.display(),
                        Err(message) => return self.fail(message),
                    },
                    None => String::new(),
                };
                let label = label.as_deref().unwrap_or("");
                host.log(&self.info, label, &message);
                self.trace(host, || TraceRecord::Log {
                    label: label.to_string(),
                    message: message.clone(),
                });
                Ok(())
            }
            Action::Assign {
                location, value, ..
            } => {
                let result = match value {
                    AssignValue::Expr(expr) => self.datamodel.assign_expr(location, expr),
                    AssignValue::Content(content) => {
                        let value = content_value(content);
                        self.datamodel.assign_value(location, value)
                    }
                };
                match result {
                    Ok(()) => Ok(()),
                    Err(message) => self.fail(message),
                }
            }
            Action::Script { code } => match self.datamodel.exec_script(code) {
                Ok(()) => Ok(()),
                Err(message) => self.fail(message),
            },
            Action::If { branches, pos } => {
                for (branch, (cond, body)) in branches.iter().enumerate() {
                    let taken = match cond {
                        None => true,
                        Some(cond) => {
                            // An `<elseif>`'s condition is placed at its own attribute.
                            if branch > 0 {
                                self.at("elseif", cond.pos);
                            } else {
                                self.at("if", *pos);
                            }
                            match self.datamodel.eval_bool(cond) {
                                Ok(value) => value,
                                Err(message) => return self.fail(message),
                            }
                        }
                    };
                    if taken {
                        return self.execute_actions(body, host);
                    }
                }
                Ok(())
            }
            Action::Foreach {
                array,
                item,
                index,
                body,
                pos,
            } => {
                let n_items = match self.datamodel.foreach_begin(array) {
                    Ok(n_items) => n_items,
                    Err(message) => return self.fail(message),
                };
                let mut flow = Ok(());
                for position in 0..n_items {
                    // The body has moved the site: an error of the next item is the `<foreach>`'s.
                    self.at("foreach", *pos);
                    if let Err(message) =
                        self.datamodel.foreach_step(item, index.as_ref(), position)
                    {
                        flow = self.fail(message);
                        break;
                    }
                    flow = self.execute_actions(body, host);
                    if flow.is_err() {
                        break;
                    }
                }
                self.datamodel.foreach_end();
                flow
            }
            Action::Send(send) => self.execute_send(send, host),
            Action::Cancel { sendid, .. } => {
                let sendid = match sendid {
                    ValueOrExpr::Value(value) => value.to_string(),
                    ValueOrExpr::Expr(expr) => match self.datamodel.eval_string(expr) {
                        Ok(value) => value,
                        Err(message) => return self.fail(message),
                    },
                };
                self.timers.retain(|timer| *timer.sendid != *sendid);
                Ok(())
            }
            Action::Custom(action) => self.execute_custom(action, host),
        }
    }

    fn execute_custom(&mut self, action: &CustomAction, host: &mut dyn Host) -> Flow {
        let mut scope = Scope {
            datamodel: &mut *self.datamodel,
            internal: &mut self.internal,
            now: self.now,
        };
        match host.custom_action(&self.info, action, &mut scope) {
            Ok(()) => Ok(()),
            Err(error) => {
                let message = format!(
                    "{}:{}: <{}>: {error}.",
                    self.model_name(),
                    action.pos,
                    action.name
                );
                self.fail(message)
            }
        }
    }

    fn model_name(&self) -> String {
        self.model
            .file
            .as_ref()
            .map(|file| file.display().to_string())
            .unwrap_or_else(|| "<input>".to_string())
    }
}

/// The value of inline content, as the ECMAScript datamodel reads it.
pub(super) fn content_value(content: &Content) -> Value {
    match content {
        Content::Text(text) => Value::from_content_text(text),
        Content::Xml(text) => Value::Xml(text.clone()),
        Content::Scxml(_, text) => Value::Xml(text.clone()),
    }
}
