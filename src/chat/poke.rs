//! Internal poke (GMS 8.1.100.28): an agent desktop asks GMS to send a push message to the customer's device, to
//! bring the customer back to the chat.
//!
//! At chat creation, `push_notification_deviceid` and `push_notification_type` (with `push_notification_language`,
//! and `push_notification_debug` for a provider's debug channel) subscribe the device through the Notification
//! service to the chat's poke tag, `service.chat.poke.<id>`, for as long as the chat lives. When the service's
//! section has `internal_api_url_base`, the chat's user data carries `_poke_url`, `<internal_api_url_base>` +
//! [`path`] on the internal listener; a POST there publishes `poke_message`, else the section's
//! `default_poke_message`, on the poke tag.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::GmsConfig;
use crate::notify;

/// The path of the poke of the chat of service `service`, served on the internal listener only.
pub fn path(service: &str) -> String {
    format!("/genesys/1/chat/{service}/poke")
}

/// The Notification tag pokes of the chat of `service` are published on.
pub fn tag(service: &str) -> String {
    format!("service.chat.poke.{service}")
}

fn option<'a>(config: &'a GmsConfig, service_name: &str, name: &str) -> Option<&'a str> {
    config
        .raw()
        .section(&format!("service.{service_name}"))
        .and_then(|section| section.value(name))
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The poke URL of the chat of instance `service` of service `service_name`, when its section configures one.
pub fn url(config: &GmsConfig, service_name: &str, service: &str) -> Option<String> {
    option(config, service_name, "internal_api_url_base")
        .map(|base| format!("{}{}", base.trim_end_matches('/'), path(service)))
}

/// The message of a poke without `poke_message`.
pub fn default_message<'a>(config: &'a GmsConfig, service_name: &str) -> Option<&'a str> {
    option(config, service_name, "default_poke_message")
}

/// Subscribes the device the chat's creation names (if it names one) to the chat's pokes for `ttl`.
pub async fn subscribe_device(
    notify: &notify::Service,
    service: &str,
    field: impl Fn(&str) -> Option<String>,
    ttl: Duration,
) -> Result<(), notify::Error> {
    let (Some(device), Some(kind)) = (
        field("push_notification_deviceid"),
        field("push_notification_type"),
    ) else {
        return Ok(());
    };
    let mut properties = serde_json::Map::new();
    if let Some(language) = field("push_notification_language") {
        properties.insert("language".into(), language.into());
    }
    if let Some(debug) = field("push_notification_debug") {
        properties.insert("debug".into(), debug.into());
    }
    let body = json!({
        "subscriberId": service,
        "filter": tag(service),
        "expire": ttl.as_secs().max(notify::config::MIN_EXPIRATION),
        "notificationDetails": {"type": kind, "deviceId": device, "properties": properties},
    });
    notify.subscribe(&body).await.map(|_| ())
}

/// Sends `message` to the device subscribed to the chat of `service`; answers the delivery report.
pub async fn poke(
    notify: &notify::Service,
    service: &str,
    message: &str,
) -> Result<Value, notify::Error> {
    let report = notify
        .publish(&json!({"tag": tag(service), "message": message}))
        .await?;
    Ok(serde_json::to_value(report).unwrap_or(Value::Null))
}
