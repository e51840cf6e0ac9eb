//! The shared `Store` suite: every backend instantiates [`store_suite!`] with a constructor that returns a fresh
//! store driven by a `ManualClock`, and must pass every test here.

/// Expands to one `#[tokio::test]` per store behaviour. `$make` is an expression of type
/// `async fn() -> (S, gms::clock::ManualClock, G)` where `S: Store` and `G` is kept alive for the test (a temp dir,
/// a server process).
#[macro_export]
macro_rules! store_suite {
    ($make:expr) => {
        use std::time::Duration;

        use bytes::Bytes;
        use gms::store::{Store, WriteOp};

        fn b(text: &str) -> Bytes {
            Bytes::copy_from_slice(text.as_bytes())
        }

        #[tokio::test]
        async fn set_get_delete() {
            let (store, _clock, _guard) = $make().await;
            assert_eq!(store.get("a").await.unwrap(), None);
            store.set("a", b("1"), None).await.unwrap();
            assert_eq!(store.get("a").await.unwrap(), Some(b("1")));
            store.set("a", b("2"), None).await.unwrap();
            assert_eq!(store.get("a").await.unwrap(), Some(b("2")));
            assert!(store.delete("a").await.unwrap());
            assert!(!store.delete("a").await.unwrap());
            assert_eq!(store.get("a").await.unwrap(), None);
        }

        #[tokio::test]
        async fn values_expire_after_their_ttl() {
            let (store, clock, _guard) = $make().await;
            store
                .set("t:t:t", b("x"), Some(Duration::from_secs(30)))
                .await
                .unwrap();
            clock.advance(Duration::from_secs(29));
            assert_eq!(store.get("t:t:t").await.unwrap(), Some(b("x")));
            clock.advance(Duration::from_secs(2));
            assert_eq!(store.get("t:t:t").await.unwrap(), None);
            assert!(store.scan_prefix("t:t:", 10).await.unwrap().is_empty());
            assert!(!store.delete("t:t:t").await.unwrap());
        }

        #[tokio::test]
        async fn set_replaces_the_ttl() {
            let (store, clock, _guard) = $make().await;
            store
                .set("k", b("1"), Some(Duration::from_secs(5)))
                .await
                .unwrap();
            store.set("k", b("2"), None).await.unwrap();
            clock.advance(Duration::from_secs(60));
            assert_eq!(store.get("k").await.unwrap(), Some(b("2")));
        }

        #[tokio::test]
        async fn set_if_absent_only_sets_absent_or_expired_keys() {
            let (store, clock, _guard) = $make().await;
            assert!(
                store
                    .set_if_absent("c", b("1"), Some(Duration::from_secs(1)))
                    .await
                    .unwrap()
            );
            assert!(!store.set_if_absent("c", b("2"), None).await.unwrap());
            assert_eq!(store.get("c").await.unwrap(), Some(b("1")));
            clock.advance(Duration::from_secs(2));
            assert!(store.set_if_absent("c", b("3"), None).await.unwrap());
            assert_eq!(store.get("c").await.unwrap(), Some(b("3")));
        }

        #[tokio::test]
        async fn scan_prefix_lists_live_keys_in_order() {
            let (store, clock, _guard) = $make().await;
            store.set("p:q:b", b("2"), None).await.unwrap();
            store.set("p:q:a", b("1"), None).await.unwrap();
            store
                .set("p:q:c", b("3"), Some(Duration::from_secs(1)))
                .await
                .unwrap();
            store.set("q:q:a", b("x"), None).await.unwrap();
            // Deeper keys are not directly under the prefix.
            store.set("p:q:a:deeper", b("d"), None).await.unwrap();
            clock.advance(Duration::from_secs(2));
            let found = store.scan_prefix("p:q:", 10).await.unwrap();
            assert_eq!(
                found,
                vec![("p:q:a".to_string(), b("1")), ("p:q:b".to_string(), b("2"))]
            );
            assert_eq!(store.scan_prefix("p:q:", 1).await.unwrap().len(), 1);
            // A deleted key leaves the listing.
            assert!(store.delete("p:q:a").await.unwrap());
            assert_eq!(store.scan_prefix("p:q:", 10).await.unwrap().len(), 1);
        }

        #[tokio::test]
        async fn a_scan_prefix_ends_with_a_colon_and_holds_two() {
            let (store, _clock, _guard) = $make().await;
            for prefix in ["p:", "p:q", "", "pq"] {
                assert!(
                    matches!(
                        store.scan_prefix(prefix, 10).await,
                        Err(gms::store::Error::BadPrefix(_))
                    ),
                    "{prefix}"
                );
            }
        }

        #[tokio::test]
        async fn write_batch_applies_every_op() {
            let (store, _clock, _guard) = $make().await;
            store.set("gone", b("x"), None).await.unwrap();
            store
                .write_batch(vec![
                    WriteOp::Set {
                        key: "e:1".into(),
                        value: b("one"),
                        ttl: None,
                    },
                    WriteOp::Set {
                        key: "i:tag:1".into(),
                        value: b("1"),
                        ttl: Some(Duration::from_secs(9)),
                    },
                    WriteOp::Delete { key: "gone".into() },
                ])
                .await
                .unwrap();
            assert_eq!(store.get("e:1").await.unwrap(), Some(b("one")));
            assert_eq!(store.scan_prefix("i:tag:", 10).await.unwrap().len(), 1);
            assert_eq!(store.get("gone").await.unwrap(), None);
        }

        #[tokio::test]
        async fn booking_hands_out_each_resource_once_until_released_or_expired() {
            let (store, clock, _guard) = $make().await;
            let pool: gms::store::Candidates = vec!["r1".to_string(), "r2".to_string()].into();
            let ttl = Duration::from_secs(20);
            assert_eq!(
                store.book("g", &pool, "s1", ttl).await.unwrap().as_deref(),
                Some("r1")
            );
            assert_eq!(
                store.book("g", &pool, "s2", ttl).await.unwrap().as_deref(),
                Some("r2")
            );
            assert_eq!(store.book("g", &pool, "s3", ttl).await.unwrap(), None);
            assert_eq!(store.count_booked("g").await.unwrap(), 2);
            // Another pool is independent.
            assert_eq!(
                store.book("h", &pool, "s3", ttl).await.unwrap().as_deref(),
                Some("r1")
            );
            // Only the holder releases.
            assert!(!store.release("g", "r1", "s2").await.unwrap());
            assert!(store.release("g", "r1", "s1").await.unwrap());
            assert_eq!(
                store.book("g", &pool, "s4", ttl).await.unwrap().as_deref(),
                Some("r1")
            );
            clock.advance(Duration::from_secs(21));
            assert_eq!(store.count_booked("g").await.unwrap(), 0);
            assert_eq!(
                store.book("g", &pool, "s5", ttl).await.unwrap().as_deref(),
                Some("r1")
            );
        }

        #[tokio::test]
        async fn candidates_are_tried_from_their_start_and_wrap_around() {
            let (store, _clock, _guard) = $make().await;
            let list: std::sync::Arc<[String]> =
                vec!["a".to_string(), "b".to_string(), "c".to_string()].into();
            let from_b = gms::store::Candidates::new(list.clone(), 4);
            assert_eq!(
                from_b.iter().map(String::as_str).collect::<Vec<_>>(),
                ["b", "c", "a"]
            );
            let ttl = Duration::from_secs(20);
            assert_eq!(
                store
                    .book("w", &from_b, "s1", ttl)
                    .await
                    .unwrap()
                    .as_deref(),
                Some("b")
            );
            assert_eq!(
                store
                    .book("w", &from_b, "s2", ttl)
                    .await
                    .unwrap()
                    .as_deref(),
                Some("c")
            );
            assert_eq!(
                store
                    .book("w", &from_b, "s3", ttl)
                    .await
                    .unwrap()
                    .as_deref(),
                Some("a")
            );
            assert_eq!(store.book("w", &from_b, "s4", ttl).await.unwrap(), None);
        }

        #[tokio::test]
        async fn a_holder_keeps_one_resource_per_pool() {
            let (store, _clock, _guard) = $make().await;
            let pool: gms::store::Candidates = vec!["r1".to_string(), "r2".to_string()].into();
            let ttl = Duration::from_secs(20);
            assert_eq!(
                store.book("g", &pool, "s1", ttl).await.unwrap().as_deref(),
                Some("r1")
            );
            // Booking again releases r1 first, so r1 is the first free candidate again.
            assert_eq!(
                store.book("g", &pool, "s1", ttl).await.unwrap().as_deref(),
                Some("r1")
            );
            assert_eq!(store.count_booked("g").await.unwrap(), 1);
            let reversed: gms::store::Candidates = vec!["r2".to_string(), "r1".to_string()].into();
            assert_eq!(
                store
                    .book("g", &reversed, "s1", ttl)
                    .await
                    .unwrap()
                    .as_deref(),
                Some("r2")
            );
            assert_eq!(store.count_booked("g").await.unwrap(), 1);
            assert!(!store.release("g", "r1", "s1").await.unwrap());
            assert!(store.release("g", "r2", "s1").await.unwrap());
            assert_eq!(store.count_booked("g").await.unwrap(), 0);
        }

        #[tokio::test]
        async fn book_then_writes_only_when_a_resource_was_booked() {
            let (store, _clock, _guard) = $make().await;
            let pool: gms::store::Candidates = vec!["r1".to_string()].into();
            let ttl = Duration::from_secs(20);
            let then = |holder: &'static str| -> gms::store::BookThen {
                Box::new(move |resource: &str| {
                    vec![WriteOp::Set {
                        key: format!("held:{holder}"),
                        value: b(resource),
                        ttl: None,
                    }]
                })
            };
            assert_eq!(
                store
                    .book_then("g", &pool, "s1", ttl, then("s1"))
                    .await
                    .unwrap()
                    .as_deref(),
                Some("r1")
            );
            assert_eq!(store.get("held:s1").await.unwrap(), Some(b("r1")));
            assert_eq!(
                store
                    .book_then("g", &pool, "s2", ttl, then("s2"))
                    .await
                    .unwrap(),
                None
            );
            assert_eq!(store.get("held:s2").await.unwrap(), None);
        }

        #[tokio::test]
        async fn concurrent_bookings_of_the_last_resource_have_one_winner() {
            let (store, _clock, _guard) = $make().await;
            let store = std::sync::Arc::new(store);
            let pool: gms::store::Candidates = vec!["last".to_string()].into();
            let mut tasks = Vec::new();
            for idx in 0..16 {
                let store = store.clone();
                let pool = pool.clone();
                tasks.push(tokio::spawn(async move {
                    store
                        .book("g", &pool, &format!("s{idx}"), Duration::from_secs(30))
                        .await
                        .unwrap()
                }));
            }
            let mut winners = 0;
            for task in tasks {
                if task.await.unwrap().is_some() {
                    winners += 1;
                }
            }
            assert_eq!(winners, 1);
        }

        #[tokio::test]
        async fn counters_add_atomically() {
            let (store, _clock, _guard) = $make().await;
            let store = std::sync::Arc::new(store);
            let mut tasks = Vec::new();
            for _ in 0..20 {
                let store = store.clone();
                tasks.push(tokio::spawn(
                    async move { store.incr("n", 1).await.unwrap() },
                ));
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(store.incr("n", -5).await.unwrap(), 15);
        }

        #[tokio::test]
        async fn publish_reaches_every_subscriber_of_the_channel() {
            let (store, _clock, _guard) = $make().await;
            assert_eq!(store.publish("c1", b("nobody")).await.unwrap(), 0);
            let mut first = store.subscribe("c1").await.unwrap();
            let mut second = store.subscribe("c1").await.unwrap();
            let mut other = store.subscribe("c2").await.unwrap();
            // Counted per subscriber or per subscribing node, as the backend can.
            assert!(store.publish("c1", b("m1")).await.unwrap() >= 1);
            store.publish("c1", b("m2")).await.unwrap();
            store.publish("c2", b("o1")).await.unwrap();
            assert_eq!(first.recv().await, Some(b("m1")));
            assert_eq!(first.recv().await, Some(b("m2")));
            assert_eq!(second.recv().await, Some(b("m1")));
            assert_eq!(other.recv().await, Some(b("o1")));
            drop(second);
            assert!(store.publish("c1", b("m3")).await.unwrap() >= 1);
            assert_eq!(first.recv().await, Some(b("m3")));
        }
    };
}
