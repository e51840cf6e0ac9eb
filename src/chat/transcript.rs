//! A chat's transcript as GMS clients read it: entries `[eventType, nickname, text, n, partyType]`, the state a
//! transcript puts the chat in (`chatIxnState`), and `startedAt` as clients parse it.
//!
//! Element 3 of an entry (`n`) is the number of whole seconds since the chat started: clients disagree on its
//! meaning (seconds since `startedAt`, or a party id) and a number of seconds serves the one that computes with it
//! while the other only shows it.

use serde::{Deserialize, Serialize};

/// What an entry records (`eventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// `Message.Text`.
    #[serde(rename = "Message.Text")]
    Text,
    /// `Notice.Joined`.
    #[serde(rename = "Notice.Joined")]
    Joined,
    /// `Notice.Left`.
    #[serde(rename = "Notice.Left")]
    Left,
    /// `Notice.TypingStarted`.
    #[serde(rename = "Notice.TypingStarted")]
    TypingStarted,
    /// `Notice.TypingStopped`.
    #[serde(rename = "Notice.TypingStopped")]
    TypingStopped,
    /// `Notice.PushUrl`.
    #[serde(rename = "Notice.PushUrl")]
    PushUrl,
    /// `Notice.Custom`.
    #[serde(rename = "Notice.Custom")]
    Custom,
}

impl EventType {
    /// The name clients match on.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Text => "Message.Text",
            EventType::Joined => "Notice.Joined",
            EventType::Left => "Notice.Left",
            EventType::TypingStarted => "Notice.TypingStarted",
            EventType::TypingStopped => "Notice.TypingStopped",
            EventType::PushUrl => "Notice.PushUrl",
            EventType::Custom => "Notice.Custom",
        }
    }
}

/// Who wrote an entry (`partyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartyType {
    /// The customer's app.
    #[serde(rename = "CLIENT")]
    Client,
    /// An agent.
    #[serde(rename = "AGENT")]
    Agent,
    /// A system party (the back end itself).
    #[serde(rename = "EXTERNAL")]
    External,
    /// A supervisor.
    #[serde(rename = "SUPERVISOR")]
    Supervisor,
}

impl PartyType {
    /// The name clients match on.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyType::Client => "CLIENT",
            PartyType::Agent => "AGENT",
            PartyType::External => "EXTERNAL",
            PartyType::Supervisor => "SUPERVISOR",
        }
    }
}

/// One transcript entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// What happened.
    pub event: EventType,
    /// The party's nickname.
    pub nickname: String,
    /// The text (the message, or the notice's sentence).
    pub text: String,
    /// Who.
    pub party: PartyType,
    /// The agent's id for an agent's entry (not shown to the client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// When (ms since the epoch).
    pub at_ms: u64,
}

impl Entry {
    /// The entry as clients read it: five strings, the fourth the whole seconds since `started_ms`.
    pub fn to_json(&self, started_ms: u64) -> serde_json::Value {
        serde_json::json!([
            self.event.as_str(),
            self.nickname,
            self.text,
            (self.at_ms.saturating_sub(started_ms) / 1000).to_string(),
            self.party.as_str(),
        ])
    }
}

/// `chatIxnState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatState {
    /// The customer is in the chat.
    Connected,
    /// The chat has ended (the customer left, or the back end ended it).
    Disconnected,
}

impl ChatState {
    /// The name clients match on.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Connected => "CONNECTED",
            ChatState::Disconnected => "DISCONNECTED",
        }
    }
}

/// The state `entries` (in order) put a chat in: disconnected once its customer, or the back end, has left, or
/// once the last agent who joined has left (as a chat ends for the customer when its agent leaves).
pub fn state_of<'a>(entries: impl IntoIterator<Item = &'a Entry> + Clone) -> ChatState {
    let mut any_agent = false;
    let mut ended = false;
    for entry in entries.clone() {
        any_agent |= entry.party == PartyType::Agent && entry.event == EventType::Joined;
        ended |= entry.event == EventType::Left
            && matches!(entry.party, PartyType::Client | PartyType::External);
    }
    if ended || (any_agent && agents_of(entries).is_empty()) {
        ChatState::Disconnected
    } else {
        ChatState::Connected
    }
}

/// The agents in the chat after `entries`: joined and not left, in the order they joined.
pub fn agents_of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<String> {
    let mut agents: Vec<String> = Vec::new();
    for entry in entries {
        let Some(agent) = &entry.agent else { continue };
        match entry.event {
            EventType::Joined if !agents.contains(agent) => agents.push(agent.clone()),
            EventType::Left => agents.retain(|present| present != agent),
            _ => {}
        }
    }
    agents
}

/// `startedAt` as clients parse it: `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn timestamp(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event: EventType, party: PartyType, agent: Option<&str>) -> Entry {
        Entry {
            event,
            nickname: "n".to_string(),
            text: "t".to_string(),
            party,
            agent: agent.map(str::to_string),
            at_ms: 7_500,
        }
    }

    #[test]
    fn entries_read_as_clients_expect() {
        let joined = entry(EventType::Joined, PartyType::Agent, Some("agent1"));
        assert_eq!(
            joined.to_json(1_000),
            serde_json::json!(["Notice.Joined", "n", "t", "6", "AGENT"])
        );
        assert_eq!(timestamp(1_764_806_400_000), "2025-12-04T00:00:00Z");
    }

    #[test]
    fn state_and_agents_follow_the_transcript() {
        let mut entries = vec![entry(EventType::Joined, PartyType::Client, None)];
        assert_eq!(state_of(&entries), ChatState::Connected);
        entries.push(entry(EventType::Joined, PartyType::Agent, Some("a1")));
        entries.push(entry(EventType::Joined, PartyType::Agent, Some("a2")));
        entries.push(entry(EventType::Left, PartyType::Agent, Some("a1")));
        assert_eq!(agents_of(&entries), vec!["a2".to_string()]);
        assert_eq!(state_of(&entries), ChatState::Connected);
        let mut customer_left = entries.clone();
        customer_left.push(entry(EventType::Left, PartyType::Client, None));
        assert_eq!(state_of(&customer_left), ChatState::Disconnected);
        // The last agent leaving ends the chat too.
        entries.push(entry(EventType::Left, PartyType::Agent, Some("a2")));
        assert_eq!(state_of(&entries), ChatState::Disconnected);
    }
}
