//! Subscriptions in the embedded store: found by exact, prefix and `*` filters, removed by id, and gone once
//! their `expire` has passed (virtual clock).

use std::sync::Arc;
use std::time::Duration;

use gms::notify::subscription::filters_matching;
use gms::notify::{StoreSubscriptions, Subscription, SubscriptionStore};
use gms::store::{Embedded, ManualClock};

fn subscription(id: &str, filter: &str, expire: u64) -> Subscription {
    Subscription {
        id: id.to_string(),
        subscriber_id: format!("subscriber-{id}"),
        provider_name: String::new(),
        kind: "httpcb".to_string(),
        device_id: "http://127.0.0.1:1/".to_string(),
        properties: Default::default(),
        filter: filter.to_string(),
        expire,
    }
}

#[tokio::test]
async fn subscriptions_live_in_the_store_with_their_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Arc::new(Embedded::open(dir.path(), Arc::new(clock.clone())).unwrap());
    let subscriptions = StoreSubscriptions::new(store);
    for (id, filter, expire) in [
        ("a", "ors.contact.1", 30),
        ("b", "ors.*", 300),
        ("c", "*", 300),
        ("d", "ors:x", 300),
        ("e", "ors:x:y", 300),
    ] {
        let record = subscription(id, filter, expire);
        subscriptions
            .insert(&record, Duration::from_secs(expire))
            .await
            .unwrap();
    }
    let ids = |found: Vec<Subscription>| found.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(subscriptions
            .with_filters(&filters_matching("ors.contact.1"))
            .await
            .unwrap()),
        ["a", "b", "c"]
    );
    assert_eq!(
        ids(subscriptions
            .with_filters(&filters_matching("other"))
            .await
            .unwrap()),
        ["c"]
    );
    // A filter sharing a key prefix with another is kept apart.
    assert_eq!(
        ids(subscriptions
            .with_filters(&filters_matching("ors:x"))
            .await
            .unwrap()),
        ["c", "d"]
    );

    clock.advance(Duration::from_secs(31));
    assert_eq!(
        ids(subscriptions
            .with_filters(&filters_matching("ors.contact.1"))
            .await
            .unwrap()),
        ["b", "c"]
    );
    assert!(!subscriptions.remove("a").await.unwrap(), "expired");
    assert!(subscriptions.remove("b").await.unwrap());
    assert!(!subscriptions.remove("b").await.unwrap());
    assert_eq!(
        ids(subscriptions
            .with_filters(&filters_matching("ors.contact.1"))
            .await
            .unwrap()),
        ["c"]
    );
}
