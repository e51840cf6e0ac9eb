//! Building the HTTP request an action declares from the values of the custom element's attributes.
//!
//! Rules (the same in `dfm/README.md`):
//! - A declared attribute takes the element's value, else its `default`; an absent non-optional attribute is an
//!   error. Values are checked against the declared `type`.
//! - The URL is the action's `url` override, else the transport's `url`; each `${x}` becomes the value of `x`,
//!   percent-encoded, so a value can never change the shape of the path.
//! - Attributes with `mapping='parameter'` that no template names are request parameters: in the query string for
//!   GET and DELETE, in the body for POST and PUT (form fields, or JSON members when `enctype` is JSON). In a
//!   form, an `Object` attribute holding a JSON object gives one field per member.
//! - A `body` override is a JSON template whose `${x}` places become JSON values of the declared type.

use std::collections::BTreeMap;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::model::{
    Action, AttrMapping, AttrType, Attribute, Dfm, Encoding, Method, Protocol, Server,
};

/// The evaluated values of a custom element's attributes, by attribute name.
pub type AttrValues = BTreeMap<String, Value>;

/// Everything but unreserved characters is encoded in template values and parameters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a call of an action could not be turned into a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The DFM declares no action of that name.
    #[error("DFM '{dfm}' declares no action '{action}'")]
    UnknownAction {
        /// DFM name.
        dfm: String,
        /// Action asked for.
        action: String,
    },
    /// A required attribute is missing and has no default.
    #[error("action '{action}' needs attribute '{attribute}'")]
    MissingAttribute {
        /// Action name.
        action: String,
        /// Attribute name.
        attribute: String,
    },
    /// A value does not fit the declared type.
    #[error("attribute '{attribute}' of action '{action}' must be {expected}, not {value}")]
    BadValue {
        /// Action name.
        action: String,
        /// Attribute name.
        attribute: String,
        /// The declared type, in words.
        expected: &'static str,
        /// The value given, as JSON.
        value: String,
    },
}

/// A request ready to be sent over HTTP or served in-process.
#[derive(Debug, Clone, PartialEq)]
pub struct DfmRequest {
    /// HTTP method.
    pub method: Method,
    /// `http` or `https`, from the connection type.
    pub scheme: String,
    /// The server picked by the connection's selection mode.
    pub server: Server,
    /// Path and query string, already encoded.
    pub path_and_query: String,
    /// Media type of the body, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body (empty for GET and DELETE).
    pub body: Vec<u8>,
    /// The protocol's timeout.
    pub timeout: Duration,
}

impl DfmRequest {
    /// The absolute URL.
    pub fn url(&self) -> String {
        // An IPv6 address needs brackets in a URL.
        let host = if self.server.host.contains(':') {
            format!(
                "[{}]",
                self.server
                    .host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
            )
        } else {
            self.server.host.clone()
        };
        format!(
            "{}://{}:{}{}",
            self.scheme, host, self.server.port, self.path_and_query
        )
    }

    /// The path without its query string.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The decoded query parameters, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.path_and_query
            .split_once('?')
            .map(|(_, query)| decode_form(query))
            .unwrap_or_default()
    }
}

/// Decodes `a=1&b=x%20y` (also `+` for space) into pairs; used by in-process dispatch and tests.
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

