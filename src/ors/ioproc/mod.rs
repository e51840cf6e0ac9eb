//! Event I/O processors the engine leaves to its host: sends to other sessions of this node (`#_scxml_<id>`, and
//! the bare session ids ORS flows use with `targettype="'scxml'"`), and the BasicHTTP processor ([`basichttp`]).

pub mod basichttp;

use std::sync::{Arc, OnceLock};

use crate::ors::exchange::{Runtime, SessionInput};
use crate::scxml::Value;
use crate::scxml::host::{HostError, OutgoingSend, SessionInfo};

/// The processors of one runtime: the HTTP client of BasicHTTP sends, and where sessions receive BasicHTTP events.
#[derive(Debug)]
pub struct IoProcessors {
    client: reqwest::Client,
    /// The base URL (`http://host:port`) of the listener serving `/scxml/basichttp/{id}`, once it is bound: each
    /// session's `_ioprocessors` gives its BasicHTTP location under it.
    basichttp_base: OnceLock<String>,
}

impl IoProcessors {
    /// Processors whose BasicHTTP sends go through `client`.
    pub fn new(client: reqwest::Client) -> IoProcessors {
        IoProcessors {
            client,
            basichttp_base: OnceLock::new(),
        }
    }

    /// Sets where sessions receive BasicHTTP events (once; later calls are ignored).
    pub fn set_basichttp_base(&self, base: String) {
        let _ = self.basichttp_base.set(base);
    }

    /// The `_ioprocessors` entries of session `sessionid` (none until the receiving listener is bound).
    pub fn ioprocessors(&self, sessionid: &str) -> Vec<(Arc<str>, Value)> {
        match self.basichttp_base.get() {
            Some(base) => {
                basichttp::ioprocessor_entries(&format!("{base}{}", basichttp::path(sessionid)))
            }
            None => Vec::new(),
        }
    }

    /// Delivers a `<send>` the engine handed to the host.
    pub fn send(
        &self,
        runtime: &Arc<dyn Runtime>,
        session: &SessionInfo,
        send: OutgoingSend,
    ) -> Result<(), HostError> {
        if basichttp::is_basic_http(&send.kind) {
            return basichttp::send(&self.client, runtime, session, send);
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
        if runtime.deliver(&target, SessionInput::External(send.event)) {
            Ok(())
        } else {
            Err(HostError::Failed(format!(
                "no session \"{}\" to deliver to",
                send.target
            )))
        }
    }
}
