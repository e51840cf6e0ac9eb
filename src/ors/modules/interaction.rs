//! The `interaction` module (`http://www.genesyslab.com/modules/interaction`): `<interaction:createcall from to>`
//! dials a number (`voice.createcall.done` / `error.voice.createcall`), `<interaction:accept interactionid>`
//! takes an inbound call (`interaction.accept.done`).

use std::sync::Arc;

use crate::contact_center::{CallRequest, InteractionId};
use crate::ors::modules::call::{Call, Module};
use crate::ors::modules::contact::{CcCall, Contact};
use crate::scxml::host::HostError;

/// The module's namespace, without its scheme.
pub const NAMESPACE: &str = "www.genesyslab.com/modules/interaction";

/// The `interaction` module over the contact center.
pub struct Interaction(pub Arc<Contact>);

impl Module for Interaction {
    fn call(&self, mut call: Call<'_>) -> Result<(), HostError> {
        match &*call.action.name {
            "createcall" => {
                let request = CallRequest {
                    from: call.optional("from")?.unwrap_or_default(),
                    to: call.required("to")?,
                    udata: Default::default(),
                };
                self.0.call(&mut call, CcCall::CreateCall, |center| {
                    center.create_call(request)
                })
            }
            "accept" => {
                let interaction = InteractionId(call.required("interactionid")?);
                self.0.call(&mut call, CcCall::Accept, |center| {
                    center.accept(&interaction)
                })
            }
            other => Err(HostError::Unsupported(format!("<interaction:{other}>"))),
        }
    }
}
