//! The `push` option sections typed: `push`, `push.provider.NAME`, `push.provider.event`,
//! `push.provider.event.EVENT` and `push.provider.NAME.event.EVENT`.
//!
//! Rules (deployment guide, `push` section):
//! - `pushEnabled` lists the enabled types; unknown types are ignored with a log line. `gcm` is read as
//!   `android` (both go to Firebase Cloud Messaging).
//! - Each provider (the `push` section itself is the default provider, named `""`) has a production channel and
//!   a debug channel per type. The debug channel is made of the `debug.`-prefixed siblings of the provider
//!   options and is enabled only when all its mandatory options are present.
//! - A channel whose mandatory options are missing is disabled with a log line, even if its type is enabled.
//! - `push.provider.NAME` sections are isolated: an option they do not set is not set.
//! - OS-formatting options (`apple.alert*`, `apple.badge`, `apple.sound`, `android.collapseKey`) have no debug
//!   variant; they are layered `push` < `push.provider.event` < `push.provider.event.EVENT` <
//!   `push.provider.NAME.event.EVENT`, where EVENT matches a published tag equal to it or starting with `EVENT.`.
//!
//! Options that today's protocols need and GMS 8.1 did not have are documented on [`AndroidChannel`] and
//! [`IosChannel`]. The C2DM options (`android.senderEmail`, ...) name a service that no longer exists: they are
//! accepted and ignored with a log line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One option as read: name, value and where it was read (`file:line`), independent of the config reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionLine {
    /// Option name.
    pub name: String,
    /// Option value (trimmed).
    pub value: String,
    /// Where it was read, for log lines.
    pub origin: String,
}

/// One option section as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionInput {
    /// Section name (`push`, `push.provider.acme`...).
    pub name: String,
    /// Options in file order; the last of a repeated name wins.
    pub options: Vec<OptionLine>,
}

impl SectionInput {
    /// A section from `(name, value)` pairs (origins are `name`), for code and tests that build config in place.
    pub fn from_pairs(name: &str, pairs: &[(&str, &str)]) -> SectionInput {
        SectionInput {
            name: name.to_string(),
            options: pairs
                .iter()
                .map(|(key, value)| OptionLine {
                    name: key.to_string(),
                    value: value.to_string(),
                    origin: format!("[{name}] {key}"),
                })
                .collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&OptionLine> {
        self.options.iter().rev().find(|option| option.name == name)
    }
}

/// A delivery type (`notificationDetails.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryType {
    /// Firebase Cloud Messaging (also `gcm`).
    Android,
    /// Apple Push Notification service.
    Ios,
    /// HTTP POST to the subscriber's URL.
    Httpcb,
    /// Event to an ORS session.
    Orscb,
    /// CometD delivery on `/_genesys`.
    Comet,
}

impl DeliveryType {
    /// Parses a type name as GMS spells it (case-insensitive); `gcm` is `android`.
    pub fn parse(name: &str) -> Option<DeliveryType> {
        match name.trim().to_ascii_lowercase().as_str() {
            "android" | "gcm" => Some(DeliveryType::Android),
            "ios" => Some(DeliveryType::Ios),
            "httpcb" => Some(DeliveryType::Httpcb),
            "orscb" => Some(DeliveryType::Orscb),
            "comet" => Some(DeliveryType::Comet),
            _ => None,
        }
    }

    /// The name used in replies and logs.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryType::Android => "android",
            DeliveryType::Ios => "ios",
            DeliveryType::Httpcb => "httpcb",
            DeliveryType::Orscb => "orscb",
            DeliveryType::Comet => "comet",
        }
    }
}

/// Production or debug channel of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChannelKind {
    /// The options as named in the table.
    Production,
    /// The `debug.`-prefixed siblings.
    Debug,
}

