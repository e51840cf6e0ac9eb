//! The notification service: subscribe, unsubscribe and publish, as the Notification API and DFM actions use
//! them. Requests arrive as JSON values so every missing or malformed field gets an error naming it.
//!
//! After a push service's answer ([`deliver::Sent`]): a dead device token (FCM `UNREGISTERED`, APNs 410 or
//! `BadDeviceToken`) removes the subscription it was sent to and is reported `unregistered`, as both vendors ask;
//! "unavailable" (429, 500, 503) is reported `retrying` and kept in the subscription store
//! ([`super::retry::PendingRetry`]) to be sent again by [`Service::run_retries`] after `Retry-After` or an
//! exponential backoff, until the channel's attempts are spent (then dropped with a log line). A payload over
//! 4,096 bytes fails that delivery with the size named; the publish itself still answers 200 with every outcome.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::config::{
    Channel, ChannelKind, DeliveryType, MIN_EXPIRATION, PushConfig, valid_provider_name,
};
use super::deliver::apns::Apns;
use super::deliver::fcm::Fcm;
use super::deliver::{self, Outcome, Outgoing, Sent, Status};
use super::localization::Localization;
use super::retry::{self, PendingRetry};
use super::subscription::{self, StoreError, Subscription, SubscriptionStore};
use crate::cometd;
use crate::outbound::{HttpClient, HttpSettings};

/// Why a request was refused. Each variant is one problem of the request (or the storage), named in the
/// message; [`Error::kind`] is the short name the API reports as `exception`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not a JSON object.
    #[error("the request body must be a JSON object")]
    NotAnObject,
    /// A mandatory field is missing or empty.
    #[error("mandatory field `{0}` is missing or empty")]
    MissingField(&'static str),
    /// A field has the wrong JSON type.
    #[error("field `{0}` must be {1}")]
    WrongType(&'static str, &'static str),
    /// `expire` is below 30 seconds or not an integer.
    #[error("`expire` must be an integer number of seconds, at least 30 (found {0})")]
    InvalidExpire(String),
    /// `filter` is not a tag, `*`, or a prefix ending in `.*`.
    #[error("`filter` must be a tag, `*`, or a tag prefix ending in `.*` (found `{0}`)")]
    InvalidFilter(String),
    /// `notificationDetails.type` is not a known delivery type.
    #[error("unknown notification type `{0}` (android, gcm, ios, httpcb, orscb or comet)")]
    UnknownType(String),
    /// The type (or its debug channel) is not enabled for the provider.
    #[error("notification type `{kind}` is not enabled{debug} for provider `{provider}`")]
    TypeDisabled {
        /// The type.
        kind: String,
        /// `" (debug channel)"` or empty.
        debug: &'static str,
        /// The provider name.
        provider: String,
    },
    /// `providerName` names no configured provider.
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
    /// `deviceId` does not suit the type.
    #[error("`notificationDetails.deviceId` {0}")]
    InvalidDeviceId(String),
    /// No live subscription has this id.
    #[error("subscription `{0}` not found")]
    NotFound(String),
    /// The subscription storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl Error {
    /// The short name reported as `exception`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotAnObject | Error::WrongType(..) => "InvalidRequest",
            Error::MissingField(_) => "MissingField",
            Error::InvalidExpire(_) => "InvalidExpire",
            Error::InvalidFilter(_) => "InvalidFilter",
            Error::UnknownType(_) => "UnknownType",
            Error::TypeDisabled { .. } => "TypeDisabled",
            Error::UnknownProvider(_) => "UnknownProvider",
            Error::InvalidDeviceId(_) => "InvalidDeviceId",
            Error::NotFound(_) => "SubscriptionNotFound",
            Error::Storage(_) => "StorageUnavailable",
        }
    }
}

/// What happened to the delivery to one subscription.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryReport {
    /// The subscription.
    pub subscription_id: String,
    /// Its subscriber.
    pub subscriber_id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `production` or `debug`.
    pub channel: &'static str,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The answer to a publish.
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    /// The published tag.
    pub tag: String,
    /// One entry per matching live subscription.
    pub deliveries: Vec<DeliveryReport>,
}

/// The notification service.
#[derive(Debug)]
pub struct Service {
    config: Arc<PushConfig>,
    subscriptions: Arc<dyn SubscriptionStore>,
    /// The outbound clients, rebuilt when the `gms` section's `http.*` options change (they take effect at once).
    transports: arc_swap::ArcSwap<Transports>,
    cometd: Option<Arc<cometd::Server>>,
    relay: std::sync::OnceLock<Arc<deliver::comet::Relay>>,
    /// This node's ORS interface (`http://host:port` of the internal listener), the default of `orscb.url`.
    local_ors: std::sync::OnceLock<String>,
    localization: Option<Localization>,
}