fn decode_component(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Builds the request for `action_name` of `dfm` called with `values`.
///
/// Attributes the action does not declare are ignored (the host may pass its own, such as `requestid`).
pub fn build_request(
    dfm: &Dfm,
    action_name: &str,
    values: &AttrValues,
) -> Result<DfmRequest, CallError> {
    let unknown = || CallError::UnknownAction {
        dfm: dfm.name.clone(),
        action: action_name.to_string(),
    };
    let action = dfm.action(action_name).ok_or_else(unknown)?;
    // The loader checked that the transport and connection exist.
    let transport = dfm.transport_of(action).ok_or_else(unknown)?;
    let connection = dfm.connection_of(transport).ok_or_else(unknown)?;
    let server = connection.pick().ok_or_else(unknown)?.clone();
    let timeout_secs = dfm
        .protocol_of(connection)
        .map_or(Protocol::DEFAULT_TIMEOUT_SECS, |protocol| {
            protocol.timeout_secs
        });

    let resolved = resolve(action, values)?;
    let method = action.method.unwrap_or(transport.method);
    let encoding = action.encoding.unwrap_or(transport.encoding);
    let url_template = action.url.as_ref().unwrap_or(&transport.url);
    let mut path_and_query = url_template.expand(|name| {
        resolved
            .get(name)
            .map_or(String::new(), |value| encode(&text_of(value)))
    });

    let params: Vec<(&Attribute, &Value)> = action
        .attributes
        .iter()
        .filter(|attr| attr.mapping == AttrMapping::Parameter)
        .filter(|attr| !url_template.mentions(&attr.name))
        .filter(|attr| {
            !action
                .body
                .as_ref()
                .is_some_and(|body| body.mentions(&attr.name))
        })
        .filter_map(|attr| resolved.get(&attr.name).map(|value| (attr, value)))
        .collect();

    let mut content_type = None;
    let mut body = Vec::new();
    if let Some(template) = &action.body {
        let text = template.expand(|name| resolved.get(name).unwrap_or(&Value::Null).to_string());
        body = text.into_bytes();
        content_type = Some(Encoding::Json.content_type());
    } else if method.has_body() {
        match encoding {
            Encoding::Json => {
                let object: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(attr, value)| (attr.name.clone(), (*value).clone()))
                    .collect();
                body = Value::Object(object).to_string().into_bytes();
            }
            Encoding::Form => body = form(&params).into_bytes(),
        }
        content_type = Some(encoding.content_type());
    }
    if !method.has_body() && !params.is_empty() {
        let query = form(&params);
        if path_and_query.ends_with('?') || path_and_query.ends_with('&') {
            path_and_query.push_str(&query);
        } else if path_and_query.contains('?') {
            path_and_query.push('&');
            path_and_query.push_str(&query);
        } else {
            path_and_query.push('?');
            path_and_query.push_str(&query);
        }
    }
    Ok(DfmRequest {
        method,
        scheme: connection.kind.clone(),
        server,
        path_and_query,
        content_type,
        body,
        timeout: Duration::from_secs_f64(timeout_secs),
    })
}

/// The typed value of every declared attribute that has one (given or default).
fn resolve(action: &Action, values: &AttrValues) -> Result<BTreeMap<String, Value>, CallError> {
    let mut resolved = BTreeMap::new();
    for attr in &action.attributes {
        let value = match (values.get(&attr.name), &attr.default) {
            (Some(value), _) => value.clone(),
            (None, Some(default)) => Value::String(default.clone()),
            (None, None) if attr.optional => continue,
            (None, None) => {
                return Err(CallError::MissingAttribute {
                    action: action.name.clone(),
                    attribute: attr.name.clone(),
                });
            }
        };
        let typed = typed(attr, value).map_err(|(expected, value)| CallError::BadValue {
            action: action.name.clone(),
            attribute: attr.name.clone(),
            expected,
            value: value.to_string(),
        })?;
        resolved.insert(attr.name.clone(), typed);
    }
    Ok(resolved)
}

/// Converts `value` to the attribute's declared type; strings holding a number, a boolean or JSON are accepted,
/// since a flow's attribute expressions often give strings.
fn typed(attr: &Attribute, value: Value) -> Result<Value, (&'static str, Value)> {
    match attr.kind {
        AttrType::String => Ok(match value {
            Value::String(_) => value,
            Value::Null => Value::String(String::new()),
            other => Value::String(text_of(&other)),
        }),
        AttrType::Number => match &value {
            Value::Number(_) => Ok(value),
            Value::String(text) => text
                .trim()
                .parse::<serde_json::Number>()
                .map(Value::Number)
                .map_err(|_| ("a number", value.clone())),
            _ => Err(("a number", value)),
        },
        AttrType::Boolean => match &value {
            Value::Bool(_) => Ok(value),
            Value::String(text) if text.trim() == "true" => Ok(Value::Bool(true)),
            Value::String(text) if text.trim() == "false" => Ok(Value::Bool(false)),
            _ => Err(("true or false", value)),
        },
        AttrType::Object => match &value {
            Value::String(text) => Ok(serde_json::from_str(text).unwrap_or(value)),
            _ => Ok(value),
        },
    }
}

/// The text of a value in a URL or a form: strings as they are, everything else as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Form-encodes parameters; an `Object` attribute holding a JSON object gives one field per member, which is how
/// a flow sends user data whose keys it chooses (Storage API).
fn form(params: &[(&Attribute, &Value)]) -> String {
    let mut fields = Vec::new();
    for (attr, value) in params {
        match value {
            Value::Object(members) if attr.kind == AttrType::Object => {
                for (key, member) in members {
                    fields.push(format!("{}={}", encode(key), encode(&text_of(member))));
                }
            }
            _ => fields.push(format!(
                "{}={}",
                encode(&attr.name),
                encode(&text_of(value))
            )),
        }
    }
    fields.join("&")
}
