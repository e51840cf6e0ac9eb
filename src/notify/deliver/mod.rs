//! Delivery of one published message to one subscription, per type: [`httpcb`], [`orscb`], [`comet`],
//! [`fcm`] (android) and [`apns`] (ios). Each returns an [`Outcome`]; a failed delivery is a value, never an
//! error of the publish.

pub mod apns;
pub mod comet;
pub mod fcm;
pub mod httpcb;
pub mod orscb;

use serde::Serialize;

use super::config::OsFormat;

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// The target accepted the message.
    Delivered,
    /// The target refused it or could not be reached.
    Failed,
    /// The target is unavailable for now; the message is sent again later in the background.
    Retrying,
    /// The subscription's type or channel is not enabled.
    Disabled,
    /// No client of the user is on this node: handed to the other nodes (comet).
    Relayed,
    /// The push service says the device token is dead (FCM `UNREGISTERED`, APNs 410 or `BadDeviceToken`): the
    /// subscription was removed, and nothing is sent to it again.
    Unregistered,
}

/// What a push service (FCM, APNs) made of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Accepted.
    Delivered,
    /// The device token is dead: its subscription is to be removed.
    Dead(String),
    /// Unavailable for now (429, 500, 503): to be sent again, after `Retry-After` when it said.
    Unavailable {
        /// `Retry-After`, when the answer had one.
        retry_after: Option<std::time::Duration>,
        /// A sentence for the operator.
        detail: String,
    },
    /// Refused or unreachable, for good.
    Failed(String),
}

/// The largest payload FCM (the message's data) and APNs (the JSON body) accept, in bytes.
pub const MAX_PAYLOAD: usize = 4096;

/// `Retry-After` as a number of seconds (the HTTP-date form is not used by FCM or APNs).
pub fn retry_after(headers: &hyper::HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(hyper::header::RETRY_AFTER)?.to_str().ok()?;
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(std::time::Duration::from_secs)
}

/// The outcome of one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// What happened.
    pub status: Status,
    /// A sentence for the operator (status code, reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Outcome {
    /// Delivered.
    pub fn delivered() -> Outcome {
        Outcome {
            status: Status::Delivered,
            detail: None,
        }
    }

    /// Failed with a reason.
    pub fn failed(detail: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Failed,
            detail: Some(detail.into()),
        }
    }

    /// With a status and a reason.
    pub fn with(status: Status, detail: impl Into<String>) -> Outcome {
        Outcome {
            status,
            detail: Some(detail.into()),
        }
    }
}

/// The message as it goes to one subscriber (localized, formatted for its provider and tag).
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The published tag.
    pub tag: String,
    /// The message text in the subscriber's language.
    pub text: String,
    /// `mediatype` of the publish, if any.
    pub mediatype: Option<String>,
    /// `expire` of the publish (seconds), if any.
    pub expire: Option<u64>,
    /// OS formatting for this provider and tag.
    pub format: OsFormat,
    /// The subscription the message goes to.
    pub subscription_id: String,
}
