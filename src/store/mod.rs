//! The one trait for shared state (key/value with TTL, atomic booking, counters, pub/sub) and its backends.
//!
//! Every piece of state that outlives a request goes through [`Store`], so the domain code does not change when a
//! backend is added: today the [`embedded`] backend (one node, durable in a write-ahead log and a redb file); a
//! backend shared by several nodes is planned. Backends map every failure to [`Error`], and all of them pass the
//! shared suite in `tests/store/suite.rs`.
//!
//! Conventions callers rely on:
//! - Keys are UTF-8 strings; modules namespace them with a prefix and `:` (`storage:`, `service:`, `notify:`...).
//!   `docs/store.md` lists the prefixes in use.
//! - An expired key is gone: reads never return it, and listings skip it, even before it is purged.
//! - A write is acknowledged only once it is durable (embedded backend: once its write-ahead log record is written,
//!   which survives `kill -9`; with `SyncPolicy::Commit` once it is also flushed to the disk).
//! - Listing by index: keep an index key per entry (`notify:filter:{tag}:{id}` → id) with the same TTL as the
//!   entry, write both in one [`Store::write_batch`], and list the index with [`Store::scan_prefix`].

pub mod embedded;
pub mod redis;
pub mod timed;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

pub use embedded::Embedded;
pub use timed::Timed;

/// Errors of every store backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The backend failed (I/O, a lost connection, a failed commit).
    #[error("store backend failed: {0}")]
    Backend(String),
    /// Stored bytes could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store was shut down.
    #[error("the store is closed")]
    Closed,
    /// A prefix scan was asked with a prefix that does not end with `:` or holds fewer than two `:`.
    #[error("`{0}` is no scan prefix: it must end with `:` and hold at least two `:`")]
    BadPrefix(String),
}

/// Result of store operations.
pub type Result<T> = std::result::Result<T, Error>;

/// One write of a [`Store::write_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Sets `key` to `value`, expiring after `ttl` (`None`: never).
    Set {
        /// The key.
        key: String,
        /// The value.
        value: Bytes,
        /// Time to live.
        ttl: Option<Duration>,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
}

/// The resources a booking may take: tried in order from `start`, wrapping around. Cheap to clone, so a large
/// group is not copied for every booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    list: Arc<[String]>,
    start: usize,
}

impl Candidates {
    /// Candidates `list`, tried from index `start` (taken modulo the length).
    pub fn new(list: Arc<[String]>, start: usize) -> Candidates {
        let start = if list.is_empty() {
            0
        } else {
            start % list.len()
        };
        Candidates { list, start }
    }

    /// The candidates in the order they are tried.
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.list[self.start..]
            .iter()
            .chain(self.list[..self.start].iter())
    }
}

impl From<Vec<String>> for Candidates {
    fn from(list: Vec<String>) -> Candidates {
        Candidates::new(list.into(), 0)
    }
}

/// Writes to apply together with a successful booking, given the booked resource (see [`Store::book_then`]).
pub type BookThen = Box<dyn FnOnce(&str) -> Vec<WriteOp> + Send>;

/// A live subscription to one pub/sub channel. Messages published after [`Store::subscribe`] returned are
/// delivered in order; a subscriber that falls far behind loses the oldest messages rather than slowing
/// publishers. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    receiver: mpsc::Receiver<Bytes>,
}

impl Subscription {
    /// Wraps the receiving end a backend feeds.
    pub fn new(receiver: mpsc::Receiver<Bytes>) -> Subscription {
        Subscription { receiver }
    }

    /// The next message; `None` once the store is closed.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.receiver.recv().await
    }
}

/// The store: key/value with TTL, atomic resource booking with expiry, counters, publish/subscribe.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// The value of `key`, unless absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Bytes>>;

    /// Sets `key` to `value`, expiring after `ttl` (`None`: never). Replaces any previous value and TTL.
    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()>;

    /// Sets `key` only when it is absent (or expired). Returns whether it was set.
    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool>;

    /// Removes `key`. Returns whether a live value was removed.
    async fn delete(&self, key: &str) -> Result<bool>;

    /// Applies every op atomically (all or none) and durably, in order.
    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<()>;

    /// Live keys directly under `prefix`, in key order, at most `limit` of them, with their values. `prefix` ends
    /// with `:` and holds at least two `:` (`match:{number}:`), else [`Error::BadPrefix`]; a key is directly under
    /// it when the rest after it has no `:` (so `p:q:a` is under `p:q:`, `p:q:a:b` is not).
    async fn scan_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(String, Bytes)>>;

    /// Books the first of `candidates` that is free in `pool` for `holder` until `ttl` has passed, atomically:
    /// two concurrent calls never get the same resource. A holder keeps at most one resource per pool: a booking
    /// it already has in `pool` is released in the same atomic step (and may be booked again). `None` when every
    /// candidate is booked.
    async fn book(
        &self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<String>>;

    /// Books like [`Store::book`] and, when a resource was booked, applies the writes `then(resource)` returns in
    /// the same atomic, durable step (one commit instead of two). Backends that cannot do both at once may book,
    /// then write, as this default does.
    async fn book_then(
        &self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
        then: BookThen,
    ) -> Result<Option<String>> {
        let booked = self.book(pool, candidates, holder, ttl).await?;
        if let Some(resource) = &booked {
            self.write_batch(then(resource)).await?;
        }
        Ok(booked)
    }

    /// Releases `resource` in `pool` when `holder` holds it. Returns whether it was released.
    async fn release(&self, pool: &str, resource: &str, holder: &str) -> Result<bool>;

    /// How many resources of `pool` are booked now.
    async fn count_booked(&self, pool: &str) -> Result<usize>;

    /// Adds `delta` to the counter `key` (created at 0) and returns the new value.
    async fn incr(&self, key: &str, delta: i64) -> Result<i64>;

    /// Publishes `payload` on `channel`; returns how many subscribers received it, counted as the backend can:
    /// each local subscriber (embedded), each subscribing connection, one per node (Redis); 0 when nobody listens.
    async fn publish(&self, channel: &str, payload: Bytes) -> Result<usize>;

    /// Subscribes to `channel`.
    async fn subscribe(&self, channel: &str) -> Result<Subscription>;
}
