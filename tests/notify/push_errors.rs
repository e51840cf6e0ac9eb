//! What happens after FCM and APNs answer with an error, against the local peers answering each one: dead tokens
//! remove their subscription, unavailability is retried with backoff (kept in the store across a restart),
//! oversized payloads and refused credentials are handled before and after sending, and `ttl` is capped.

use std::sync::Arc;
use std::time::Duration;

use gms::clock::ManualClock;
use gms::notify::{PushConfig, SectionInput, Service, StoreSubscriptions};
use gms::store::Embedded;
use serde_json::{Value, json};

use crate::node::{quick_http, start};
use crate::push_peers::apns::ApnsPeer;
use crate::push_peers::fcm::FcmPeer;

fn device(kind: &str, token: &str) -> Value {
    json!({"subscriberId": "c", "notificationDetails": {"deviceId": token, "type": kind}, "filter": "agent.*"})
}

fn unregistered() -> Value {
    json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})
}

fn fcm_options(peer: &FcmPeer, dir: &std::path::Path) -> Vec<(String, String)> {
    let account = peer.service_account(dir);
    vec![
        ("pushEnabled".into(), "android,ios".into()),
        ("android.gcm.apiKey".into(), account.display().to_string()),
        ("android.fcm.url".into(), peer.url.clone()),
        ("android.unavailability_retry_timeout".into(), "1".into()),
    ]
}

fn ios_options(peer: &ApnsPeer) -> Vec<(String, String)> {
    let key = crate::push_peers::key_file("apns-AuthKey_TEST123456.p8");
    vec![
        ("apple.keystore".into(), key.display().to_string()),
        ("apple.keystorePassword".into(), String::new()),
        (
            "apple.keyId".into(),
            crate::push_peers::apns::KEY_ID.to_string(),
        ),
        (
            "apple.teamId".into(),
            crate::push_peers::apns::TEAM_ID.to_string(),
        ),
        (
            "apple.topic".into(),
            crate::push_peers::apns::TOPIC.to_string(),
        ),
        ("apple.url".into(), peer.url.clone()),
    ]
}

fn pairs(options: &[(String, String)]) -> Vec<(&str, &str)> {
    options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

struct Peers {
    fcm: FcmPeer,
    apns: ApnsPeer,
    options: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

async fn peers() -> Peers {
    let fcm = FcmPeer::start().await;
    let apns = ApnsPeer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut options = fcm_options(&fcm, dir.path());
    options.extend(ios_options(&apns));
    Peers {
        fcm,
        apns,
        options,
        _dir: dir,
    }
}

/// Waits (bounded) until `done` holds.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done(), "not reached in time");
}

#[tokio::test]
async fn dead_tokens_remove_their_subscription_and_are_not_sent_to_again() {
    let peers = peers().await;
    let node = start(&[("push", &pairs(&peers.options))], quick_http()).await;
    node.subscribe_ok(device("android", "gone-android")).await;
    node.subscribe_ok(device("ios", "ab12")).await;
    peers
        .fcm
        .seen
        .lock()
        .unwrap()
        .scripted
        .push_back((404, None, unregistered()));
    peers
        .apns
        .scripted
        .lock()
        .unwrap()
        .push_back((410, "Unregistered", None));
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m"}))
        .await;
    let deliveries = report["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{report}");
    for delivery in deliveries {
        assert_eq!(delivery["status"], "unregistered", "{report}");
        assert!(
            delivery["detail"]
                .as_str()
                .unwrap()
                .ends_with("the subscription was removed"),
            "{report}"
        );
    }
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "again"}))
        .await;
    assert_eq!(report["deliveries"], json!([]), "{report}");
    assert_eq!(peers.fcm.seen.lock().unwrap().sends.len(), 1);
    assert_eq!(peers.apns.taken().len(), 1);
}

#[tokio::test]
async fn unavailable_services_are_retried_with_backoff_and_retry_after() {
    let peers = peers().await;
    let node = start(&[("push", &pairs(&peers.options))], quick_http()).await;
    node.subscribe_ok(device("android", "a1")).await;
    node.subscribe_ok(device("ios", "cd34")).await;
    {
        let mut seen = peers.fcm.seen.lock().unwrap();
        seen.scripted.push_back((429, Some("1"), json!({})));
        seen.scripted.push_back((500, None, json!({})));
    }
    peers
        .apns
        .scripted
        .lock()
        .unwrap()
        .push_back((503, "ServiceUnavailable", Some("1")));
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m"}))
        .await;
    for delivery in report["deliveries"].as_array().unwrap() {
        assert_eq!(delivery["status"], "retrying", "{report}");
        assert!(
            delivery["detail"]
                .as_str()
                .unwrap()
                .ends_with("sending again in 1s"),
            "Retry-After is used: {report}"
        );
    }
    // FCM: 429 (Retry-After 1 s), then 500 (backoff: 1 s doubled), then accepted. APNs: 503, then accepted.
    until(|| peers.fcm.seen.lock().unwrap().sends.len() == 3 && peers.apns.taken().len() == 2)
        .await;
    let sends = peers.fcm.seen.lock().unwrap().sends.clone();
    assert!(sends.iter().all(|send| send["message"]["token"] == "a1"));
}

