//! The shared store suite against a real `redis-server` and a real three-master Redis Cluster, plus what is
//! particular to Redis: two store instances (two nodes) share data, bookings and pub/sub; an outage fails fast and
//! the same store works again once Redis is back; bad URLs and unreachable servers are refused at open.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gms::clock::ManualClock;
use gms::store::redis::{Options, Redis};
use gms::store::{Candidates, Store};

use crate::redis_peer::{RedisCluster, RedisServer};

async fn open(url: &str, clock: &ManualClock) -> Redis {
    Redis::open(url, Arc::new(clock.clone()), Options::default())
        .await
        .unwrap()
}

async fn make() -> (Redis, ManualClock, RedisServer) {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_700_000_000_000);
    (open(&server.url(), &clock).await, clock, server)
}

/// The suite on one server.
mod single {
    crate::store_suite!(super::make);
}

async fn make_cluster() -> (Redis, ManualClock, RedisCluster) {
    let cluster = RedisCluster::start();
    let clock = ManualClock::new(1_700_000_000_000);
    (open(&cluster.url(), &clock).await, clock, cluster)
}

/// The same suite on a Redis Cluster.
mod cluster {
    crate::store_suite!(super::make_cluster);
}

fn b(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

#[tokio::test]
async fn two_nodes_share_values_bookings_and_messages() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_700_000_000_000);
    let options = Options::default();
    let a = Arc::new(
        Redis::open(&server.url(), Arc::new(clock.clone()), options)
            .await
            .unwrap(),
    );
    let b_node = Arc::new(
        Redis::open(&server.url(), Arc::new(clock.clone()), options)
            .await
            .unwrap(),
    );
    a.set("storage:x", b("1"), None).await.unwrap();
    assert_eq!(b_node.get("storage:x").await.unwrap(), Some(b("1")));

    let pool: Candidates = vec!["last".to_string()].into();
    let mut tasks = Vec::new();
    for idx in 0..16 {
        let store = if idx % 2 == 0 {
            a.clone()
        } else {
            b_node.clone()
        };
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            store
                .book(
                    "cluster:g",
                    &pool,
                    &format!("s{idx}"),
                    Duration::from_secs(30),
                )
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap().is_some());
    }
    assert_eq!(winners, 1, "exactly one node books the last resource");
    assert_eq!(a.count_booked("cluster:g").await.unwrap(), 1);

    let mut on_b = b_node.subscribe("relay").await.unwrap();
    assert_eq!(a.publish("relay", b("hello")).await.unwrap(), 1);
    assert_eq!(on_b.recv().await, Some(b("hello")));
}

#[tokio::test]
async fn an_outage_fails_fast_and_the_store_recovers_by_itself() {
    let mut server = RedisServer::start_persistent();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Redis::open(&server.url(), Arc::new(clock.clone()), Options::default())
        .await
        .unwrap();
    let mut subscription = store.subscribe("c").await.unwrap();
    store.set("k:k:k", b("before"), None).await.unwrap();
    server.stop();
    // The guard only catches a hang; the store's own timeouts end the call long before.
    let failed = tokio::time::timeout(Duration::from_secs(30), store.get("k:k:k"))
        .await
        .expect("an operation during an outage returns");
    match failed {
        Err(gms::store::Error::Backend(message)) => {
            assert!(message.contains("Redis"), "{message}")
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    server.resume();
    // The connection comes back by itself; what was acknowledged before is still there (the server syncs every
    // write to its append-only file), and writes work again.
    let mut recovered = false;
    for _ in 0..100 {
        if let Ok(value) = store.get("k:k:k").await {
            assert_eq!(value, Some(b("before")));
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the store reads again once Redis is back");
    let mut recovered = false;
    for _ in 0..100 {
        if store.set("k:k:k", b("after"), None).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the store works again once Redis is back");
    assert_eq!(store.get("k:k:k").await.unwrap(), Some(b("after")));
    // The subscription resumes too.
    let mut delivered = false;
    for _ in 0..100 {
        store.publish("c", b("again")).await.unwrap();
        if let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_millis(100), subscription.recv()).await
        {
            assert_eq!(message, b("again"));
            delivered = true;
            break;
        }
    }
    assert!(
        delivered,
        "the subscription receives again after the outage"
    );
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_refused_at_open() {
    let clock: Arc<ManualClock> = Arc::new(ManualClock::new(0));
    let unreachable = format!("redis://127.0.0.1:{}", crate::redis_peer::free_port());
    for url in [
        "redis://",
        "redis://:notaport",
        unreachable.as_str(),
        "redis+cluster://",
    ] {
        let opened = tokio::time::timeout(
            Duration::from_secs(30),
            Redis::open(url, clock.clone(), Options::default()),
        )
        .await
        .expect("open returns");
        match opened {
            Err(gms::store::Error::Backend(message)) => {
                assert!(message.contains("Redis"), "{url}: {message}")
            }
            other => panic!("{url}: expected an error, got {other:?}"),
        }
    }
}
