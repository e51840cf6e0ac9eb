//! The ECMAScript datamodel (W3C B.2) on `boa_engine`.
//!
//! One boa `Context` ([`EcmaScriptRuntime`]) serves every ECMAScript session of a thread: a full
//! context per session would cost megabytes. The session being evaluated is *live*: its variables
//! are globals of the shared context. When another session needs the context, the live one is
//! *parked*: its variables move into one plain JS object kept by the runtime, and the next session's
//! are moved back. A parked session costs that object and its values, nothing else. `_event`,
//! `_sessionid`, `_name` and `_ioprocessors` are read-only globals while a session is live.
//! Simple expressions go through the exact fast path of [`super::fast`]; the others are compiled
//! once per text and the scripts shared by every session. Runaway
//! scripts hit boa's runtime limits (loop iterations, recursion, stack) and surface as errors, which
//! the interpreter turns into `error.execution`. XML values become a small read-only DOM built by
//! [`super::dom::DOM_PRELUDE`]. Hosts install their own globals through [`GlobalsHook`].

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use boa_engine::object::builtins::JsArray;
use boa_engine::property::{PropertyDescriptor, PropertyKey};
use boa_engine::{
    Context, JsObject, JsResult, JsString, JsValue, NativeFunction, Script, Source, js_string,
};

use crate::scxml::datamodel::{Datamodel, dom, fast};
use crate::scxml::event::Event;
use crate::scxml::model::Expr;
use crate::scxml::parse::xml::{self, Node};
use crate::scxml::value::Value;

/// Installs host-defined globals (objects, functions) into a fresh ECMAScript context, before any
/// data of the chart is initialised.
pub type GlobalsHook = Arc<dyn Fn(&mut Context) + Send + Sync>;

/// Limits for scripts; exceeding one is an `error.execution`.
#[derive(Debug, Clone, Copy)]
pub struct ScriptLimits {
    /// Backward jumps one evaluation may take.
    pub loop_iterations: u64,
    /// Nested calls.
    pub recursion: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            loop_iterations: 10_000_000,
            recursion: 400,
        }
    }
}

const SYSTEM_VARIABLES: &[&str] = &["_event", "_sessionid", "_name", "_ioprocessors", "_x"];

/// The boa context shared by the ECMAScript sessions of one thread (a cheap handle; clone it into
/// the [`crate::scxml::SessionOptions`] of every session that should share it). Not `Send`: a
/// runtime and its sessions stay on the thread that made them.
#[derive(Clone)]
pub struct EcmaScriptRuntime {
    inner: Rc<RefCell<Runtime>>,
}

impl EcmaScriptRuntime {
    /// A fresh runtime: `In()` installed, the limits applied, the host's globals added.
    pub fn new(limits: ScriptLimits, hook: Option<&GlobalsHook>) -> Self {
        EcmaScriptRuntime {
            inner: Rc::new(RefCell::new(Runtime::new(limits, hook))),
        }
    }

    /// Runs `f` on the boa context (no session is made live; for hosts adding globals later).
    pub fn with_context<T>(&self, f: impl FnOnce(&mut Context) -> T) -> T {
        f(&mut self.inner.borrow_mut().context)
    }

    /// How many sessions are parked (for tests and diagnostics).
    pub fn n_parked(&self) -> usize {
        self.inner.borrow().parked.len()
    }
}

/// What a compiled script is cached under: its kind, its text and (for assignments) the value.
type ScriptKey = (u8, Arc<str>, Option<Arc<str>>);

/// The shared state behind [`EcmaScriptRuntime`].
struct Runtime {
    context: Context,
    scripts: HashMap<ScriptKey, Script>,
    /// Expressions the fast path evaluates (`None`: compiled by boa).
    simple: HashMap<Arc<str>, Option<Rc<fast::Simple>>>,
    /// The live session's `In()` set (swapped on activation).
    active: JsObject,
    /// Holds the live session's `In()` set under `set`, for the `In` function.
    in_holder: JsObject,
    foreach: Vec<Vec<JsValue>>,
    dom: Option<JsObject>,
    /// The loop-iteration limit, also applied to arrays the engine walks itself.
    loop_iterations: u64,
    /// Global keys of the bare context (builtins, `In`, host globals): never parked.
    baseline: HashSet<PropertyKey>,
    /// The session whose variables are the globals now.
    live: Option<u64>,
    /// Variables of the other sessions.
    parked: HashMap<u64, JsObject>,
    next_token: u64,
}