/// Default Firebase Cloud Messaging base URL.
pub const FCM_URL: &str = "https://fcm.googleapis.com";
/// Default Google OAuth2 token endpoint.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Default legacy GCM HTTP endpoint.
pub const GCM_LEGACY_URL: &str = "https://fcm.googleapis.com/fcm/send";
/// APNs production base URL.
pub const APNS_URL: &str = "https://api.push.apple.com";
/// APNs sandbox (development) base URL.
pub const APNS_SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// An android channel (FCM HTTP v1, or the legacy GCM HTTP form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidChannel {
    /// `android.gcm.apiKey` (mandatory). With FCM HTTP v1 (the default) it is the location of the Google service
    /// account JSON key file; with `android.gcm.legacy = true` it is the legacy server key.
    pub api_key: String,
    /// `android.gcm.legacy` (default false): send with the legacy GCM HTTP form for old deployments.
    pub legacy: bool,
    /// `android.gcm.retryNumber` (default 3): retries after FCM is unavailable (429, 500, 503).
    pub retry_number: u32,
    /// `android.unavailability_retry_timeout` (seconds, default 120): first wait after FCM is unavailable without `Retry-After`, doubled at each retry.
    pub unavailability_retry_timeout: Duration,
    /// `android.delayWhileFormatting` (default false): legacy `delay_while_idle`.
    pub delay_while_idle: bool,
    /// `android.fcm.url` (default [`FCM_URL`]).
    pub fcm_url: String,
    /// `android.fcm.tokenUrl` (default: the key file's `token_uri`, else [`GOOGLE_TOKEN_URL`]).
    pub token_url: Option<String>,
    /// `android.gcm.url` (default [`GCM_LEGACY_URL`]).
    pub gcm_url: String,
}

/// An ios channel (APNs over HTTP/2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IosChannel {
    /// `apple.keystore` (mandatory): a `.p8` signing key (token authentication) or a PEM file holding the client
    /// certificate and its private key (certificate authentication).
    pub keystore: PathBuf,
    /// `apple.keystorePassword` (mandatory, may be empty). Kept for compatibility: PEM keys are not encrypted.
    pub keystore_password: String,
    /// `apple.keyId`: the key id of a `.p8` key (mandatory with token authentication).
    pub key_id: Option<String>,
    /// `apple.teamId`: the developer team id (mandatory with token authentication).
    pub team_id: Option<String>,
    /// `apple.topic`: the app bundle id sent as `apns-topic` (mandatory with token authentication).
    pub topic: Option<String>,
    /// `apple.isDebug` (default false): use the sandbox endpoint. The debug channel always does.
    pub is_debug: bool,
    /// `apple.url`: overrides the APNs base URL.
    pub url: Option<String>,
}

impl IosChannel {
    /// Whether the keystore is a `.p8` token-signing key.
    pub fn uses_token(&self) -> bool {
        self.keystore
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("p8"))
    }

    /// The APNs base URL of this channel.
    pub fn base_url(&self, kind: ChannelKind) -> String {
        match &self.url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if self.is_debug || kind == ChannelKind::Debug => APNS_SANDBOX_URL.to_string(),
            None => APNS_URL.to_string(),
        }
    }
}

/// An orscb channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrscbChannel {
    /// `orscb.url`: base URL of the ORS HTTP interface (`http://ors:7210`); `None` (only in `[push]` itself, not
    /// for a debug channel or a provider): this node's own (its internal listener, which serves the `/scxml`
    /// routes), whatever port it listens on.
    pub url: Option<String>,
}

/// The options of one enabled channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// android / gcm.
    Android(AndroidChannel),
    /// ios.
    Ios(IosChannel),
    /// httpcb (no options of its own; `gms` section timeouts).
    Httpcb,
    /// orscb.
    Orscb(OrscbChannel),
    /// comet.
    Comet,
}

/// One provider: its enabled channels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provider {
    /// Provider name (`""` for the `push` section).
    pub name: String,
    /// Enabled channels by type and kind.
    pub channels: BTreeMap<(DeliveryType, ChannelKind), Channel>,
}

/// OS-formatting options; `None` means "not set at this layer".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsFormat {
    /// `apple.alertMessageBody`.
    pub alert_body: Option<String>,
    /// `apple.alertMessageActionLocKey`.
    pub action_loc_key: Option<String>,
    /// `apple.alertMessageLocKey`.
    pub loc_key: Option<String>,
    /// `apple.alertMessageLocArgNames` (comma-separated; sent as the `loc-args` array).
    pub loc_args: Option<Vec<String>>,
    /// `apple.alertMessageLaunchImage`.
    pub launch_image: Option<String>,
    /// `apple.badge`.
    pub badge: Option<i64>,
    /// `apple.sound`.
    pub sound: Option<String>,
    /// `android.collapseKey`.
    pub collapse_key: Option<String>,
}

