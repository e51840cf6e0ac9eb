//! Pub/sub for the Redis backend: one RESP3 connection per store carries every subscription of this process and
//! fans each message out to the local [`Subscription`]s of its channel. The connection manager reconnects and
//! subscribes again by itself after Redis comes back. Channels are prefixed `gms:` in Redis.
//!
//! A channel is subscribed in Redis when its first local subscriber arrives (the call returns once Redis has
//! confirmed, so a publish after it is delivered) and unsubscribed once a message finds no local subscriber left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ProtocolVersion, PushKind, RedisResult, Value};
use tokio::sync::mpsc;

use super::Options;
use crate::store::Subscription;

/// How many messages a subscriber may fall behind before it loses new ones (as the embedded backend).
const SUBSCRIBER_QUEUE: usize = 1024;
/// The prefix of `gms` channels in Redis.
const PREFIX: &str = "gms:";

/// The Redis channel of store channel `channel`.
pub fn channel(channel: &str) -> String {
    format!("{PREFIX}{channel}")
}

type Senders = Arc<Mutex<HashMap<String, Vec<mpsc::Sender<Bytes>>>>>;

/// The subscriber connection and the local subscribers.
pub struct Hub {
    manager: tokio::sync::Mutex<ConnectionManager>,
    senders: Senders,
}

impl Hub {
    /// Connects (RESP3) to the server at `url` for subscriptions.
    pub async fn open(url: &str, options: Options) -> RedisResult<Hub> {
        let client = redis::Client::open(url)?;
        let info = client.get_connection_info().clone().set_redis_settings(
            client
                .get_connection_info()
                .redis_settings()
                .clone()
                .set_protocol(ProtocolVersion::RESP3),
        );
        let client = redis::Client::open(info)?;
        let (pushes, mut received) = mpsc::unbounded_channel();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_push_sender(pushes)
            .set_automatic_resubscription();
        let manager = client.get_connection_manager_with_config(config).await?;
        let senders: Senders = Arc::default();
        let fan_out = senders.clone();
        let unsubscriber = manager.clone();
        tokio::spawn(async move {
            while let Some(push) = received.recv().await {
                if push.kind != PushKind::Message {
                    continue;
                }
                let (Some(Value::BulkString(name)), Some(Value::BulkString(payload))) =
                    (push.data.first(), push.data.get(1))
                else {
                    continue;
                };
                let name = String::from_utf8_lossy(name);
                let Some(local) = name.strip_prefix(PREFIX) else {
                    continue;
                };
                let abandoned = {
                    let mut senders = crate::sync::lock(&fan_out);
                    match senders.get_mut(local) {
                        Some(list) => {
                            list.retain(|sender| !sender.is_closed());
                            for sender in list.iter() {
                                // A full queue loses this message for that subscriber only.
                                let _ = sender.try_send(Bytes::copy_from_slice(payload));
                            }
                            if list.is_empty() {
                                senders.remove(local);
                                true
                            } else {
                                false
                            }
                        }
                        None => true,
                    }
                };
                if abandoned {
                    let mut manager = unsubscriber.clone();
                    let name = name.into_owned();
                    tokio::spawn(async move {
                        let _ = manager.unsubscribe(name).await;
                    });
                }
            }
        });
        Ok(Hub {
            manager: tokio::sync::Mutex::new(manager),
            senders,
        })
    }

    /// A new local subscriber of `name`; subscribes in Redis first when it is the channel's first.
    pub async fn subscribe(&self, name: &str) -> RedisResult<Subscription> {
        let (sender, receiver) = mpsc::channel(SUBSCRIBER_QUEUE);
        // One subscribe at a time, so two first subscribers do not race each other's confirmation.
        let mut manager = self.manager.lock().await;
        let first = {
            let mut senders = crate::sync::lock(&self.senders);
            let list = senders.entry(name.to_string()).or_default();
            list.retain(|sender| !sender.is_closed());
            list.push(sender);
            list.len() == 1
        };
        if first && let Err(error) = manager.subscribe(channel(name)).await {
            crate::sync::lock(&self.senders).remove(name);
            return Err(error);
        }
        Ok(Subscription::new(receiver))
    }
}