/// The ECMAScript datamodel of one session: a token in a shared [`EcmaScriptRuntime`].
pub struct EcmaScriptDatamodel {
    runtime: EcmaScriptRuntime,
    token: u64,
    /// The session's active states, for `In()`.
    active: JsObject,
}

impl EcmaScriptDatamodel {
    /// A datamodel living in `runtime`.
    pub fn new(runtime: &EcmaScriptRuntime) -> Self {
        let mut inner = runtime.inner.borrow_mut();
        inner.next_token += 1;
        let token = inner.next_token;
        drop(inner);
        EcmaScriptDatamodel {
            runtime: runtime.clone(),
            token,
            active: JsObject::with_null_proto(),
        }
    }

    /// Makes this session live and runs `f` on the runtime.
    fn live<T>(&mut self, f: impl FnOnce(&mut Runtime) -> T) -> T {
        let mut runtime = self.runtime.inner.borrow_mut();
        runtime.activate(self.token, &self.active);
        f(&mut runtime)
    }
}

impl Drop for EcmaScriptDatamodel {
    fn drop(&mut self) {
        if let Ok(mut runtime) = self.runtime.inner.try_borrow_mut() {
            runtime.parked.remove(&self.token);
            if runtime.live == Some(self.token) {
                let _ = runtime.park();
                runtime.live = None;
            }
        }
    }
}

const KIND_EXPR: u8 = 0;
const KIND_SCRIPT: u8 = 1;
const KIND_ASSIGN: u8 = 2;
const KIND_ASSIGN_VALUE: u8 = 3;

impl Runtime {
    fn new(limits: ScriptLimits, hook: Option<&GlobalsHook>) -> Self {
        let mut context = Context::default();
        context
            .runtime_limits_mut()
            .set_loop_iteration_limit(limits.loop_iterations);
        context
            .runtime_limits_mut()
            .set_recursion_limit(limits.recursion);
        let active = JsObject::with_null_proto();
        let in_holder = JsObject::with_null_proto();
        let in_function = NativeFunction::from_copy_closure_with_captures(
            |_this, args, holder: &JsObject, context| {
                let Some(state) = args.first() else {
                    return Ok(JsValue::from(false));
                };
                let key = state.to_string(context)?;
                let set = holder.get(js_string!("set"), context)?;
                let Some(set) = set.as_object() else {
                    return Ok(JsValue::from(false));
                };
                let found = set.has_own_property(key, context)?;
                Ok(JsValue::from(found))
            },
            in_holder.clone(),
        );
        let _ = context.register_global_builtin_callable(js_string!("In"), 1, in_function);
        if let Some(hook) = hook {
            hook(&mut context);
        }
        let global = context.global_object();
        let baseline = global
            .own_property_keys(&mut context)
            .unwrap_or_default()
            .into_iter()
            .collect();
        Runtime {
            context,
            scripts: HashMap::new(),
            simple: HashMap::new(),
            active,
            in_holder,
            foreach: Vec::new(),
            dom: None,
            baseline,
            loop_iterations: limits.loop_iterations,
            live: None,
            parked: HashMap::new(),
            next_token: 0,
        }
    }

    /// Makes the session `token` live: parks the live one, restores this one's variables.
    fn activate(&mut self, token: u64, active: &JsObject) {
        if self.live == Some(token) {
            return;
        }
        if let Some(previous) = self.live.take() {
            let parked = self.park();
            self.parked.insert(previous, parked);
        }
        if let Some(parked) = self.parked.remove(&token) {
            let keys = parked
                .own_property_keys(&mut self.context)
                .unwrap_or_default();
            for key in keys {
                let value = parked
                    .get(key.clone(), &mut self.context)
                    .unwrap_or_default();
                let readonly = matches!(&key, PropertyKey::String(name) if SYSTEM_VARIABLES.iter().any(|system| name == &JsString::from(*system)));
                self.put_global(key, value, readonly);
            }
        }
        self.active = active.clone();
        let _ = self
            .in_holder
            .set(js_string!("set"), active.clone(), false, &mut self.context);
        self.live = Some(token);
    }