/// What deliveries go out through, built from the `http.*` options.
#[derive(Debug)]
struct Transports {
    http: HttpSettings,
    client: HttpClient,
    fcm: BTreeMap<(String, ChannelKind), Arc<Fcm>>,
    apns: BTreeMap<(String, ChannelKind), Arc<Apns>>,
}

impl Transports {
    fn build(config: &PushConfig, http: HttpSettings) -> Transports {
        let client = HttpClient::new(http.clone());
        let mut fcm = BTreeMap::new();
        let mut apns = BTreeMap::new();
        for (name, provider) in &config.providers {
            for ((_, kind), channel) in &provider.channels {
                match channel {
                    Channel::Android(android) => {
                        fcm.insert(
                            (name.clone(), *kind),
                            Fcm::new(android.clone(), client.clone()),
                        );
                    }
                    Channel::Ios(ios) => {
                        apns.insert(
                            (name.clone(), *kind),
                            Apns::new(ios.clone(), *kind, http.clone()),
                        );
                    }
                    _ => {}
                }
            }
        }
        Transports {
            http,
            client,
            fcm,
            apns,
        }
    }
}

impl Service {
    /// Builds the service: `config` from the `push` sections, `http` from the `gms` section, where
    /// subscriptions live, and the CometD server `comet` deliveries go through (none: `comet` is disabled).
    pub fn new(
        config: PushConfig,
        http: HttpSettings,
        subscriptions: Arc<dyn SubscriptionStore>,
        cometd: Option<Arc<cometd::Server>>,
    ) -> Arc<Service> {
        let localization =
            config
                .localization_file
                .as_ref()
                .and_then(|path| match Localization::load(path) {
                    Ok(localization) => Some(localization),
                    Err(error) => {
                        tracing::warn!(
                            "localizationFileLocation {}: {error}; messages are sent as published",
                            path.display()
                        );
                        None
                    }
                });
        let transports = Transports::build(&config, http);
        Arc::new(Service {
            config: Arc::new(config),
            subscriptions,
            transports: arc_swap::ArcSwap::from_pointee(transports),
            cometd,
            relay: std::sync::OnceLock::new(),
            local_ors: std::sync::OnceLock::new(),
            localization,
        })
    }

    /// Applies the `gms` section's `http.*` options to the deliveries from now on (the section takes effect at once,
    /// as in GMS). Unchanged options keep the current clients and their cached credentials.
    pub fn set_http(&self, http: HttpSettings) {
        let current = self.transports.load();
        if current.http != http {
            self.transports
                .store(Arc::new(Transports::build(&self.config, http)));
            tracing::info!("notification deliveries use the new http.* options");
        }
    }

    /// Sets where this node's own ORS interface listens (once the internal listener is bound): orscb deliveries go
    /// there when `orscb.url` is not set.
    pub fn set_local_ors(&self, url: String) {
        let _ = self.local_ors.set(url);
    }

    /// With several nodes: relays comet deliveries for users whose clients are on another node through the
    /// store's pub/sub, and delivers the other nodes' here. Does nothing without a CometD server.
    pub async fn start_comet_relay(
        &self,
        store: Arc<dyn crate::store::Store>,
    ) -> Result<(), crate::store::Error> {
        if let Some(server) = &self.cometd
            && self.relay.get().is_none()
        {
            let relay = deliver::comet::Relay::start(store, server.clone()).await?;
            let _ = self.relay.set(relay);
        }
        Ok(())
    }

    /// The relay of comet deliveries between nodes, once [`Service::start_comet_relay`] has started it.
    pub fn comet_relay(&self) -> Option<Arc<deliver::comet::Relay>> {
        self.relay.get().cloned()
    }

    /// The typed `push` configuration in force.
    pub fn config(&self) -> &PushConfig {
        &self.config
    }

