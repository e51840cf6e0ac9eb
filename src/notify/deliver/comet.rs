//! `comet`: the message goes on `/_genesys` to the CometD clients of the `gms_user` named by `deviceId`, as
//! `{"message", "tag", "subscriptionId", "mediatype"}` (clients read `data.message`).

use serde_json::json;

use super::{Outcome, Outgoing};
use crate::cometd::{GENESYS_CHANNEL, Server};

/// Delivers to the user's subscribed clients; failed when none is connected.
pub fn deliver(server: &Server, user: &str, outgoing: &Outgoing) -> Outcome {
    let mut data = json!({
        "message": outgoing.text,
        "tag": outgoing.tag,
        "subscriptionId": outgoing.subscription_id,
    });
    if let Some(mediatype) = &outgoing.mediatype {
        data["mediatype"] = json!(mediatype);
    }
    match server.deliver_to_user(user, GENESYS_CHANNEL, data) {
        0 => Outcome::failed(format!(
            "no CometD client of `{user}` is subscribed to {GENESYS_CHANNEL}"
        )),
        _ => Outcome::delivered(),
    }
}