    /// Moves the live session's globals into a new object and removes them from the global object.
    fn park(&mut self) -> JsObject {
        let parked = JsObject::with_null_proto();
        let global = self.context.global_object();
        let keys = global
            .own_property_keys(&mut self.context)
            .unwrap_or_default();
        for key in keys {
            if self.baseline.contains(&key) {
                continue;
            }
            let value = global
                .get(key.clone(), &mut self.context)
                .unwrap_or_default();
            let _ = parked.create_data_property_or_throw(key.clone(), value, &mut self.context);
            // `var` and function declarations of scripts cannot be deleted; they stay, emptied.
            if global
                .delete_property_or_throw(key.clone(), &mut self.context)
                .is_err()
            {
                let _ = global.set(key, JsValue::undefined(), false, &mut self.context);
            }
        }
        parked
    }

    fn put_global(&mut self, key: PropertyKey, value: JsValue, readonly: bool) {
        let global = self.context.global_object();
        let defined = global.define_property_or_throw(
            key.clone(),
            PropertyDescriptor::builder()
                .value(value.clone())
                .writable(!readonly)
                .enumerable(true)
                .configurable(true),
            &mut self.context,
        );
        if defined.is_err() {
            let _ = global.set(key, value, false, &mut self.context);
        }
    }

    /// The compiled script for `text` (and, for assignments, the value expression `extra`).
    fn compile(
        &mut self,
        kind: u8,
        text: &Arc<str>,
        extra: Option<&Arc<str>>,
    ) -> Result<Script, String> {
        let key = (kind, text.clone(), extra.cloned());
        if let Some(script) = self.scripts.get(&key) {
            return Ok(script.clone());
        }
        let code = match kind {
            KIND_EXPR => format!("(\n{}\n)", trim_expr(text)),
            KIND_SCRIPT => text.to_string(),
            KIND_ASSIGN_VALUE => format!("\"use strict\";\n{text} = globalThis.__scxml_value;"),
            _ => {
                let expr = extra.map(|expr| &**expr).unwrap_or("undefined");
                format!("\"use strict\";\n{text} = (\n{}\n);", trim_expr(expr))
            }
        };
        let script = Script::parse(Source::from_bytes(code.as_bytes()), None, &mut self.context)
            .map_err(|error| format!("syntax error in \"{text}\": {error}."))?;
        self.scripts.insert(key, script.clone());
        Ok(script)
    }

    fn run(&mut self, kind: u8, text: &Arc<str>) -> Result<JsValue, String> {
        self.run_with(kind, text, None)
    }

    fn run_with(
        &mut self,
        kind: u8,
        text: &Arc<str>,
        extra: Option<&Arc<str>>,
    ) -> Result<JsValue, String> {
        let (result, may_queue_jobs) = match self.fast_path(kind, text, extra) {
            Some((fast, has_call)) => (fast, has_call),
            None => {
                let script = self.compile(kind, text, extra)?;
                (script.evaluate(&mut self.context), true)
            }
        };
        let result = result.map_err(|error| {
            let text = match extra {
                Some(expr) => format!("{text} = {expr}"),
                None => text.to_string(),
            };
            // The first line names the error; the rest is a stack trace without positions.
            let error = error.to_string();
            let mut error = error.lines().next().unwrap_or_default();
            // boa appends where it stopped, which is inside the engine's wrapper: not useful here.
            if let Some(idx) = error.rfind(" (")
                && error.ends_with(')')
                && (error[idx..].starts_with(" (native")
                    || error[idx..].starts_with(" (unknown at"))
            {
                error = &error[..idx];
            }
            format!("evaluating \"{}\" failed: {error}.", text.trim())
        });
        // Drain promise jobs so they do not pile up (only code that can run a function can queue
        // them; getters aside, which the fast path accepts as JavaScript does).
        if may_queue_jobs {
            let _ = self.context.run_jobs();
        }
        result
    }

