//! The shared store suite against the embedded (redb) backend, plus what is particular to it: data survives
//! reopening the file.

#[path = "common/store_suite.rs"]
mod store_suite;

use std::sync::Arc;

use gms::store::embedded::key_count;
use gms::store::{Embedded, ManualClock};

fn make() -> (Embedded, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Embedded::open(dir.path(), Arc::new(clock.clone())).unwrap();
    (store, clock, dir)
}

store_suite!(make);

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    {
        let store = Embedded::open(dir.path(), Arc::new(clock.clone())).unwrap();
        store.set("kept", b("v"), None).await.unwrap();
        store
            .book(
                "g",
                &vec!["r".to_string()].into(),
                "s",
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        drop(store);
    }
    // The writer thread releases the file shortly after the last handle is dropped.
    let mut reopened = None;
    for _ in 0..200 {
        match Embedded::open(dir.path(), Arc::new(clock.clone())) {
            Ok(store) => {
                reopened = Some(store);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let store = reopened.expect("the file can be reopened");
    assert_eq!(store.get("kept").await.unwrap(), Some(b("v")));
    assert_eq!(store.count_booked("g").await.unwrap(), 1);
}

#[tokio::test]
async fn expired_keys_are_purged_from_the_file() {
    let (store, clock, _dir) = make();
    store
        .set("short", b("v"), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    store
        .set("longer", b("v"), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    store
        .set("earlier", b("v"), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    store.set("kept", b("v"), None).await.unwrap();
    store
        .set("deleted", b("v"), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    // Rewrites that move the expiry later, earlier, or drop it, and a delete.
    store
        .set("longer", b("w"), Some(Duration::from_secs(30)))
        .await
        .unwrap();
    store
        .set("earlier", b("w"), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    store
        .set("kept", b("w"), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    store.set("kept", b("x"), None).await.unwrap();
    assert!(store.delete("deleted").await.unwrap());
    assert_eq!(key_count(&store).unwrap(), 4);

    clock.advance(Duration::from_secs(7));
    store.purge_expired().await.unwrap();
    assert_eq!(key_count(&store).unwrap(), 2);
    assert_eq!(store.get("short").await.unwrap(), None);
    assert_eq!(store.get("earlier").await.unwrap(), None);
    assert_eq!(store.get("longer").await.unwrap(), Some(b("w")));
    assert_eq!(store.get("kept").await.unwrap(), Some(b("x")));

    clock.advance(Duration::from_secs(30));
    store.purge_expired().await.unwrap();
    assert_eq!(key_count(&store).unwrap(), 1);
    assert_eq!(store.get("kept").await.unwrap(), Some(b("x")));
}
