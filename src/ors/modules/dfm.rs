//! DFM actions: a custom action in the namespace of a loaded DFM file becomes that file's HTTP request
//! ([`crate::dfm::Executor`]) and completes with `<dfm>.<action>.done` or `error.<dfm>.<action>` (an unknown action
//! of a known DFM too); and [`DfmActions::match_interaction`], which finds the service a call to a booked access
//! number belongs to as an ORS strategy does.

use std::sync::Arc;

use crate::dfm::{AttrValues, DfmSet, Executor};
use crate::ors::exchange::{SessionInput, completion};
use crate::ors::modules::call::Call;
use crate::scxml::Value;
use crate::scxml::host::HostError;

/// The loaded DFM files and the executor that runs their requests.
pub struct DfmActions {
    /// The DFM files, by name and namespace.
    pub dfm: DfmSet,
    /// Runs a DFM action's request (reqwest, or in-process when addressed to this node).
    pub executor: Executor,
}

impl DfmActions {
    /// Runs the action `call` names in its DFM's namespace; a namespace no DFM declares is unsupported.
    pub fn call(&self, mut call: Call<'_>) -> Result<(), HostError> {
        let action = call.action;
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
            values.insert(name.to_string(), call.eval(expr)?.to_json());
        }
        let requestid = format!("dfm-{:08x}", fastrand::u32(..));
        call.assign_requestid(&requestid)?;
        let executor = self.executor.clone();
        let name = action.name.to_string();
        let me = call.me();
        let weak = call.later();
        call.runtime.spawn(Box::pin(async move {
            let done = executor.execute(&dfm, &name, &values).await;
            let Some(runtime) = weak.upgrade() else {
                return;
            };
            let extra = [
                (Arc::from("requestid"), Value::string(requestid)),
                (Arc::from("status"), Value::Number(f64::from(done.status))),
            ];
            let data = match Value::from_json(&done.data) {
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
            runtime.deliver(&me, SessionInput::External(completion(&done.event, data)));
        }));
        Ok(())
    }

    /// Finds the service a call to a booked access number belongs to as the strategy on an ORS access number
    /// does: the `match-interaction` action of the `gsgBasedServices` DFM (the GMS that booked the number
    /// answers, and releases it; served in-process when that GMS is this node). `None` when no DFM declares the
    /// action or no service holds the number.
    pub async fn match_interaction(
        &self,
        dnis: &str,
        ani: &str,
        code: Option<String>,
    ) -> Option<String> {
        let dfm = self.dfm.by_name("gsgBasedServices")?;
        let mut values = AttrValues::new();
        values.insert("_access_number".into(), serde_json::Value::from(dnis));
        if !ani.is_empty() {
            values.insert("_phone_number".into(), serde_json::Value::from(ani));
        }
        if let Some(code) = code.filter(|code| !code.is_empty()) {
            values.insert("_access_code".into(), serde_json::Value::from(code));
        }
        let done = self
            .executor
            .execute(dfm, "match-interaction", &values)
            .await;
        if !(200..300).contains(&done.status) {
            tracing::debug!(status = done.status, data = %done.data, "match-interaction found no service");
            return None;
        }
        done.data.get("_id")?.as_str().map(str::to_string)
    }
}
