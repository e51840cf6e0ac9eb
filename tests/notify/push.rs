//! android and ios deliveries against local FCM and APNs peers that check the exact wire format: OAuth2 JWT
//! exchange, FCM HTTP v1 and legacy bodies, 503 + `Retry-After`, APNs HTTP/2 with an ES256 provider token, the
//! `apns-*` headers and the `aps` dictionary built from the `apple.*` options.

use std::time::Duration;

use crate::node::{quick_http, start};
use crate::push_peers::apns::{self, ApnsPeer};
use crate::push_peers::fcm::{self, FcmPeer};
use serde_json::{Value, json};

fn device(kind: &str, token: &str) -> Value {
    json!({"subscriberId": "c", "notificationDetails": {"deviceId": token, "type": kind}, "filter": "agent.*"})
}

#[tokio::test]
async fn android_goes_through_fcm_http_v1_with_an_oauth_token() {
    let peer = FcmPeer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let account = peer.service_account(dir.path());
    let push: &[(&str, &str)] = &[
        ("pushEnabled", "android"),
        ("android.gcm.apiKey", account.to_str().unwrap()),
        ("android.fcm.url", &peer.url),
        ("android.collapseKey", "agent"),
    ];
    let node = start(&[("push", push)], quick_http()).await;
    node.subscribe_ok(device("android", "fcm-registration-token"))
        .await;
    node.subscribe_ok(device("gcm", "second-device")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "An agent is ready now", "expire": 120}))
        .await;
    for delivery in report["deliveries"].as_array().unwrap() {
        assert_eq!(delivery["status"], "delivered", "{report}");
    }
    let seen = peer.seen.lock().unwrap();
    assert!(seen.token_errors.is_empty(), "{:?}", seen.token_errors);
    assert_eq!(seen.token_requests, 1, "the access token is cached");
    let mut sends = seen.sends.clone();
    sends.sort_by_key(|send| send["message"]["token"].as_str().unwrap().to_string());
    assert_eq!(
        sends[0],
        json!({"message": {
            "token": "fcm-registration-token",
            "data": {"message": "An agent is ready now", "tag": "agent.ready"},
            "android": {"collapse_key": "agent", "ttl": "120s"},
        }})
    );
}

