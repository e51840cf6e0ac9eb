//! The built-in chat back end behind the GMS Chat API: one chat per service instance, its participants, transcript,
//! positions and typing notices, all kept in [`crate::store::Store`] so that a chat survives a restart and every
//! node that shares the store reads the same chat.
//!
//! # How a chat is kept
//! - `chat:{service}` — the chat's creation data ([`ChatMeta`], JSON), written with `set_if_absent`, so a second
//!   `ixn/chat` on the same service is refused.
//! - `chat:{service}:e:{n}` — transcript entry `n` (1, 2, ...; zero-padded so keys list in order), each written with
//!   `set_if_absent` at the first free number: writers never read-modify-write a shared value, so a customer and an
//!   agent writing at once both land, in one order every reader sees.
//! - `chat:{service}:read` — the position the customer's app has read up to, for refreshes that give none.
//! - `chat-agent:{agent}:{service}` — the chats an agent is in.
//!
//! Everything lives as long as the chat ([`ChatMeta::expires_ms`]). The state (`CONNECTED` / `DISCONNECTED`) and the
//! agents present are worked out from the transcript ([`transcript::state_of`], [`transcript::agents_of`]).
//!
//! # Positions
//! Entries are numbered from 1. A refresh from position `p` returns the entries `p..`; every answer's
//! `transcriptPosition` is the position to ask next (one past the last entry), a JSON number. A refresh without a
//! position returns what the customer's app has not been given yet, and once the app has been shown the end of
//! the chat, [`Error::Ended`] (clients take an error answer as "the chat is over"). Position 0 reads from the
//! start; a negative position, or one past the next, is refused.

pub mod comet;
pub mod desk;
pub mod poke;
pub mod routing;
pub mod transcript;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::store::{self, Store};
use transcript::{ChatState, Entry, EventType, PartyType};

/// The longest message a party may send, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// The most entries one chat keeps; a chat that reaches it takes no more messages.
pub const MAX_ENTRIES: usize = 10_000;

/// Why a chat operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service has no chat (none was created on it, or it has expired).
    #[error("service `{0}` has no chat")]
    NotFound(String),
    /// A chat was already created on this service.
    #[error("service `{0}` already has a chat")]
    AlreadyExists(String),
    /// The chat has ended: it takes nothing more.
    #[error("the chat of service `{0}` has ended")]
    Ended(String),
    /// A transcript position out of range.
    #[error("transcriptPosition {given} is out of range: the transcript has positions 0 to {next}")]
    BadPosition {
        /// The position asked for.
        given: i64,
        /// The next position (one past the last entry).
        next: u64,
    },
    /// A message over [`MAX_MESSAGE_BYTES`].
    #[error("the message has {size} bytes, more than the limit of {limit}")]
    TooLong {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The chat has [`MAX_ENTRIES`] entries.
    #[error("the chat of service `{0}` is full ({MAX_ENTRIES} entries)")]
    Full(String),
    /// The agent is not in this chat.
    #[error("agent `{agent}` is not in the chat of service `{service}`")]
    NotInChat {
        /// The agent.
        agent: String,
        /// The service.
        service: String,
    },
    /// The store failed, or holds something that does not decode.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Chat result.
pub type Result<T> = std::result::Result<T, Error>;

/// What the customer's app gives when it creates the chat.
#[derive(Debug, Clone, Default)]
pub struct ChatStart {
    /// The customer's nickname (`userDisplayName`, else first and last name, else `Customer`).
    pub nickname: String,
    /// `subject`.
    pub subject: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// Every other field, kept as the chat's user data.
    pub user_data: serde_json::Map<String, serde_json::Value>,
    /// `notify_by=comet`: the `gms_user` whose `/_genesys` channel gets every change.
    pub comet_user: Option<String>,
    /// `_verbose`: answers carry the chat's URLs and connection fields.
    pub verbose: bool,
    /// How long the chat lives.
    pub ttl: Duration,
}

/// A chat's creation data, as stored under `chat:{service}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMeta {
    /// The service the chat belongs to (`_id`).
    pub service: String,
    /// `chatSessionId`.
    pub chat_session_id: String,
    /// When it started (ms since the epoch).
    pub started_ms: u64,
    /// When it is forgotten (ms since the epoch).
    pub expires_ms: u64,
    /// The customer's nickname.
    pub nickname: String,
    /// `subject`.
    pub subject: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// The other fields the app gave.
    pub user_data: serde_json::Map<String, serde_json::Value>,
    /// The `gms_user` of `notify_by=comet`.
    pub comet_user: Option<String>,
    /// `_verbose` was given.
    pub verbose: bool,
}

