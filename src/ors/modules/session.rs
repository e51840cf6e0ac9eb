//! The `session` module (`http://www.genesyslab.com/modules/session`): `<session:start>` (a new session of
//! another document), `<session:fetch>` (an HTTP GET or POST whose answer comes back as an event) and
//! `<session:terminate>` (this or another session). Each completes later with `session.<name>.done` or
//! `error.session.<name>`, carrying the `requestid` the element's location received.

use std::sync::Arc;

use crate::ors::exchange::{SessionInput, completion, strings};
use crate::ors::modules::call::{Call, Module};
use crate::scxml::Value;
use crate::scxml::host::HostError;

/// The module's namespace, without its scheme.
pub const NAMESPACE: &str = "www.genesyslab.com/modules/session";

/// The `session` module; fetches go through `client` (the `gms/http.*` timeouts).
pub struct SessionModule {
    /// The HTTP client of `<session:fetch>`.
    pub client: reqwest::Client,
}

impl Module for SessionModule {
    fn call(&self, mut call: Call<'_>) -> Result<(), HostError> {
        let requestid = format!("fm-{:08x}", fastrand::u32(..));
        call.assign_requestid(&requestid)?;
        match &*call.action.name {
            "terminate" => terminate(call, requestid),
            "start" => start(call, requestid),
            "fetch" => self.fetch(call, requestid),
            other => Err(HostError::Unsupported(format!("<session:{other}>"))),
        }
    }
}

fn terminate(mut call: Call<'_>, requestid: String) -> Result<(), HostError> {
    let me = call.me();
    let target = call.optional("sessionid")?.unwrap_or_else(|| me.clone());
    let alive = call.runtime.deliver(&target, SessionInput::Terminate(None));
    let (event, data) = if alive {
        (
            "session.terminate.done",
            [("requestid", requestid), ("sessionid", target.clone())],
        )
    } else {
        (
            "error.session.terminate",
            [("requestid", requestid), ("error", "not found".to_string())],
        )
    };
    if target != me {
        call.scope.raise(completion(event, strings(data)));
    }
    Ok(())
}

fn start(mut call: Call<'_>, requestid: String) -> Result<(), HostError> {
    let src = call.required("src")?;
    let params = call.params(false)?;
    let me = call.me();
    let weak = call.later();
    call.runtime.spawn(Box::pin(async move {
        let Some(runtime) = weak.upgrade() else {
            return;
        };
        let (event, data) = match runtime.start(src, params).await {
            Ok(id) => (
                "session.start.done",
                [("requestid", requestid), ("sessionid", id)],
            ),
            Err(error) => (
                "error.session.start",
                [("requestid", requestid), ("description", error.to_string())],
            ),
        };
        runtime.deliver(
            &me,
            SessionInput::External(completion(event, strings(data))),
        );
    }));
    Ok(())
}

impl SessionModule {
    fn fetch(&self, mut call: Call<'_>, requestid: String) -> Result<(), HostError> {
        let url = call.required("srcexpr").or_else(|_| call.required("src"))?;
        let method = call
            .optional("method")?
            .unwrap_or_else(|| "get".to_string());
        let client = self.client.clone();
        let me = call.me();
        let weak = call.later();
        call.runtime.spawn(Box::pin(async move {
            let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .unwrap_or(reqwest::Method::GET);
            let outcome = match client.request(method, &url).send().await {
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    if status.is_success() {
                        Ok(serde_json::from_str(&text)
                            .map(|json| Value::from_json(&json))
                            .unwrap_or(Value::String(Arc::from(text.as_str()))))
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
                    strings([("requestid", requestid), ("error", error)]),
                ),
            };
            if let Some(runtime) = weak.upgrade() {
                runtime.deliver(&me, SessionInput::External(event));
            }
        }));
        Ok(())
    }
}