impl OsFormat {
    /// Layers `over` on top of `self`: each option set in `over` wins.
    pub fn merged(&self, over: &OsFormat) -> OsFormat {
        OsFormat {
            alert_body: over.alert_body.clone().or_else(|| self.alert_body.clone()),
            action_loc_key: over
                .action_loc_key
                .clone()
                .or_else(|| self.action_loc_key.clone()),
            loc_key: over.loc_key.clone().or_else(|| self.loc_key.clone()),
            loc_args: over.loc_args.clone().or_else(|| self.loc_args.clone()),
            launch_image: over
                .launch_image
                .clone()
                .or_else(|| self.launch_image.clone()),
            badge: over.badge.or(self.badge),
            sound: over.sound.clone().or_else(|| self.sound.clone()),
            collapse_key: over
                .collapse_key
                .clone()
                .or_else(|| self.collapse_key.clone()),
        }
    }

    /// Whether any `alert` dictionary option is set.
    pub fn has_alert(&self) -> bool {
        self.alert_body.is_some()
            || self.action_loc_key.is_some()
            || self.loc_key.is_some()
            || self.loc_args.is_some()
            || self.launch_image.is_some()
    }
}

/// The whole typed `push` configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfig {
    /// `defaultSubscriptionExpiration` (seconds, at least 30, default 30).
    pub default_subscription_expiration: u64,
    /// Types listed in `pushEnabled` (known ones).
    pub enabled: Vec<DeliveryType>,
    /// Providers by name; `""` is the `push` section.
    pub providers: BTreeMap<String, Provider>,
    /// `push` section formatting.
    pub base_format: OsFormat,
    /// `push.provider.event`.
    pub event_format: OsFormat,
    /// `push.provider.event.EVENT` by EVENT.
    pub event_formats: BTreeMap<String, OsFormat>,
    /// `push.provider.NAME.event.EVENT` by (NAME, EVENT).
    pub provider_event_formats: BTreeMap<(String, String), OsFormat>,
    /// `localizationFileLocation`.
    pub localization_file: Option<PathBuf>,
    /// What was ignored or disabled, one sentence each (also logged).
    pub notes: Vec<String>,
}

/// The smallest subscription expiration the API accepts, in seconds.
pub const MIN_EXPIRATION: u64 = 30;

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig::from_sections(&[])
    }
}

impl PushConfig {
    /// Types the `push*` sections among `sections` (others are skipped). Never fails: bad values fall back to
    /// defaults and missing mandatory options disable channels, each with a note that is also logged.
    pub fn from_sections(sections: &[SectionInput]) -> PushConfig {
        let mut notes = Vec::new();
        let empty = SectionInput {
            name: "push".to_string(),
            options: Vec::new(),
        };
        let push = sections
            .iter()
            .find(|section| section.name == "push")
            .unwrap_or(&empty);
        let default_subscription_expiration = match push.get("defaultSubscriptionExpiration") {
            None => MIN_EXPIRATION,
            Some(option) => match option.value.parse::<u64>() {
                Ok(seconds) if seconds >= MIN_EXPIRATION => seconds,
                _ => {
                    notes.push(format!(
                        "{}: defaultSubscriptionExpiration `{}` is not an integer >= 30; 30 is used",
                        option.origin, option.value
                    ));
                    MIN_EXPIRATION
                }
            },
        };
        let mut enabled = Vec::new();
        match push.get("pushEnabled") {
            None => {
                notes.push("push.pushEnabled is not set: every push type is disabled".to_string())
            }
            Some(option) => {
                for name in option
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                {
                    match DeliveryType::parse(name) {
                        Some(kind) if !enabled.contains(&kind) => enabled.push(kind),
                        Some(_) => {}
                        None => notes.push(format!(
                            "{}: unknown push type `{name}` ignored",
                            option.origin
                        )),
                    }
                }
            }
        }
        let localization_file = push
            .get("localizationFileLocation")
            .filter(|option| !option.value.is_empty())
            .map(|option| PathBuf::from(&option.value));

        let mut providers = BTreeMap::new();
        providers.insert(String::new(), provider_from(push, "", &enabled, &mut notes));
        let mut event_formats = BTreeMap::new();
        let mut provider_event_formats = BTreeMap::new();
        let mut event_format = OsFormat::default();
        for section in sections {
            let Some(rest) = section.name.strip_prefix("push.provider.") else {
                continue;
            };
            if rest == "event" {
                event_format = format_from(section, &mut notes);
            } else if let Some(event) = rest.strip_prefix("event.") {
                event_formats.insert(event.to_string(), format_from(section, &mut notes));
            } else if let Some((name, event)) = rest.split_once(".event.") {
                if valid_provider_name(name) {
                    provider_event_formats.insert(
                        (name.to_string(), event.to_string()),
                        format_from(section, &mut notes),
                    );
                } else {
                    notes.push(format!(
                        "section [{}]: invalid provider name `{name}` ignored",
                        section.name
                    ));
                }
            } else if valid_provider_name(rest) {
                providers.insert(
                    rest.to_string(),
                    provider_from(section, rest, &enabled, &mut notes),
                );
            } else {
                notes.push(format!(
                    "section [{}]: provider names may only contain letters, digits, `_` and `-`; section ignored",
                    section.name
                ));
            }
        }
        for note in &notes {
            tracing::warn!("push configuration: {note}");
        }
        PushConfig {
            default_subscription_expiration,
            enabled,
            providers,
            base_format: format_from(push, &mut Vec::new()),
            event_format,
            event_formats,
            provider_event_formats,
            localization_file,
            notes,
        }
    }

