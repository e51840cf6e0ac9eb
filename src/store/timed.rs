//! A [`Store`] wrapper that measures how long each operation takes, for the `/metrics` endpoint.
//!
//! The histogram is a fixed set of atomic buckets, so measuring costs two clock reads and two atomic adds (the
//! bucket and the sum; the count is the buckets' total, worked out when the histogram is read: every atomic on this
//! path is shared by all request threads).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;

use super::{BookThen, Candidates, Result, Store, Subscription, WriteOp};

/// Upper bounds of the latency buckets, in seconds (Prometheus `le`).
pub const BUCKETS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
];

/// Latency histogram of store operations.
#[derive(Debug, Default)]
pub struct Latency {
    /// The last bucket counts what is slower than every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

/// A copy of the histogram: cumulative bucket counts, count, and sum in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySnapshot {
    /// Cumulative counts per bucket of [`BUCKETS`].
    pub cumulative: Vec<u64>,
    /// Number of operations.
    pub count: u64,
    /// Total time in seconds.
    pub sum_seconds: f64,
}

impl Latency {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let idx = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[idx].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    /// The histogram now.
    pub fn snapshot(&self) -> LatencySnapshot {
        let mut total = 0;
        let mut cumulative: Vec<u64> = self
            .buckets
            .iter()
            .map(|bucket| {
                total += bucket.load(Ordering::Relaxed);
                total
            })
            .collect();
        cumulative.truncate(BUCKETS.len());
        LatencySnapshot {
            cumulative,
            count: total,
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// Wraps a store and records the latency of every operation.
#[derive(Debug)]
pub struct Timed<S> {
    inner: S,
    latency: Arc<Latency>,
}

impl<S: Store> Timed<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Timed<S> {
        Timed {
            inner,
            latency: Arc::new(Latency::default()),
        }
    }

    /// The shared histogram.
    pub fn latency(&self) -> Arc<Latency> {
        self.latency.clone()
    }

    async fn timed<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        let start = Instant::now();
        let out = work.await;
        self.latency.observe(start.elapsed());
        out
    }
}

#[async_trait]
impl<S: Store> Store for Timed<S> {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        self.timed(self.inner.get(key)).await
    }
    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.timed(self.inner.set(key, value, ttl)).await
    }
    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        self.timed(self.inner.set_if_absent(key, value, ttl)).await
    }
    async fn delete(&self, key: &str) -> Result<bool> {
        self.timed(self.inner.delete(key)).await
    }
    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<()> {
        self.timed(self.inner.write_batch(ops)).await
    }
    async fn scan_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(String, Bytes)>> {
        self.timed(self.inner.scan_prefix(prefix, limit)).await
    }
    async fn book(
        &self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<String>> {
        self.timed(self.inner.book(pool, candidates, holder, ttl))
            .await
    }
    async fn book_then(
        &self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
        then: BookThen,
    ) -> Result<Option<String>> {
        self.timed(self.inner.book_then(pool, candidates, holder, ttl, then))
            .await
    }
    async fn release(&self, pool: &str, resource: &str, holder: &str) -> Result<bool> {
        self.timed(self.inner.release(pool, resource, holder)).await
    }
    async fn count_booked(&self, pool: &str) -> Result<usize> {
        self.timed(self.inner.count_booked(pool)).await
    }
    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        self.timed(self.inner.incr(key, delta)).await
    }
    async fn publish(&self, channel: &str, payload: Bytes) -> Result<usize> {
        self.timed(self.inner.publish(channel, payload)).await
    }
    async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        self.inner.subscribe(channel).await
    }
}