    /// Evaluates `text` with [`fast`] when it is simple enough (with whether it may have called a
    /// function); `None` when boa must compile it.
    fn fast_path(
        &mut self,
        kind: u8,
        text: &Arc<str>,
        extra: Option<&Arc<str>>,
    ) -> Option<(JsResult<JsValue>, bool)> {
        match kind {
            KIND_EXPR => {
                let simple = self.simple(text)?;
                Some((fast::eval(&simple, &mut self.context), simple.has_call()))
            }
            KIND_ASSIGN => {
                let location = self.simple(text)?;
                let fast::Simple::Ident(location) = &*location else {
                    return None;
                };
                let value = self.simple(extra?)?;
                let result = fast::assign(location, &value, &mut self.context)
                    .map(|()| JsValue::undefined());
                Some((result, value.has_call()))
            }
            _ => None,
        }
    }
    /// The fast-path form of `text`, parsed once per text.
    fn simple(&mut self, text: &Arc<str>) -> Option<Rc<fast::Simple>> {
        if let Some(simple) = self.simple.get(text) {
            return simple.clone();
        }
        let simple = fast::parse(trim_expr(text)).map(Rc::new);
        self.simple.insert(text.clone(), simple.clone());
        simple
    }

    fn define_readonly(&mut self, name: &str, value: JsValue) {
        self.put_global(PropertyKey::from(JsString::from(name)), value, true);
    }

    fn check_location(location: &str) -> Result<(), String> {
        let location = location.trim();
        let end = location
            .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
            .unwrap_or(location.len());
        let root = &location[..end];
        if SYSTEM_VARIABLES.contains(&root) {
            return Err(format!("the system variable `{root}` cannot be assigned."));
        }
        Ok(())
    }

    /// Converts a plain value into a JS value.
    pub fn value_to_js(&mut self, value: &Value) -> JsValue {
        match value {
            Value::Undefined => JsValue::undefined(),
            Value::Null => JsValue::null(),
            Value::Bool(flag) => JsValue::from(*flag),
            Value::Number(number) => JsValue::from(*number),
            Value::String(text) => JsValue::from(JsString::from(&**text)),
            Value::Array(items) => {
                let items: Vec<JsValue> = items.iter().map(|item| self.value_to_js(item)).collect();
                JsArray::from_iter(items, &mut self.context).into()
            }
            Value::Object(entries) => {
                let object = JsObject::with_object_proto(self.context.intrinsics());
                for (key, item) in entries {
                    let item = self.value_to_js(item);
                    let _ = object.set(JsString::from(&**key), item, false, &mut self.context);
                }
                object.into()
            }
            Value::Xml(text) => self.xml_to_js(text),
        }
    }

    fn xml_to_js(&mut self, text: &str) -> JsValue {
        let Ok(doc) = xml::read(&format!("<__root>{text}</__root>")) else {
            return JsValue::from(JsString::from(text));
        };
        let trees: Vec<Value> = doc.elements[doc.root]
            .children
            .iter()
            .filter_map(|child| match child {
                Node::Element(idx) => Some(dom::xml_tree(&doc, *idx)),
                Node::Text(_) => None,
            })
            .collect();
        let trees = self.value_to_js(&Value::Array(trees));
        let dom = match &self.dom {
            Some(dom) => dom.clone(),
            None => {
                let Ok(value) = self.context.eval(Source::from_bytes(dom::DOM_PRELUDE)) else {
                    return JsValue::undefined();
                };
                let Some(dom) = value.as_object() else {
                    return JsValue::undefined();
                };
                self.dom = Some(dom.clone());
                dom
            }
        };
        let source = JsValue::from(JsString::from(text));
        dom.call(&JsValue::undefined(), &[trees, source], &mut self.context)
            .unwrap_or_else(|_| JsValue::undefined())
    }

    /// Converts a JS value into a plain value (functions and cycles become `undefined`).
    pub fn js_to_value(&mut self, value: &JsValue) -> Value {
        self.js_to_value_depth(value, 0)
    }

