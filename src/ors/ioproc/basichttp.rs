//! The BasicHTTP Event I/O Processor (W3C SCXML 1.0, Appendix C.2): its wire format both ways, and the
//! sending side of ORS sessions.
//!
//! Sending: `<send type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor" target="http://...">` (or the
//! short type `basichttp`) becomes an HTTP POST to the target with an `application/x-www-form-urlencoded` body:
//! the event name in `_scxmleventname` (left out when the send names no event), then each namelist/`<param>`
//! entry as a field (JSON text for values that are not strings). A `<content>` payload travels form-encoded in
//! the field `content`, so the body stays one well-formed form and the receiver finds it in
//! `_event.data.content` (W3C test 520 looks for `this%20is%20some%20content` in `_event.raw`). Names and
//! values are percent-encoded, a space as `%20`. A send without a target, a POST that gets no answer or a
//! status outside 2xx raises `error.communication`; a target that is not an http(s) URL is `error.execution`.
//!
//! Receiving: a POST to a session's access URI becomes an external event ([`received`]): the name from a single
//! `_scxmleventname` (else `HTTP.POST`, after the method), every other query or body field in `_event.data`,
//! `origintype` this processor, and the whole request as text in `_event.raw`. The form carries no address of
//! the sender, so `_event.origin` stays unset. ORS sessions receive on `POST /scxml/basichttp/{sessionid}`
//! (`http::scxml`); `gms w3c` runs its own loopback listener with the same path.

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::ors::exchange::{Runtime, SessionInput};
use crate::scxml::host::{HostError, OutgoingSend, SessionInfo};
use crate::scxml::{Event, EventKind, Value};

/// The type URI of this processor.
pub const BASIC_HTTP: &str = "http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor";

/// The short type name the W3C tests and ORS flows use.
pub const SHORT_NAME: &str = "basichttp";

/// The media type of every POST this processor makes.
pub const FORM: &str = crate::media::FORM;

/// The path under a server's base URL where session `sessionid` receives BasicHTTP events.
pub fn path(sessionid: &str) -> String {
    let id: String = form_urlencoded::byte_serialize(sessionid.as_bytes()).collect();
    format!("/scxml/basichttp/{id}")
}

/// The `_ioprocessors` entries of a session whose access URI is `location`: one under the type URI and one
/// under the short name, each `{location}`.
pub fn ioprocessor_entries(location: &str) -> Vec<(Arc<str>, Value)> {
    let entry = Value::Object(vec![(Arc::from("location"), Value::string(location))]);
    vec![
        (Arc::from(BASIC_HTTP), entry.clone()),
        (Arc::from(SHORT_NAME), entry),
    ]
}

/// True for the processor's type URI and its short name.
pub fn is_basic_http(kind: &str) -> bool {
    kind == BASIC_HTTP || kind == SHORT_NAME
}

/// The form fields of an outgoing event: `_scxmleventname` first (when the event has a name), then the
/// data's entries, or the `<content>` payload as `content`.
pub fn form_fields(event: &Event) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    if !event.name.is_empty() {
        fields.push(("_scxmleventname".to_string(), event.name.to_string()));
    }
    let text = |value: &Value| match value {
        Value::String(text) | Value::Xml(text) => text.to_string(),
        other => other.to_json().to_string(),
    };
    match &event.data {
        Value::Undefined => {}
        Value::Object(entries) => {
            fields.extend(
                entries
                    .iter()
                    .map(|(name, value)| (name.to_string(), text(value))),
            );
        }
        other => fields.push(("content".to_string(), text(other))),
    }
    fields
}

/// An HTTP POST this processor makes for a `<send>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The target URL.
    pub url: String,
    /// The form-encoded body ([`FORM`]).
    pub body: String,
}

/// The POST for `send`, or why it cannot be made: no target is a failed delivery (`error.communication`,
/// W3C C.2), a target that is not an http(s) URL an unsupported one (`error.execution`).
pub fn post(send: &OutgoingSend) -> Result<Post, HostError> {
    let target = send.target.trim();
    if target.is_empty() {
        return Err(HostError::Failed(
            "a BasicHTTP send needs a target URL".to_string(),
        ));
    }
    if !(target.starts_with("http://") || target.starts_with("https://")) {
        return Err(HostError::Unsupported(format!(
            "BasicHTTP target \"{target}\" is not an http(s) URL"
        )));
    }
    let body = form_fields(&send.event)
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    Ok(Post {
        url: target.to_string(),
        body,
    })
}

