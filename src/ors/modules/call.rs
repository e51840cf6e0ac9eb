//! What a module is ([`Module`]: the elements of one namespace) and one custom-action call as it sees it ([`Call`]): the runtime to reach, the calling session, the element,
//! and the scope its attribute expressions are evaluated in; with the attribute readers every module shares.
//!
//! Attribute values are expressions, except the few that ORS documents as literal (`ws:response type`,
//! `queue:targets type`, `param name`); an attribute that names a location (`requestid`) receives the request id.
//! A failing expression is a [`HostError::Failed`], which the engine raises as `error.execution` in the flow.

use std::sync::{Arc, Weak};

use crate::ors::exchange::Runtime;
use crate::scxml::Value;
use crate::scxml::host::{ActionScope, HostError, SessionInfo};
use crate::scxml::model::CustomAction;

/// The elements of one namespace.
pub trait Module: Send + Sync {
    /// Runs one element of the namespace (its name is `call.action.name`).
    fn call(&self, call: Call<'_>) -> Result<(), HostError>;
}

/// One call of a custom action.
pub struct Call<'a> {
    /// The runtime, for deliveries, answers and background work.
    pub runtime: &'a Arc<dyn Runtime>,
    /// The calling session.
    pub session: &'a SessionInfo,
    /// The element.
    pub action: &'a CustomAction,
    /// Where its expressions are evaluated.
    pub scope: &'a mut dyn ActionScope,
}

impl Call<'_> {
    /// The calling session's id.
    pub fn me(&self) -> String {
        self.session.sessionid.to_string()
    }

    /// The runtime for work that outlives the call (it does not keep the runtime alive).
    pub fn later(&self) -> Weak<dyn Runtime> {
        Arc::downgrade(self.runtime)
    }

    /// The element's attribute `name` evaluated as text; `None` when absent (or `null`/`undefined`).
    pub fn optional(&mut self, name: &str) -> Result<Option<String>, HostError> {
        optional(self.action, name, self.scope)
    }

    /// The element's attribute `name` evaluated as text; a failure when absent.
    pub fn required(&mut self, name: &str) -> Result<String, HostError> {
        required(self.action, name, self.scope)
    }

    /// Evaluates `expr` in the calling session.
    pub fn eval(&mut self, expr: &str) -> Result<Value, HostError> {
        self.scope.eval(expr).map_err(HostError::Failed)
    }

    /// Stores `id` in the location the element's `requestid` attribute names, when it has one.
    pub fn assign_requestid(&mut self, id: &str) -> Result<(), HostError> {
        if let Some(location) = self.action.attr("requestid") {
            self.scope
                .assign(location, Value::string(id))
                .map_err(HostError::Failed)?;
        }
        Ok(())
    }

    /// The `<param name expr>` children of the element, evaluated, in order (a param without `expr` is
    /// `undefined` when `keep_bare`, else skipped).
    pub fn params(&mut self, keep_bare: bool) -> Result<Vec<(String, Value)>, HostError> {
        let mut params = Vec::new();
        for child in self
            .action
            .children
            .iter()
            .filter(|child| &*child.name == "param")
        {
            let Some(name) = child.attr("name") else {
                continue;
            };
            let value = match child.attr("expr") {
                Some(expr) => self.scope.eval(expr).map_err(HostError::Failed)?,
                None if keep_bare => Value::Undefined,
                None => continue,
            };
            params.push((name.to_string(), value));
        }
        Ok(params)
    }
}

/// A literal attribute that may also be written as an expression (`type="positive"` or `type="'positive'"`).
pub fn literal_or_expr(text: &str, scope: &mut dyn ActionScope) -> String {
    let trimmed = text.trim();
    let quoted = trimmed.len() >= 2
        && ((trimmed.starts_with('\'') && trimmed.ends_with('\''))
            || (trimmed.starts_with('"') && trimmed.ends_with('"')));
    if quoted && let Ok(value) = scope.eval(trimmed) {
        return value.display();
    }
    trimmed.to_string()
}

/// The value of the expression in attribute `name` of `element`, as text; `None` when the attribute is absent.
pub fn optional(
    element: &CustomAction,
    name: &str,
    scope: &mut dyn ActionScope,
) -> Result<Option<String>, HostError> {
    match element.attr(name) {
        None => Ok(None),
        Some(expr) => {
            let value = scope.eval(expr).map_err(|error| {
                HostError::Failed(format!("<{}> {name}: {error}", element.name))
            })?;
            Ok(match value {
                Value::Undefined | Value::Null => None,
                other => Some(other.display()),
            })
        }
    }
}

/// As [`optional`], failing when the attribute is absent.
pub fn required(
    element: &CustomAction,
    name: &str,
    scope: &mut dyn ActionScope,
) -> Result<String, HostError> {
    optional(element, name, scope)?
        .ok_or_else(|| HostError::Failed(format!("<{}> needs attribute `{name}`", element.name)))
}
