//! The Bayeux server: handshake, connect (long-poll), subscribe, unsubscribe, publish, disconnect, and the
//! server-side deliveries (`publish`, `deliver_to_user`). Transports hand it batches; it never sees HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::channel::{self, Kind};
use super::message::{Advice, Message};
use super::session::{ClientSession, EndReason};

/// The channel GMS delivers notifications and chat updates on.
pub const GENESYS_CHANNEL: &str = "/_genesys";

/// Timing and size limits of the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a connect may be held (Bayeux `timeout` advice).
    pub timeout: Duration,
    /// How long the client waits between connects (Bayeux `interval` advice).
    pub interval: Duration,
    /// How long after a connect returns the client may stay away before the server drops it.
    pub max_interval: Duration,
    /// Messages kept per client while it is between connects; the oldest is dropped beyond this.
    pub max_queue: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_secs(30),
            interval: Duration::ZERO,
            max_interval: Duration::from_secs(10),
            max_queue: 1000,
        }
    }
}

/// The transport a batch arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTP POST long-polling.
    LongPolling,
    /// WebSocket frames.
    WebSocket,
}

/// The CometD server shared by every transport. Cheap to share as `Arc<Server>`.
#[derive(Debug)]
pub struct Server {
    settings: Settings,
    registry: Mutex<Registry>,
    listener: std::sync::OnceLock<Arc<dyn SessionListener>>,
    closing: std::sync::atomic::AtomicBool,
}

/// Told of what a user's clients do, for services that keep state per user (chat resumes after
/// `/meta/disconnect` with `ext.transcriptPosition`). Called without any lock of the server held; it must not
/// block (hand slow work to a task).
pub trait SessionListener: Send + Sync + std::fmt::Debug {
    /// A client of `user` disconnected, with the `ext` of its `/meta/disconnect`.
    fn disconnected(&self, user: &str, ext: Option<&Value>);

    /// A client of `user` subscribed to `/_genesys`.
    fn subscribed(&self, user: &str);
}

#[derive(Debug, Default)]
struct Registry {
    sessions: HashMap<String, Arc<ClientSession>>,
    by_user: HashMap<String, HashSet<String>>,
    by_channel: HashMap<String, HashSet<String>>,
}

