//! Performing an action: send the built request (over HTTP, or in-process when the server is this node) and map
//! the answer to the completion event the DFM names.
//!
//! A call never fails as a Rust error: every outcome, including a bad attribute or no answer at all, is a
//! [`Completion`] carrying the event to raise in the session, as ORS module actions complete with an event.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};

use super::model::{Dfm, Method, Protocol};
use super::request::{AttrValues, DfmRequest, build_request};

/// An HTTP answer, from the network or from an in-process dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfmResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` of the answer, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// A boxed future, so that [`InProcess`] stays usable as `Arc<dyn InProcess>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Serves DFM requests addressed to this node without an HTTP hop.
///
/// The ORS layer implements it on top of the service, storage and notification APIs; the executor asks it first
/// whether it serves the picked server.
pub trait InProcess: Send + Sync {
    /// Whether `request` targets this node (by its server host and port).
    fn serves(&self, request: &DfmRequest) -> bool;

    /// Answers `request` as the HTTP API would; `None` means no answer (mapped to status `0`).
    fn call<'a>(&'a self, request: &'a DfmRequest) -> BoxFuture<'a, Option<DfmResponse>>;
}

/// The outcome of one action call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The event to raise: `<dfm>.<action>.done`, `error.<dfm>.<action>`, or `<dfm>.<action>.<suffix>` for
    /// other `<globalevents>` names.
    pub event: String,
    /// HTTP status of the answer; `0` when there was none (or the call could not be built).
    pub status: u16,
    /// Event data: the answer body parsed as JSON when it is JSON, else its text, else `null`; for failures
    /// without an answer, `{"error": kind, "description": sentence}`.
    pub data: Value,
}

/// Runs actions of loaded DFMs.
#[derive(Clone)]
pub struct Executor {
    client: reqwest::Client,
    in_process: Option<Arc<dyn InProcess>>,
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

impl Executor {
    /// An executor that sends every request over HTTP.
    pub fn new() -> Self {
        Executor {
            client: reqwest::Client::new(),
            in_process: None,
        }
    }

    /// Serves requests to this node through `in_process` instead of HTTP.
    pub fn with_in_process(mut self, in_process: Arc<dyn InProcess>) -> Self {
        self.in_process = Some(in_process);
        self
    }

    /// Calls `action` of `dfm` with the element's attribute `values` and returns its completion.
    pub async fn execute(&self, dfm: &Dfm, action: &str, values: &AttrValues) -> Completion {
        let request = match build_request(dfm, action, values) {
            Ok(request) => request,
            Err(err) => {
                return Completion {
                    event: event_name(&dfm.name, action, "error"),
                    status: 0,
                    data: json!({"error": "attribute", "description": err.to_string()}),
                };
            }
        };
        let answer = self.send(&request).await;
        complete(dfm, action, &request, answer)
    }

    /// Sends a built request and returns the answer, or why there was none.
    pub async fn send(&self, request: &DfmRequest) -> Result<DfmResponse, NoAnswer> {
        if let Some(in_process) = self
            .in_process
            .as_ref()
            .filter(|local| local.serves(request))
        {
            return match tokio::time::timeout(request.timeout, in_process.call(request)).await {
                Ok(Some(response)) => Ok(response),
                Ok(None) => Err(NoAnswer::Refused(
                    "the in-process service gave no answer".to_string(),
                )),
                Err(_) => Err(NoAnswer::Timeout),
            };
        }
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .client
            .request(method, request.url())
            .timeout(request.timeout);
        if let Some(content_type) = request.content_type {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(request.body.clone());
        }
        let response = builder.send().await.map_err(NoAnswer::from_reqwest)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await.map_err(NoAnswer::from_reqwest)?;
        Ok(DfmResponse {
            status,
            content_type,
            body: body.to_vec(),
        })
    }
}

/// Why a request got no HTTP answer (status `0`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAnswer {
    /// The protocol's timeout passed.
    #[error("no answer within the protocol timeout")]
    Timeout,
    /// The connection failed or was refused.
    #[error("{0}")]
    Refused(String),
}

impl NoAnswer {
    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            NoAnswer::Timeout
        } else {
            NoAnswer::Refused(format!("no answer: {err}"))
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            NoAnswer::Timeout => "timeout",
            NoAnswer::Refused(_) => "connection",
        }
    }
}

/// The event raised when `action` of DFM `dfm_name` completes with event suffix `suffix`.
pub fn event_name(dfm_name: &str, action: &str, suffix: &str) -> String {
    match suffix {
        "error" => format!("error.{dfm_name}.{action}"),
        other => format!("{dfm_name}.{action}.{other}"),
    }
}

fn complete(
    dfm: &Dfm,
    action: &str,
    request: &DfmRequest,
    answer: Result<DfmResponse, NoAnswer>,
) -> Completion {
    let status = answer.as_ref().map_or(0, |response| response.status);
    let default_protocol;
    let protocol = match dfm.protocols.get(&request.scheme) {
        Some(protocol) => protocol,
        None => {
            default_protocol = Protocol::default_for(&request.scheme);
            &default_protocol
        }
    };
    // A status that no mapping covers still completes the call, as an error, so no flow waits forever.
    let suffix = protocol.event_for(status).unwrap_or("error");
    let data = match &answer {
        Ok(response) => body_data(response),
        Err(reason) => json!({"error": reason.kind(), "description": reason.to_string()}),
    };
    Completion {
        event: event_name(&dfm.name, action, suffix),
        status,
        data,
    }
}

/// The body as JSON when it is JSON, else as text; `null` when empty.
fn body_data(response: &DfmResponse) -> Value {
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    let says_json = response
        .content_type
        .as_deref()
        .is_some_and(|content_type| content_type.contains("json"));
    let looks_json = response.content_type.is_none()
        || response
            .body
            .iter()
            .find(|byte| !byte.is_ascii_whitespace())
            .is_some_and(|byte| matches!(byte, b'{' | b'['));
    if (says_json || looks_json)
        && let Ok(value) = serde_json::from_slice::<Value>(&response.body)
    {
        return value;
    }
    Value::String(String::from_utf8_lossy(&response.body).into_owned())
}
