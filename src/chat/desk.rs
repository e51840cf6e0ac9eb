//! [`ChatDesk`]: the Chat API's operations over the pieces they join — the service instance a chat belongs to
//! (any live instance: `request-chat`, or an `ors` service whose flow routes the chat), the chat itself, its
//! routing, the device subscribed for pokes — so the HTTP layer only reads requests and writes answers.
//!
//! `chat-sync` (`POST /genesys/1/service/chat-sync`, on the public Allow list but described nowhere) is, here, the
//! synchronous form of the basic chat: one call creates the `request-chat` instance and its chat, and answers the
//! chat state with the instance's `_id` and `_chatIxnAPI-CREATE-URL`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::chat::routing::{ChatRouting, queue_for};
use crate::chat::{ChatStart, ChatView, Chats, poke};
use crate::clock::Clock;
use crate::config::ConfigHandle;
use crate::services::ServiceRegistry;
use crate::storage::DataSet;

/// The basic chat service `chat-sync` creates.
pub const BASIC_SERVICE: &str = "request-chat";

/// Why a Chat API operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is missing or wrong.
    #[error("{0}")]
    BadParameter(String),
    /// The chat refused.
    #[error(transparent)]
    Chat(#[from] crate::chat::Error),
    /// The service instance is unknown, or creating it failed.
    #[error(transparent)]
    Service(#[from] crate::services::Error),
    /// The Notification service refused the device or the poke.
    #[error("{0}")]
    Notify(String),
}

/// Result of the desk.
pub type Result<T> = std::result::Result<T, Error>;

/// The fields of `ixn/chat` that mean something to the chat; the others are kept as user data.
const KNOWN: &[&str] = &[
    "firstName",
    "lastName",
    "FirstName",
    "LastName",
    "email",
    "EmailAddress",
    "subject",
    "userDisplayName",
    "notify_by",
];

/// The first value of field `name` among `fields`.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// What the app's `ixn/chat` fields ask for; `gms_user` is the CometD user of the request (its header).
pub fn start_of(fields: &[(String, String)], gms_user: Option<&str>) -> Result<ChatStart> {
    let name = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| field(fields, key))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let full = format!(
        "{} {}",
        name(&["firstName", "FirstName"]),
        name(&["lastName", "LastName"])
    );
    let nickname = Some(name(&["userDisplayName"]))
        .filter(|nickname| !nickname.is_empty())
        .or_else(|| Some(full.trim().to_string()).filter(|full| !full.is_empty()))
        .unwrap_or_else(|| "Customer".to_string());
    let comet_user = match field(fields, "notify_by") {
        Some(notify) if notify.eq_ignore_ascii_case("comet") => Some(
            gms_user
                .filter(|user| !user.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::BadParameter(
                        "notify_by=comet needs the gms_user header of the CometD client"
                            .to_string(),
                    )
                })?,
        ),
        _ => None,
    };
    let user_data = fields
        .iter()
        .filter(|(key, _)| !key.starts_with('_') && !KNOWN.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
        .collect();
    let verbose = field(fields, "_verbose")
        .and_then(crate::config::value::parse_bool)
        .unwrap_or(false);
    Ok(ChatStart {
        nickname,
        subject: field(fields, "subject").map(str::to_string),
        email: field(fields, "email")
            .or(field(fields, "EmailAddress"))
            .map(str::to_string),
        user_data,
        comet_user,
        verbose,
        ttl: Duration::ZERO,
    })
}

/// The Chat API's operations that need more than [`Chats`].
#[derive(Debug)]
pub struct ChatDesk {
    /// The chats.
    pub chats: Arc<Chats>,
    /// The Service API (the instance a chat belongs to).
    pub services: Arc<ServiceRegistry>,
    /// The clock (a chat lives as long as its instance).
    pub clock: Arc<dyn Clock>,
    /// Routing to agents.
    pub routing: Arc<ChatRouting>,
    /// The configuration (queues, poke options).
    pub config: Arc<ConfigHandle>,
    /// The Notification service (pokes).
    pub notify: Arc<crate::notify::Service>,
}

impl ChatDesk {
    /// `ixn/chat` on instance `id`: creates its chat, subscribes the device the fields name for pokes, and
    /// routes the chat (to the instance's flow when its kind routes chats, else to the chat queue).
    pub async fn open(
        &self,
        id: &str,
        fields: &[(String, String)],
        gms_user: Option<&str>,
    ) -> Result<ChatView> {
        let mut start = start_of(fields, gms_user)?;
        let record = self.services.core().load(id).await?;
        start.ttl = Duration::from_millis(
            record
                .expires_ms
                .saturating_sub(self.clock.now_ms())
                .max(1000),
        );
        let config = self.config.get();
        if let Some(url) = poke::url(&config, &record.service, id) {
            start.user_data.insert("_poke_url".into(), url.into());
        }
        let device_field = |name: &str| field(fields, name).map(str::to_string);
        poke::subscribe_device(&self.notify, id, device_field, start.ttl)
            .await
            .map_err(|error| {
                Error::Notify(format!("push notification subscription refused: {error}"))
            })?;
        let view = self.chats.create(id, start).await?;
        let routed = if self.services.routes_chats(&record) {
            let udata = view
                .meta
                .user_data
                .iter()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
                .collect();
            self.routing.forward(id, udata)
        } else {
            let (queue, timeout) = queue_for(&config, &record.service);
            self.routing.submit(id, &queue, timeout)
        };
        if let Err(error) = routed {
            // The chat exists; the customer learns of its end from the back end's notice.
            tracing::warn!(service = %id, %error, "chat not submitted for routing");
            self.chats.end(id, "the chat could not be routed").await?;
        }
        Ok(view)
    }

    /// `chat-sync`: creates a `request-chat` instance (the fields starting with `_` are its parameters) and its
    /// chat in one call; answers the chat state with `_id` and `_chatIxnAPI-CREATE-URL`.
    pub async fn open_sync(
        &self,
        fields: &[(String, String)],
        gms_user: Option<&str>,
    ) -> Result<Value> {
        let params: BTreeMap<String, String> = fields
            .iter()
            .filter(|(key, _)| key.starts_with('_'))
            .cloned()
            .collect();
        let reply = self
            .services
            .create(BASIC_SERVICE, params, DataSet::default())
            .await?;
        let id = reply
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut answer = self.open(&id, fields, gms_user).await?.to_json();
        if let Some(object) = answer.as_object_mut() {
            object.insert("_id".into(), id.clone().into());
            object.insert(
                "_chatIxnAPI-CREATE-URL".into(),
                crate::chat::api_path(&id).into(),
            );
        }
        Ok(answer)
    }

    /// Internal poke of the chat of `id`: `message`, else the service's `default_poke_message`; answers the
    /// Notification service's delivery report.
    pub async fn poke(&self, id: &str, message: Option<&str>) -> Result<Value> {
        self.chats.meta(id).await?;
        let record = self.services.core().load(id).await?;
        let config = self.config.get();
        let message = message
            .filter(|message| !message.is_empty())
            .or_else(|| poke::default_message(&config, &record.service))
            .ok_or_else(|| {
                Error::BadParameter(
                    "no `poke_message`, and the service has no `default_poke_message`".to_string(),
                )
            })?
            .to_string();
        poke::poke(&self.notify, id, &message)
            .await
            .map_err(|error| Error::Notify(error.to_string()))
    }
}
