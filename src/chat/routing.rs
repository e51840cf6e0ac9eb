//! Routing a chat to an agent through the contact center ([`ContactCenter::submit`], the simulator by default):
//! when the customer creates the chat it is submitted to its queue; the agent the contact center selects joins it
//! (`Notice.Joined`, party `AGENT`, the agent's id as nickname); a chat no agent takes within
//! `chat_session_request_timeout` is ended by the back end (`Notice.Left`, party `EXTERNAL`).
//!
//! A chat on an instance whose kind routes chats itself (an `ors` flow: "chat on any service") is not queued here:
//! the contact center's chat workflow forwards the chat interaction to the instance's flow (`interaction.added`),
//! the flow routes it (`queue:submit` with that interaction), and the agent it selects joins the chat; the flow
//! is told `queue.submit.done` as usual.
//!
//! The queue is the service's `chat_endpoint`, else `[chat] ixn_server_submit_queue`; `default` (the Chat Server's
//! own default endpoint) means the agent group `Chat`. A bridge to a real Genesys Chat Server would take the chat
//! at this seam instead: submit it to its endpoint and relay the Chat Server's transcript into [`Chats`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::chat::Chats;
use std::collections::BTreeMap;

use crate::contact_center::{
    CcError, CcEvent, ContactCenter, InteractionId, RequestId, SubmitRequest, Target,
};
use crate::sync::lock;

/// The agent group of the `default` queue.
pub const DEFAULT_GROUP: &str = "Chat";

/// Chats waiting for an agent, and the contact center that finds one.
pub struct ChatRouting {
    center: Arc<dyn ContactCenter>,
    chats: Arc<Chats>,
    pending: Mutex<HashMap<RequestId, String>>,
    /// Chat interactions forwarded to a flow, and their chat's service.
    forwarded: Mutex<HashMap<InteractionId, String>>,
    /// Tells the contact center's driver that new work may have been scheduled.
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for ChatRouting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatRouting").finish_non_exhaustive()
    }
}

/// The queue and the routing timeout of a chat on an instance of service `service`: the section's
/// `chat_endpoint`, else `[chat] ixn_server_submit_queue`, else `default`; `[chat] chat_session_request_timeout`
/// (ms; 0 or absent: none).
pub fn queue_for(config: &crate::config::GmsConfig, service: &str) -> (String, Option<Duration>) {
    let endpoint = config
        .raw()
        .section(&format!("service.{service}"))
        .and_then(|section| section.value("chat_endpoint"))
        .map(str::trim)
        .filter(|endpoint| !endpoint.is_empty())
        .map(str::to_string);
    let queue = endpoint
        .or_else(|| config.chat.ixn_server_submit_queue.clone())
        .unwrap_or_else(|| "default".to_string());
    let timeout = config
        .chat
        .chat_session_request_timeout_ms
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    (queue, timeout)
}

/// The target of queue `queue`.
pub fn target_of(queue: &str) -> Target {
    let queue = queue.trim();
    if queue.is_empty() || queue.eq_ignore_ascii_case("default") {
        Target::group(DEFAULT_GROUP)
    } else {
        Target::parse(queue)
    }
}

impl ChatRouting {
    /// Routes the chats of `chats` through `center`; `wake` is notified after each submit.
    pub fn new(
        center: Arc<dyn ContactCenter>,
        chats: Arc<Chats>,
        wake: Arc<tokio::sync::Notify>,
    ) -> ChatRouting {
        ChatRouting {
            center,
            chats,
            pending: Mutex::new(HashMap::new()),
            forwarded: Mutex::new(HashMap::new()),
            wake,
        }
    }

    /// Submits the chat of `service` to `queue`, to be taken within `timeout`.
    pub fn submit(
        &self,
        service: &str,
        queue: &str,
        timeout: Option<Duration>,
    ) -> Result<(), CcError> {
        // Held across the submit so the event that ends it cannot be looked up before it is known.
        let mut pending = lock(&self.pending);
        let request = self.center.submit(SubmitRequest {
            interaction: None,
            targets: vec![target_of(queue)],
            priority: 0,
            timeout,
        })?;
        pending.insert(request, service.to_string());
        drop(pending);
        self.wake.notify_one();
        Ok(())
    }

    /// Hands the chat of `service` to the flow of that instance, through the contact center's chat workflow;
    /// `udata` goes with the interaction.
    pub fn forward(&self, service: &str, udata: BTreeMap<String, String>) -> Result<(), CcError> {
        let mut forwarded = lock(&self.forwarded);
        let interaction = self.center.forward_chat(service, udata)?;
        forwarded.insert(interaction, service.to_string());
        drop(forwarded);
        self.wake.notify_one();
        Ok(())
    }

    /// Takes `event` when it ends the routing of a chat (and applies it on a task); gives it back otherwise. The
    /// agent a flow selects for a forwarded chat joins it, and the event goes on to the flow.
    pub fn take(&self, event: CcEvent) -> Option<CcEvent> {
        if let CcEvent::TargetSelected {
            interaction: Some(interaction),
            agent,
            ..
        } = &event
            && let Some(service) = lock(&self.forwarded).remove(interaction)
        {
            let chats = self.chats.clone();
            let agent = agent.clone();
            tokio::spawn(async move {
                if let Err(error) = chats.join(&service, &agent, &agent).await {
                    tracing::info!(%service, %error, "the agent a flow chose did not join the chat");
                }
            });
            return Some(event);
        }
        let request = match &event {
            CcEvent::TargetSelected { request, .. } | CcEvent::SubmitFailed { request, .. } => {
                *request
            }
            _ => return Some(event),
        };
        let Some(service) = lock(&self.pending).remove(&request) else {
            return Some(event);
        };
        let chats = self.chats.clone();
        tokio::spawn(async move {
            let outcome = match event {
                CcEvent::TargetSelected { agent, .. } => {
                    chats.join(&service, &agent, &agent).await.map(|_| ())
                }
                _ => chats
                    .end(&service, "no agent is available")
                    .await
                    .map(|_| ()),
            };
            if let Err(error) = outcome {
                tracing::info!(%service, %error, "chat routing outcome not applied");
            }
        });
        None
    }
}
