//! The `ws` module (`http://www.genesyslab.com/modules/ws`): `<ws:response>`, a flow's answer to a request of the
//! Service API or of `/scxml/session/{id}/request/{name}`.

use crate::ors::exchange::Answer;
use crate::ors::modules::call::{Call, Module, literal_or_expr};
use crate::scxml::host::HostError;

/// The module's namespace, without its scheme.
pub const NAMESPACE: &str = "www.genesyslab.com/modules/ws";

/// `<ws:response requestid type resultcode>` with `<param name expr>` children.
pub struct Ws;

impl Module for Ws {
    fn call(&self, mut call: Call<'_>) -> Result<(), HostError> {
        if &*call.action.name != "response" {
            return Err(HostError::Unsupported(format!("<ws:{}>", call.action.name)));
        }
        let requestid = call.required("requestid")?;
        let positive = match call.action.attr("type") {
            None => true,
            Some(kind) => !literal_or_expr(kind, call.scope).eq_ignore_ascii_case("negative"),
        };
        let resultcode = call.optional("resultcode")?;
        let params = call
            .params(true)?
            .into_iter()
            .map(|(name, value)| (name, value.to_json()))
            .collect();
        let answer = Answer {
            positive,
            resultcode,
            params,
        };
        if !call.runtime.answer(&requestid, answer) {
            tracing::info!(%requestid, "<ws:response> to a request nobody waits for");
        }
        Ok(())
    }
}
