//! The shared store suite against the embedded (redb) backend, plus what is particular to it: data survives
//! reopening the file.

#[path = "common/store_suite.rs"]
mod store_suite;

use std::sync::Arc;

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