#[tokio::test]
async fn a_waiting_retry_survives_a_restart() {
    let peers = peers().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let config =
        PushConfig::from_sections(&[SectionInput::from_pairs("push", &pairs(&peers.options))]);
    let build = |store: Arc<Embedded>| {
        Service::new(
            config.clone(),
            quick_http(),
            Arc::new(StoreSubscriptions::new(store, Arc::new(clock.clone()))),
            None,
        )
    };
    {
        let store = Arc::new(Embedded::open(dir.path(), Arc::new(clock.clone())).unwrap());
        let service = build(store);
        service.subscribe(&device("ios", "ef56")).await.unwrap();
        peers
            .apns
            .scripted
            .lock()
            .unwrap()
            .push_back((503, "ServiceUnavailable", Some("10")));
        let report = service
            .publish(&json!({"tag": "agent.ready", "message": "m"}))
            .await
            .unwrap();
        let report = serde_json::to_value(report).unwrap();
        assert_eq!(report["deliveries"][0]["status"], "retrying", "{report}");
    }
    // A new process on the same store: the retry is there, due in 10 s. (The store's file is free once the first
    // one's background threads have seen it closed.)
    let mut reopened = None;
    for _ in 0..200 {
        if let Ok(store) = Embedded::open(dir.path(), Arc::new(clock.clone())) {
            reopened = Some(store);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = Arc::new(reopened.expect("the store reopens"));
    let service = build(store);
    assert_eq!(service.retry_due().await, 0, "not due yet");
    clock.advance(Duration::from_secs(10));
    assert_eq!(service.retry_due().await, 1);
    assert_eq!(service.retry_due().await, 0, "sent once");
    let taken = peers.apns.taken();
    assert_eq!(taken.len(), 2);
    assert_eq!(taken[1].path, "/3/device/ef56");
}

#[tokio::test]
async fn payloads_over_4096_bytes_are_refused_before_sending_and_ttl_is_capped() {
    let peers = peers().await;
    let node = start(&[("push", &pairs(&peers.options))], quick_http()).await;
    node.subscribe_ok(device("android", "a2")).await;
    node.subscribe_ok(device("ios", "0a0b")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "x".repeat(5000)}))
        .await;
    for delivery in report["deliveries"].as_array().unwrap() {
        assert_eq!(delivery["status"], "failed", "{report}");
        assert!(
            delivery["detail"]
                .as_str()
                .unwrap()
                .contains("accepts at most 4096"),
            "{report}"
        );
    }
    assert!(peers.fcm.seen.lock().unwrap().sends.is_empty());
    assert!(peers.apns.taken().is_empty());
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m", "expire": 9_999_999}))
        .await;
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
    let sends = peers.fcm.seen.lock().unwrap().sends.clone();
    assert_eq!(sends[0]["message"]["android"]["ttl"], "2419200s");
}

#[tokio::test]
async fn refused_credentials_are_renewed_once() {
    let peers = peers().await;
    let node = start(&[("push", &pairs(&peers.options))], quick_http()).await;
    node.subscribe_ok(device("android", "a3")).await;
    node.subscribe_ok(device("ios", "1234")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "first"}))
        .await;
    assert_eq!(peers.fcm.seen.lock().unwrap().token_requests, 1, "{report}");
    peers.fcm.seen.lock().unwrap().scripted.push_back((
        401,
        None,
        json!({"error": {"status": "UNAUTHENTICATED"}}),
    ));
    peers
        .apns
        .scripted
        .lock()
        .unwrap()
        .push_back((403, "ExpiredProviderToken", None));
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "second"}))
        .await;
    for delivery in report["deliveries"].as_array().unwrap() {
        assert_eq!(delivery["status"], "delivered", "{report}");
    }
    assert_eq!(
        peers.fcm.seen.lock().unwrap().token_requests,
        2,
        "a new access token"
    );
    assert_eq!(
        peers.apns.taken().len(),
        3,
        "the refused send, then one more"
    );
    // Refused again after the renewal: failed, not renewed for ever.
    for _ in 0..2 {
        peers.fcm.seen.lock().unwrap().scripted.push_back((
            401,
            None,
            json!({"error": {"status": "UNAUTHENTICATED"}}),
        ));
    }
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "third"}))
        .await;
    let android = report["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["type"] == "android")
        .unwrap()
        .clone();
    assert_eq!(android["status"], "failed", "{report}");
}
