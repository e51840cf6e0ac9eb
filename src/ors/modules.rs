//! The custom actions flows call: `<ws:response>`, the `session` module, the contact-center modules (`queue`,
//! `interaction`, `dialog`, `statistic`) over [`ContactCenter`], and the actions of the loaded DFM files.
//!
//! Module actions complete as ORS modules do: at once, with the outcome arriving later as an external event
//! (`queue.submit.done`, `<dfm>.<action>.done`, ...). Attribute values are expressions, except the few that ORS
//! documents as literal (`ws:response type`, `queue:targets type`, `param name`); an attribute that names a
//! location (`requestid` of a module call) receives the request id. A failing expression raises
//! `error.execution` in the flow; an unknown DFM action completes with `error.<dfm>.<action>`; neither affects
//! any other session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::contact_center::{
    CallOutcome, CallRequest, CcEvent, ContactCenter, InteractionId, RequestId, Statistic,
    SubmitFailure, SubmitRequest, Target,
};
use crate::dfm::{AttrValues, DfmSet, Executor};
use crate::ors::dialect;
use crate::ors::runtime::{Answer, SessionInput, Shared};
use crate::ors::worker::completion;
use crate::scxml::Value;
use crate::scxml::datamodel::ecmascript::GlobalsHook;
use crate::scxml::host::{ActionScope, HostError, SessionInfo};
use crate::scxml::model::CustomAction;

/// Which module a contact-center request came from, to name its completion event.
#[derive(Debug, Clone)]
enum CcCall {
    Submit,
    CreateCall,
    Accept,
    Treatment(String),
}