    fn js_to_value_depth(&mut self, value: &JsValue, depth: usize) -> Value {
        if value.is_undefined() {
            return Value::Undefined;
        }
        if value.is_null() {
            return Value::Null;
        }
        if let Some(flag) = value.as_boolean() {
            return Value::Bool(flag);
        }
        if let Some(number) = value.as_number() {
            return Value::Number(number);
        }
        if let Some(text) = value.as_string() {
            return Value::String(Arc::from(text.to_std_string_escaped()));
        }
        let Some(object) = value.as_object() else {
            return Value::Undefined;
        };
        if depth > 32 || object.is_callable() {
            return Value::Undefined;
        }
        // A DOM built from XML goes back to XML text.
        if let Ok(source) = object.get(js_string!("_source"), &mut self.context)
            && let Some(source) = source.as_string()
        {
            return Value::Xml(Arc::from(source.to_std_string_escaped()));
        }
        if object.is_array() {
            let length = object
                .get(js_string!("length"), &mut self.context)
                .ok()
                .and_then(|length| length.as_number())
                .unwrap_or(0.0) as u32;
            // Event data crosses sessions as plain values; a huge sparse array does not.
            if u64::from(length) > self.loop_iterations {
                return Value::Undefined;
            }
            let mut items = Vec::new();
            for idx in 0..length {
                let item = object.get(idx, &mut self.context).unwrap_or_default();
                items.push(self.js_to_value_depth(&item, depth + 1));
            }
            return Value::Array(items);
        }
        let keys = object
            .own_property_keys(&mut self.context)
            .unwrap_or_default();
        let mut entries = Vec::new();
        for key in keys {
            let name = match &key {
                PropertyKey::String(name) => name.to_std_string_escaped(),
                PropertyKey::Index(idx) => idx.get().to_string(),
                PropertyKey::Symbol(_) => continue,
            };
            let item = object.get(key, &mut self.context).unwrap_or_default();
            entries.push((Arc::from(name), self.js_to_value_depth(&item, depth + 1)));
        }
        Value::Object(entries)
    }
}

impl Datamodel for Runtime {
    fn set_system(&mut self, sessionid: &str, name: Option<&str>, ioprocessors: &Value) {
        self.define_readonly("_sessionid", JsValue::from(JsString::from(sessionid)));
        let name = match name {
            Some(name) => JsValue::from(JsString::from(name)),
            None => JsValue::undefined(),
        };
        self.define_readonly("_name", name);
        let ioprocessors = self.value_to_js(ioprocessors);
        self.define_readonly("_ioprocessors", ioprocessors);
        // `_x`: the namespace for platform extensions (W3C 5.10); empty, hosts add to it.
        let extensions = JsObject::with_object_proto(self.context.intrinsics());
        self.define_readonly("_x", extensions.into());
        // `_event` exists but is unbound until the first event (W3C test 319).
        self.define_readonly("_event", JsValue::undefined());
    }

    fn declare(&mut self, id: &str, value: Value) -> Result<(), String> {
        let value = self.value_to_js(&value);
        let global = self.context.global_object();
        global
            .set(JsString::from(id), value, false, &mut self.context)
            .map(|_| ())
            .map_err(|error| format!("cannot create `{id}`: {error}."))
    }

