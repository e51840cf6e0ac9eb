//! The datamodel seam: what the interpreter asks of a datamodel, and the two we ship.
//!
//! Errors are plain sentences: the interpreter turns every one into `error.execution`.

pub mod ecmascript;
pub mod fast;
pub mod null;

use crate::scxml::event::Event;
use crate::scxml::model::Expr;
use crate::scxml::value::Value;

/// A datamodel as the interpreter uses it (W3C 5 and Appendix B).
pub trait Datamodel {
    /// Installs `_sessionid`, `_name` and `_ioprocessors`.
    fn set_system(&mut self, sessionid: &str, name: Option<&str>, ioprocessors: &Value);
    /// Creates the variable `id` with `value`.
    fn declare(&mut self, id: &str, value: Value) -> Result<(), String>;
    /// Creates the variable `id` with the value of `expr`; on error the variable exists but is undefined.
    fn declare_expr(&mut self, id: &str, expr: &Expr) -> Result<(), String>;
    /// Evaluates `expr` into a plain value.
    fn eval(&mut self, expr: &Expr) -> Result<Value, String>;
    /// Evaluates a condition (ToBoolean).
    fn eval_bool(&mut self, expr: &Expr) -> Result<bool, String>;
    /// Evaluates `expr` and converts the result to a string.
    fn eval_string(&mut self, expr: &Expr) -> Result<String, String>;
    /// `<assign location expr>` done inside the datamodel, so values keep their identity.
    fn assign_expr(&mut self, location: &Expr, expr: &Expr) -> Result<(), String>;
    /// Assigns a plain value to `location`.
    fn assign_value(&mut self, location: &Expr, value: Value) -> Result<(), String>;
    /// Runs a `<script>`.
    fn exec_script(&mut self, code: &Expr) -> Result<(), String>;
    /// Makes `event` the current `_event`.
    fn set_event(&mut self, event: &Event);
    /// Starts a `<foreach>`: snapshots the array and returns its length.
    fn foreach_begin(&mut self, array: &Expr) -> Result<usize, String>;
    /// Assigns item `position` of the innermost snapshot to `item` (and `index`).
    fn foreach_step(
        &mut self,
        item: &Expr,
        index: Option<&Expr>,
        position: usize,
    ) -> Result<(), String>;
    /// Ends the innermost `<foreach>`.
    fn foreach_end(&mut self);
    /// Tells the datamodel that `state` became active or inactive (for `In()`).
    fn set_active(&mut self, state: &str, active: bool);
}
