//! Subscriptions kept in the shared [`Store`], so every node sees them and they expire with `expire`.
//!
//! Keys (both written in one batch with the subscription's TTL):
//! - `notify:sub:{id}` → the subscription as JSON;
//! - `notify:filter:{filter}:{id}` → `{id}`, the index a publish scans for each filter matching its tag;
//! - `notify:retry:{id}` → a delivery waiting for its next attempt ([`PendingRetry`], kept a day at most).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::retry::PendingRetry;
use super::subscription::{StoreError, Subscription, SubscriptionStore};
use crate::clock::Clock;
use crate::store::{self, Store, WriteOp};

/// How long a waiting delivery is kept at most (its attempts are spaced by an hour at most).
const RETRY_TTL: Duration = Duration::from_secs(24 * 3600);

/// The most subscriptions one filter lists for a publish.
const SCAN_LIMIT: usize = 100_000;

/// Subscriptions in the store.
#[derive(Debug, Clone)]
pub struct StoreSubscriptions {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl StoreSubscriptions {
    /// Subscriptions kept in `store`, whose TTLs run on `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> StoreSubscriptions {
        StoreSubscriptions { store, clock }
    }

    async fn load(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let Some(bytes) = self.store.get(&record_key(id)).await.map_err(failed)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| StoreError(format!("stored subscription {id} is corrupt: {error}")))
    }
}

fn record_key(id: &str) -> String {
    format!("notify:sub:{id}")
}

fn index_key(filter: &str, id: &str) -> String {
    format!("notify:filter:{filter}:{id}")
}

fn failed(error: store::Error) -> StoreError {
    StoreError(error.to_string())
}

#[async_trait]
impl SubscriptionStore for StoreSubscriptions {
    async fn insert(&self, subscription: &Subscription, ttl: Duration) -> Result<(), StoreError> {
        let record =
            serde_json::to_vec(subscription).map_err(|error| StoreError(error.to_string()))?;
        self.store
            .write_batch(vec![
                WriteOp::Set {
                    key: record_key(&subscription.id),
                    value: Bytes::from(record),
                    ttl: Some(ttl),
                },
                WriteOp::Set {
                    key: index_key(&subscription.filter, &subscription.id),
                    value: Bytes::from(subscription.id.clone()),
                    ttl: Some(ttl),
                },
            ])
            .await
            .map_err(failed)
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let Some(subscription) = self.load(id).await? else {
            return Ok(false);
        };
        self.store
            .write_batch(vec![
                WriteOp::Delete {
                    key: record_key(id),
                },
                WriteOp::Delete {
                    key: index_key(&subscription.filter, id),
                },
            ])
            .await
            .map_err(failed)?;
        Ok(true)
    }

    async fn with_filters(&self, filters: &[String]) -> Result<Vec<Subscription>, StoreError> {
        let mut found = Vec::new();
        for filter in filters {
            let entries = self
                .store
                .scan_prefix(&format!("notify:filter:{filter}:"), SCAN_LIMIT)
                .await
                .map_err(failed)?;
            for (_, id) in entries {
                let id = String::from_utf8_lossy(&id).into_owned();
                // A filter containing `:` shares a prefix with a shorter one: keep exact matches only.
                if let Some(subscription) = self.load(&id).await?
                    && subscription.filter == *filter
                    && !found
                        .iter()
                        .any(|known: &Subscription| known.id == subscription.id)
                {
                    found.push(subscription);
                }
            }
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        self.load(id).await
    }

    async fn all(&self, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let entries = self
            .store
            .scan_prefix("notify:sub:", limit)
            .await
            .map_err(failed)?;
        // A corrupt record is left for `load` to report; the listing shows what it can read.
        Ok(entries
            .into_iter()
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect())
    }

    async fn save_retry(&self, retry: &PendingRetry) -> Result<(), StoreError> {
        let record = serde_json::to_vec(retry).map_err(|error| StoreError(error.to_string()))?;
        self.store
            .set(
                &format!("notify:retry:{}", retry.id),
                Bytes::from(record),
                Some(RETRY_TTL),
            )
            .await
            .map_err(failed)
    }

    async fn take_due_retries(&self, now_ms: u64) -> Result<Vec<PendingRetry>, StoreError> {
        let entries = self
            .store
            .scan_prefix("notify:retry:", SCAN_LIMIT)
            .await
            .map_err(failed)?;
        let mut due = Vec::new();
        for (key, bytes) in entries {
            let Ok(retry) = serde_json::from_slice::<PendingRetry>(&bytes) else {
                tracing::warn!(key = %key, "a stored push retry is corrupt; dropped");
                let _ = self.store.delete(&key).await;
                continue;
            };
            // Whoever deletes the record sends it: another node sharing the store may be looking too.
            if retry.due_ms <= now_ms && self.store.delete(&key).await.map_err(failed)? {
                due.push(retry);
            }
        }
        Ok(due)
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}