    fn declare_expr(&mut self, id: &str, expr: &Expr) -> Result<(), String> {
        let result = self.run(KIND_EXPR, &expr.text);
        let value = result.clone().unwrap_or_default();
        let global = self.context.global_object();
        let _ = global.set(JsString::from(id), value, false, &mut self.context);
        result.map(|_| ())
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, String> {
        let value = self.run(KIND_EXPR, &expr.text)?;
        Ok(self.js_to_value(&value))
    }

    fn eval_bool(&mut self, expr: &Expr) -> Result<bool, String> {
        Ok(self.run(KIND_EXPR, &expr.text)?.to_boolean())
    }

    fn eval_string(&mut self, expr: &Expr) -> Result<String, String> {
        let value = self.run(KIND_EXPR, &expr.text)?;
        value
            .to_string(&mut self.context)
            .map(|text| text.to_std_string_escaped())
            .map_err(|error| format!("\"{}\" has no string value: {error}.", expr.text))
    }

    fn assign_expr(&mut self, location: &Expr, expr: &Expr) -> Result<(), String> {
        Self::check_location(&location.text)?;
        self.run_with(KIND_ASSIGN, &location.text, Some(&expr.text))
            .map(|_| ())
    }

    fn assign_value(&mut self, location: &Expr, value: Value) -> Result<(), String> {
        Self::check_location(&location.text)?;
        let value = self.value_to_js(&value);
        let global = self.context.global_object();
        let _ = global.set(js_string!("__scxml_value"), value, false, &mut self.context);
        let result = self.run(KIND_ASSIGN_VALUE, &location.text).map(|_| ());
        let _ = global.delete_property_or_throw(js_string!("__scxml_value"), &mut self.context);
        result
    }

    fn exec_script(&mut self, code: &Expr) -> Result<(), String> {
        self.run(KIND_SCRIPT, &code.text).map(|_| ())
    }

    fn set_event(&mut self, event: &Event) {
        let object = JsObject::with_object_proto(self.context.intrinsics());
        let text = |value: &Option<Arc<str>>| match value {
            Some(value) => JsValue::from(JsString::from(&**value)),
            None => JsValue::undefined(),
        };
        let fields = [
            ("name", JsValue::from(JsString::from(&*event.name))),
            ("type", JsValue::from(JsString::from(event.kind.as_str()))),
            ("sendid", text(&event.sendid)),
            ("origin", text(&event.origin)),
            ("origintype", text(&event.origintype)),
            ("invokeid", text(&event.invokeid)),
        ];
        for (key, value) in fields {
            let _ = object.set(JsString::from(key), value, false, &mut self.context);
        }
        let data = self.value_to_js(&event.data);
        let _ = object.set(js_string!("data"), data, false, &mut self.context);
        // `raw`: the message as received when its I/O processor kept it, else the payload as the
        // SCXML I/O processor would put it on the wire (key=value pairs, repeated keys kept).
        let raw = match (&event.raw, &event.data) {
            (Some(raw), _) => raw.to_string(),
            (None, Value::Object(entries)) => entries
                .iter()
                .map(|(key, value)| format!("{key}={}", value.display()))
                .collect::<Vec<_>>()
                .join("&"),
            (None, Value::Undefined) => String::new(),
            (None, other) => other.display(),
        };
        let _ = object.set(
            js_string!("raw"),
            JsString::from(raw.as_str()),
            false,
            &mut self.context,
        );
        self.define_readonly("_event", object.into());
    }

    fn foreach_begin(&mut self, array: &Expr) -> Result<usize, String> {
        let value = self.run(KIND_EXPR, &array.text)?;
        let Some(object) = value.as_object() else {
            return Err(format!("`{}` is not an array.", array.text));
        };
        if !object.is_array() {
            return Err(format!("`{}` is not an array.", array.text));
        }
        let length = object
            .get(js_string!("length"), &mut self.context)
            .ok()
            .and_then(|length| length.as_number())
            .unwrap_or(0.0) as u32;
        // A sparse `new Array(1e9)` would otherwise run (and allocate) for ever.
        if u64::from(length) > self.loop_iterations {
            return Err(format!(
                "`{}` has {length} items, more than a loop may take.",
                array.text
            ));
        }
        let mut items = Vec::with_capacity(length as usize);
        for idx in 0..length {
            items.push(object.get(idx, &mut self.context).unwrap_or_default());
        }
        let n_items = items.len();
        self.foreach.push(items);
        Ok(n_items)
    }

    fn foreach_step(
        &mut self,
        item: &Expr,
        index: Option<&Expr>,
        position: usize,
    ) -> Result<(), String> {
        let value = self
            .foreach
            .last()
            .and_then(|items| items.get(position))
            .cloned()
            .unwrap_or_default();
        if !is_identifier(&item.text) {
            return Err(format!("`{}` is not a legal variable name.", item.text));
        }
        let global = self.context.global_object();
        let _ = global.set(js_string!("__scxml_value"), value, false, &mut self.context);
        let item_text: Arc<str> = Arc::from(item.text.trim());
        let result = self.run(KIND_ASSIGN_VALUE, &item_text);
        let result = match result {
            // A new item variable is declared as the spec asks.
            Err(_) if !self.has_global(&item_text) => {
                let value = global
                    .get(js_string!("__scxml_value"), &mut self.context)
                    .unwrap_or_default();
                let _ = global.set(JsString::from(&*item_text), value, false, &mut self.context);
                Ok(JsValue::undefined())
            }
            other => other,
        };
        result?;
        if let Some(index) = index {
            let name = index.text.trim();
            if !is_identifier(name) {
                return Err(format!("`{name}` is not a legal variable name."));
            }
            let _ = global.set(
                JsString::from(name),
                JsValue::from(position as f64),
                false,
                &mut self.context,
            );
        }
        Ok(())
    }

    fn foreach_end(&mut self) {
        self.foreach.pop();
        let global = self.context.global_object();
        let _ = global.delete_property_or_throw(js_string!("__scxml_value"), &mut self.context);
    }

    fn set_active(&mut self, state: &str, active: bool) {
        let key = JsString::from(state);
        if active {
            let _ = self
                .active
                .set(key, JsValue::from(true), false, &mut self.context);
        } else {
            let _ = self.active.delete_property_or_throw(key, &mut self.context);
        }
    }
}

impl Datamodel for EcmaScriptDatamodel {
    fn set_system(&mut self, sessionid: &str, name: Option<&str>, ioprocessors: &Value) {
        self.live(|runtime| runtime.set_system(sessionid, name, ioprocessors));
    }

