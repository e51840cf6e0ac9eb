//! The BasicHTTP Event I/O Processor (W3C SCXML 1.0, Appendix C.2).
//!
//! Sending: `<send type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor" target="http://...">` becomes an
//! HTTP POST to the target, `application/x-www-form-urlencoded`, with the event name in `_scxmleventname` and
//! each namelist/`<param>` entry as a field (JSON text for values that are not strings); a `<content>` payload is
//! sent as the body instead, with the event name in the query string. The POST runs as a task; a failure (no
//! answer, or a status outside 2xx) raises `error.communication` in the sending session.
//!
//! Receiving: `POST /scxml/basichttp/{sessionid}` (`http::ors`) turns the request into an external event: the
//! name from `_scxmleventname` (else `HTTP.POST`), the other fields as `_event.data`, `origintype` this processor.

use std::sync::Arc;

use crate::ors::runtime::{SessionInput, Shared};
use crate::scxml::host::{HostError, OutgoingSend, SessionInfo};
use crate::scxml::{Event, EventKind, Value};

/// The type URI of this processor.
pub const BASIC_HTTP: &str = "http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor";

/// True for the processor's type URI and its short name.
pub fn is_basic_http(kind: &str) -> bool {
    kind == BASIC_HTTP || kind == "basichttp"
}

/// The form fields of an outgoing event: `_scxmleventname` first, then the data's entries.
pub fn form_fields(event: &Event) -> Vec<(String, String)> {
    let mut fields = vec![("_scxmleventname".to_string(), event.name.to_string())];
    if let Value::Object(entries) = &event.data {
        for (name, value) in entries {
            let text = match value {
                Value::String(text) => text.to_string(),
                other => other.to_json().to_string(),
            };
            fields.push((name.to_string(), text));
        }
    }
    fields
}

/// The event an incoming request becomes.
pub fn incoming_event(fields: Vec<(String, String)>) -> Event {
    let mut name = "HTTP.POST".to_string();
    let mut entries = Vec::new();
    for (key, value) in fields {
        if key == "_scxmleventname" {
            name = value;
        } else {
            entries.push((Arc::from(key.as_str()), Value::string(value)));
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
    shared: &Arc<Shared>,
    session: &SessionInfo,
    send: OutgoingSend,
) -> Result<(), HostError> {
    let target = send.target.to_string();
    if !(target.starts_with("http://") || target.starts_with("https://")) {
        return Err(HostError::Unsupported(format!(
            "BasicHTTP target \"{target}\" is not an http(s) URL"
        )));
    }
    let client = shared.modules.client();
    let weak = Arc::downgrade(shared);
    let me = session.sessionid.to_string();
    let sendid = send.event.sendid.clone();
    let request = match &send.event.data {
        Value::String(_) | Value::Xml(_) => {
            let body = send.event.data.display();
            let separator = if target.contains('?') { '&' } else { '?' };
            let name: String =
                form_urlencoded::byte_serialize(send.event.name.as_bytes()).collect();
            client
                .post(format!("{target}{separator}_scxmleventname={name}"))
                .body(body)
        }
        _ => {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form_fields(&send.event))
                .finish();
            client
                .post(&target)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
        }
    };
    shared.spawn(async move {
        let failure = match request.send().await {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("{target} answered {}", response.status())),
            Err(error) => Some(format!("{target}: {error}")),
        };
        if let (Some(reason), Some(shared)) = (failure, weak.upgrade()) {
            let mut event = Event::new("error.communication", EventKind::Platform).with_data(
                Value::Object(vec![(Arc::from("description"), Value::string(reason))]),
            );
            event.sendid = sendid;
            shared.deliver(&me, SessionInput::External(event));
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