#[tokio::test]
async fn fcm_503_is_retried_after_retry_after_without_holding_the_publish() {
    let peer = FcmPeer::start().await;
    peer.seen.lock().unwrap().unavailable = 1;
    let dir = tempfile::tempdir().unwrap();
    let account = peer.service_account(dir.path());
    let push: &[(&str, &str)] = &[
        ("pushEnabled", "android"),
        ("android.gcm.apiKey", account.to_str().unwrap()),
        ("android.fcm.url", &peer.url),
        ("android.gcm.retryNumber", "2"),
    ];
    let node = start(&[("push", push)], quick_http()).await;
    node.subscribe_ok(device("android", "t1")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m"}))
        .await;
    assert_eq!(report["deliveries"][0]["status"], "retrying", "{report}");
    assert!(
        report["deliveries"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("1s"),
        "Retry-After is used"
    );
    assert_eq!(peer.seen.lock().unwrap().sends.len(), 1);
    // The retry happens after the Retry-After second; wait for it, bounded.
    for _ in 0..100 {
        if peer.seen.lock().unwrap().sends.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(peer.seen.lock().unwrap().sends.len(), 2);
}

#[tokio::test]
async fn legacy_gcm_form_is_kept_behind_an_option() {
    let peer = FcmPeer::start().await;
    let gcm_url = format!("{}/fcm/send", peer.url);
    let push: &[(&str, &str)] = &[
        ("pushEnabled", "android"),
        ("android.gcm.apiKey", fcm::LEGACY_KEY),
        ("android.gcm.legacy", "true"),
        ("android.gcm.url", &gcm_url),
        ("android.collapseKey", "agent"),
        ("android.delayWhileFormatting", "true"),
    ];
    let node = start(&[("push", push)], quick_http()).await;
    node.subscribe_ok(device("android", "legacy-token")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m", "expire": 60}))
        .await;
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
    let seen = peer.seen.lock().unwrap();
    assert_eq!(
        seen.legacy_sends[0],
        (
            format!("key={}", fcm::LEGACY_KEY),
            json!({"to": "legacy-token", "collapse_key": "agent", "delay_while_idle": true, "time_to_live": 60,
                   "data": {"message": "m", "tag": "agent.ready"}})
        )
    );
}

fn ios_push(peer: &ApnsPeer, extra: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
    let key = crate::push_peers::key_file("apns-AuthKey_TEST123456.p8");
    let mut options = vec![
        ("pushEnabled".to_string(), "ios".to_string()),
        ("apple.keystore".to_string(), key.display().to_string()),
        ("apple.keystorePassword".to_string(), String::new()),
        ("apple.keyId".to_string(), apns::KEY_ID.to_string()),
        ("apple.teamId".to_string(), apns::TEAM_ID.to_string()),
        ("apple.topic".to_string(), apns::TOPIC.to_string()),
        ("apple.url".to_string(), peer.url.clone()),
    ];
    options.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    options
}

fn pairs(options: &[(String, String)]) -> Vec<(&str, &str)> {
    options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn ios_goes_over_http2_with_a_provider_token_and_the_aps_dictionary() {
    let peer = ApnsPeer::start().await;
    let options = ios_push(
        &peer,
        &[
            ("apple.alertMessageBody", "An agent is ready"),
            ("apple.alertMessageActionLocKey", "OPEN"),
            ("apple.alertMessageLocKey", "AGENT_READY"),
            ("apple.alertMessageLocArgNames", "first, second"),
            ("apple.alertMessageLaunchImage", "ready.png"),
            ("apple.badge", "3"),
            ("apple.sound", "chime.caf"),
        ],
    );
    let node = start(&[("push", &pairs(&options))], quick_http()).await;
    node.subscribe_ok(device("ios", "a1b2c3")).await;
    node.subscribe_ok(device("ios", "bad")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m", "expire": 60}))
        .await;
    let mut statuses: Vec<String> = report["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["status"], d["detail"]))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        vec![
            "\"delivered\" null",
            "\"unregistered\" \"APNs answered 400 BadDeviceToken; the subscription was removed\""
        ]
    );
    let requests = peer.taken();
    let good = requests
        .iter()
        .find(|r| r.path == "/3/device/a1b2c3")
        .unwrap();
    assert!(good.problems.is_empty(), "{:?}", good.problems);
    assert_eq!(good.version, hyper::Version::HTTP_2);
    assert_eq!(good.headers["apns-push-type"], "alert");
    assert_eq!(good.headers["apns-priority"], "10");
    assert!(good.headers.contains_key("apns-expiration"));
    assert_eq!(
        good.body,
        json!({"aps": {
            "alert": {"body": "An agent is ready", "action-loc-key": "OPEN", "loc-key": "AGENT_READY",
                      "loc-args": ["first", "second"], "launch-image": "ready.png"},
            "badge": 3, "sound": "chime.caf"},
            "message": "m", "tag": "agent.ready"})
    );
}

#[tokio::test]
async fn ios_without_alert_options_sends_no_alert_entry() {
    let peer = ApnsPeer::start().await;
    let options = ios_push(&peer, &[]);
    let node = start(&[("push", &pairs(&options))], quick_http()).await;
    node.subscribe_ok(device("ios", "d1")).await;
    let (_, report) = node
        .publish(json!({"tag": "agent.ready", "message": "m"}))
        .await;
    assert_eq!(report["deliveries"][0]["status"], "delivered", "{report}");
    let request = &peer.taken()[0];
    assert!(request.problems.is_empty(), "{:?}", request.problems);
    assert_eq!(
        request.body,
        json!({"aps": {"content-available": 1}, "message": "m", "tag": "agent.ready"})
    );
    assert_eq!(request.headers["apns-push-type"], "background");
}

#[tokio::test]
async fn event_sections_layer_the_formatting_per_provider_and_tag() {
    let peer = ApnsPeer::start().await;
    let options = ios_push(&peer, &[("apple.sound", "base.caf"), ("apple.badge", "1")]);
    let provider: Vec<(String, String)> = options
        .iter()
        .filter(|(k, _)| k != "pushEnabled")
        .cloned()
        .collect();
    let node = start(
        &[
            ("push", &pairs(&options)),
            ("push.provider.acme", &pairs(&provider)),
            ("push.provider.event", &[("apple.badge", "2")]),
            (
                "push.provider.event.agent",
                &[("apple.alertMessageBody", "for every provider")],
            ),
            (
                "push.provider.acme.event.agent.ready",
                &[("apple.alertMessageBody", "for acme")],
            ),
        ],
        quick_http(),
    )
    .await;
    node.subscribe_ok(device("ios", "defa01ded1ce")).await;
    let mut acme = device("ios", "acbe0ded1ce");
    acme["providerName"] = json!("acme");
    node.subscribe_ok(acme).await;
    node.publish(json!({"tag": "agent.ready", "message": "m"}))
        .await;
    let requests = peer.taken();
    let body_of =
        |path: &str| requests.iter().find(|r| r.path == path).unwrap().body["aps"].clone();
    assert_eq!(
        body_of("/3/device/defa01ded1ce"),
        json!({"alert": {"body": "for every provider"}, "badge": 2, "sound": "base.caf"})
    );
    assert_eq!(
        body_of("/3/device/acbe0ded1ce"),
        json!({"alert": {"body": "for acme"}, "badge": 2, "sound": "base.caf"})
    );
}