/// The modules a flow can call.
pub struct Modules {
    dfm: DfmSet,
    executor: Executor,
    contact_center: Option<Arc<dyn ContactCenter>>,
    /// Pending contact-center requests: the session and the module call.
    routes: Mutex<HashMap<RequestId, (String, CcCall)>>,
    shared: OnceLock<Weak<Shared>>,
    /// Wakes the contact center's clock driver when new work may have been scheduled.
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn local_namespace(ns: &str) -> &str {
    ns.strip_prefix("http://")
        .or_else(|| ns.strip_prefix("https://"))
        .unwrap_or(ns)
        .trim_end_matches('/')
}

impl Modules {
    /// Modules over the DFM files of `dfm` (run by `executor`) and, when given, a contact center.
    pub fn new(
        dfm: DfmSet,
        executor: Executor,
        contact_center: Option<Arc<dyn ContactCenter>>,
    ) -> Modules {
        Modules {
            dfm,
            executor,
            contact_center,
            routes: Mutex::new(HashMap::new()),
            shared: OnceLock::new(),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The HTTP client of outgoing calls (`gms/http.*` timeouts).
    pub fn client(&self) -> reqwest::Client {
        self.executor.client()
    }

    /// Finds the service a call to a booked access number belongs to as the strategy on an ORS access number
    /// does: the `match-interaction` action of the `gsgBasedServices` DFM (the GMS that booked the number
    /// answers, and releases it; served in-process when that GMS is this node). `None` when no DFM declares the
    /// action or no service holds the number.
    async fn match_interaction(
        &self,
        dnis: &str,
        ani: &str,
        code: Option<String>,
    ) -> Option<String> {
        let dfm = self.dfm.by_name("gsgBasedServices")?;
        let mut values = crate::dfm::AttrValues::new();
        values.insert("_access_number".into(), serde_json::Value::from(dnis));
        if !ani.is_empty() {
            values.insert("_phone_number".into(), serde_json::Value::from(ani));
        }
        if let Some(code) = code.filter(|code| !code.is_empty()) {
            values.insert("_access_code".into(), serde_json::Value::from(code));
        }
        let completion = self
            .executor
            .execute(dfm, "match-interaction", &values)
            .await;
        if !(200..300).contains(&completion.status) {
            tracing::debug!(status = completion.status, data = %completion.data, "match-interaction found no service");
            return None;
        }
        completion.data.get("_id")?.as_str().map(str::to_string)
    }

    /// Notified after every contact-center call, for the driver that ticks its clock.
    pub fn wake(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    pub(crate) fn attach(&self, shared: Weak<Shared>) {
        let _ = self.shared.set(shared);
    }

    /// Installs `_data` and `_genesys` (with `_genesys.statistic.sData` over the contact center).
    pub(crate) fn globals_hook(&self) -> GlobalsHook {
        let contact_center = self.contact_center.clone();
        Arc::new(move |context| {
            use boa_engine::object::FunctionObjectBuilder;
            use boa_engine::{JsValue, NativeFunction, Source, js_string};
            if context
                .eval(Source::from_bytes(dialect::GLOBALS.as_bytes()))
                .is_err()
            {
                return;
            }
            let contact_center = contact_center.clone();
            // SAFETY: the closure captures only an `Arc` of Rust data, no garbage-collected value, so boa's
            // tracing does not need to see into it.
            let sdata = unsafe {
                NativeFunction::from_closure(move |_this, args, context| {
                    let object = args
                        .first()
                        .map(|value| value.to_string(context))
                        .transpose()?
                        .map(|text| text.to_std_string_escaped())
                        .unwrap_or_default();
                    let name = args
                        .get(1)
                        .map(|value| value.to_string(context))
                        .transpose()?
                        .map(|text| text.to_std_string_escaped())
                        .unwrap_or_default();
                    let value = match (&contact_center, Statistic::parse(&name)) {
                        (Some(contact_center), Some(statistic)) => {
                            contact_center.statistic(&Target::parse(&object), statistic)
                        }
                        _ => None,
                    };
                    Ok(value.map_or(JsValue::null(), JsValue::from))
                })
            };
            let function = FunctionObjectBuilder::new(context.realm(), sdata)
                .name(js_string!("sData"))
                .length(2)
                .build();
            let global = context.global_object();
            let statistic = global
                .get(js_string!("_genesys"), context)
                .ok()
                .and_then(|genesys| genesys.as_object())
                .and_then(|genesys| genesys.get(js_string!("statistic"), context).ok())
                .and_then(|statistic| statistic.as_object());
            if let Some(statistic) = statistic {
                let _ = statistic.set(js_string!("sData"), function, false, context);
            }
        })
    }

    /// Runs one custom action of `session`.
    pub(crate) fn custom_action(
        &self,
        shared: &Arc<Shared>,
        session: &SessionInfo,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        let ns = local_namespace(&action.ns);
        match (ns, &*action.name) {
            ("www.genesyslab.com/modules/ws", "response") => {
                self.ws_response(shared, action, scope)
            }
            ("www.genesyslab.com/modules/session", name) => {
                self.session_module(shared, session, name, action, scope)
            }
            ("www.genesyslab.com/modules/queue", "submit") => {
                let interaction = optional(action, "interactionid", scope)?
                    .filter(|id| !id.is_empty())
                    .map(InteractionId);
                let priority = optional(action, "priority", scope)?
                    .and_then(|text| text.parse::<f64>().ok())
                    .map_or(0, |value| value as i32);
                let timeout = optional(action, "timeout", scope)?
                    .and_then(|text| text.parse::<f64>().ok())
                    .map(|secs| Duration::from_secs_f64(secs.max(0.0)));
                let mut targets = Vec::new();
                for child in &action.children {
                    for target in child.children.iter().chain(std::iter::once(child)) {
                        if &*target.name == "target"
                            && let Some(name) = optional(target, "name", scope)?
                        {
                            targets.push(Target::parse(&name));
                        }
                    }
                }
                let request = SubmitRequest {
                    interaction,
                    targets,
                    priority,
                    timeout,
                };
                self.contact_call(session, action, scope, CcCall::Submit, |cc| {
                    cc.submit(request)
                })
            }
            ("www.genesyslab.com/modules/queue", "cancel") => {
                let cc = self.contact_center()?;
                let id = required(action, "requestid", scope)?;
                let request = id
                    .strip_prefix("req-")
                    .and_then(|n| n.parse().ok())
                    .map(RequestId)
                    .ok_or_else(|| HostError::Failed(format!("`{id}` is not a request id")))?;
                cc.cancel(request)
                    .map_err(|error| HostError::Failed(error.to_string()))?;
                self.wake.notify_one();
                Ok(())
            }
            ("www.genesyslab.com/modules/interaction", "createcall") => {
                let request = CallRequest {
                    from: optional(action, "from", scope)?.unwrap_or_default(),
                    to: required(action, "to", scope)?,
                    udata: Default::default(),
                };
                self.contact_call(session, action, scope, CcCall::CreateCall, |cc| {
                    cc.create_call(request)
                })
            }
            ("www.genesyslab.com/modules/interaction", "accept") => {
                let interaction = InteractionId(required(action, "interactionid", scope)?);
                self.contact_call(session, action, scope, CcCall::Accept, |cc| {
                    cc.accept(&interaction)
                })
            }
            ("www.genesyslab.com/modules/dialog", element) => {
                let interaction =
                    InteractionId(optional(action, "interactionid", scope)?.unwrap_or_default());
                let call = CcCall::Treatment(element.to_string());
                self.contact_call(session, action, scope, call, |cc| {
                    cc.treatment(&interaction)
                })
            }
            ("www.genesyslab.com/modules/statistic", _) => Ok(()),
            _ => self.dfm_action(shared, session, action, scope),
        }
    }

    fn contact_center(&self) -> Result<&Arc<dyn ContactCenter>, HostError> {
        self.contact_center
            .as_ref()
            .ok_or_else(|| HostError::Unsupported("no contact center is configured".to_string()))
    }

    /// Calls the contact center and remembers which session waits for the request's end.
    fn contact_call(
        &self,
        session: &SessionInfo,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
        call: CcCall,
        f: impl FnOnce(&Arc<dyn ContactCenter>) -> Result<RequestId, crate::contact_center::CcError>,
    ) -> Result<(), HostError> {
        let cc = self.contact_center()?;
        // The lock is held across the call so the event dispatcher cannot look the request up before it is known.
        let mut routes = lock(&self.routes);
        let request = f(cc).map_err(|error| HostError::Failed(error.to_string()))?;
        routes.insert(request, (session.sessionid.to_string(), call));
        drop(routes);
        self.wake.notify_one();
        if let Some(location) = action.attr("requestid") {
            scope
                .assign(location, Value::string(request.to_string()))
                .map_err(HostError::Failed)?;
        }
        Ok(())
    }

    /// Forgets the contact-center requests of `session`, which has ended, and withdraws its pending submits so
    /// that no agent is reserved for a session that is gone. For the runtime to call whenever a session ends
    /// (final state, terminate, TTL).
    pub fn session_ended(&self, session: &str) {
        let requests: Vec<(RequestId, CcCall)> = {
            let mut routes = lock(&self.routes);
            let ids: Vec<RequestId> = routes
                .iter()
                .filter(|(_, (owner, _))| owner == session)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| routes.remove(&id).map(|(_, call)| (id, call)))
                .collect()
        };
        let Some(contact_center) = &self.contact_center else {
            return;
        };
        for (request, call) in requests {
            if matches!(call, CcCall::Submit) {
                // Already over if it is unknown: nothing to withdraw.
                let _ = contact_center.cancel(request);
            }
        }
        self.wake.notify_one();
    }

    /// Turns a contact-center event into the module event of the session that waits for it.
    pub async fn dispatch(&self, event: CcEvent) {
        let Some(shared) = self.shared.get().and_then(Weak::upgrade) else {
            return;
        };
        let take = |request: &RequestId| lock(&self.routes).remove(request);
        let obj = |entries: Vec<(&str, String)>| {
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (Arc::from(key), Value::string(value)))
                    .collect(),
            )
        };
        let (session, name, data) = match event {
            CcEvent::TargetSelected {
                request,
                interaction,
                agent,
                target,
            } => {
                let Some((session, _)) = take(&request) else {
                    return;
                };
                // As in URS, the selected target is the agent; the group it was found in is `target`.
                let mut entries = vec![
                    ("requestid", request.to_string()),
                    ("targetselected", agent.clone()),
                    ("agent", agent),
                    ("target", target),
                ];
                if let Some(interaction) = interaction {
                    entries.push(("interactionid", interaction.0));
                }
                (session, "queue.submit.done".to_string(), obj(entries))
            }
            CcEvent::SubmitFailed { request, reason } => {
                let Some((session, _)) = take(&request) else {
                    return;
                };
                let error = match reason {
                    SubmitFailure::Timeout => "timeout",
                    SubmitFailure::Cancelled => "cancelled",
                };
                let data = obj(vec![
                    ("requestid", request.to_string()),
                    ("error", error.to_string()),
                ]);
                (session, "error.queue.submit".to_string(), data)
            }
            CcEvent::CallResult {
                request,
                interaction,
                outcome,
            } => {
                let Some((session, _)) = take(&request) else {
                    return;
                };
                let mut entries = vec![
                    ("requestid", request.to_string()),
                    ("interactionid", interaction.0),
                ];
                let name = if outcome == CallOutcome::Answered {
                    "voice.createcall.done"
                } else {
                    entries.push(("error", outcome.as_str().to_string()));
                    "error.voice.createcall"
                };
                (session, name.to_string(), obj(entries))
            }
            CcEvent::Accepted {
                request,
                interaction,
            } => {
                let Some((session, _)) = take(&request) else {
                    return;
                };
                let data = obj(vec![
                    ("requestid", request.to_string()),
                    ("interactionid", interaction.0),
                ]);
                (session, "interaction.accept.done".to_string(), data)
            }
            CcEvent::TreatmentDone {
                request,
                interaction,
            } => {
                let Some((session, call)) = take(&request) else {
                    return;
                };
                let element = match call {
                    CcCall::Treatment(element) => element,
                    _ => "play".to_string(),
                };
                let data = obj(vec![
                    ("requestid", request.to_string()),
                    ("interactionid", interaction.0),
                ]);
                (session, format!("dialog.{element}.done"), data)
            }
            CcEvent::InteractionAdded {
                interaction,
                ani,
                dnis,
                udata,
            } => {
                let code = udata.get("access_code").cloned();
                let Some(session) = self.match_interaction(&dnis, &ani, code).await else {
                    tracing::info!(%dnis, %ani, "no service holds the dialled access number");
                    return;
                };
                let mut entries = vec![
                    ("interactionid", interaction.0),
                    ("ani", ani),
                    ("dnis", dnis),
                ];
                let udata = udata.into_iter().collect::<Vec<_>>();
                let mut data = match obj(std::mem::take(&mut entries)) {
                    Value::Object(entries) => entries,
                    _ => Vec::new(),
                };
                data.push((
                    Arc::from("udata"),
                    Value::Object(
                        udata
                            .into_iter()
                            .map(|(key, value)| (Arc::from(key.as_str()), Value::string(value)))
                            .collect(),
                    ),
                ));
                (
                    session,
                    "interaction.added".to_string(),
                    Value::Object(data),
                )
            }
            CcEvent::ChatForwarded {
                interaction,
                service,
                udata,
            } => {
                let data = vec![
                    (Arc::from("interactionid"), Value::string(interaction.0)),
                    (Arc::from("media"), Value::string("chat".to_string())),
                    (Arc::from("udata"), strings_map(udata)),
                ];
                (
                    service,
                    "interaction.added".to_string(),
                    Value::Object(data),
                )
            }
            CcEvent::AgentState { .. } => return,
        };
        shared.deliver(&session, SessionInput::External(completion(&name, data)));
    }

