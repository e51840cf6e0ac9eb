//! One CometD client: its subscriptions, its queue of messages waiting for a connect, and the wake-up used by
//! the long-poll waiter.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::Notify;

use super::message::Message;

/// State of one handshaken client.
#[derive(Debug)]
pub struct ClientSession {
    /// The client id handed out at handshake.
    pub id: String,
    /// The `gms_user` the client identified as (header or `ext.gms_user`), if any.
    pub user: Option<String>,
    /// Woken when a message is queued, a newer connect arrives, or the session ends.
    pub(crate) wake: Notify,
    pub(crate) state: Mutex<SessionState>,
}

/// The mutable part of a session, behind one short-held lock.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub queue: VecDeque<Message>,
    pub subscriptions: HashSet<String>,
    /// Last time a request from this client was seen or a connect returned.
    pub last_seen: Instant,
    /// Number of connects currently held.
    pub connects_held: u32,
    /// Bumped by every connect so an older held connect knows it has been replaced.
    pub connect_generation: u64,
    /// Whether a connect was already answered (the first one returns at once).
    pub connected_once: bool,
    /// Set when the session is removed; held connects return with `reconnect: handshake` or `none`.
    pub ended: Option<EndReason>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The client sent `/meta/disconnect`.
    Disconnected,
    /// The server dropped it (expiry or administrative drop): the client must handshake again.
    Dropped,
}

impl ClientSession {
    pub(crate) fn new(id: String, user: Option<String>, now: Instant) -> Self {
        ClientSession {
            id,
            user,
            wake: Notify::new(),
            state: Mutex::new(SessionState {
                queue: VecDeque::new(),
                subscriptions: HashSet::new(),
                last_seen: now,
                connects_held: 0,
                connect_generation: 0,
                connected_once: false,
                ended: None,
            }),
        }
    }

    /// Locks the state; a poisoned lock only means another request panicked, the data stays usable.
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        crate::sync::lock(&self.state)
    }

    /// Queues a message for the next connect, dropping the oldest beyond `max_queue`.
    pub(crate) fn enqueue(&self, message: Message, max_queue: usize) -> bool {
        let mut state = self.lock();
        if state.ended.is_some() {
            return false;
        }
        if state.queue.len() >= max_queue {
            state.queue.pop_front();
            tracing::warn!(client = %self.id, "cometd queue full, oldest message dropped");
        }
        state.queue.push_back(message);
        drop(state);
        self.wake.notify_waiters();
        true
    }

    /// Whether the client subscribed to `/_genesys`-like `channel` (exact or wildcard).
    pub fn is_subscribed(&self, channel: &str) -> bool {
        let state = self.lock();
        super::channel::matching_patterns(channel)
            .iter()
            .any(|pattern| state.subscriptions.contains(pattern))
    }
}
