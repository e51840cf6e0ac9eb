//! Subscriptions: the record kept for each, tag filters, and the narrow storage seam
//! ([`SubscriptionStore`]) with an in-memory backend.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::config::DeliveryType;
use super::retry::PendingRetry;
use crate::clock::Clock;

/// One live subscription, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Subscription id (returned by the subscribe call, used by DELETE).
    pub id: String,
    /// `subscriberId`.
    pub subscriber_id: String,
    /// `providerName` (`""`: the `push` section).
    pub provider_name: String,
    /// `notificationDetails.type`, normalised (`gcm` → `android`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `notificationDetails.deviceId`: device token, callback URL, ORS session id or `gms_user`.
    pub device_id: String,
    /// `notificationDetails.properties` (`debug`, `language`, ...), values as strings.
    pub properties: BTreeMap<String, String>,
    /// `filter`: the tag filter.
    pub filter: String,
    /// `expire`: lifetime in seconds.
    pub expire: u64,
}

impl Subscription {
    /// The delivery type.
    pub fn delivery_type(&self) -> Option<DeliveryType> {
        DeliveryType::parse(&self.kind)
    }

    /// Whether `properties.debug` asks for the debug channel.
    pub fn wants_debug(&self) -> bool {
        self.properties
            .get("debug")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    /// `properties.language`, if set.
    pub fn language(&self) -> Option<&str> {
        self.properties
            .get("language")
            .map(String::as_str)
            .filter(|language| !language.is_empty())
    }
}

/// Whether `filter` is well formed: `*`, a tag, or a tag prefix ending in `.*`.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.chars().any(char::is_whitespace) {
        return false;
    }
    let body = filter.strip_suffix(".*").unwrap_or(filter);
    filter == "*" || (!body.is_empty() && !body.contains('*'))
}

/// The filters that match `tag`: the tag itself, `*`, and `prefix.*` for every dot-separated prefix, so a
/// publish looks up a handful of index entries instead of testing every subscription.
pub fn filters_matching(tag: &str) -> Vec<String> {
    let mut filters = vec![tag.to_string(), "*".to_string()];
    for (index, c) in tag.char_indices() {
        if c == '.' {
            filters.push(format!("{}.*", &tag[..index]));
        }
    }
    filters
}

/// Why the subscription storage failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("subscription storage failed: {0}")]
pub struct StoreError(pub String);

/// Where subscriptions live, with their expiry. An expired subscription is never returned.
#[async_trait]
pub trait SubscriptionStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores `subscription` until `ttl` has passed.
    async fn insert(&self, subscription: &Subscription, ttl: Duration) -> Result<(), StoreError>;
    /// Removes the subscription `id`; returns whether a live one was removed.
    async fn remove(&self, id: &str) -> Result<bool, StoreError>;
    /// Live subscriptions whose filter is one of `filters`.
    async fn with_filters(&self, filters: &[String]) -> Result<Vec<Subscription>, StoreError>;
    /// The live subscription `id`.
    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError>;
    /// Live subscriptions, by id, at most `limit` of them (for the console).
    async fn all(&self, limit: usize) -> Result<Vec<Subscription>, StoreError>;
    /// Keeps `retry` (replacing the record of the same id).
    async fn save_retry(&self, retry: &PendingRetry) -> Result<(), StoreError>;
    /// Takes the retries due at `now_ms` out of the store (each is given to one caller only, as far as the
    /// store can tell).
    async fn take_due_retries(&self, now_ms: u64) -> Result<Vec<PendingRetry>, StoreError>;
    /// Now, in milliseconds, on the clock subscriptions expire on.
    fn now_ms(&self) -> u64;
}

/// In-process subscriptions (one node, nothing kept across restarts), expiring on a [`Clock`].
#[derive(Debug)]
pub struct MemorySubscriptions {
    entries: Mutex<HashMap<String, (Subscription, u64)>>,
    retries: Mutex<HashMap<String, PendingRetry>>,
    clock: Arc<dyn Clock>,
}

impl Default for MemorySubscriptions {
    fn default() -> Self {
        MemorySubscriptions::with_clock(crate::clock::system())
    }
}

impl MemorySubscriptions {
    /// Subscriptions expiring on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> MemorySubscriptions {
        MemorySubscriptions {
            entries: Mutex::new(HashMap::new()),
            retries: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Subscription, u64)>> {
        crate::sync::lock(&self.entries)
    }
}

#[async_trait]
impl SubscriptionStore for MemorySubscriptions {
    async fn insert(&self, subscription: &Subscription, ttl: Duration) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let mut entries = self.entries();
        entries.retain(|_, (_, expiry)| *expiry > now);
        entries.insert(
            subscription.id.clone(),
            (
                subscription.clone(),
                now.saturating_add(ttl.as_millis() as u64),
            ),
        );
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        Ok(self
            .entries()
            .remove(id)
            .is_some_and(|(_, expiry)| expiry > now))
    }

    async fn with_filters(&self, filters: &[String]) -> Result<Vec<Subscription>, StoreError> {
        let now = self.clock.now_ms();
        let mut found: Vec<Subscription> = self
            .entries()
            .values()
            .filter(|(subscription, expiry)| {
                *expiry > now && filters.contains(&subscription.filter)
            })
            .map(|(subscription, _)| subscription.clone())
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let now = self.clock.now_ms();
        Ok(self
            .entries()
            .get(id)
            .filter(|(_, expiry)| *expiry > now)
            .map(|(subscription, _)| subscription.clone()))
    }

    async fn all(&self, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let now = self.clock.now_ms();
        let mut found: Vec<Subscription> = self
            .entries()
            .values()
            .filter(|(_, expiry)| *expiry > now)
            .map(|(subscription, _)| subscription.clone())
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found.truncate(limit);
        Ok(found)
    }

    async fn save_retry(&self, retry: &PendingRetry) -> Result<(), StoreError> {
        crate::sync::lock(&self.retries).insert(retry.id.clone(), retry.clone());
        Ok(())
    }

    async fn take_due_retries(&self, now_ms: u64) -> Result<Vec<PendingRetry>, StoreError> {
        let mut retries = crate::sync::lock(&self.retries);
        let due: Vec<String> = retries
            .values()
            .filter(|retry| retry.due_ms <= now_ms)
            .map(|retry| retry.id.clone())
            .collect();
        Ok(due.iter().filter_map(|id| retries.remove(id)).collect())
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_tags_and_prefixes() {
        let filters = filters_matching("ors.contact.123");
        for filter in ["ors.contact.123", "*", "ors.*", "ors.contact.*"] {
            assert!(filters.contains(&filter.to_string()), "{filter}");
        }
        assert!(!filters.contains(&"ors.contact".to_string()));
        assert!(valid_filter("ors.*"));
        assert!(valid_filter("*"));
        assert!(!valid_filter(""));
        assert!(!valid_filter("o*s"));
        assert!(!valid_filter(".*"));
    }
}
