//! The contact center as the modules use it: the requests in flight (which session waits for which request of the
//! `queue`, `interaction` and `dialog` modules), and the contact center's events turned into the module events of
//! the sessions waiting for them (`queue.submit.done`, `voice.createcall.done`, `interaction.added`, ...; the table
//! is in [`crate::contact_center`]). Calls to a booked access number are matched to their service by the caller
//! ([`crate::ors::modules::Modules::dispatch`]), as an ORS strategy does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::contact_center::{
    CallOutcome, CcError, CcEvent, ContactCenter, InteractionId, RequestId, SubmitFailure,
};
use crate::ors::exchange::strings;
use crate::ors::modules::call::Call;
use crate::scxml::Value;
use crate::scxml::host::HostError;
use crate::sync::lock;

/// Which module a contact-center request came from, to name its completion event.
#[derive(Debug, Clone)]
pub enum CcCall {
    /// `<queue:submit>`.
    Submit,
    /// `<interaction:createcall>`.
    CreateCall,
    /// `<interaction:accept>`.
    Accept,
    /// `<dialog:ELEMENT>`.
    Treatment(String),
}

/// The contact center, and the requests its sessions wait for.
pub struct Contact {
    center: Option<Arc<dyn ContactCenter>>,
    /// Pending contact-center requests: the session and the module call.
    routes: Mutex<HashMap<RequestId, (String, CcCall)>>,
    /// Wakes the contact center's clock driver when new work may have been scheduled.
    wake: Arc<tokio::sync::Notify>,
}

impl Contact {
    /// Over `center`, when one is configured.
    pub fn new(center: Option<Arc<dyn ContactCenter>>) -> Contact {
        Contact {
            center,
            routes: Mutex::new(HashMap::new()),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The contact center, or the failure of a module that needs one.
    pub fn center(&self) -> Result<&Arc<dyn ContactCenter>, HostError> {
        self.center
            .as_ref()
            .ok_or_else(|| HostError::Unsupported("no contact center is configured".to_string()))
    }

    /// The contact center, when one is configured (for the statistic globals).
    pub fn center_if_any(&self) -> Option<Arc<dyn ContactCenter>> {
        self.center.clone()
    }

    /// Notified after every contact-center call.
    pub fn wake(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Tells the driver that the contact center may have new work.
    pub fn woken(&self) {
        self.wake.notify_one();
    }

    /// Calls the contact center with `f`, remembers that the calling session waits for the request's end, and
    /// gives the request id to the element's `requestid` location.
    pub fn call(
        &self,
        call: &mut Call<'_>,
        kind: CcCall,
        f: impl FnOnce(&Arc<dyn ContactCenter>) -> Result<RequestId, CcError>,
    ) -> Result<(), HostError> {
        let center = self.center()?;
        // The lock is held across the call so the event dispatcher cannot look the request up before it is known.
        let mut routes = lock(&self.routes);
        let request = f(center).map_err(|error| HostError::Failed(error.to_string()))?;
        routes.insert(request, (call.me(), kind));
        drop(routes);
        self.wake.notify_one();
        call.assign_requestid(&request.to_string())
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
        let Some(center) = &self.center else {
            return;
        };
        for (request, call) in requests {
            if matches!(call, CcCall::Submit) {
                // Already over if it is unknown: nothing to withdraw.
                let _ = center.cancel(request);
            }
        }
        self.wake.notify_one();
    }

    fn take(&self, request: &RequestId) -> Option<(String, CcCall)> {
        lock(&self.routes).remove(request)
    }

    /// The session an event that ends a module request goes to, with the event's name and data; `None` for an
    /// event no session waits for, and for the events that carry no request (`InteractionAdded`, `AgentState`).
    pub fn completion(&self, event: CcEvent) -> Option<(String, String, Value)> {
        Some(match event {
            CcEvent::TargetSelected {
                request,
                interaction,
                agent,
                target,
            } => {
                let (session, _) = self.take(&request)?;
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
                (session, "queue.submit.done".to_string(), strings(entries))
            }
            CcEvent::SubmitFailed { request, reason } => {
                let (session, _) = self.take(&request)?;
                let error = match reason {
                    SubmitFailure::Timeout => "timeout",
                    SubmitFailure::Cancelled => "cancelled",
                };
                let data = strings([
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
                let (session, _) = self.take(&request)?;
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
                (session, name.to_string(), strings(entries))
            }
            CcEvent::Accepted {
                request,
                interaction,
            } => {
                let (session, _) = self.take(&request)?;
                let data = strings([
                    ("requestid", request.to_string()),
                    ("interactionid", interaction.0),
                ]);
                (session, "interaction.accept.done".to_string(), data)
            }
            CcEvent::TreatmentDone {
                request,
                interaction,
            } => {
                let (session, call) = self.take(&request)?;
                let element = match call {
                    CcCall::Treatment(element) => element,
                    _ => "play".to_string(),
                };
                let data = strings([
                    ("requestid", request.to_string()),
                    ("interactionid", interaction.0),
                ]);
                (session, format!("dialog.{element}.done"), data)
            }
            CcEvent::ChatForwarded {
                interaction,
                service,
                udata,
            } => {
                let data = vec![
                    (Arc::from("interactionid"), Value::string(interaction.0)),
                    (Arc::from("media"), Value::string("chat".to_string())),
                    (Arc::from("udata"), strings(udata)),
                ];
                (
                    service,
                    "interaction.added".to_string(),
                    Value::Object(data),
                )
            }
            CcEvent::InteractionAdded { .. } | CcEvent::AgentState { .. } => return None,
        })
    }
}

/// The data of `interaction.added` for a call to a booked number: `interactionid`, `ani`, `dnis`, `udata`.
pub fn call_added(
    interaction: InteractionId,
    ani: String,
    dnis: String,
    udata: BTreeMap<String, String>,
) -> Value {
    let mut data = match strings([
        ("interactionid", interaction.0),
        ("ani", ani),
        ("dnis", dnis),
    ]) {
        Value::Object(entries) => entries,
        _ => Vec::new(),
    };
    data.push((Arc::from("udata"), strings(udata)));
    Value::Object(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::contact_center::{SimOptions, Simulator, SubmitRequest, Target};

    #[test]
    fn an_ended_session_withdraws_its_pending_submits_only() {
        let (sink, _events) = std::sync::mpsc::channel();
        let simulator = Arc::new(Simulator::new(
            SimOptions::default(),
            Arc::new(ManualClock::default()),
            Arc::new(sink),
        ));
        let contact = Contact::new(Some(simulator.clone() as Arc<dyn ContactCenter>));
        let submit = |session: &str| {
            let request = simulator
                .submit(SubmitRequest {
                    interaction: None,
                    targets: vec![Target::group("Chat")],
                    priority: 0,
                    timeout: None,
                })
                .unwrap();
            lock(&contact.routes).insert(request, (session.to_string(), CcCall::Submit));
            request
        };
        submit("gone");
        let kept = submit("alive");
        assert_eq!(simulator.snapshot().waiting, 2);

        contact.session_ended("gone");
        assert_eq!(simulator.snapshot().waiting, 1);
        let routes = lock(&contact.routes);
        assert_eq!(routes.len(), 1);
        assert!(routes.contains_key(&kept));
        drop(routes);
        // Ending it twice, or a session with nothing pending, does nothing.
        contact.session_ended("gone");
        contact.session_ended("never");
        assert_eq!(simulator.snapshot().waiting, 1);
    }
}
