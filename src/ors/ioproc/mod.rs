//! Event I/O processors the engine leaves to its host: sends to other sessions of this node (`#_scxml_<id>`, and
//! the bare session ids ORS flows use with `targettype="'scxml'"`), and the BasicHTTP processor ([`basichttp`]).

pub mod basichttp;

use std::sync::Arc;

use crate::ors::runtime::{SessionInput, Shared};
use crate::scxml::host::{HostError, OutgoingSend, SessionInfo};

/// Delivers a `<send>` the engine handed to the host.
pub(crate) fn send(
    shared: &Arc<Shared>,
    session: &SessionInfo,
    send: OutgoingSend,
) -> Result<(), HostError> {
    if basichttp::is_basic_http(&send.kind) {
        return basichttp::send(shared, session, send);
    }
    let scxml = matches!(
        &*send.kind,
        crate::scxml::SCXML_EVENT_PROCESSOR | "scxml" | "http://www.w3.org/TR/scxml/"
    );
    if !scxml {
        return Err(HostError::Unsupported(format!(
            "send type \"{}\"",
            send.kind
        )));
    }
    let target = send
        .target
        .strip_prefix("#_scxml_")
        .unwrap_or(&send.target)
        .to_string();
    if shared.deliver(&target, SessionInput::External(send.event)) {
        Ok(())
    } else {
        Err(HostError::Failed(format!(
            "no session \"{}\" to deliver to",
            send.target
        )))
    }
}