    fn declare(&mut self, id: &str, value: Value) -> Result<(), String> {
        self.live(|runtime| runtime.declare(id, value))
    }

    fn declare_expr(&mut self, id: &str, expr: &Expr) -> Result<(), String> {
        self.live(|runtime| runtime.declare_expr(id, expr))
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, String> {
        self.live(|runtime| runtime.eval(expr))
    }

    fn eval_bool(&mut self, expr: &Expr) -> Result<bool, String> {
        self.live(|runtime| runtime.eval_bool(expr))
    }

    fn eval_string(&mut self, expr: &Expr) -> Result<String, String> {
        self.live(|runtime| runtime.eval_string(expr))
    }

    fn assign_expr(&mut self, location: &Expr, expr: &Expr) -> Result<(), String> {
        self.live(|runtime| runtime.assign_expr(location, expr))
    }

    fn assign_value(&mut self, location: &Expr, value: Value) -> Result<(), String> {
        self.live(|runtime| runtime.assign_value(location, value))
    }

    fn exec_script(&mut self, code: &Expr) -> Result<(), String> {
        self.live(|runtime| runtime.exec_script(code))
    }

    fn set_event(&mut self, event: &Event) {
        self.live(|runtime| runtime.set_event(event));
    }

    fn foreach_begin(&mut self, array: &Expr) -> Result<usize, String> {
        self.live(|runtime| runtime.foreach_begin(array))
    }

    fn foreach_step(
        &mut self,
        item: &Expr,
        index: Option<&Expr>,
        position: usize,
    ) -> Result<(), String> {
        self.live(|runtime| runtime.foreach_step(item, index, position))
    }

    fn foreach_end(&mut self) {
        self.live(|runtime| runtime.foreach_end());
    }

    fn set_active(&mut self, state: &str, active: bool) {
        let key = JsString::from(state);
        let mut runtime = self.runtime.inner.borrow_mut();
        if active {
            let _ = self
                .active
                .set(key, JsValue::from(true), false, &mut runtime.context);
        } else {
            let _ = self
                .active
                .delete_property_or_throw(key, &mut runtime.context);
        }
    }
}

impl Runtime {
    fn has_global(&mut self, name: &str) -> bool {
        let global = self.context.global_object();
        global
            .has_property(JsString::from(name), &mut self.context)
            .unwrap_or(false)
    }
}

/// An expression without the trailing semicolons authors sometimes write (`expr="new f();"`).
fn trim_expr(text: &str) -> &str {
    text.trim()
        .trim_end_matches(|ch: char| ch == ';' || ch.is_whitespace())
}

fn is_identifier(text: &str) -> bool {
    let text = text.trim();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_alphabetic() || first == '_' || first == '$' => {}
        _ => return false,
    }
    chars.all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
}