    fn ws_response(
        &self,
        shared: &Arc<Shared>,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        let requestid = required(action, "requestid", scope)?;
        let positive = match action.attr("type") {
            None => true,
            Some(kind) => {
                let kind = literal_or_expr(kind, scope);
                !kind.eq_ignore_ascii_case("negative")
            }
        };
        let resultcode = optional(action, "resultcode", scope)?;
        let mut params = serde_json::Map::new();
        for child in action
            .children
            .iter()
            .filter(|child| &*child.name == "param")
        {
            let Some(name) = child.attr("name") else {
                continue;
            };
            let value = match child.attr("expr") {
                Some(expr) => scope.eval(expr).map_err(HostError::Failed)?,
                None => Value::Undefined,
            };
            params.insert(name.to_string(), value.to_json());
        }
        let answer = Answer {
            positive,
            resultcode,
            params,
        };
        if !shared.answer(&requestid, answer) {
            tracing::info!(%requestid, "<ws:response> to a request nobody waits for");
        }
        Ok(())
    }

    fn session_module(
        &self,
        shared: &Arc<Shared>,
        session: &SessionInfo,
        name: &str,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        let requestid = format!("fm-{:08x}", fastrand::u32(..));
        if let Some(location) = action.attr("requestid") {
            scope
                .assign(location, Value::string(requestid.clone()))
                .map_err(HostError::Failed)?;
        }
        let me = session.sessionid.to_string();
        let weak = Arc::downgrade(shared);
        match name {
            "terminate" => {
                let target = optional(action, "sessionid", scope)?.unwrap_or_else(|| me.clone());
                let alive = shared.deliver(&target, SessionInput::Terminate(None));
                let (event, data) = if alive {
                    (
                        "session.terminate.done",
                        vec![("requestid", requestid), ("sessionid", target.clone())],
                    )
                } else {
                    (
                        "error.session.terminate",
                        vec![("requestid", requestid), ("error", "not found".to_string())],
                    )
                };
                if target != me {
                    scope.raise(completion(event, strings(data)));
                }
                Ok(())
            }
            "start" => {
                let src = required(action, "src", scope)?;
                let mut params = Vec::new();
                for child in action
                    .children
                    .iter()
                    .filter(|child| &*child.name == "param")
                {
                    if let (Some(name), Some(expr)) = (child.attr("name"), child.attr("expr")) {
                        params.push((
                            name.to_string(),
                            scope.eval(expr).map_err(HostError::Failed)?,
                        ));
                    }
                }
                shared.spawn(async move {
                    let Some(shared) = weak.upgrade() else {
                        return;
                    };
                    let result = match shared.documents.load(&src).await {
                        Ok(model) => shared.start_model(model, params, None),
                        Err(error) => Err(error.into()),
                    };
                    let (event, data) = match result {
                        Ok(id) => (
                            "session.start.done",
                            vec![("requestid", requestid), ("sessionid", id)],
                        ),
                        Err(error) => (
                            "error.session.start",
                            vec![("requestid", requestid), ("description", error.to_string())],
                        ),
                    };
                    shared.deliver(
                        &me,
                        SessionInput::External(completion(event, strings(data))),
                    );
                });
                Ok(())
            }
            "fetch" => {
                let url = required(action, "srcexpr", scope)
                    .or_else(|_| required(action, "src", scope))?;
                let method =
                    optional(action, "method", scope)?.unwrap_or_else(|| "get".to_string());
                let client = self.executor.client();
                shared.spawn(async move {
                    let Some(shared) = weak.upgrade() else {
                        return;
                    };
                    let method =
                        reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                            .unwrap_or(reqwest::Method::GET);
                    let outcome = match client.request(method, &url).send().await {
                        Ok(response) => {
                            let status = response.status();
                            let text = response.text().await.unwrap_or_default();
                            if status.is_success() {
                                let content = serde_json::from_str(&text)
                                    .map(|json| Value::from_json(&json))
                                    .unwrap_or(Value::String(Arc::from(text.as_str())));
                                Ok(content)
                            } else {
                                Err(format!("protocol.{}", status.as_u16()))
                            }
                        }
                        Err(error) => Err(format!("protocol.0: {error}")),
                    };
                    let event = match outcome {
                        Ok(content) => completion(
                            "session.fetch.done",
                            Value::Object(vec![
                                (Arc::from("requestid"), Value::string(requestid)),
                                (Arc::from("content"), content),
                            ]),
                        ),
                        Err(error) => completion(
                            "error.session.fetch",
                            strings(vec![("requestid", requestid), ("error", error)]),
                        ),
                    };
                    shared.deliver(&me, SessionInput::External(event));
                });
                Ok(())
            }
            other => Err(HostError::Unsupported(format!("<session:{other}>"))),
        }
    }

