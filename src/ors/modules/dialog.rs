//! The `dialog` module (`http://www.genesyslab.com/modules/dialog`): every element (`<dialog:playsound>`, ...)
//! plays a treatment on the interaction and completes with `dialog.<element>.done`.

use std::sync::Arc;

use crate::contact_center::InteractionId;
use crate::ors::modules::call::{Call, Module};
use crate::ors::modules::contact::{CcCall, Contact};
use crate::scxml::host::HostError;

/// The module's namespace, without its scheme.
pub const NAMESPACE: &str = "www.genesyslab.com/modules/dialog";

/// The `dialog` module over the contact center.
pub struct Dialog(pub Arc<Contact>);

impl Module for Dialog {
    fn call(&self, mut call: Call<'_>) -> Result<(), HostError> {
        let interaction = InteractionId(call.optional("interactionid")?.unwrap_or_default());
        let kind = CcCall::Treatment(call.action.name.to_string());
        self.0
            .call(&mut call, kind, |center| center.treatment(&interaction))
    }
}