/// A chat as one answer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatView {
    /// The creation data.
    pub meta: ChatMeta,
    /// `chatIxnState`.
    pub state: ChatState,
    /// The entries shown (from the position asked for).
    pub entries: Vec<Entry>,
    /// The position to ask next.
    pub next_position: u64,
    /// The agents in the chat.
    pub agents: Vec<String>,
}

impl ChatView {
    /// The answer clients read: `chatIxnState`, `chatSessionId`, `transcriptPosition` (a number),
    /// `transcriptToShow`, `startedAt`, `chatServiceMessage`; with `_verbose`, the six `_chatIxnAPI_*_URL`s of the
    /// service and the connection fields clients map.
    pub fn to_json(&self) -> serde_json::Value {
        let started = self.meta.started_ms;
        let mut reply = serde_json::json!({
            "chatIxnState": self.state.as_str(),
            "chatSessionId": self.meta.chat_session_id,
            "transcriptPosition": self.next_position,
            "transcriptToShow": self.entries.iter().map(|entry| entry.to_json(started)).collect::<Vec<_>>(),
            "startedAt": transcript::timestamp(started),
            "chatServiceMessage": match self.state {
                ChatState::Connected => "Chat service is available",
                ChatState::Disconnected => "Chat session has ended",
            },
        });
        if self.meta.verbose
            && let Some(object) = reply.as_object_mut()
        {
            let base = api_path(&self.meta.service);
            for (field, path) in [
                ("_chatIxnAPI_SEND_URL", "/send"),
                ("_chatIxnAPI_REFRESH_URL", "/refresh"),
                ("_chatIxnAPI_START_TYPING_URL", "/startTyping"),
                ("_chatIxnAPI_STOP_TYPING_URL", "/stopTyping"),
                ("_chatIxnAPI_DISCONNECT_URL", "/disconnect"),
                (
                    "_chatIxnAPI_REFRESH_FROM_START_URL",
                    "/refresh?transcriptPosition=1",
                ),
            ] {
                object.insert(field.into(), format!("{base}{path}").into());
            }
            // The fields a client of a Chat Server connection maps; here the chat is served by GMS itself.
            object.insert("userId".into(), self.meta.chat_session_id.clone().into());
            object.insert("secureKey".into(), self.meta.chat_session_id.clone().into());
            object.insert("chatServerHost".into(), "".into());
            object.insert("chatWebApiPort".into(), 0.into());
            object.insert("isTLSrequired".into(), false.into());
            object.insert("clientTimeZoneOffset".into(), 0.into());
            object.insert("checkChatServiceLoadBalancerPath".into(), "".into());
            object.insert("chatServerLoadBalancerAlias".into(), "".into());
        }
        reply
    }
}

/// The Chat API path of the chat of service `service` (`/genesys/1/service/{id}/ixn/chat`).
pub fn api_path(service: &str) -> String {
    format!("/genesys/1/service/{service}/ixn/chat")
}

/// An agent's view of one of its chats.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentChat {
    /// The service (`_id`).
    pub service: String,
    /// The chat.
    pub view: ChatView,
}

fn meta_key(service: &str) -> String {
    format!("chat:{service}")
}

fn entries_prefix(service: &str) -> String {
    format!("chat:{service}:e:")
}

fn entry_key(service: &str, n: u64) -> String {
    format!("chat:{service}:e:{n:010}")
}

fn read_key(service: &str) -> String {
    format!("chat:{service}:read")
}

/// The chats of CometD user `user` (`notify_by=comet`).
fn comet_key(user: &str, service: &str) -> String {
    format!("chat-comet:{user}:{service}")
}

fn agent_key(agent: &str, service: &str) -> String {
    format!("chat-agent:{agent}:{service}")
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::Store(store::Error::Corrupt(format!("{what}: {error}")))
}