impl Server {
    /// A server with the given settings.
    pub fn new(settings: Settings) -> Arc<Self> {
        Arc::new(Server {
            settings,
            registry: Mutex::new(Registry::default()),
            listener: std::sync::OnceLock::new(),
            closing: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Sets the listener of users' clients (once; later calls are ignored).
    pub fn set_listener(&self, listener: Arc<dyn SessionListener>) {
        let _ = self.listener.set(listener);
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts the task that drops clients which stopped connecting; it ends when the server is dropped.
    pub fn spawn_sweeper(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Server> = Arc::downgrade(self);
        let period = (self.settings.max_interval / 2).max(Duration::from_millis(100));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                let Some(server) = weak.upgrade() else { return };
                server.sweep(Instant::now());
            }
        })
    }

    /// Number of handshaken clients.
    pub fn client_count(&self) -> usize {
        self.registry().sessions.len()
    }

    /// Handles one batch from a transport. `user` is the `gms_user` the transport carried. Non-connect messages
    /// are answered in order; a connect is answered last, after holding it until a message arrives or the
    /// timeout passes, with the queued messages appended.
    pub async fn handle(
        &self,
        batch: Vec<Message>,
        user: Option<String>,
        transport: Transport,
    ) -> Vec<Message> {
        let mut replies = Vec::with_capacity(batch.len());
        let mut connect = None;
        for request in batch {
            match request.channel.as_str() {
                "/meta/connect" if connect.is_none() => connect = Some(request),
                _ => replies.push(self.handle_one(request, user.clone(), transport)),
            }
        }
        if let Some(request) = connect {
            let (reply, deliveries) = self.connect(&request).await;
            replies.push(reply);
            replies.extend(deliveries);
        }
        replies
    }

    fn handle_one(&self, request: Message, user: Option<String>, transport: Transport) -> Message {
        match request.channel.as_str() {
            "/meta/handshake" => self.handshake(&request, user, transport),
            "/meta/subscribe" => self.subscribe(&request, true),
            "/meta/unsubscribe" => self.subscribe(&request, false),
            "/meta/disconnect" => self.disconnect(&request),
            "/meta/connect" => Message::failure(&request, 400, "one connect per batch"),
            name if !channel::is_valid(name) || channel::is_wildcard(name) => {
                Message::failure(&request, 400, "invalid channel")
            }
            _ => self.client_publish(request),
        }
    }

    fn handshake(&self, request: &Message, user: Option<String>, transport: Transport) -> Message {
        if self.closing.load(std::sync::atomic::Ordering::Relaxed) {
            // The client retries its handshake, which a load balancer sends to a node that stays.
            let mut reply = Message::failure(request, 503, "This node is going offline");
            reply.advice = Some(Advice::reconnect(
                "handshake",
                self.settings.interval.as_millis().max(1000) as u64,
            ));
            return reply;
        }
        let client_id = new_client_id();
        let user = request.ext_user().or(user);
        let session = Arc::new(ClientSession::new(
            client_id.clone(),
            user.clone(),
            Instant::now(),
        ));
        let mut registry = self.registry();
        registry.sessions.insert(client_id.clone(), session);
        if let Some(user) = user {
            registry
                .by_user
                .entry(user)
                .or_default()
                .insert(client_id.clone());
        }
        drop(registry);
        tracing::debug!(client = %client_id, ?transport, "cometd handshake");
        let mut reply = Message::reply_to(request, true);
        reply.client_id = Some(client_id);
        reply.version = Some("1.0".to_string());
        reply.supported_connection_types =
            Some(vec!["long-polling".to_string(), "websocket".to_string()]);
        reply.advice = Some(self.retry_advice());
        reply
    }

    fn retry_advice(&self) -> Advice {
        Advice {
            reconnect: Some("retry".to_string()),
            interval: Some(self.settings.interval.as_millis() as u64),
            timeout: Some(self.settings.timeout.as_millis() as u64),
        }
    }

    fn unknown_client(request: &Message) -> Message {
        let mut reply = Message::failure(request, 402, "Unknown client");
        reply.advice = Some(Advice::reconnect("handshake", 0));
        reply
    }

    fn session_of(&self, request: &Message) -> Option<Arc<ClientSession>> {
        let client_id = request.client_id.as_deref()?;
        self.registry().sessions.get(client_id).cloned()
    }

    fn subscribe(&self, request: &Message, subscribe: bool) -> Message {
        let Some(session) = self.session_of(request) else {
            return Self::unknown_client(request);
        };
        let channels: Vec<String> = match &request.subscription {
            Some(Value::String(name)) => vec![name.clone()],
            Some(Value::Array(names)) => names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let mut reply = Message::reply_to(request, true);
        reply.subscription = request.subscription.clone();
        if channels.is_empty() {
            reply.successful = Some(false);
            reply.error = Some("400::subscription::missing subscription".to_string());
            return reply;
        }
        if let Some(bad) = channels
            .iter()
            .find(|name| !channel::is_valid(name) || channel::kind(name) == Kind::Meta)
        {
            reply.successful = Some(false);
            reply.error = Some(format!("403::{bad}::subscription denied"));
            return reply;
        }
        let genesys = subscribe && channels.iter().any(|name| name == GENESYS_CHANNEL);
        let mut registry = self.registry();
        let mut state = session.lock();
        state.last_seen = Instant::now();
        for name in channels {
            if subscribe {
                state.subscriptions.insert(name.clone());
                registry
                    .by_channel
                    .entry(name)
                    .or_default()
                    .insert(session.id.clone());
            } else {
                state.subscriptions.remove(&name);
                if let Some(clients) = registry.by_channel.get_mut(&name) {
                    clients.remove(&session.id);
                    if clients.is_empty() {
                        registry.by_channel.remove(&name);
                    }
                }
            }
        }
        drop(state);
        drop(registry);
        if genesys && let (Some(user), Some(listener)) = (&session.user, self.listener.get()) {
            listener.subscribed(user);
        }
        reply
    }

    fn disconnect(&self, request: &Message) -> Message {
        if let (Some(session), Some(listener)) = (self.session_of(request), self.listener.get())
            && let Some(user) = &session.user
        {
            listener.disconnected(user, request.ext.as_ref());
        }
        match request.client_id.as_deref() {
            Some(client_id) if self.remove(client_id, EndReason::Disconnected) => {
                Message::reply_to(request, true)
            }
            _ => Self::unknown_client(request),
        }
    }

    fn client_publish(&self, request: Message) -> Message {
        let Some(session) = self.session_of(&request) else {
            return Self::unknown_client(&request);
        };
        session.lock().last_seen = Instant::now();
        if request.channel == GENESYS_CHANNEL {
            // Only the server delivers on /_genesys: a client must not reach another user's notifications.
            return Message::failure(&request, 403, "publish denied");
        }
        let mut reply = Message::reply_to(&request, true);
        reply.client_id = None;
        if channel::kind(&request.channel) == Kind::Broadcast {
            self.publish(&request.channel, request.data.unwrap_or(Value::Null));
        }
        reply
    }

    async fn connect(&self, request: &Message) -> (Message, Vec<Message>) {
        let Some(session) = self.session_of(request) else {
            return (Self::unknown_client(request), Vec::new());
        };
        let asks_no_wait = request
            .advice
            .as_ref()
            .and_then(|advice| advice.timeout)
            .is_some_and(|timeout| timeout == 0);
        let (generation, immediate) = {
            let mut state = session.lock();
            state.connect_generation += 1;
            state.connects_held += 1;
            state.last_seen = Instant::now();
            let first = !state.connected_once;
            state.connected_once = true;
            (state.connect_generation, first || asks_no_wait)
        };
        // A newer connect replaces an older held one, which returns at once.
        session.wake.notify_waiters();
        let held = HeldConnect { session: &session };
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        loop {
            let notified = session.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = session.lock();
                if immediate
                    || state.ended.is_some()
                    || !state.queue.is_empty()
                    || state.connect_generation != generation
                {
                    break;
                }
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        drop(held);
        let mut state = session.lock();
        state.last_seen = Instant::now();
        let deliveries: Vec<Message> = state.queue.drain(..).collect();
        let mut reply = Message::reply_to(request, true);
        match state.ended {
            Some(EndReason::Dropped) => return (Self::unknown_client(request), deliveries),
            Some(EndReason::Disconnected) => reply.advice = Some(Advice::reconnect("none", 0)),
            None => reply.advice = Some(self.retry_advice()),
        }
        (reply, deliveries)
    }

    /// Publishes `data` on `channel` to every subscribed client; returns how many were reached.
    pub fn publish(&self, channel_name: &str, data: Value) -> usize {
        let sessions: Vec<Arc<ClientSession>> = {
            let registry = self.registry();
            let mut ids = HashSet::new();
            for pattern in channel::matching_patterns(channel_name) {
                if let Some(clients) = registry.by_channel.get(&pattern) {
                    ids.extend(clients.iter().cloned());
                }
            }
            ids.iter()
                .filter_map(|id| registry.sessions.get(id).cloned())
                .collect()
        };
        let message = Message::delivery(channel_name, data);
        sessions
            .iter()
            .filter(|session| session.enqueue(message.clone(), self.settings.max_queue))
            .count()
    }

    /// Delivers `data` on `channel` to the clients of `user` that subscribed to it; returns how many.
    pub fn deliver_to_user(&self, user: &str, channel_name: &str, data: Value) -> usize {
        let sessions: Vec<Arc<ClientSession>> = {
            let registry = self.registry();
            registry
                .by_user
                .get(user)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| registry.sessions.get(id).cloned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let message = Message::delivery(channel_name, data);
        sessions
            .iter()
            .filter(|session| session.is_subscribed(channel_name))
            .filter(|session| session.enqueue(message.clone(), self.settings.max_queue))
            .count()
    }

    /// How many clients of `user` are subscribed to `channel`.
    pub fn user_subscriptions(&self, user: &str, channel_name: &str) -> usize {
        let registry = self.registry();
        let Some(ids) = registry.by_user.get(user) else {
            return 0;
        };
        ids.iter()
            .filter_map(|id| registry.sessions.get(id))
            .filter(|session| session.is_subscribed(channel_name))
            .count()
    }

    /// Drops a client as if it had expired: its held connect returns and tells it to handshake again.
    pub fn drop_client(&self, client_id: &str) -> bool {
        self.remove(client_id, EndReason::Dropped)
    }

    /// The node is stopping: every client is dropped (a held connect returns at once and tells its client to
    /// handshake again, which reaches another node through a load balancer) and new handshakes are refused with
    /// advice to retry. Returns how many clients were dropped.
    pub fn close(&self) -> usize {
        self.closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let ids: Vec<String> = self.registry().sessions.keys().cloned().collect();
        ids.iter().filter(|id| self.drop_client(id)).count()
    }

    /// Drops every client of `user`; returns how many.
    pub fn drop_user(&self, user: &str) -> usize {
        let ids: Vec<String> = self
            .registry()
            .by_user
            .get(user)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        ids.iter().filter(|id| self.drop_client(id)).count()
    }

    /// Drops every client which holds no connect and was last seen more than `max_interval` before `now`.
    pub fn sweep(&self, now: Instant) -> usize {
        let expired: Vec<String> = self
            .registry()
            .sessions
            .values()
            .filter(|session| {
                let state = session.lock();
                state.connects_held == 0
                    && now.saturating_duration_since(state.last_seen) > self.settings.max_interval
            })
            .map(|session| session.id.clone())
            .collect();
        for id in &expired {
            tracing::debug!(client = %id, "cometd client expired");
            self.remove(id, EndReason::Dropped);
        }
        expired.len()
    }

    fn remove(&self, client_id: &str, reason: EndReason) -> bool {
        let mut registry = self.registry();
        let Some(session) = registry.sessions.remove(client_id) else {
            return false;
        };
        if let Some(user) = &session.user
            && let Some(ids) = registry.by_user.get_mut(user)
        {
            ids.remove(client_id);
            if ids.is_empty() {
                registry.by_user.remove(user);
            }
        }
        let subscriptions: Vec<String> = session.lock().subscriptions.iter().cloned().collect();
        for name in subscriptions {
            if let Some(ids) = registry.by_channel.get_mut(&name) {
                ids.remove(client_id);
                if ids.is_empty() {
                    registry.by_channel.remove(&name);
                }
            }
        }
        drop(registry);
        session.lock().ended = Some(reason);
        session.wake.notify_waiters();
        true
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        crate::sync::lock(&self.registry)
    }
}

/// Counts a held connect for the sweeper, also when the transport gives up on the request mid-wait.
struct HeldConnect<'a> {
    session: &'a ClientSession,
}

impl Drop for HeldConnect<'_> {
    fn drop(&mut self) {
        let mut state = self.session.lock();
        state.connects_held = state.connects_held.saturating_sub(1);
        state.last_seen = Instant::now();
    }
}

fn new_client_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> Message {
        serde_json::from_value(value).unwrap()
    }

    async fn handshake(server: &Server, user: &str) -> String {
        let replies = server
            .handle(
                vec![request(
                    json!({"channel": "/meta/handshake", "version": "1.0", "id": "1"}),
                )],
                Some(user.to_string()),
                Transport::LongPolling,
            )
            .await;
        assert_eq!(replies[0].successful, Some(true));
        replies[0].client_id.clone().unwrap()
    }

    async fn send(server: &Server, value: Value) -> Vec<Message> {
        server
            .handle(vec![request(value)], None, Transport::LongPolling)
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn held_connect_returns_with_the_delivery() {
        let server = Server::new(Settings::default());
        let client = handshake(&server, "alice").await;
        let reply = send(
            &server,
            json!({"channel": "/meta/subscribe", "clientId": client, "subscription": "/_genesys"}),
        )
        .await;
        assert_eq!(reply[0].successful, Some(true));
        // The first connect returns at once; the second is held.
        let first = send(&server, json!({"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling"})).await;
        assert_eq!(first.len(), 1);
        let held = {
            let server = server.clone();
            let client = client.clone();
            tokio::spawn(async move {
                send(
                    &server,
                    json!({"channel": "/meta/connect", "clientId": client}),
                )
                .await
            })
        };
        tokio::task::yield_now().await;
        assert_eq!(
            server.deliver_to_user("bob", GENESYS_CHANNEL, json!({"message": "x"})),
            0
        );
        assert_eq!(
            server.deliver_to_user("alice", GENESYS_CHANNEL, json!({"message": "hello"})),
            1
        );
        let replies = held.await.unwrap();
        assert_eq!(replies[0].channel, "/meta/connect");
        assert_eq!(replies[1].data, Some(json!({"message": "hello"})));
    }

    #[tokio::test(start_paused = true)]
    async fn held_connect_times_out_with_retry_advice() {
        let server = Server::new(Settings::default());
        let client = handshake(&server, "alice").await;
        send(
            &server,
            json!({"channel": "/meta/connect", "clientId": client}),
        )
        .await;
        let replies = send(
            &server,
            json!({"channel": "/meta/connect", "clientId": client}),
        )
        .await;
        assert_eq!(replies.len(), 1);
        assert_eq!(
            replies[0].advice.as_ref().unwrap().reconnect.as_deref(),
            Some("retry")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_and_dropped_clients_are_told_to_handshake() {
        let server = Server::new(Settings::default());
        let replies = send(
            &server,
            json!({"channel": "/meta/connect", "clientId": "nope"}),
        )
        .await;
        assert_eq!(replies[0].successful, Some(false));
        assert!(replies[0].error.as_deref().unwrap().starts_with("402::"));
        assert_eq!(
            replies[0].advice.as_ref().unwrap().reconnect.as_deref(),
            Some("handshake")
        );

        let client = handshake(&server, "alice").await;
        assert_eq!(server.sweep(Instant::now() + Duration::from_secs(11)), 1);
        let replies = send(
            &server,
            json!({"channel": "/meta/subscribe", "clientId": client, "subscription": "/a"}),
        )
        .await;
        assert_eq!(replies[0].successful, Some(false));
    }

    #[tokio::test]
    async fn clients_publish_to_subscribers_but_not_on_genesys() {
        let server = Server::new(Settings::default());
        let alice = handshake(&server, "alice").await;
        let bob = handshake(&server, "bob").await;
        send(
            &server,
            json!({"channel": "/meta/subscribe", "clientId": bob, "subscription": ["/chat/*"]}),
        )
        .await;
        let denied = send(
            &server,
            json!({"channel": "/_genesys", "clientId": alice, "data": {}}),
        )
        .await;
        assert!(denied[0].error.as_deref().unwrap().starts_with("403::"));
        let meta = send(&server, json!({"channel": "/meta/subscribe", "clientId": alice, "subscription": "/meta/connect"})).await;
        assert_eq!(meta[0].successful, Some(false));
        let ok = send(
            &server,
            json!({"channel": "/chat/room", "clientId": alice, "data": {"t": 1}, "id": "9"}),
        )
        .await;
        assert_eq!(ok[0].successful, Some(true));
        let replies = send(
            &server,
            json!({"channel": "/meta/connect", "clientId": bob}),
        )
        .await;
        assert_eq!(replies[1].channel, "/chat/room");
        let gone = send(
            &server,
            json!({"channel": "/meta/disconnect", "clientId": bob}),
        )
        .await;
        assert_eq!(gone[0].successful, Some(true));
        assert_eq!(server.client_count(), 1);
    }
}
