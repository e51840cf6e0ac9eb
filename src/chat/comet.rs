//! The CometD mode of the Chat API (`notify_by=comet`): every entry a chat gets goes to the `/_genesys` channel of
//! the `gms_user` that created it, as `{"message": <chat state>, "id", "tag": "service.chat.refresh.<n>-<id>"}`
//! (the state shows the new entry; `transcriptPosition` is the next position); and a client that sent
//! `/meta/disconnect` with `ext.transcriptPosition` gets, once it has handshaken again and subscribed to
//! `/_genesys`, every entry from that position: nothing lost, nothing repeated.
//!
//! Deliveries reach the user's clients on this node ([`crate::cometd::Server::deliver_to_user`]); when the user
//! has none here (behind a load balancer its client may be connected to another node), they go through the
//! notification service's comet relay to the other nodes of the store.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::chat::transcript::{ChatState, Entry};
use crate::chat::{ChatListener, ChatMeta, ChatView, Chats};
use crate::cometd::{GENESYS_CHANNEL, Server, SessionListener};
use crate::notify::deliver::comet::Relay;

/// How long a resume position waits for the client's new handshake.
const RESUME_TTL: Duration = Duration::from_secs(3600);

fn resume_key(user: &str) -> String {
    format!("chat-resume:{user}")
}

/// The message of `view` on `/_genesys`.
pub fn message(view: &ChatView) -> Value {
    json!({
        "message": view.to_json(),
        "id": crate::storage::new_id(),
        "tag": format!("service.chat.refresh.{}-{}", view.next_position.saturating_sub(1), view.meta.service),
    })
}

/// Delivers chat changes over CometD and resumes clients that come back.
#[derive(Debug)]
pub struct ChatComet {
    cometd: Arc<Server>,
    chats: Weak<Chats>,
    relay: std::sync::OnceLock<Arc<Relay>>,
}

impl ChatComet {
    /// Delivers through `cometd` the changes of `chats`; sets itself as the listener of both.
    pub fn install(cometd: Arc<Server>, chats: &Arc<Chats>) -> Arc<ChatComet> {
        let comet = Arc::new(ChatComet {
            cometd: cometd.clone(),
            chats: Arc::downgrade(chats),
            relay: std::sync::OnceLock::new(),
        });
        chats.set_listener(comet.clone());
        cometd.set_listener(comet.clone());
        comet
    }

    /// Sends deliveries for users with no client on this node through `relay` (set once).
    pub fn set_relay(&self, relay: Arc<Relay>) {
        let _ = self.relay.set(relay);
    }

    /// Delivers `data` to the user's clients here, or hands it to the other nodes.
    fn deliver(&self, user: &str, data: Value) {
        if self
            .cometd
            .deliver_to_user(user, GENESYS_CHANNEL, data.clone())
            > 0
        {
            return;
        }
        if let Some(relay) = self.relay.get().cloned() {
            let user = user.to_string();
            tokio::spawn(async move {
                if let Err(error) = relay.send(&user, data).await {
                    tracing::warn!(%user, %error, "chat delivery not relayed to the other nodes");
                }
            });
        }
    }
}

impl ChatListener for ChatComet {
    fn added(&self, meta: &ChatMeta, position: u64, entry: &Entry, state: ChatState) {
        let Some(user) = &meta.comet_user else {
            return;
        };
        let view = ChatView {
            meta: meta.clone(),
            state,
            entries: vec![entry.clone()],
            next_position: position + 1,
            agents: Vec::new(),
        };
        self.deliver(user, message(&view));
    }
}

fn position_of(ext: Option<&Value>) -> Option<u64> {
    match ext?.get("transcriptPosition")? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

impl SessionListener for ChatComet {
    fn disconnected(&self, user: &str, ext: Option<&Value>) {
        let (Some(position), Some(chats)) = (position_of(ext), self.chats.upgrade()) else {
            return;
        };
        let user = user.to_string();
        tokio::spawn(async move {
            let stored = chats
                .store()
                .set(
                    &resume_key(&user),
                    Bytes::from(position.to_string()),
                    Some(RESUME_TTL),
                )
                .await;
            if let Err(error) = stored {
                tracing::warn!(%user, %error, "chat resume position not kept");
            }
        });
    }

    fn subscribed(&self, user: &str) {
        let Some(chats) = self.chats.upgrade() else {
            return;
        };
        let user = user.to_string();
        let cometd = self.cometd.clone();
        tokio::spawn(async move {
            let key = resume_key(&user);
            let position = match chats.store().get(&key).await {
                Ok(Some(bytes)) => std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok()),
                _ => None,
            };
            let Some(position) = position else {
                return;
            };
            let _ = chats.store().delete(&key).await;
            match chats.chats_of_comet_user(&user, position.max(1)).await {
                Ok(views) => {
                    for view in views.iter().filter(|view| !view.entries.is_empty()) {
                        cometd.deliver_to_user(&user, GENESYS_CHANNEL, message(view));
                    }
                }
                Err(error) => tracing::warn!(%user, %error, "chat not resumed"),
            }
        });
    }
}