    fn dfm_action(
        &self,
        shared: &Arc<Shared>,
        session: &SessionInfo,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        let Some(dfm) = self.dfm.by_namespace(&action.ns).cloned() else {
            return Err(HostError::Unsupported(format!(
                "custom action <{}> in namespace {}",
                action.name, action.ns
            )));
        };
        let mut values = AttrValues::new();
        for (name, expr) in &action.attrs {
            if &**name == "requestid" {
                continue;
            }
            let value = scope.eval(expr).map_err(HostError::Failed)?;
            values.insert(name.to_string(), value.to_json());
        }
        let requestid = format!("dfm-{:08x}", fastrand::u32(..));
        if let Some(location) = action.attr("requestid") {
            scope
                .assign(location, Value::string(requestid.clone()))
                .map_err(HostError::Failed)?;
        }
        let executor = self.executor.clone();
        let name = action.name.to_string();
        let me = session.sessionid.to_string();
        let weak = Arc::downgrade(shared);
        shared.spawn(async move {
            let completion_of = executor.execute(&dfm, &name, &values).await;
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let mut data = Value::from_json(&completion_of.data);
            let extra = [
                (Arc::from("requestid"), Value::string(requestid)),
                (
                    Arc::from("status"),
                    Value::Number(f64::from(completion_of.status)),
                ),
            ];
            data = match data {
                Value::Object(mut entries) => {
                    entries.extend(extra);
                    Value::Object(entries)
                }
                other => {
                    let mut entries = vec![(Arc::from("response"), other)];
                    entries.extend(extra);
                    Value::Object(entries)
                }
            };
            shared.deliver(
                &me,
                SessionInput::External(completion(&completion_of.event, data)),
            );
        });
        Ok(())
    }
}

fn strings_map(entries: std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (Arc::from(key.as_str()), Value::string(value)))
            .collect(),
    )
}