    /// The enabled channel of `provider` for `kind`/`channel`, if any.
    pub fn channel(
        &self,
        provider: &str,
        kind: DeliveryType,
        channel: ChannelKind,
    ) -> Option<&Channel> {
        self.providers.get(provider)?.channels.get(&(kind, channel))
    }

    /// The OS formatting for a message with `tag` sent through `provider`.
    pub fn format_for(&self, provider: &str, tag: &str) -> OsFormat {
        let mut format = self.base_format.merged(&self.event_format);
        let applies = |event: &str| {
            tag == event
                || tag
                    .strip_prefix(event)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        // Shorter (more general) event names first, so the most specific one wins.
        let mut events: Vec<(&String, &OsFormat)> = self
            .event_formats
            .iter()
            .filter(|(event, _)| applies(event))
            .collect();
        events.sort_by_key(|(event, _)| event.len());
        for (_, layer) in events {
            format = format.merged(layer);
        }
        let mut provider_events: Vec<(&String, &OsFormat)> = self
            .provider_event_formats
            .iter()
            .filter(|((name, event), _)| name == provider && applies(event))
            .map(|((_, event), layer)| (event, layer))
            .collect();
        provider_events.sort_by_key(|(event, _)| event.len());
        for (_, layer) in provider_events {
            format = format.merged(layer);
        }
        format
    }
}

/// Whether `name` is a valid provider name: `[A-Za-z0-9_-]+`.
pub fn valid_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

const C2DM_OPTIONS: [&str; 4] = [
    "android.senderEmail",
    "android.senderPassword",
    "android.senderAccountType",
    "android.source",
];

fn provider_from(
    section: &SectionInput,
    name: &str,
    enabled: &[DeliveryType],
    notes: &mut Vec<String>,
) -> Provider {
    let mut channels = BTreeMap::new();
    let label = if name.is_empty() {
        "push".to_string()
    } else {
        format!("push.provider.{name}")
    };
    for option in C2DM_OPTIONS {
        if let Some(line) = section.get(option) {
            notes.push(format!(
                "{}: {option} configures C2DM, which no longer exists; ignored",
                line.origin
            ));
        }
    }
    for &kind in enabled {
        for channel_kind in [ChannelKind::Production, ChannelKind::Debug] {
            let prefix = if channel_kind == ChannelKind::Debug {
                "debug."
            } else {
                ""
            };
            // Only the production orscb channel of [push] itself may leave its URL to this node's own ORS.
            let local_ors = name.is_empty() && channel_kind == ChannelKind::Production;
            match channel_from(section, kind, prefix, local_ors) {
                Ok(channel) => {
                    channels.insert((kind, channel_kind), channel);
                }
                Err(missing) if channel_kind == ChannelKind::Production => notes.push(format!(
                    "[{label}]: push type {} disabled: mandatory option {missing} is missing",
                    kind.name()
                )),
                // A debug channel is only enabled when complete; its absence is normal.
                Err(_) => {}
            }
        }
    }
    Provider {
        name: name.to_string(),
        channels,
    }
}

fn channel_from(
    section: &SectionInput,
    kind: DeliveryType,
    prefix: &str,
    local_ors: bool,
) -> Result<Channel, String> {
    let value = |name: &str| {
        section
            .get(&format!("{prefix}{name}"))
            .map(|option| option.value.clone())
    };
    let flag = |name: &str| value(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let non_empty = |name: &str| value(name).filter(|v| !v.is_empty());
    let mandatory = |name: &str| non_empty(name).ok_or_else(|| format!("{prefix}{name}"));
    match kind {
        DeliveryType::Android => Ok(Channel::Android(AndroidChannel {
            api_key: mandatory("android.gcm.apiKey")?,
            legacy: flag("android.gcm.legacy"),
            retry_number: value("android.gcm.retryNumber")
                .and_then(|v| v.parse().ok())
                .unwrap_or(3),
            unavailability_retry_timeout: Duration::from_secs(
                value("android.unavailability_retry_timeout")
                    .and_then(|v| v.parse::<u64>().ok())
                    .filter(|seconds| *seconds > 0)
                    .unwrap_or(120),
            ),
            delay_while_idle: flag("android.delayWhileFormatting"),
            fcm_url: non_empty("android.fcm.url").unwrap_or_else(|| FCM_URL.to_string()),
            token_url: non_empty("android.fcm.tokenUrl"),
            gcm_url: non_empty("android.gcm.url").unwrap_or_else(|| GCM_LEGACY_URL.to_string()),
        })),
        DeliveryType::Ios => {
            let keystore = PathBuf::from(mandatory("apple.keystore")?);
            // Not null, but may be empty.
            let keystore_password = value("apple.keystorePassword")
                .ok_or_else(|| format!("{prefix}apple.keystorePassword"))?;
            let channel = IosChannel {
                keystore,
                keystore_password,
                key_id: non_empty("apple.keyId"),
                team_id: non_empty("apple.teamId"),
                topic: non_empty("apple.topic"),
                is_debug: flag("apple.isDebug"),
                url: non_empty("apple.url"),
            };
            if channel.uses_token() {
                for (field, name) in [
                    (&channel.key_id, "apple.keyId"),
                    (&channel.team_id, "apple.teamId"),
                    (&channel.topic, "apple.topic"),
                ] {
                    if field.is_none() {
                        return Err(format!("{prefix}{name} (needed with a .p8 key)"));
                    }
                }
            }
            Ok(Channel::Ios(channel))
        }
        DeliveryType::Httpcb => Ok(Channel::Httpcb),
        DeliveryType::Orscb => Ok(Channel::Orscb(OrscbChannel {
            url: match non_empty("orscb.url") {
                Some(url) => Some(url.trim_end_matches('/').to_string()),
                None if local_ors => None,
                None => return Err(format!("{prefix}orscb.url")),
            },
        })),
        DeliveryType::Comet => Ok(Channel::Comet),
    }
}

fn format_from(section: &SectionInput, notes: &mut Vec<String>) -> OsFormat {
    let value = |name: &str| section.get(name).map(|option| option.value.clone());
    let badge = section
        .get("apple.badge")
        .and_then(|option| match option.value.parse::<i64>() {
            Ok(badge) => Some(badge),
            Err(_) => {
                notes.push(format!(
                    "{}: apple.badge `{}` is not an integer; ignored",
                    option.origin, option.value
                ));
                None
            }
        });
    OsFormat {
        alert_body: value("apple.alertMessageBody"),
        action_loc_key: value("apple.alertMessageActionLocKey"),
        loc_key: value("apple.alertMessageLocKey"),
        loc_args: value("apple.alertMessageLocArgNames").map(|names| {
            names
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect()
        }),
        launch_image: value("apple.alertMessageLaunchImage"),
        badge,
        sound: value("apple.sound"),
        collapse_key: value("android.collapseKey").filter(|key| !key.is_empty()),
    }
}

impl SectionInput {
    /// The same section from the option file as `config::raw` read it, with `file:line` origins.
    pub fn from_raw(section: &crate::config::RawSection) -> SectionInput {
        SectionInput {
            name: section.name.clone(),
            options: section
                .options
                .iter()
                .map(|option| OptionLine {
                    name: option.name.clone(),
                    value: option.value.clone(),
                    origin: option.location.to_string(),
                })
                .collect(),
        }
    }
}

impl PushConfig {
    /// Types the `push` and `push.provider.*` sections of an option file.
    pub fn from_raw(raw: &crate::config::RawConfig) -> PushConfig {
        let sections: Vec<SectionInput> = raw
            .sections
            .iter()
            .filter(|section| section.name == "push" || section.name.starts_with("push.provider."))
            .map(SectionInput::from_raw)
            .collect();
        PushConfig::from_sections(&sections)
    }
}
