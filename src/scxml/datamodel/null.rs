//! The null datamodel (W3C B.1): no data; conditions may only be `In('state')` (or `true`/`false`).

use std::collections::HashSet;

use crate::scxml::datamodel::Datamodel;
use crate::scxml::event::Event;
use crate::scxml::model::Expr;
use crate::scxml::value::Value;

/// The null datamodel.
#[derive(Debug, Default)]
pub struct NullDatamodel {
    active: HashSet<String>,
}

impl NullDatamodel {
    /// A null datamodel with no active state.
    pub fn new() -> Self {
        NullDatamodel::default()
    }
}

fn unsupported(what: &str) -> Result<(), String> {
    Err(format!("the null datamodel has no {what}."))
}

/// Parses `In('id')` / `In("id")`.
fn parse_in(text: &str) -> Option<&str> {
    let inner = text
        .trim()
        .strip_prefix("In")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim();
    let quote = inner.chars().next()?;
    if quote != '\'' && quote != '"' {
        return None;
    }
    inner.strip_prefix(quote)?.strip_suffix(quote)
}

impl Datamodel for NullDatamodel {
    fn set_system(&mut self, _sessionid: &str, _name: Option<&str>, _ioprocessors: &Value) {}

    fn declare(&mut self, _id: &str, _value: Value) -> Result<(), String> {
        unsupported("variables")
    }

    fn declare_expr(&mut self, _id: &str, _expr: &Expr) -> Result<(), String> {
        unsupported("variables")
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, String> {
        Err(format!(
            "the null datamodel cannot evaluate \"{}\".",
            expr.text
        ))
    }

    fn eval_bool(&mut self, expr: &Expr) -> Result<bool, String> {
        let text = expr.text.trim();
        match text {
            "true" => return Ok(true),
            "false" => return Ok(false),
            _ => {}
        }
        match parse_in(text) {
            Some(state) => Ok(self.active.contains(state)),
            None => Err(format!(
                "the null datamodel accepts only In('state') conditions, not \"{text}\"."
            )),
        }
    }

    fn eval_string(&mut self, expr: &Expr) -> Result<String, String> {
        Err(format!(
            "the null datamodel cannot evaluate \"{}\".",
            expr.text
        ))
    }

    fn assign_expr(&mut self, _location: &Expr, _expr: &Expr) -> Result<(), String> {
        unsupported("locations")
    }

    fn assign_value(&mut self, _location: &Expr, _value: Value) -> Result<(), String> {
        unsupported("locations")
    }

    fn exec_script(&mut self, _code: &Expr) -> Result<(), String> {
        unsupported("scripts")
    }

    fn set_event(&mut self, _event: &Event) {}

    fn foreach_begin(&mut self, _array: &Expr) -> Result<usize, String> {
        Err("the null datamodel has no arrays.".to_string())
    }

    fn foreach_step(
        &mut self,
        _item: &Expr,
        _index: Option<&Expr>,
        _position: usize,
    ) -> Result<(), String> {
        unsupported("arrays")
    }

    fn foreach_end(&mut self) {}

    fn set_active(&mut self, state: &str, active: bool) {
        if active {
            self.active.insert(state.to_string());
        } else {
            self.active.remove(state);
        }
    }
}
