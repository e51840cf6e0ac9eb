//! Subscriptions kept in the shared [`Store`], so every node sees them and they expire with `expire`.
//!
//! Keys (both written in one batch with the subscription's TTL):
//! - `notify:sub:{id}` → the subscription as JSON;
//! - `notify:filter:{filter}:{id}` → `{id}`, the index a publish scans for each filter matching its tag.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::subscription::{StoreError, Subscription, SubscriptionStore};
use crate::store::{self, Store, WriteOp};

/// The most subscriptions one filter lists for a publish.
const SCAN_LIMIT: usize = 100_000;

/// Subscriptions in the store.
#[derive(Debug, Clone)]
pub struct StoreSubscriptions {
    store: Arc<dyn Store>,
}

impl StoreSubscriptions {
    /// Subscriptions kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> StoreSubscriptions {
        StoreSubscriptions { store }
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
}