    /// Creates a subscription from a subscribe request body; returns it (its `id` is the subscription id).
    pub async fn subscribe(&self, body: &Value) -> Result<Subscription, Error> {
        let object = body.as_object().ok_or(Error::NotAnObject)?;
        let subscriber_id = text_field(object.get("subscriberId"), "subscriberId")?;
        let filter = text_field(object.get("filter"), "filter")?;
        if !subscription::valid_filter(&filter) {
            return Err(Error::InvalidFilter(filter));
        }
        let expire = match object.get("expire") {
            None | Some(Value::Null) => self.config.default_subscription_expiration,
            Some(value) => {
                let seconds = match value {
                    Value::Number(number) => number.as_u64(),
                    Value::String(text) => text.trim().parse::<u64>().ok(),
                    _ => None,
                };
                match seconds {
                    Some(seconds) if seconds >= MIN_EXPIRATION => seconds,
                    _ => return Err(Error::InvalidExpire(value.to_string())),
                }
            }
        };
        let provider_name = match object.get("providerName") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(name)) if name.is_empty() => String::new(),
            Some(Value::String(name))
                if valid_provider_name(name) && self.config.providers.contains_key(name) =>
            {
                name.clone()
            }
            Some(Value::String(name)) => return Err(Error::UnknownProvider(name.clone())),
            Some(_) => return Err(Error::WrongType("providerName", "a string")),
        };
        let details = match object.get("notificationDetails") {
            Some(Value::Object(details)) => details,
            None | Some(Value::Null) => return Err(Error::MissingField("notificationDetails")),
            Some(_) => return Err(Error::WrongType("notificationDetails", "an object")),
        };
        let type_name = text_field(details.get("type"), "notificationDetails.type")?;
        let kind =
            DeliveryType::parse(&type_name).ok_or_else(|| Error::UnknownType(type_name.clone()))?;
        let device_id = text_field(details.get("deviceId"), "notificationDetails.deviceId")?;
        let properties = match details.get("properties") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(properties)) => properties
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect(),
            Some(_) => {
                return Err(Error::WrongType(
                    "notificationDetails.properties",
                    "an object",
                ));
            }
        };
        match kind {
            DeliveryType::Httpcb => check_callback_url(&device_id)?,
            DeliveryType::Ios => check_device_token(&device_id)?,
            DeliveryType::Android => check_registration_token(&device_id)?,
            _ => {}
        }
        let subscription = Subscription {
            id: new_id(),
            subscriber_id,
            provider_name,
            kind: kind.name().to_string(),
            device_id,
            properties,
            filter,
            expire,
        };
        let channel_kind = channel_kind(&subscription);
        if self
            .config
            .channel(&subscription.provider_name, kind, channel_kind)
            .is_none()
        {
            return Err(Error::TypeDisabled {
                kind: kind.name().to_string(),
                debug: if channel_kind == ChannelKind::Debug {
                    " (debug channel)"
                } else {
                    ""
                },
                provider: subscription.provider_name.clone(),
            });
        }
        self.subscriptions
            .insert(&subscription, Duration::from_secs(subscription.expire))
            .await?;
        tracing::info!(id = %subscription.id, kind = kind.name(), filter = %subscription.filter, "subscription created");
        Ok(subscription)
    }

    /// Live subscriptions, by id, at most `limit` of them (the console lists them).
    pub async fn subscriptions(&self, limit: usize) -> Result<Vec<Subscription>, Error> {
        Ok(self.subscriptions.all(limit).await?)
    }

    /// Removes subscription `id`.
    pub async fn unsubscribe(&self, id: &str) -> Result<(), Error> {
        if self.subscriptions.remove(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound(id.to_string()))
        }
    }

    /// Publishes a message to every live subscription whose filter matches the tag, all deliveries at once;
    /// each is bounded by the outbound timeouts, so the publish is too.
    pub async fn publish(&self, body: &Value) -> Result<PublishReport, Error> {
        let object = body.as_object().ok_or(Error::NotAnObject)?;
        let tag = text_field(object.get("tag"), "tag")?;
        let message = match object.get("message") {
            None | Some(Value::Null) => return Err(Error::MissingField("message")),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        let mediatype = match object.get("mediatype") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => return Err(Error::WrongType("mediatype", "a string")),
        };
        let expire = match object.get("expire") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .ok_or(Error::WrongType("expire", "a non-negative integer"))?,
            ),
        };
        let subscriptions = self
            .subscriptions
            .with_filters(&subscription::filters_matching(&tag))
            .await?;
        let deliveries = subscriptions.iter().map(|subscription| {
            let outgoing = Outgoing {
                tag: tag.clone(),
                text: self.localize(&message, &tag, subscription.language()),
                mediatype: mediatype.clone(),
                expire,
                format: self.config.format_for(&subscription.provider_name, &tag),
                subscription_id: subscription.id.clone(),
            };
            async move {
                let channel_kind = channel_kind(subscription);
                let outcome = self.deliver(subscription, channel_kind, &outgoing).await;
                DeliveryReport {
                    subscription_id: subscription.id.clone(),
                    subscriber_id: subscription.subscriber_id.clone(),
                    kind: subscription.kind.clone(),
                    channel: if channel_kind == ChannelKind::Debug {
                        "debug"
                    } else {
                        "production"
                    },
                    outcome,
                }
            }
        });
        let deliveries = futures_util::future::join_all(deliveries).await;
        Ok(PublishReport { tag, deliveries })
    }

    /// The text for a subscriber: the localized message whose key is the published message (or else the tag),
    /// in the subscriber's language; the message as published when no localization applies.
    fn localize(&self, message: &str, tag: &str, language: Option<&str>) -> String {
        self.localization
            .as_ref()
            .and_then(|localization| {
                localization
                    .text(message, language)
                    .or_else(|| localization.text(tag, language))
            })
            .map(str::to_string)
            .unwrap_or_else(|| message.to_string())
    }

    async fn deliver(
        &self,
        subscription: &Subscription,
        channel_kind: ChannelKind,
        outgoing: &Outgoing,
    ) -> Outcome {
        self.deliver_attempt(subscription, channel_kind, outgoing, 1)
            .await
    }

    /// Attempt number `attempts` of a delivery (1: the publish itself).
    async fn deliver_attempt(
        &self,
        subscription: &Subscription,
        channel_kind: ChannelKind,
        outgoing: &Outgoing,
        attempts: u32,
    ) -> Outcome {
        let Some(kind) = subscription.delivery_type() else {
            return Outcome::with(
                Status::Disabled,
                format!("unknown type `{}`", subscription.kind),
            );
        };
        let provider = subscription.provider_name.as_str();
        let Some(channel) = self.config.channel(provider, kind, channel_kind) else {
            return Outcome::with(
                Status::Disabled,
                format!("type {} is not enabled for this provider", kind.name()),
            );
        };
        let device = subscription.device_id.as_str();
        let key = (provider.to_string(), channel_kind);
        let transports = self.transports.load_full();
        match channel {
            Channel::Httpcb => deliver::httpcb::deliver(&transports.client, device, outgoing).await,
            Channel::Orscb(orscb) => {
                deliver::orscb::deliver(
                    &transports.client,
                    orscb,
                    self.local_ors.get().map(String::as_str),
                    device,
                    outgoing,
                )
                .await
            }
            Channel::Comet => match &self.cometd {
                Some(server) => {
                    deliver::comet::deliver(
                        server,
                        self.relay.get().map(Arc::as_ref),
                        device,
                        outgoing,
                    )
                    .await
                }
                None => Outcome::with(Status::Disabled, "no CometD server on this node"),
            },
            Channel::Android(_) => match transports.fcm.get(&key) {
                Some(fcm) => {
                    let sent = fcm.send(device, outgoing).await;
                    self.after_push(subscription, outgoing, attempts, fcm.retry_policy(), sent)
                        .await
                }
                None => Outcome::with(Status::Disabled, "android channel has no sender"),
            },
            Channel::Ios(_) => match transports.apns.get(&key) {
                Some(apns) => {
                    let sent = apns.send(device, outgoing).await;
                    self.after_push(subscription, outgoing, attempts, apns.retry_policy(), sent)
                        .await
                }
                None => Outcome::with(Status::Disabled, "ios channel has no sender"),
            },
        }
    }

    /// What a push service's answer to attempt `attempts` leads to: the subscription removed for a dead token,
    /// the delivery kept for a later attempt when the service is unavailable (`policy`: base delay, most
    /// attempts).
    async fn after_push(
        &self,
        subscription: &Subscription,
        outgoing: &Outgoing,
        attempts: u32,
        (base, max_attempts): (Duration, u32),
        sent: Sent,
    ) -> Outcome {
        match sent {
            Sent::Delivered => Outcome::delivered(),
            Sent::Failed(detail) => Outcome::failed(detail),
            Sent::Dead(detail) => {
                let removed = self.subscriptions.remove(&subscription.id).await;
                tracing::info!(
                    subscription = %subscription.id,
                    removed = removed.as_ref().is_ok_and(|removed| *removed),
                    "push token is no longer valid ({detail}): subscription removed"
                );
                Outcome::with(
                    Status::Unregistered,
                    format!("{detail}; the subscription was removed"),
                )
            }
            Sent::Unavailable {
                retry_after,
                detail,
            } => {
                if attempts > max_attempts {
                    tracing::warn!(
                        subscription = %subscription.id,
                        attempts,
                        "push service still unavailable ({detail}); message dropped"
                    );
                    return Outcome::failed(format!("{detail}; dropped after {attempts} attempts"));
                }
                let now = self.subscriptions.now_ms();
                let delay = retry::backoff(base, attempts, retry_after);
                let pending = PendingRetry {
                    id: new_id(),
                    subscription_id: subscription.id.clone(),
                    tag: outgoing.tag.clone(),
                    text: outgoing.text.clone(),
                    mediatype: outgoing.mediatype.clone(),
                    expires_at_ms: outgoing
                        .expire
                        .map(|expire| now.saturating_add(expire.saturating_mul(1000))),
                    attempts,
                    due_ms: now.saturating_add(delay.as_millis() as u64),
                };
                match self.subscriptions.save_retry(&pending).await {
                    Ok(()) => Outcome::with(
                        Status::Retrying,
                        format!("{detail}; sending again in {}s", delay.as_secs()),
                    ),
                    Err(error) => {
                        Outcome::failed(format!("{detail}; the retry cannot be kept: {error}"))
                    }
                }
            }
        }
    }

    /// Sends the deliveries whose retry is due now; returns how many were attempted.
    pub async fn retry_due(&self) -> usize {
        let now = self.subscriptions.now_ms();
        let due = match self.subscriptions.take_due_retries(now).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!("push retries cannot be read: {error}");
                return 0;
            }
        };
        let mut attempted = 0;
        for pending in due {
            let subscription = match self.subscriptions.get(&pending.subscription_id).await {
                Ok(Some(subscription)) => subscription,
                // Removed or expired meanwhile: nothing to send any more.
                _ => continue,
            };
            let expire = match pending.expires_at_ms {
                Some(at) if at <= now => continue,
                Some(at) => Some((at - now) / 1000),
                None => None,
            };
            let outgoing = Outgoing {
                format: self
                    .config
                    .format_for(&subscription.provider_name, &pending.tag),
                tag: pending.tag,
                text: pending.text,
                mediatype: pending.mediatype,
                expire,
                subscription_id: subscription.id.clone(),
            };
            let outcome = self
                .deliver_attempt(
                    &subscription,
                    channel_kind(&subscription),
                    &outgoing,
                    pending.attempts + 1,
                )
                .await;
            attempted += 1;
            tracing::info!(subscription = %subscription.id, attempt = pending.attempts + 1, ?outcome, "push retry");
        }
        attempted
    }

    /// Sends due retries every `every` until `stop` resolves.
    pub async fn run_retries(
        self: Arc<Self>,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut ticks = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticks.tick() => {
                    self.retry_due().await;
                }
            }
        }
    }
}