fn strings(entries: Vec<(&str, String)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (Arc::from(key), Value::string(value)))
            .collect(),
    )
}

/// A literal attribute that may also be written as an expression (`type="positive"` or `type="'positive'"`).
fn literal_or_expr(text: &str, scope: &mut dyn ActionScope) -> String {
    let trimmed = text.trim();
    let quoted = trimmed.len() >= 2
        && ((trimmed.starts_with('\'') && trimmed.ends_with('\''))
            || (trimmed.starts_with('"') && trimmed.ends_with('"')));
    if quoted {
        if let Ok(value) = scope.eval(trimmed) {
            return value.display();
        }
    }
    trimmed.to_string()
}

/// The value of the expression in attribute `name`, as text; `None` when the attribute is absent.
fn optional(
    action: &CustomAction,
    name: &str,
    scope: &mut dyn ActionScope,
) -> Result<Option<String>, HostError> {
    match action.attr(name) {
        None => Ok(None),
        Some(expr) => {
            let value = scope
                .eval(expr)
                .map_err(|error| HostError::Failed(format!("<{}> {name}: {error}", action.name)))?;
            Ok(match value {
                Value::Undefined | Value::Null => None,
                other => Some(other.display()),
            })
        }
    }
}

fn required(
    action: &CustomAction,
    name: &str,
    scope: &mut dyn ActionScope,
) -> Result<String, HostError> {
    optional(action, name, scope)?
        .ok_or_else(|| HostError::Failed(format!("<{}> needs attribute `{name}`", action.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_center::{ManualClock, SimOptions, Simulator};

    #[test]
    fn an_ended_session_withdraws_its_pending_submits_only() {
        let (sink, _events) = std::sync::mpsc::channel();
        let simulator = Arc::new(Simulator::new(
            SimOptions::default(),
            Arc::new(ManualClock::new()),
            Arc::new(sink),
        ));
        let modules = Modules::new(
            DfmSet::new(),
            Executor::new(),
            Some(simulator.clone() as Arc<dyn ContactCenter>),
        );
        let submit = |session: &str| {
            let request = simulator
                .submit(SubmitRequest {
                    interaction: None,
                    targets: vec![Target::group("Chat")],
                    priority: 0,
                    timeout: None,
                })
                .unwrap();
            lock(&modules.routes).insert(request, (session.to_string(), CcCall::Submit));
            request
        };
        submit("gone");
        let kept = submit("alive");
        assert_eq!(simulator.snapshot().waiting, 2);

        modules.session_ended("gone");
        assert_eq!(simulator.snapshot().waiting, 1);
        let routes = lock(&modules.routes);
        assert_eq!(routes.len(), 1);
        assert!(routes.contains_key(&kept));
        drop(routes);
        // Ending it twice, or a session with nothing pending, does nothing.
        modules.session_ended("gone");
        modules.session_ended("never");
        assert_eq!(simulator.snapshot().waiting, 1);
    }
}
