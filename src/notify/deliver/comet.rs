//! `comet`: the message goes on `/_genesys` to the CometD clients of the `gms_user` named by `deviceId`, as
//! `{"message", "tag", "subscriptionId", "mediatype"}` (clients read `data.message`).
//!
//! With several nodes a user's clients may be connected to another node: a [`Relay`] hands the delivery to the
//! other nodes through the store's pub/sub channel `notify:comet`, and each node delivers to its own clients.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Outcome, Outgoing, Status};
use crate::cometd::{GENESYS_CHANNEL, Server};
use crate::store::Store;

/// The store pub/sub channel comet deliveries travel on between nodes.
pub const RELAY_CHANNEL: &str = "notify:comet";

/// One relayed delivery.
#[derive(Debug, Serialize, Deserialize)]
struct Relayed {
    origin: String,
    user: String,
    data: Value,
}

/// Hands comet deliveries to the other nodes and delivers theirs here.
#[derive(Debug)]
pub struct Relay {
    node: String,
    store: Arc<dyn Store>,
}

impl Relay {
    /// Starts relaying through `store`: the returned relay sends, the spawned task delivers what other nodes
    /// send to `server`'s clients. The task ends when the store closes.
    pub async fn start(
        store: Arc<dyn Store>,
        server: Arc<Server>,
    ) -> Result<Arc<Relay>, crate::store::Error> {
        let bytes: [u8; 8] = rand::random();
        let node: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut subscription = store.subscribe(RELAY_CHANNEL).await?;
        let own = node.clone();
        tokio::spawn(async move {
            while let Some(payload) = subscription.recv().await {
                match serde_json::from_slice::<Relayed>(&payload) {
                    Ok(relayed) if relayed.origin != own => {
                        server.deliver_to_user(&relayed.user, GENESYS_CHANNEL, relayed.data);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "bad relayed comet delivery"),
                }
            }
        });
        Ok(Arc::new(Relay { node, store }))
    }

    /// Hands `data` for the `/_genesys` clients of `user` to the other nodes.
    pub async fn send(&self, user: &str, data: Value) -> Result<(), String> {
        let relayed = Relayed {
            origin: self.node.clone(),
            user: user.to_string(),
            data,
        };
        let payload = serde_json::to_vec(&relayed).map_err(|error| error.to_string())?;
        self.store
            .publish(RELAY_CHANNEL, Bytes::from(payload))
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}

/// The data of the `/_genesys` message.
pub fn data(outgoing: &Outgoing) -> Value {
    let mut data = json!({
        "message": outgoing.text,
        "tag": outgoing.tag,
        "subscriptionId": outgoing.subscription_id,
    });
    if let Some(mediatype) = &outgoing.mediatype {
        data["mediatype"] = json!(mediatype);
    }
    data
}

/// Delivers to the user's clients on this node; when none is here, relays to the other nodes if a relay is
/// running (status `relayed`), and fails otherwise.
pub async fn deliver(
    server: &Server,
    relay: Option<&Relay>,
    user: &str,
    outgoing: &Outgoing,
) -> Outcome {
    let data = data(outgoing);
    if server.deliver_to_user(user, GENESYS_CHANNEL, data.clone()) > 0 {
        return Outcome::delivered();
    }
    match relay {
        Some(relay) => match relay.send(user, data).await {
            Ok(()) => Outcome::with(
                Status::Relayed,
                format!("no client of `{user}` on this node; handed to the other nodes"),
            ),
            Err(error) => Outcome::failed(format!("relay to the other nodes failed: {error}")),
        },
        None => Outcome::failed(format!(
            "no CometD client of `{user}` is subscribed to {GENESYS_CHANNEL}"
        )),
    }
}
