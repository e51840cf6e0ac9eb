//! Watching sessions step by step: the worker publishes each macrostep of a watched session as a trace line
//! ([`crate::scxml::trace_lines`]), and whoever watches (`gms run --trace` on an ORS flow, `gms test --coverage`,
//! the browser console) receives it from a broadcast channel.
//!
//! Tracing costs the engine a record per step, so a session traces only while someone watches it: the worker
//! asks [`TraceHub::watching`] before each step, which is one atomic load while nobody watches anything.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::broadcast;

use crate::sync::lock;

/// How many lines a slow watcher may fall behind before it misses some (it is told how many).
const BACKLOG: usize = 1024;

/// What a watcher watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Watch {
    /// Every session.
    All,
    /// One session.
    Session(String),
}

/// One line of a watched session.
#[derive(Debug, Clone)]
pub struct TraceLine {
    /// The session.
    pub session: Arc<str>,
    /// A macrostep line, or `{"ended": true, "halt": ...}` as the session's last line.
    pub line: serde_json::Value,
}

/// The watchers of the runtime's sessions.
#[derive(Debug, Default)]
pub struct TraceHub {
    /// How many keys have a channel (the fast path when it is zero).
    keys: AtomicUsize,
    channels: Mutex<HashMap<Watch, broadcast::Sender<Arc<TraceLine>>>>,
}

impl TraceHub {
    /// Starts watching `which`; the session(s) trace from their next step on.
    pub fn watch(&self, which: Watch) -> broadcast::Receiver<Arc<TraceLine>> {
        let mut channels = lock(&self.channels);
        let receiver = channels
            .entry(which)
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe();
        self.keys.store(channels.len(), Ordering::SeqCst);
        receiver
    }

    /// True when someone watches session `id`; forgets channels nobody listens to any more.
    pub fn watching(&self, id: &str) -> bool {
        if self.keys.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut channels = lock(&self.channels);
        channels.retain(|_, sender| sender.receiver_count() > 0);
        self.keys.store(channels.len(), Ordering::SeqCst);
        channels.contains_key(&Watch::All) || channels.contains_key(&Watch::Session(id.to_string()))
    }

    /// Hands `line` of session `session` to its watchers.
    pub fn publish(&self, session: &Arc<str>, line: serde_json::Value) {
        if self.keys.load(Ordering::Relaxed) == 0 {
            return;
        }
        let line = Arc::new(TraceLine {
            session: session.clone(),
            line,
        });
        let channels = lock(&self.channels);
        for key in [Watch::All, Watch::Session(session.to_string())] {
            if let Some(sender) = channels.get(&key) {
                // No receiver left is not an error: the channel is dropped at the next `watching`.
                let _ = sender.send(line.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_reach_the_watchers_of_their_session_and_of_all() {
        let hub = TraceHub::default();
        assert!(!hub.watching("a"));
        let mut one = hub.watch(Watch::Session("a".into()));
        assert!(hub.watching("a") && !hub.watching("b"));
        let mut all = hub.watch(Watch::All);
        assert!(hub.watching("b"));
        hub.publish(&Arc::from("a"), serde_json::json!({"n": 1}));
        hub.publish(&Arc::from("b"), serde_json::json!({"n": 2}));
        assert_eq!(
            one.try_recv().map(|l| l.line["n"].clone()).ok(),
            Some(1.into())
        );
        assert!(one.try_recv().is_err());
        assert_eq!(
            all.try_recv().map(|l| l.line["n"].clone()).ok(),
            Some(1.into())
        );
        assert_eq!(
            all.try_recv().map(|l| l.session.to_string()).ok(),
            Some("b".into())
        );
        drop(one);
        drop(all);
        assert!(!hub.watching("a"));
        assert_eq!(hub.keys.load(Ordering::SeqCst), 0);
    }
}
