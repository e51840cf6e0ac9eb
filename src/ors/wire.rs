//! The answers of ORS's HTTP interface as they travel: the status and exception name of each [`OrsError`], the
//! body of a negative `<ws:response>`, and the reading of both back into an [`Answer`] or an [`OrsError`]. The
//! server side (`http::scxml`) encodes with these and the client side ([`crate::ors::client::Remote`]) decodes with
//! them, so a `gms` can stand in for ORS and be called by another `gms`.
//!
//! A positive answer is 200 with the flow's `<param>`s as a JSON object; a negative one 400
//! `{"message", "exception": "NegativeResponse", "resultcode", "params"}`; an unknown or ended session 404; a request
//! no transition takes 409 `RequestNotHandled`; a flow that did not answer in time 504 `Timeout`.

use serde_json::{Value as Json, json};

use crate::ors::exchange::{Answer, OrsError};

/// The exception of a negative `<ws:response>`.
pub const NEGATIVE_RESPONSE: &str = "NegativeResponse";
/// The exception of a request that no transition of the flow takes.
pub const REQUEST_NOT_HANDLED: &str = "RequestNotHandled";
/// The exception of a start refused because too many sessions are alive.
pub const TOO_MANY_SESSIONS: &str = "TooManySessions";
/// The exception of a flow (or a remote ORS) that did not answer in time.
pub const TIMEOUT: &str = "Timeout";
/// The exception of a remote ORS that failed or could not be reached.
pub const BACKEND_UNAVAILABLE: &str = "BackendUnavailable";
/// The exception of an unknown or ended session.
pub const NOT_FOUND: &str = "NotFound";
/// The exception of a bad parameter or an unusable document.
pub const INVALID_PARAMETER: &str = "InvalidParameter";

/// The status code and exception name `error` travels as.
pub fn error_status(error: &OrsError) -> (u16, &'static str) {
    match error {
        OrsError::NotFound(_) | OrsError::Ended(_) => (404, NOT_FOUND),
        OrsError::Document(_) | OrsError::BadRequest(_) => (400, INVALID_PARAMETER),
        OrsError::Capacity(_) => (503, TOO_MANY_SESSIONS),
        OrsError::Timeout { .. } => (504, TIMEOUT),
        OrsError::Unhandled { .. } => (409, REQUEST_NOT_HANDLED),
        OrsError::Remote { .. } => (502, BACKEND_UNAVAILABLE),
    }
}

/// The 400 body of a negative answer with `resultcode` and `params` (the Service API answers a negative answer of
/// any service kind the same way).
pub fn negative_body(resultcode: Option<&str>, params: &serde_json::Map<String, Json>) -> Json {
    let resultcode = resultcode.unwrap_or_default();
    let described = if resultcode.is_empty() {
        "no result code"
    } else {
        resultcode
    };
    json!({
        "message": format!("the flow answered negatively: {described}"),
        "exception": NEGATIVE_RESPONSE,
        "resultcode": resultcode,
        "params": params,
    })
}

fn exception(json: &Json) -> Option<&str> {
    json.get("exception").and_then(Json::as_str)
}

/// Reads the answer to request `name` of session `id` from its status and JSON body; `None` when the status
/// means none of the interface's answers (the caller reports it as a failure of the remote ORS).
pub fn read_answer(
    status: u16,
    json: &Json,
    id: &str,
    name: &str,
) -> Option<Result<Answer, OrsError>> {
    match status {
        200..=299 => Some(Ok(Answer {
            positive: true,
            resultcode: None,
            params: json.as_object().cloned().unwrap_or_default(),
        })),
        400 if exception(json) == Some(NEGATIVE_RESPONSE) => Some(Ok(Answer {
            positive: false,
            resultcode: json
                .get("resultcode")
                .and_then(Json::as_str)
                .map(str::to_string),
            params: json
                .get("params")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default(),
        })),
        404 => Some(Err(OrsError::NotFound(id.to_string()))),
        409 if exception(json) == Some(REQUEST_NOT_HANDLED) => Some(Err(OrsError::Unhandled {
            session: id.to_string(),
            name: name.to_string(),
        })),
        504 => Some(Err(OrsError::Timeout {
            session: id.to_string(),
            name: name.to_string(),
            timeout_ms: 0,
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_errors_read_back_as_they_were_written() {
        let mut params = serde_json::Map::new();
        params.insert("_text".into(), "busy".into());
        let negative = Answer {
            positive: false,
            resultcode: Some("busy".to_string()),
            params,
        };
        let body = negative_body(negative.resultcode.as_deref(), &negative.params);
        assert_eq!(
            read_answer(400, &body, "s", "r").and_then(Result::ok),
            Some(negative)
        );
        let unhandled = OrsError::Unhandled {
            session: "s".to_string(),
            name: "r".to_string(),
        };
        let (status, name) = error_status(&unhandled);
        let body = json!({ "message": unhandled.to_string(), "exception": name });
        assert!(matches!(
            read_answer(status, &body, "s", "r"),
            Some(Err(OrsError::Unhandled { .. }))
        ));
        assert!(read_answer(502, &Json::Null, "s", "r").is_none());
    }
}