/// RFC 3986 unreserved characters; everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a form name or value. A space becomes `%20` rather than the `+` of HTML forms: every
/// form parser reads both, and `%20` is the one encoding that means a space in any part of a URL.
fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// Why a received request cannot become an event (the listener answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    /// The body is not UTF-8 text.
    #[error("the body is not UTF-8 text")]
    NotText,
    /// The body claims JSON but is not a JSON object.
    #[error("the JSON body is not an object: {0}")]
    BadJson(String),
}

/// A request as the listener got it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method (`POST`).
    pub method: &'a str,
    /// The path and query, as on the request line.
    pub target: &'a str,
    /// The headers, in order.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

/// The event a received request becomes: fields from the query and from a form (or JSON object) body; any
/// other text body is the field `content`.
pub fn received(request: Request<'_>) -> Result<Event, ReceiveError> {
    let text = std::str::from_utf8(request.body).map_err(|_| ReceiveError::NotText)?;
    let mut fields: Vec<(String, Value)> = match request.target.split_once('?') {
        Some((_, query)) => form_urlencoded::parse(query.as_bytes())
            .map(|(name, value)| (name.into_owned(), Value::string(value.into_owned())))
            .collect(),
        None => Vec::new(),
    };
    let media = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| crate::media::essence(value))
        .unwrap_or_default();
    if !text.trim().is_empty() {
        if media == crate::media::JSON {
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|error| ReceiveError::BadJson(error.to_string()))?;
            let serde_json::Value::Object(map) = json else {
                return Err(ReceiveError::BadJson("not an object".to_string()));
            };
            fields.extend(
                map.iter()
                    .map(|(name, value)| (name.clone(), Value::from_json(value))),
            );
        } else if media == FORM || media.is_empty() {
            fields.extend(
                form_urlencoded::parse(text.as_bytes())
                    .map(|(name, value)| (name.into_owned(), Value::string(value.into_owned()))),
            );
        } else {
            fields.push(("content".to_string(), Value::string(text)));
        }
    }
    let mut raw = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in request.headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(text);
    let mut event = event_from_fields(request.method, fields);
    event.raw = Some(Arc::from(raw));
    Ok(event)
}

/// The event of already parsed request fields (the ORS listener parses them itself).
pub fn incoming_event(fields: Vec<(String, String)>) -> Event {
    event_from_fields(
        "POST",
        fields
            .into_iter()
            .map(|(name, value)| (name, Value::string(value)))
            .collect(),
    )
}

fn event_from_fields(method: &str, fields: Vec<(String, Value)>) -> Event {
    let n_names = fields
        .iter()
        .filter(|(name, _)| name == "_scxmleventname")
        .count();
    let mut name = format!("HTTP.{}", method.to_ascii_uppercase());
    let mut entries = Vec::new();
    for (key, value) in fields {
        // Only a single `_scxmleventname` names the event (C.2); repeated ones stay data.
        if key == "_scxmleventname" && n_names == 1 {
            name = value.display();
        } else {
            entries.push((Arc::from(key.as_str()), value));
        }
    }
    let mut event = Event::new(name, EventKind::External);
    event.origintype = Some(Arc::from(BASIC_HTTP));
    if !entries.is_empty() {
        event.data = Value::Object(entries);
    }
    event
}

