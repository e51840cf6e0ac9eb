//! The `statistic` module (`http://www.genesyslab.com/modules/statistic`): its elements do nothing here, and
//! flows read statistics through `_genesys.statistic.sData(object, name)`, installed with the ORS globals
//! ([`crate::ors::dialect::GLOBALS`]) in every worker's ECMAScript runtime and answered by the contact center.

use std::sync::Arc;

use crate::contact_center::{ContactCenter, Statistic as StatisticName, Target};
use crate::ors::dialect;
use crate::ors::modules::call::{Call, Module};
use crate::scxml::datamodel::ecmascript::GlobalsHook;
use crate::scxml::host::HostError;

/// The module's namespace, without its scheme.
pub const NAMESPACE: &str = "www.genesyslab.com/modules/statistic";

/// The `statistic` module: its elements complete at once, with no effect.
pub struct Statistic;

impl Module for Statistic {
    fn call(&self, _call: Call<'_>) -> Result<(), HostError> {
        Ok(())
    }
}

/// Installs `_data` and `_genesys` (with `_genesys.statistic.sData` over `contact_center`).
pub fn globals_hook(contact_center: Option<Arc<dyn ContactCenter>>) -> GlobalsHook {
    Arc::new(move |context| {
        use boa_engine::object::FunctionObjectBuilder;
        use boa_engine::{JsValue, NativeFunction, Source, js_string};
        if context
            .eval(Source::from_bytes(dialect::GLOBALS.as_bytes()))
            .is_err()
        {
            return;
        }
        let contact_center = contact_center.clone();
        // SAFETY: the closure captures only an `Arc` of Rust data, no garbage-collected value, so boa's
        // tracing does not need to see into it.
        let sdata = unsafe {
            NativeFunction::from_closure(move |_this, args, context| {
                let object = args
                    .first()
                    .map(|value| value.to_string(context))
                    .transpose()?
                    .map(|text| text.to_std_string_escaped())
                    .unwrap_or_default();
                let name = args
                    .get(1)
                    .map(|value| value.to_string(context))
                    .transpose()?
                    .map(|text| text.to_std_string_escaped())
                    .unwrap_or_default();
                let value = match (&contact_center, StatisticName::parse(&name)) {
                    (Some(contact_center), Some(statistic)) => {
                        contact_center.statistic(&Target::parse(&object), statistic)
                    }
                    _ => None,
                };
                Ok(value.map_or(JsValue::null(), JsValue::from))
            })
        };
        let function = FunctionObjectBuilder::new(context.realm(), sdata)
            .name(js_string!("sData"))
            .length(2)
            .build();
        let global = context.global_object();
        let statistic = global
            .get(js_string!("_genesys"), context)
            .ok()
            .and_then(|genesys| genesys.as_object())
            .and_then(|genesys| genesys.get(js_string!("statistic"), context).ok())
            .and_then(|statistic| statistic.as_object());
        if let Some(statistic) = statistic {
            let _ = statistic.set(js_string!("sData"), function, false, context);
        }
    })
}
