//! Subscriptions in the embedded store: found by exact, prefix and `*` filters, removed by id, and gone once
//! their `expire` has passed (virtual clock).

use std::sync::Arc;
use std::time::Duration;

use gms::clock::ManualClock;
use gms::notify::subscription::filters_matching;
use gms::notify::{StoreSubscriptions, Subscription, SubscriptionStore};
use gms::store::Embedded;

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
    let subscriptions = StoreSubscriptions::new(store, Arc::new(clock.clone()));
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

#[tokio::test]
async fn comet_deliveries_reach_a_user_connected_to_another_node() {
    use gms::cometd::{self, GENESYS_CHANNEL, Message, Transport};
    use gms::notify::{PushConfig, SectionInput, Service};
    use gms::outbound::HttpSettings;
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn gms::store::Store> =
        Arc::new(Embedded::open(dir.path(), Arc::new(gms::clock::SystemClock)).unwrap());
    let push = PushConfig::from_sections(&[SectionInput::from_pairs(
        "push",
        &[("pushEnabled", "comet")],
    )]);
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let server = cometd::Server::new(cometd::Settings::default());
        let service = Service::new(
            push.clone(),
            HttpSettings::default(),
            Arc::new(StoreSubscriptions::new(store.clone(), gms::clock::system())),
            Some(server.clone()),
        );
        service.start_comet_relay(store.clone()).await.unwrap();
        nodes.push((server, service));
    }
    // Alice's client is on node 1.
    let (server_b, _) = &nodes[1];
    let handshake: Message =
        serde_json::from_value(json!({"channel": "/meta/handshake", "version": "1.0"})).unwrap();
    let replies = server_b
        .handle(
            vec![handshake],
            Some("alice".into()),
            Transport::LongPolling,
        )
        .await;
    let client = replies[0].client_id.clone().unwrap();
    let subscribe: Message = serde_json::from_value(
        json!({"channel": "/meta/subscribe", "clientId": client, "subscription": GENESYS_CHANNEL}),
    )
    .unwrap();
    server_b
        .handle(vec![subscribe], None, Transport::LongPolling)
        .await;
    server_b
        .handle(
            vec![
                serde_json::from_value(json!({"channel": "/meta/connect", "clientId": client}))
                    .unwrap(),
            ],
            None,
            Transport::LongPolling,
        )
        .await;

    // The subscription and the publish go through node 0.
    let (_, service_a) = &nodes[0];
    service_a
        .subscribe(&json!({"subscriberId": "alice", "filter": "chat.*", "notificationDetails": {"deviceId": "alice", "type": "comet"}}))
        .await
        .unwrap();
    let report = service_a
        .publish(&json!({"tag": "chat.7", "message": "hello"}))
        .await
        .unwrap();
    let report = serde_json::to_value(&report).unwrap();
    assert_eq!(report["deliveries"][0]["status"], "relayed", "{report}");
    // The held connect on node 1 returns with the message.
    let connect: Message =
        serde_json::from_value(json!({"channel": "/meta/connect", "clientId": client})).unwrap();
    let replies = tokio::time::timeout(
        Duration::from_secs(10),
        server_b.handle(vec![connect], None, Transport::LongPolling),
    )
    .await
    .unwrap();
    assert_eq!(replies[1].channel, GENESYS_CHANNEL);
    assert_eq!(replies[1].data.as_ref().unwrap()["message"], "hello");
}
