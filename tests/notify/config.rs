//! The `push` option rules of the deployment guide: a type whose mandatory options are missing is disabled
//! (with a note), unknown types are ignored, the debug channel exists only when complete, providers are isolated
//! and named `[A-Za-z0-9_-]`, and localization picks the subscriber's language with a fallback.

use crate::node::{Answer, Recorder, quick_http, start};
use gms::notify::config::{ChannelKind, DeliveryType, PushConfig, SectionInput};
use serde_json::json;

fn config(sections: &[(&str, &[(&str, &str)])]) -> PushConfig {
    let sections: Vec<SectionInput> = sections
        .iter()
        .map(|(name, pairs)| SectionInput::from_pairs(name, pairs))
        .collect();
    PushConfig::from_sections(&sections)
}

fn has_note(config: &PushConfig, needle: &str) -> bool {
    config.notes.iter().any(|note| note.contains(needle))
}

#[test]
fn missing_mandatory_options_disable_the_type_with_a_note() {
    let push = config(&[(
        "push",
        &[
            ("pushEnabled", "android,ios,httpcb,orscb,comet"),
            ("apple.keystore", "/etc/gms/apns.pem"),
            // apple.keystorePassword missing: ios disabled. android.gcm.apiKey missing: android disabled.
            ("orscb.url", "http://127.0.0.1:7210"),
        ],
    )]);
    assert!(
        push.channel("", DeliveryType::Ios, ChannelKind::Production)
            .is_none()
    );
    assert!(
        push.channel("", DeliveryType::Android, ChannelKind::Production)
            .is_none()
    );
    assert!(
        push.channel("", DeliveryType::Httpcb, ChannelKind::Production)
            .is_some()
    );
    assert!(
        push.channel("", DeliveryType::Orscb, ChannelKind::Production)
            .is_some()
    );
    assert!(has_note(
        &push,
        "push type ios disabled: mandatory option apple.keystorePassword is missing"
    ));
    assert!(has_note(
        &push,
        "push type android disabled: mandatory option android.gcm.apiKey is missing"
    ));

    // An empty keystorePassword is allowed ("not null, but may be empty"); a .p8 key also needs its ids.
    let token = config(&[(
        "push",
        &[
            ("pushEnabled", "ios"),
            ("apple.keystore", "/etc/gms/AuthKey.p8"),
            ("apple.keystorePassword", ""),
            ("apple.keyId", "K"),
        ],
    )]);
    assert!(
        token
            .channel("", DeliveryType::Ios, ChannelKind::Production)
            .is_none()
    );
    assert!(has_note(&token, "apple.teamId"));
}

#[test]
fn push_enabled_ignores_unknown_types_and_defaults_apply() {
    let push = config(&[(
        "push",
        &[
            ("pushEnabled", "httpcb, c2dm ,GCM"),
            ("defaultSubscriptionExpiration", "10"),
            ("android.gcm.apiKey", "key"),
            ("android.senderEmail", "old@example.com"),
        ],
    )]);
    assert_eq!(
        push.enabled,
        vec![DeliveryType::Httpcb, DeliveryType::Android]
    );
    assert!(has_note(&push, "unknown push type `c2dm` ignored"));
    assert_eq!(
        push.default_subscription_expiration, 30,
        "below 30: the default 30 is used"
    );
    assert!(has_note(&push, "defaultSubscriptionExpiration"));
    assert!(has_note(&push, "C2DM"));
    let none = config(&[]);
    assert!(none.enabled.is_empty());
    assert!(has_note(&none, "pushEnabled is not set"));
}

#[test]
fn debug_channel_only_when_all_its_mandatory_options_are_present() {
    let complete = config(&[(
        "push",
        &[
            ("pushEnabled", "ios,android"),
            ("apple.keystore", "/prod.pem"),
            ("apple.keystorePassword", "p"),
            ("debug.apple.keystore", "/debug.pem"),
            ("debug.apple.keystorePassword", ""),
            ("android.gcm.apiKey", "/prod.json"),
            // debug.android.gcm.apiKey missing: no android debug channel.
        ],
    )]);
    assert!(
        complete
            .channel("", DeliveryType::Ios, ChannelKind::Debug)
            .is_some()
    );
    assert!(
        complete
            .channel("", DeliveryType::Android, ChannelKind::Debug)
            .is_none()
    );
    assert!(
        complete
            .channel("", DeliveryType::Android, ChannelKind::Production)
            .is_some()
    );
    let partial = config(&[(
        "push",
        &[
            ("pushEnabled", "ios"),
            ("apple.keystore", "/p.pem"),
            ("apple.keystorePassword", "p"),
            ("debug.apple.keystore", "/d.pem"),
        ],
    )]);
    assert!(
        partial
            .channel("", DeliveryType::Ios, ChannelKind::Debug)
            .is_none()
    );
    assert!(
        partial
            .channel("", DeliveryType::Ios, ChannelKind::Production)
            .is_some()
    );
}

