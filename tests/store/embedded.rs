//! The shared store suite against the embedded (redb) backend under both sync policies, plus what is particular
//! to it: data survives reopening, the write-ahead log is replayed after a crash, and a torn log tail is ignored.

use std::sync::Arc;

use gms::clock::ManualClock;
use gms::store::Embedded;
use gms::store::embedded::{Options, SyncPolicy, key_count};

async fn make() -> (Embedded, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Embedded::open(dir.path(), Arc::new(clock.clone())).unwrap();
    (store, clock, dir)
}

crate::store_suite!(make);

async fn make_commit_synced() -> (Embedded, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let options = Options {
        sync: SyncPolicy::Commit,
        ..Options::default()
    };
    let store = Embedded::open_with(dir.path(), Arc::new(clock.clone()), options).unwrap();
    (store, clock, dir)
}

/// The same suite with the log synced before every ack.
mod commit_synced {
    crate::store_suite!(super::make_commit_synced);
}

/// Options under which nothing reaches the redb file unless a test asks: dropping the store then leaves its
/// writes in the log only, as a crash would.
fn log_only() -> Options {
    Options {
        checkpoint_every: Duration::from_secs(3600),
        ..Options::default()
    }
}

/// Opens the store in `dir`, waiting for a dropped one to release the file.
async fn reopen(dir: &std::path::Path, clock: &ManualClock) -> Embedded {
    for _ in 0..200 {
        if let Ok(store) = Embedded::open_with(dir, Arc::new(clock.clone()), log_only()) {
            return store;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the store in {} cannot be reopened", dir.display());
}

fn logs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut logs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    logs.sort();
    logs
}

/// Writes of every kind that only the log holds when the store is dropped.
async fn logged_writes(store: &Embedded) {
    store.set("kept", b("v"), None).await.unwrap();
    store.set("gone", b("v"), None).await.unwrap();
    assert!(store.delete("gone").await.unwrap());
    store
        .set("ttl", b("t"), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    let candidates: gms::store::Candidates = vec!["r1".to_string(), "r2".to_string()].into();
    store
        .book("g", &candidates, "s1", Duration::from_secs(60))
        .await
        .unwrap();
    store
        .book_then(
            "g",
            &candidates,
            "s2",
            Duration::from_secs(60),
            Box::new(|resource: &str| {
                vec![WriteOp::Set {
                    key: "record:s2".into(),
                    value: Bytes::copy_from_slice(resource.as_bytes()),
                    ttl: None,
                }]
            }),
        )
        .await
        .unwrap();
    store.incr("n", 5).await.unwrap();
}

async fn assert_logged_writes(store: &Embedded) {
    assert_eq!(store.get("kept").await.unwrap(), Some(b("v")));
    assert_eq!(store.get("gone").await.unwrap(), None);
    assert_eq!(store.get("ttl").await.unwrap(), Some(b("t")));
    assert_eq!(store.count_booked("g").await.unwrap(), 2);
    assert_eq!(store.get("record:s2").await.unwrap(), Some(b("r2")));
    // The holders' index came back too: a rebooking releases the previous resource.
    let candidates: gms::store::Candidates = vec!["r1".to_string(), "r2".to_string()].into();
    assert_eq!(
        store
            .book("g", &candidates, "s1", Duration::from_secs(60))
            .await
            .unwrap(),
        Some("r1".to_string())
    );
    assert_eq!(store.count_booked("g").await.unwrap(), 2);
    assert_eq!(store.incr("n", 1).await.unwrap(), 6);
}

#[tokio::test]
async fn writes_only_in_the_log_are_replayed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Embedded::open_with(dir.path(), Arc::new(clock.clone()), log_only()).unwrap();
    logged_writes(&store).await;
    drop(store);
    assert_eq!(logs(dir.path()).len(), 1);
    let store = reopen(dir.path(), &clock).await;
    assert_logged_writes(&store).await;
    // The replayed log was written into the file and removed; the new one holds only the writes since.
    assert_eq!(logs(dir.path()).len(), 1);
    store.purge_expired().await.unwrap();
    drop(store);
    let store = reopen(dir.path(), &clock).await;
    assert_eq!(store.get("kept").await.unwrap(), Some(b("v")));
    assert_eq!(store.incr("n", 0).await.unwrap(), 6);
}

#[tokio::test]
async fn a_torn_last_log_record_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Embedded::open_with(dir.path(), Arc::new(clock.clone()), log_only()).unwrap();
    logged_writes(&store).await;
    drop(store);
    let log = logs(dir.path()).pop().unwrap();
    let whole = std::fs::read(&log).unwrap();
    // A record cut short (its header promises more than follows), as a write cut by a crash would leave it.
    let mut torn = whole.clone();
    torn.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 0, 1, 0]);
    std::fs::write(&log, &torn).unwrap();
    let store = reopen(dir.path(), &clock).await;
    assert_logged_writes(&store).await;
    store.set("after", b("a"), None).await.unwrap();
    drop(store);
    // A whole-length record whose bytes do not match its checksum.
    let log = logs(dir.path()).pop().unwrap();
    let mut corrupt = std::fs::read(&log).unwrap();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    std::fs::write(&log, &corrupt).unwrap();
    let store = reopen(dir.path(), &clock).await;
    assert_eq!(store.get("kept").await.unwrap(), Some(b("v")));
    assert_eq!(store.get("after").await.unwrap(), None);
    assert_eq!(store.count_booked("g").await.unwrap(), 2);
}