/// Posts `send` to its target on a task; failures come back as `error.communication`.
pub(crate) fn send(
    client: &reqwest::Client,
    runtime: &Arc<dyn Runtime>,
    session: &SessionInfo,
    send: OutgoingSend,
) -> Result<(), HostError> {
    let Post { url, body } = post(&send)?;
    let weak = Arc::downgrade(runtime);
    let me = session.sessionid.to_string();
    let sendid = send.event.sendid.clone();
    let request = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, FORM)
        .body(body);
    runtime.spawn(Box::pin(async move {
        let failure = match request.send().await {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("{url} answered {}", response.status())),
            Err(error) => Some(format!("{url}: {error}")),
        };
        if let (Some(reason), Some(runtime)) = (failure, weak.upgrade()) {
            let mut event = Event::new("error.communication", EventKind::Platform).with_data(
                Value::Object(vec![(Arc::from("description"), Value::string(reason))]),
            );
            event.sendid = sendid;
            runtime.deliver(&me, SessionInput::External(event));
        }
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(event: Event, target: &str) -> OutgoingSend {
        OutgoingSend {
            event,
            target: Arc::from(target),
            kind: Arc::from(BASIC_HTTP),
            extra: Vec::new(),
        }
    }

    #[test]
    fn events_travel_as_forms_and_come_back_as_events() {
        let event = Event::external("ping").with_data(Value::Object(vec![
            (Arc::from("a"), Value::string("x y")),
            (Arc::from("n"), Value::Number(3.0)),
        ]));
        let fields = form_fields(&event);
        assert_eq!(
            fields,
            vec![
                ("_scxmleventname".to_string(), "ping".to_string()),
                ("a".to_string(), "x y".to_string()),
                ("n".to_string(), "3".to_string()),
            ]
        );
        let back = incoming_event(fields);
        assert_eq!(&*back.name, "ping");
        assert_eq!(back.data.get("a"), Some(&Value::string("x y")));
        assert_eq!(&*incoming_event(Vec::new()).name, "HTTP.POST");
    }

    #[test]
    fn content_travels_form_encoded_and_unnamed_events_carry_no_name() {
        let event = Event::external("").with_data(Value::string("this is some content"));
        let post = post(&outgoing(event, "http://127.0.0.1:1/x")).expect("a post");
        assert_eq!(post.body, "content=this%20is%20some%20content");
        let headers = vec![("content-type".to_string(), FORM.to_string())];
        let back = received(Request {
            method: "POST",
            target: "/scxml/basichttp/s1",
            headers: &headers,
            body: post.body.as_bytes(),
        })
        .expect("an event");
        assert_eq!(&*back.name, "HTTP.POST");
        assert_eq!(
            back.data.get("content"),
            Some(&Value::string("this is some content"))
        );
        let raw = back.raw.as_deref().unwrap_or_default();
        assert!(
            raw.starts_with("POST /scxml/basichttp/s1 HTTP/1.1\r\n"),
            "{raw}"
        );
        assert!(
            raw.ends_with("\r\n\r\ncontent=this%20is%20some%20content"),
            "{raw}"
        );
        assert_eq!(back.origintype.as_deref(), Some(BASIC_HTTP));
    }

    #[test]
    fn targets_are_checked_before_posting() {
        let event = Event::external("e");
        assert!(matches!(
            post(&outgoing(event.clone(), "")),
            Err(HostError::Failed(_))
        ));
        assert!(matches!(
            post(&outgoing(event, "#_scxml_x")),
            Err(HostError::Unsupported(_))
        ));
    }

    #[test]
    fn received_requests_take_query_json_and_text_bodies() {
        let json = vec![("Content-Type".to_string(), "application/json".to_string())];
        let event = received(Request {
            method: "POST",
            target: "/x?_scxmleventname=go",
            headers: &json,
            body: br#"{"n": 2}"#,
        })
        .expect("an event");
        assert_eq!(&*event.name, "go");
        assert_eq!(event.data.get("n"), Some(&Value::Number(2.0)));
        let text = vec![("content-type".to_string(), "text/plain".to_string())];
        let event = received(Request {
            method: "POST",
            target: "/x",
            headers: &text,
            body: b"hello there",
        })
        .expect("an event");
        assert_eq!(
            event.data.get("content"),
            Some(&Value::string("hello there"))
        );
        assert_eq!(
            received(Request {
                method: "POST",
                target: "/x",
                headers: &json,
                body: b"[1]",
            })
            .map(|_| ()),
            Err(ReceiveError::BadJson("not an object".to_string()))
        );
        assert_eq!(
            received(Request {
                method: "POST",
                target: "/x",
                headers: &[],
                body: &[0xff, 0xfe],
            })
            .map(|_| ()),
            Err(ReceiveError::NotText)
        );
    }
}