#[test]
fn providers_are_isolated_and_named_strictly() {
    let push = config(&[
        (
            "push",
            &[
                ("pushEnabled", "ios,orscb"),
                ("apple.keystore", "/p.pem"),
                ("apple.keystorePassword", "p"),
                ("orscb.url", "http://127.0.0.1:1"),
            ],
        ),
        // Nothing is inherited from [push]: acme has neither ios nor orscb.
        ("push.provider.acme", &[("apple.keystore", "/acme.pem")]),
        (
            "push.provider.beta_2-x",
            &[("orscb.url", "http://127.0.0.1:2")],
        ),
        (
            "push.provider.bad name!",
            &[("orscb.url", "http://127.0.0.1:3")],
        ),
    ]);
    assert!(
        push.channel("", DeliveryType::Ios, ChannelKind::Production)
            .is_some()
    );
    assert!(
        push.channel("acme", DeliveryType::Ios, ChannelKind::Production)
            .is_none()
    );
    assert!(
        push.channel("acme", DeliveryType::Orscb, ChannelKind::Production)
            .is_none()
    );
    assert!(
        push.channel("beta_2-x", DeliveryType::Orscb, ChannelKind::Production)
            .is_some()
    );
    assert!(!push.providers.contains_key("bad name!"));
    assert!(has_note(
        &push,
        "[push.provider.acme]: push type ios disabled"
    ));
    assert!(has_note(&push, "provider names may only contain"));
}

#[tokio::test]
async fn debug_subscriptions_need_an_enabled_debug_channel() {
    let node = start(
        &[(
            "push",
            &[
                ("pushEnabled", "httpcb,orscb"),
                ("orscb.url", "http://127.0.0.1:9"),
            ],
        )],
        quick_http(),
    )
    .await;
    // orscb has a mandatory option, and no debug.orscb.url is set: no debug channel.
    let (status, reply) = node
        .subscribe(json!({
            "subscriberId": "s", "filter": "t",
            "notificationDetails": {"deviceId": "S1", "type": "orscb", "properties": {"debug": "true"}},
        }))
        .await;
    assert_eq!(status, 400);
    assert_eq!(reply["exception"], "TypeDisabled");
    assert!(reply["message"].as_str().unwrap().contains("debug channel"));
}

#[tokio::test]
async fn localization_picks_the_language_and_falls_back_to_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("localization.xml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/samples/localization.xml"),
        &file,
    )
    .unwrap();
    let location = file.display().to_string();
    let node = start(
        &[(
            "push",
            &[
                ("pushEnabled", "httpcb"),
                ("localizationFileLocation", &location),
            ],
        )],
        quick_http(),
    )
    .await;
    let mut receivers = Vec::new();
    for language in ["fr-CA", "de", "ja", ""] {
        let receiver = Recorder::start(Answer::Status(200)).await;
        node.subscribe_ok(json!({
            "subscriberId": format!("s-{language}"), "filter": "ors.*",
            "notificationDetails": {"deviceId": receiver.url, "type": "httpcb", "properties": {"language": language}},
        }))
        .await;
        receivers.push(receiver);
    }
    let (_, report) = node
        .publish(json!({"tag": "ors.contact.1", "message": "agent.ready"}))
        .await;
    assert_eq!(report["deliveries"].as_array().unwrap().len(), 4);
    let texts: Vec<String> = receivers
        .iter()
        .map(|receiver| String::from_utf8(receiver.taken()[0].body.to_vec()).unwrap())
        .collect();
    assert_eq!(
        texts,
        vec![
            "Un agent est prêt à vous répondre.",
            "Ein Mitarbeiter ist jetzt für Sie da.",
            "An agent is ready to talk to you now.",
            "An agent is ready to talk to you now.",
        ]
    );
    // A message that is no key goes out as published.
    node.publish(json!({"tag": "ors.contact.1", "message": "plain text"}))
        .await;
    assert_eq!(receivers[0].taken()[1].body.as_ref(), b"plain text");
}
