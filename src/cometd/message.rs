//! Bayeux 1.0 message: the one JSON object shape every channel uses, with serde names as on the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One Bayeux message (request, reply or delivery). Unknown fields are kept in `rest` and ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The channel (`/meta/handshake`, `/_genesys`, ...). Mandatory on every message.
    #[serde(default)]
    pub channel: String,
    /// Message id chosen by the client, echoed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// Client id given by the handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Application data of a publish or delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Outcome of a meta or publish request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful: Option<bool>,
    /// `code::args::text` error string of an unsuccessful reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Channel (or channels) of a subscribe/unsubscribe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Value>,
    /// Reconnect advice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice>,
    /// Bayeux version (handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Transports the server or client supports (handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_connection_types: Option<Vec<String>>,
    /// Transport used by a connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// Extension data (`ext.gms_user` may name the user at handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<Value>,
    /// Anything else the peer sent; kept so a reply never fails on an unknown field.
    #[serde(flatten, skip_serializing)]
    pub rest: Map<String, Value>,
}

/// The `advice` object: how and when the client should reconnect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    /// `retry`, `handshake` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<String>,
    /// Milliseconds the client waits before its next connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// Milliseconds the server may hold a connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
}

impl Advice {
    /// Advice with only a reconnect policy and an interval.
    pub fn reconnect(policy: &str, interval: u64) -> Self {
        Advice {
            reconnect: Some(policy.to_string()),
            interval: Some(interval),
            timeout: None,
        }
    }
}

impl Message {
    /// A reply to `request` on its own channel, carrying its id and client id.
    pub fn reply_to(request: &Message, successful: bool) -> Message {
        Message {
            channel: request.channel.clone(),
            id: request.id.clone(),
            client_id: request.client_id.clone(),
            successful: Some(successful),
            ..Message::default()
        }
    }

    /// An unsuccessful reply with a Bayeux `code::args::text` error.
    pub fn failure(request: &Message, code: u16, text: &str) -> Message {
        let mut reply = Message::reply_to(request, false);
        reply.error = Some(format!("{code}::{}::{text}", request.channel));
        reply
    }

    /// A delivery of `data` on `channel`.
    pub fn delivery(channel: &str, data: Value) -> Message {
        Message {
            channel: channel.to_string(),
            data: Some(data),
            ..Message::default()
        }
    }

    /// The `gms_user` named in `ext`, if any.
    pub fn ext_user(&self) -> Option<String> {
        self.ext
            .as_ref()?
            .get("gms_user")?
            .as_str()
            .map(str::to_string)
    }
}

/// Errors reading a batch of messages.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON or not message-shaped.
    #[error("malformed Bayeux message: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The batch is empty.
    #[error("empty Bayeux batch")]
    Empty,
}

/// Reads a batch: a JSON array of messages, or a single message object.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Message>, ParseError> {
    let value: Value = serde_json::from_slice(body)?;
    let messages: Vec<Message> = match value {
        Value::Array(_) => serde_json::from_value(value)?,
        other => vec![serde_json::from_value(other)?],
    };
    if messages.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arrays_and_single_objects() {
        let batch = parse_batch(
            br#"[{"channel":"/meta/handshake","id":"1","version":"1.0","minimumVersion":"1.0"}]"#,
        )
        .unwrap();
        assert_eq!(batch[0].channel, "/meta/handshake");
        assert!(batch[0].rest.contains_key("minimumVersion"));
        let single = parse_batch(br#"{"channel":"/foo","data":{"a":1}}"#).unwrap();
        assert_eq!(single.len(), 1);
        assert!(parse_batch(b"[]").is_err());
        assert!(parse_batch(b"{oops").is_err());
    }

    #[test]
    fn writes_only_present_fields() {
        let json = serde_json::to_string(&Message::delivery(
            "/_genesys",
            serde_json::json!({"message": "hi"}),
        ))
        .unwrap();
        assert_eq!(json, r#"{"channel":"/_genesys","data":{"message":"hi"}}"#);
    }
}
