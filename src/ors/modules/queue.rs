//! The `queue` module (`http://www.genesyslab.com/modules/queue`): `<queue:submit>` asks the contact center for an
//! agent of the `<queue:target>`s and completes with `queue.submit.done` or `error.queue.submit`;
//! `<queue:cancel requestid>` withdraws a pending submit.

use std::sync::Arc;
use std::time::Duration;

use crate::contact_center::{InteractionId, RequestId, SubmitRequest, Target};
use crate::ors::modules::call::{Call, Module, optional};
use crate::ors::modules::contact::{CcCall, Contact};
use crate::scxml::host::HostError;

/// The module's namespace, without its scheme.
pub const NAMESPACE: &str = "www.genesyslab.com/modules/queue";

/// The `queue` module over the contact center.
pub struct Queue(pub Arc<Contact>);

impl Module for Queue {
    fn call(&self, mut call: Call<'_>) -> Result<(), HostError> {
        match &*call.action.name {
            "submit" => self.submit(call),
            "cancel" => {
                let center = self.0.center()?;
                let id = call.required("requestid")?;
                let request = id
                    .strip_prefix("req-")
                    .and_then(|n| n.parse().ok())
                    .map(RequestId)
                    .ok_or_else(|| HostError::Failed(format!("`{id}` is not a request id")))?;
                center
                    .cancel(request)
                    .map_err(|error| HostError::Failed(error.to_string()))?;
                self.0.woken();
                Ok(())
            }
            other => Err(HostError::Unsupported(format!("<queue:{other}>"))),
        }
    }
}

impl Queue {
    fn submit(&self, mut call: Call<'_>) -> Result<(), HostError> {
        let interaction = call
            .optional("interactionid")?
            .filter(|id| !id.is_empty())
            .map(InteractionId);
        let priority = call
            .optional("priority")?
            .and_then(|text| text.parse::<f64>().ok())
            .map_or(0, |value| value as i32);
        let timeout = call
            .optional("timeout")?
            .and_then(|text| text.parse::<f64>().ok())
            .map(|secs| Duration::from_secs_f64(secs.max(0.0)));
        let mut targets = Vec::new();
        for child in &call.action.children {
            // `<queue:targets><queue:target name/></queue:targets>` or `<queue:target>` directly.
            for target in child.children.iter().chain(std::iter::once(child)) {
                if &*target.name == "target"
                    && let Some(name) = optional(target, "name", call.scope)?
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
        self.0
            .call(&mut call, CcCall::Submit, |center| center.submit(request))
    }
}