#[tokio::test]
async fn a_log_replayed_after_its_checkpoint_changes_nothing() {
    // A crash after a checkpoint's commit but before its log file is removed leaves a log the file already
    // holds, followed by newer logs.
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Embedded::open_with(dir.path(), Arc::new(clock.clone()), log_only()).unwrap();
    store.set("k", b("old"), None).await.unwrap();
    store.set("removed later", b("x"), None).await.unwrap();
    let old_log = logs(dir.path()).pop().unwrap();
    let saved = std::fs::read(&old_log).unwrap();
    store.purge_expired().await.unwrap();
    assert!(!old_log.exists());
    store.set("k", b("new"), None).await.unwrap();
    assert!(store.delete("removed later").await.unwrap());
    drop(store);
    std::fs::write(&old_log, saved).unwrap();
    let store = reopen(dir.path(), &clock).await;
    assert_eq!(store.get("k").await.unwrap(), Some(b("new")));
    assert_eq!(store.get("removed later").await.unwrap(), None);
    assert_eq!(logs(dir.path()).len(), 1);
}

#[tokio::test]
async fn reads_see_writes_before_during_and_after_a_checkpoint() {
    let (store, clock, _dir) = make().await;
    store.set("a:x:1", b("file"), None).await.unwrap();
    store.set("a:x:2", b("file"), None).await.unwrap();
    store.purge_expired().await.unwrap();
    // Now "a:x:1" and "a:x:2" are in the file; newer states of them live in the memtable.
    store.set("a:x:1", b("memory"), None).await.unwrap();
    assert!(store.delete("a:x:2").await.unwrap());
    store.set("a:x:3", b("memory"), None).await.unwrap();
    let listed = store.scan_prefix("a:x:", 10).await.unwrap();
    assert_eq!(
        listed,
        vec![
            ("a:x:1".to_string(), b("memory")),
            ("a:x:3".to_string(), b("memory"))
        ]
    );
    assert_eq!(store.scan_prefix("a:x:", 1).await.unwrap().len(), 1);
    assert_eq!(key_count(&store).unwrap(), 2);
    store.purge_expired().await.unwrap();
    assert_eq!(store.scan_prefix("a:x:", 10).await.unwrap(), listed);
    assert_eq!(key_count(&store).unwrap(), 2);
    clock.advance(Duration::from_secs(1));
    assert_eq!(store.get("a:x:1").await.unwrap(), Some(b("memory")));
}

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
    let (store, clock, _dir) = make().await;
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