/// Told of every entry a chat gets (the CometD mode, [`comet`]).
pub trait ChatListener: Send + Sync + std::fmt::Debug {
    /// `entry` was added to the chat `meta` (one with a CometD user) at `position`; `state` is the chat's state
    /// after it.
    fn added(&self, meta: &ChatMeta, position: u64, entry: &Entry, state: ChatState);
}

/// The chats of this GMS, kept in the store.
#[derive(Debug, Clone)]
pub struct Chats {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    listener: Arc<std::sync::OnceLock<Arc<dyn ChatListener>>>,
}

impl Chats {
    /// Chats kept in `store`, timed by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Chats {
        Chats {
            store,
            clock,
            listener: Arc::new(std::sync::OnceLock::new()),
        }
    }

    /// Sets the listener told of every new entry (once; later calls are ignored).
    pub fn set_listener(&self, listener: Arc<dyn ChatListener>) {
        let _ = self.listener.set(listener);
    }

    /// The store the chats are kept in (for the CometD mode's own keys).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn ttl(&self, meta: &ChatMeta) -> Duration {
        Duration::from_millis(meta.expires_ms.saturating_sub(self.clock.now_ms()).max(1))
    }

    /// The creation data of the chat of `service`.
    pub async fn meta(&self, service: &str) -> Result<ChatMeta> {
        let bytes = self
            .store
            .get(&meta_key(service))
            .await?
            .ok_or_else(|| Error::NotFound(service.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|error| corrupt("chat", error))
    }

    /// The whole transcript, in order.
    async fn entries(&self, service: &str) -> Result<Vec<Entry>> {
        let mut stored = self
            .store
            .scan_prefix(&entries_prefix(service), MAX_ENTRIES + 1)
            .await?;
        stored.sort_by(|a, b| a.0.cmp(&b.0));
        stored
            .iter()
            .map(|(_, bytes)| {
                serde_json::from_slice(bytes).map_err(|error| corrupt("chat entry", error))
            })
            .collect()
    }

    /// Appends `entry` at the first free position (see the module doc); returns the transcript after it.
    async fn append(&self, meta: &ChatMeta, entry: Entry) -> Result<Vec<Entry>> {
        let entries = self.entries(&meta.service).await?;
        self.append_to(meta, entries, entry).await
    }

    /// As [`Chats::append`], given the transcript as the caller has just read it.
    async fn append_to(
        &self,
        meta: &ChatMeta,
        mut entries: Vec<Entry>,
        entry: Entry,
    ) -> Result<Vec<Entry>> {
        if transcript::state_of(&entries) == ChatState::Disconnected {
            return Err(Error::Ended(meta.service.clone()));
        }
        let value =
            Bytes::from(serde_json::to_vec(&entry).map_err(|error| corrupt("chat entry", error))?);
        let ttl = self.ttl(meta);
        let mut n = entries.len() as u64 + 1;
        loop {
            if n as usize > MAX_ENTRIES {
                return Err(Error::Full(meta.service.clone()));
            }
            if self
                .store
                .set_if_absent(&entry_key(&meta.service, n), value.clone(), Some(ttl))
                .await?
            {
                break;
            }
            // Another writer took this place: the next one is ours to try.
            n += 1;
        }
        let entries = if n as usize == entries.len() + 1 {
            entries.push(entry.clone());
            entries
        } else {
            self.entries(&meta.service).await?
        };
        // Only chats in the CometD mode are delivered: the others need no state worked out here.
        if meta.comet_user.is_some()
            && let Some(listener) = self.listener.get()
        {
            listener.added(meta, n, &entry, transcript::state_of(&entries));
        }
        Ok(entries)
    }

    fn view(&self, meta: ChatMeta, entries: Vec<Entry>, from: u64) -> ChatView {
        let next_position = entries.len() as u64 + 1;
        let state = transcript::state_of(&entries);
        let agents = transcript::agents_of(&entries);
        let shown = entries
            .into_iter()
            .skip(from.saturating_sub(1) as usize)
            .collect();
        ChatView {
            meta,
            state,
            entries: shown,
            next_position,
            agents,
        }
    }

    fn entry(&self, event: EventType, nickname: &str, text: &str, party: PartyType) -> Entry {
        Entry {
            event,
            nickname: nickname.to_string(),
            text: text.to_string(),
            party,
            agent: None,
            at_ms: self.clock.now_ms(),
        }
    }

    fn check_message(message: &str) -> Result<()> {
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(Error::TooLong {
                size: message.len(),
                limit: MAX_MESSAGE_BYTES,
            });
        }
        Ok(())
    }

    /// `ixn/chat`: creates the chat of `service`; the customer joins it. The answer shows the whole transcript.
    pub async fn create(&self, service: &str, start: ChatStart) -> Result<ChatView> {
        let now = self.clock.now_ms();
        let meta = ChatMeta {
            service: service.to_string(),
            chat_session_id: crate::storage::new_id(),
            started_ms: now,
            expires_ms: now.saturating_add(start.ttl.as_millis() as u64),
            nickname: start.nickname,
            subject: start.subject,
            email: start.email,
            user_data: start.user_data,
            comet_user: start.comet_user,
            verbose: start.verbose,
        };
        let value = Bytes::from(serde_json::to_vec(&meta).map_err(|error| corrupt("chat", error))?);
        if !self
            .store
            .set_if_absent(&meta_key(service), value, Some(start.ttl))
            .await?
        {
            return Err(Error::AlreadyExists(service.to_string()));
        }
        if let Some(user) = &meta.comet_user {
            self.store
                .set(
                    &comet_key(user, service),
                    Bytes::copy_from_slice(service.as_bytes()),
                    Some(start.ttl),
                )
                .await?;
        }
        let joined = self.entry(
            EventType::Joined,
            &meta.nickname,
            "has joined the session",
            PartyType::Client,
        );
        let entries = self.append(&meta, joined).await?;
        self.mark_read(&meta, entries.len() as u64 + 1).await?;
        Ok(self.view(meta, entries, 1))
    }

    async fn mark_read(&self, meta: &ChatMeta, next: u64) -> Result<()> {
        self.store
            .set(
                &read_key(&meta.service),
                Bytes::from(next.to_string()),
                Some(self.ttl(meta)),
            )
            .await?;
        Ok(())
    }

    async fn read_position(&self, service: &str) -> Result<u64> {
        Ok(self
            .store
            .get(&read_key(service))
            .await?
            .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok())
            .unwrap_or(1))
    }

    /// `ixn/chat/refresh`: sends `message` first when given, then answers the entries from `position` (or, without
    /// one, those the customer's app has not been given yet).
    pub async fn refresh(
        &self,
        service: &str,
        position: Option<i64>,
        message: Option<&str>,
    ) -> Result<ChatView> {
        let meta = self.meta(service).await?;
        let entries = match message.filter(|message| !message.is_empty()) {
            Some(message) => {
                Self::check_message(message)?;
                let text = self.entry(EventType::Text, &meta.nickname, message, PartyType::Client);
                self.append(&meta, text).await?
            }
            None => self.entries(service).await?,
        };
        let next = entries.len() as u64 + 1;
        let read = self.read_position(service).await?;
        let from = match position {
            None => {
                let from = read.min(next);
                // An ended chat whose end the app has been shown has nothing more to say.
                if from == next && transcript::state_of(&entries) == ChatState::Disconnected {
                    return Err(Error::Ended(service.to_string()));
                }
                from
            }
            Some(given) if given < 0 || given as u64 > next => {
                return Err(Error::BadPosition { given, next });
            }
            Some(given) => (given as u64).max(1),
        };
        // A poll that finds nothing new writes nothing.
        if read != next {
            self.mark_read(&meta, next).await?;
        }
        Ok(self.view(meta, entries, from))
    }

    /// The customer's answer after `entries`: what its app has not been given yet, now marked as given.
    async fn client_view(&self, meta: ChatMeta, entries: Vec<Entry>) -> Result<ChatView> {
        let next = entries.len() as u64 + 1;
        let from = self.read_position(&meta.service).await?.min(next);
        self.mark_read(&meta, next).await?;
        Ok(self.view(meta, entries, from))
    }

    /// `ixn/chat/send`: the customer's message.
    pub async fn send(&self, service: &str, message: &str) -> Result<ChatView> {
        Self::check_message(message)?;
        let meta = self.meta(service).await?;
        let text = self.entry(EventType::Text, &meta.nickname, message, PartyType::Client);
        let entries = self.append(&meta, text).await?;
        self.client_view(meta, entries).await
    }

    /// `ixn/chat/startTyping` and `stopTyping`.
    pub async fn typing(&self, service: &str, started: bool) -> Result<ChatView> {
        let meta = self.meta(service).await?;
        let (event, text) = if started {
            (EventType::TypingStarted, "is typing")
        } else {
            (EventType::TypingStopped, "stopped typing")
        };
        let notice = self.entry(event, &meta.nickname, text, PartyType::Client);
        let entries = self.append(&meta, notice).await?;
        self.client_view(meta, entries).await
    }

    /// `ixn/chat/disconnect`: the customer leaves; the chat ends.
    pub async fn disconnect(&self, service: &str) -> Result<ChatView> {
        let meta = self.meta(service).await?;
        let left = self.entry(
            EventType::Left,
            &meta.nickname,
            "has left the session",
            PartyType::Client,
        );
        let entries = self.append(&meta, left).await?;
        self.client_view(meta, entries).await
    }

    /// The back end ends the chat of `service` (no agent took it in time): `Notice.Left`, party `EXTERNAL`, with
    /// `reason` as its text.
    pub async fn end(&self, service: &str, reason: &str) -> Result<ChatView> {
        let meta = self.meta(service).await?;
        let left = self.entry(EventType::Left, "system", reason, PartyType::External);
        let entries = self.append(&meta, left).await?;
        Ok(self.view(meta, entries, 1))
    }

    /// Agent `agent` (shown as `nickname`) joins the chat of `service`.
    pub async fn join(&self, service: &str, agent: &str, nickname: &str) -> Result<ChatView> {
        let meta = self.meta(service).await?;
        let mut joined = self.entry(
            EventType::Joined,
            nickname,
            "has joined the session",
            PartyType::Agent,
        );
        joined.agent = Some(agent.to_string());
        let entries = self.append(&meta, joined).await?;
        self.store
            .set(
                &agent_key(agent, service),
                Bytes::copy_from_slice(service.as_bytes()),
                Some(self.ttl(&meta)),
            )
            .await?;
        Ok(self.view(meta, entries, 1))
    }

    async fn agent_entry(
        &self,
        service: &str,
        agent: &str,
        event: EventType,
        text: &str,
    ) -> Result<ChatView> {
        let meta = self.meta(service).await?;
        let entries = self.entries(service).await?;
        if !transcript::agents_of(&entries)
            .iter()
            .any(|present| present == agent)
        {
            return Err(Error::NotInChat {
                agent: agent.to_string(),
                service: service.to_string(),
            });
        }
        let nickname = entries
            .iter()
            .find(|entry| entry.agent.as_deref() == Some(agent))
            .map_or_else(|| agent.to_string(), |entry| entry.nickname.clone());
        let mut entry = self.entry(event, &nickname, text, PartyType::Agent);
        entry.agent = Some(agent.to_string());
        let entries = self.append_to(&meta, entries, entry).await?;
        if event == EventType::Left {
            self.store.delete(&agent_key(agent, service)).await?;
        }
        Ok(self.view(meta, entries, 1))
    }

    /// Agent `agent` sends `message`.
    pub async fn agent_send(&self, service: &str, agent: &str, message: &str) -> Result<ChatView> {
        Self::check_message(message)?;
        self.agent_entry(service, agent, EventType::Text, message)
            .await
    }

    /// Agent `agent` starts or stops typing.
    pub async fn agent_typing(
        &self,
        service: &str,
        agent: &str,
        started: bool,
    ) -> Result<ChatView> {
        let (event, text) = if started {
            (EventType::TypingStarted, "is typing")
        } else {
            (EventType::TypingStopped, "stopped typing")
        };
        self.agent_entry(service, agent, event, text).await
    }

    /// Agent `agent` leaves the chat (the customer stays until it disconnects).
    pub async fn agent_leave(&self, service: &str, agent: &str) -> Result<ChatView> {
        self.agent_entry(service, agent, EventType::Left, "has left the session")
            .await
    }

    /// The chats created with `notify_by=comet` by CometD user `user`, with the entries from `position`.
    pub async fn chats_of_comet_user(&self, user: &str, position: u64) -> Result<Vec<ChatView>> {
        let mut views = Vec::new();
        for (_, service) in self
            .store
            .scan_prefix(&format!("chat-comet:{user}:"), 1000)
            .await?
        {
            let service = String::from_utf8_lossy(&service).into_owned();
            match self.meta(&service).await {
                Ok(meta) => {
                    let entries = self.entries(&service).await?;
                    views.push(self.view(meta, entries, position));
                }
                Err(Error::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(views)
    }

    /// The chats agent `agent` is in, with their whole transcripts.
    pub async fn chats_of(&self, agent: &str) -> Result<Vec<AgentChat>> {
        let mut chats = Vec::new();
        for (_, service) in self
            .store
            .scan_prefix(&format!("chat-agent:{agent}:"), 1000)
            .await?
        {
            let service = String::from_utf8_lossy(&service).into_owned();
            let meta = match self.meta(&service).await {
                Ok(meta) => meta,
                Err(Error::NotFound(_)) => continue,
                Err(error) => return Err(error),
            };
            let entries = self.entries(&service).await?;
            chats.push(AgentChat {
                service,
                view: self.view(meta, entries, 1),
            });
        }
        Ok(chats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::Embedded;

    fn chats() -> (Chats, ManualClock, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_800_000_000_000);
        let store = Embedded::open(dir.path(), Arc::new(clock.clone())).unwrap();
        (
            Chats::new(Arc::new(store), Arc::new(clock.clone())),
            clock,
            dir,
        )
    }

    fn start() -> ChatStart {
        ChatStart {
            nickname: "Ann".to_string(),
            ttl: Duration::from_secs(60),
            ..ChatStart::default()
        }
    }

    fn texts(view: &ChatView) -> Vec<String> {
        view.entries
            .iter()
            .map(|entry| entry.text.clone())
            .collect()
    }

    #[tokio::test]
    async fn a_position_less_refresh_gives_only_what_is_new() {
        let (chats, clock, _dir) = chats();
        let view = chats.create("s1", start()).await.unwrap();
        assert_eq!((view.state, view.next_position), (ChatState::Connected, 2));
        assert_eq!(texts(&view), ["has joined the session"]);
        assert!(matches!(
            chats.create("s1", start()).await,
            Err(Error::AlreadyExists(_))
        ));
        // Nothing new yet.
        assert!(
            chats
                .refresh("s1", None, None)
                .await
                .unwrap()
                .entries
                .is_empty()
        );
        chats.join("s1", "agent1", "Bob").await.unwrap();
        clock.advance(Duration::from_secs(3));
        chats.agent_send("s1", "agent1", "hello").await.unwrap();
        let view = chats.refresh("s1", None, Some("hi")).await.unwrap();
        assert_eq!(texts(&view), ["has joined the session", "hello", "hi"]);
        assert_eq!(view.entries[1].to_json(view.meta.started_ms)[3], "3");
        assert_eq!(view.agents, ["agent1"]);
        assert!(
            chats
                .refresh("s1", None, None)
                .await
                .unwrap()
                .entries
                .is_empty()
        );
        // An explicit position reads from there, whatever was given before.
        let view = chats.refresh("s1", Some(3), None).await.unwrap();
        assert_eq!(
            (texts(&view), view.next_position),
            (vec!["hello".to_string(), "hi".to_string()], 5)
        );
        assert_eq!(
            chats
                .refresh("s1", Some(0), None)
                .await
                .unwrap()
                .entries
                .len(),
            4
        );
        assert!(
            chats
                .refresh("s1", Some(5), None)
                .await
                .unwrap()
                .entries
                .is_empty()
        );
        for bad in [-1, 6] {
            assert!(matches!(
                chats.refresh("s1", Some(bad), None).await,
                Err(Error::BadPosition { next: 5, .. })
            ));
        }
    }

    #[tokio::test]
    async fn a_disconnected_chat_takes_nothing_more() {
        let (chats, _clock, _dir) = chats();
        chats.create("s1", start()).await.unwrap();
        chats.join("s1", "agent1", "Bob").await.unwrap();
        let view = chats.disconnect("s1").await.unwrap();
        assert_eq!(view.state, ChatState::Disconnected);
        assert!(matches!(chats.disconnect("s1").await, Err(Error::Ended(_))));
        assert!(matches!(chats.send("s1", "x").await, Err(Error::Ended(_))));
        assert!(matches!(
            chats.agent_send("s1", "agent1", "x").await,
            Err(Error::Ended(_))
        ));
        // The ended chat can still be read.
        let view = chats.refresh("s1", Some(1), None).await.unwrap();
        assert_eq!(view.state, ChatState::Disconnected);
        assert!(matches!(
            chats.refresh("nope", None, None).await,
            Err(Error::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn agents_see_their_chats_and_only_theirs() {
        let (chats, clock, _dir) = chats();
        chats.create("s1", start()).await.unwrap();
        chats.create("s2", start()).await.unwrap();
        chats.join("s1", "agent1", "Bob").await.unwrap();
        assert!(matches!(
            chats.agent_send("s2", "agent1", "x").await,
            Err(Error::NotInChat { .. })
        ));
        chats.agent_typing("s1", "agent1", true).await.unwrap();
        let mine = chats.chats_of("agent1").await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].service, "s1");
        assert_eq!(
            mine[0].view.entries.last().map(|entry| entry.event),
            Some(EventType::TypingStarted)
        );
        let long = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(matches!(
            chats.send("s1", &long).await,
            Err(Error::TooLong { .. })
        ));
        chats.agent_leave("s1", "agent1").await.unwrap();
        assert!(chats.chats_of("agent1").await.unwrap().is_empty());
        // The agent's leaving ends the chat for the customer: it is told once, then the chat is over.
        let view = chats.refresh("s1", None, None).await.unwrap();
        assert_eq!(view.state, ChatState::Disconnected);
        assert_eq!(
            view.entries.last().map(|entry| entry.event),
            Some(EventType::Left)
        );
        assert!(matches!(
            chats.refresh("s1", None, None).await,
            Err(Error::Ended(_))
        ));
        clock.advance(Duration::from_secs(61));
        assert!(matches!(
            chats.refresh("s1", None, None).await,
            Err(Error::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn writers_at_once_all_land_in_one_order() {
        let (chats, _clock, _dir) = chats();
        chats.create("s1", start()).await.unwrap();
        chats.join("s1", "agent1", "Bob").await.unwrap();
        let mut tasks = Vec::new();
        for n in 0..20 {
            let chats = chats.clone();
            tasks.push(tokio::spawn(async move {
                if n % 2 == 0 {
                    chats.send("s1", &format!("c{n}")).await.map(|_| ())
                } else {
                    chats
                        .agent_send("s1", "agent1", &format!("a{n}"))
                        .await
                        .map(|_| ())
                }
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let view = chats.refresh("s1", Some(1), None).await.unwrap();
        assert_eq!(view.entries.len(), 22);
        assert_eq!(view.next_position, 23);
    }

    #[test]
    fn verbose_answers_carry_the_six_urls() {
        let meta = ChatMeta {
            service: "s1".to_string(),
            chat_session_id: "c".to_string(),
            started_ms: 0,
            expires_ms: 1,
            nickname: "Ann".to_string(),
            subject: None,
            email: None,
            user_data: Default::default(),
            comet_user: None,
            verbose: true,
        };
        let view = ChatView {
            meta,
            state: ChatState::Connected,
            entries: Vec::new(),
            next_position: 1,
            agents: Vec::new(),
        };
        let json = view.to_json();
        assert_eq!(json["transcriptPosition"], 1);
        assert_eq!(json["startedAt"], "1970-01-01T00:00:00Z");
        assert_eq!(
            json["_chatIxnAPI_REFRESH_FROM_START_URL"],
            "/genesys/1/service/s1/ixn/chat/refresh?transcriptPosition=1"
        );
        for url in [
            "SEND",
            "REFRESH",
            "START_TYPING",
            "STOP_TYPING",
            "DISCONNECT",
        ] {
            assert!(json[format!("_chatIxnAPI_{url}_URL")].is_string(), "{json}");
        }
        assert_eq!(json["chatWebApiPort"], 0);
        assert_eq!(json["isTLSrequired"], false);
    }
}