fn channel_kind(subscription: &Subscription) -> ChannelKind {
    if subscription.wants_debug() {
        ChannelKind::Debug
    } else {
        ChannelKind::Production
    }
}

fn text_field(value: Option<&Value>, name: &'static str) -> Result<String, Error> {
    match value {
        None | Some(Value::Null) => Err(Error::MissingField(name)),
        Some(Value::String(text)) if text.trim().is_empty() => Err(Error::MissingField(name)),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        Some(_) => Err(Error::WrongType(name, "a string")),
    }
}

/// An APNs device token is hexadecimal; anything else would change the request's `:path`
/// (`/3/device/{token}`).
fn check_device_token(token: &str) -> Result<(), Error> {
    if token.is_empty() || token.len() > 200 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidDeviceId(format!(
            "must be an APNs device token (hexadecimal digits) for ios (found `{token}`)"
        )));
    }
    Ok(())
}

/// An FCM registration token: letters, digits and `-`, `_`, `:`, `.` (what FCM issues), at most 4,096 of them.
fn check_registration_token(token: &str) -> Result<(), Error> {
    let valid = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.');
    if token.is_empty() || token.len() > 4096 || !token.bytes().all(valid) {
        return Err(Error::InvalidDeviceId(format!(
            "must be an FCM registration token for android (found `{token}`)"
        )));
    }
    Ok(())
}

fn check_callback_url(url: &str) -> Result<(), Error> {
    let parsed: hyper::Uri = url.parse().map_err(|_| {
        Error::InvalidDeviceId(format!(
            "must be an http or https URL for httpcb (found `{url}`)"
        ))
    })?;
    match (parsed.scheme_str(), parsed.host()) {
        (Some("http" | "https"), Some(_)) => Ok(()),
        _ => Err(Error::InvalidDeviceId(format!(
            "must be an http or https URL for httpcb (found `{url}`)"
        ))),
    }
}

fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
