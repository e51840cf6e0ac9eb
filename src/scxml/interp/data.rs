//! `<datamodel>`/`<data>` initialisation (W3C 5.2, 5.3) and `<donedata>` (W3C 5.5).

use crate::scxml::host::Host;
use crate::scxml::interp::Session;
use crate::scxml::model::StateId;
use crate::scxml::value::Value;

impl Session {
    /// Creates and initialises the `<data>` of `state` (once). Values given by an invoking parent
    /// win over the document's.
    pub(super) fn init_data(&mut self, state: StateId, _host: &mut dyn Host) {
        if self.data_initialized[state] {
            return;
        }
        self.data_initialized[state] = true;
        let model = self.model.clone();
        for data in &model.states[state].data {
            self.at("data", data.pos);
            if let Some((_, value)) = self
                .initial_values
                .iter()
                .find(|(name, _)| *name == data.id)
            {
                let value = value.clone();
                if let Err(message) = self.datamodel.declare(&data.id, value) {
                    self.raise_error("error.execution", &message, None);
                }
                continue;
            }
            let result = match (&data.expr, &data.content) {
                (Some(expr), _) => self.datamodel.declare_expr(&data.id, expr),
                (None, Some(content)) => self
                    .datamodel
                    .declare(&data.id, super::exec::content_value(content)),
                (None, None) => self.datamodel.declare(&data.id, Value::Undefined),
            };
            if let Err(message) = result {
                self.raise_error("error.execution", &message, None);
            }
        }
    }

    /// Evaluates the `<donedata>` of the final state `state` (undefined when it has none).
    pub(super) fn done_data(&mut self, state: StateId, _host: &mut dyn Host) -> Value {
        let model = self.model.clone();
        let Some(donedata) = &model.states[state].donedata else {
            return Value::Undefined;
        };
        match self.eval_payload(&[], &donedata.params, &donedata.content) {
            Ok(value) => value,
            Err(message) => {
                self.raise_error("error.execution", &message, None);
                Value::Undefined
            }
        }
    }
}
