//! `ios`: Apple Push Notification service over HTTP/2 (`POST /3/device/{token}`), with token authentication
//! (a `.p8` key signing an ES256 JWT, renewed every 50 minutes) or certificate authentication (TLS client
//! certificate from a PEM keystore). The `aps` dictionary is built from the `apple.*` OS-formatting options;
//! it has no `alert` entry when no alert option is set.
//!
//! What APNs's answers mean here ([`Sent`]): 410 `Unregistered` and 400 `BadDeviceToken` are a dead token; 429,
//! 500 and 503 are "unavailable", sent again later by the notification service; 403 `ExpiredProviderToken` or
//! `InvalidProviderToken` drops the cached provider token, which is signed anew once and the send tried again
//! once. The JSON payload may not exceed 4,096 bytes (checked before sending).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::{MAX_PAYLOAD, Outgoing, Sent};
use crate::notify::config::{ChannelKind, IosChannel, OsFormat};
use crate::outbound::{self, HttpClient, HttpSettings};

/// Apple accepts a provider token for up to an hour; renewing after 50 minutes stays clear of that.
const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);

#[derive(Debug, Clone)]
struct ProviderToken {
    value: String,
    issued: SystemTime,
}

/// Sender for one ios channel.
#[derive(Debug)]
pub struct Apns {
    channel: IosChannel,
    base_url: String,
    client: Result<HttpClient, String>,
    token: Mutex<Option<ProviderToken>>,
}

impl Apns {
    /// A sender for `channel` (of `kind`, which picks the sandbox for debug channels).
    pub fn new(channel: IosChannel, kind: ChannelKind, settings: HttpSettings) -> Arc<Apns> {
        let client = if channel.uses_token() {
            Ok(HttpClient::new(settings))
        } else {
            certificate_tls(&channel).map(|tls| HttpClient::with_tls(settings, Some(tls)))
        };
        Arc::new(Apns {
            base_url: channel.base_url(kind),
            channel,
            client,
            token: Mutex::new(None),
        })
    }

    /// The base delay and the most attempts of retries on this channel (APNs has no options of its own for
    /// them: one second, doubled each time, five attempts).
    pub fn retry_policy(&self) -> (Duration, u32) {
        (Duration::from_secs(1), 5)
    }

    /// Sends `outgoing` to the device `device`.
    pub async fn send(&self, device: &str, outgoing: &Outgoing) -> Sent {
        let client = match &self.client {
            Ok(client) => client,
            Err(error) => return Sent::Failed(error.clone()),
        };
        let payload = payload(&outgoing.format, outgoing);
        let body = payload.to_string();
        if body.len() > MAX_PAYLOAD {
            return Sent::Failed(format!(
                "the payload is {} bytes; APNs accepts at most {MAX_PAYLOAD}",
                body.len()
            ));
        }
        let mut renewed = false;
        loop {
            match self
                .send_once(client, device, outgoing, &payload, &body)
                .await
            {
                Sent::Failed(detail)
                    if !renewed
                        && self.channel.uses_token()
                        && (detail.contains("ExpiredProviderToken")
                            || detail.contains("InvalidProviderToken")) =>
                {
                    // Signed anew once: a clock step or a rotated key makes the cached token stale early.
                    *self.token.lock().await = None;
                    renewed = true;
                }
                sent => return sent,
            }
        }
    }

    async fn send_once(
        &self,
        client: &HttpClient,
        device: &str,
        outgoing: &Outgoing,
        payload: &Value,
        body: &str,
    ) -> Sent {
        let alerting = payload["aps"].get("alert").is_some()
            || payload["aps"].get("sound").is_some()
            || payload["aps"].get("badge").is_some();
        let url = format!("{}/3/device/{}", self.base_url, device);
        let mut request = Request::post(url.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                "apns-push-type",
                if alerting { "alert" } else { "background" },
            )
            .header("apns-priority", if alerting { "10" } else { "5" });
        if let Some(topic) = &self.channel.topic {
            request = request.header("apns-topic", topic.as_str());
        }
        if let Some(expire) = outgoing.expire {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            request = request.header("apns-expiration", (now + expire).to_string());
        }
        if let Some(collapse) = outgoing
            .format
            .collapse_key
            .as_deref()
            .filter(|key| key.len() <= 64)
        {
            request = request.header("apns-collapse-id", collapse);
        }
        if self.channel.uses_token() {
            match self.provider_token().await {
                Ok(token) => {
                    request =
                        request.header(hyper::header::AUTHORIZATION, format!("bearer {token}"))
                }
                Err(error) => return Sent::Failed(error),
            }
        }
        let request = match request.body(Full::new(Bytes::from(body.to_string()))) {
            Ok(request) => request,
            Err(error) => return Sent::Failed(format!("bad APNs request: {error}")),
        };
        match client.send_h2(request).await {
            Ok(reply) if reply.status == 200 => Sent::Delivered,
            Ok(reply) => {
                let reason = serde_json::from_slice::<Value>(&reply.body)
                    .ok()
                    .and_then(|body| {
                        body.get("reason")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                let detail = format!("APNs answered {} {reason}", reply.status)
                    .trim()
                    .to_string();
                match (reply.status, reason.as_str()) {
                    (410, _) | (400, "BadDeviceToken") => Sent::Dead(detail),
                    (429 | 500 | 503, _) => Sent::Unavailable {
                        retry_after: super::retry_after(&reply.headers),
                        detail,
                    },
                    _ => Sent::Failed(detail),
                }
            }
            Err(error) => Sent::Failed(format!("APNs unreachable: {error}")),
        }
    }

    async fn provider_token(&self) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.issued.elapsed().unwrap_or(TOKEN_LIFETIME) < TOKEN_LIFETIME
        {
            return Ok(token.value.clone());
        }
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: u64,
        }
        let key_pem = std::fs::read(&self.channel.keystore).map_err(|error| {
            format!(
                "cannot read APNs key `{}`: {error}",
                self.channel.keystore.display()
            )
        })?;
        let key = jsonwebtoken::EncodingKey::from_ec_pem(&key_pem).map_err(|error| {
            format!(
                "APNs key `{}` is not a P-256 key: {error}",
                self.channel.keystore.display()
            )
        })?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = self.channel.key_id.clone();
        let issued = SystemTime::now();
        let claims = Claims {
            iss: self.channel.team_id.as_deref().unwrap_or_default(),
            iat: issued
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        };
        let value = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|error| format!("cannot sign APNs token: {error}"))?;
        *cached = Some(ProviderToken {
            value: value.clone(),
            issued,
        });
        Ok(value)
    }
}

/// The JSON sent to APNs: `aps` from the formatting options, plus the message, tag and media type as custom keys.
pub fn payload(format: &OsFormat, outgoing: &Outgoing) -> Value {
    let mut aps = Map::new();
    if format.has_alert() {
        let mut alert = Map::new();
        if let Some(body) = &format.alert_body {
            alert.insert("body".into(), json!(body));
        }
        if let Some(key) = &format.action_loc_key {
            alert.insert("action-loc-key".into(), json!(key));
        }
        if let Some(key) = &format.loc_key {
            alert.insert("loc-key".into(), json!(key));
        }
        if let Some(args) = &format.loc_args {
            alert.insert("loc-args".into(), json!(args));
        }
        if let Some(image) = &format.launch_image {
            alert.insert("launch-image".into(), json!(image));
        }
        aps.insert("alert".into(), Value::Object(alert));
    }
    if let Some(badge) = format.badge {
        aps.insert("badge".into(), json!(badge));
    }
    if let Some(sound) = &format.sound {
        aps.insert("sound".into(), json!(sound));
    }
    if aps.is_empty() {
        // Without anything to show, the notification is a background one, which needs content-available.
        aps.insert("content-available".into(), json!(1));
    }
    let mut body = json!({"aps": aps, "message": outgoing.text, "tag": outgoing.tag});
    if let Some(mediatype) = &outgoing.mediatype {
        body["mediatype"] = json!(mediatype);
    }
    body
}

/// TLS with the client certificate and key found in the PEM keystore.
fn certificate_tls(channel: &IosChannel) -> Result<rustls::ClientConfig, String> {
    let path = channel.keystore.display().to_string();
    let pem = std::fs::read(&channel.keystore)
        .map_err(|error| format!("cannot read APNs keystore `{path}`: {error}"))?;
    let certificates: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|error| format!("APNs keystore `{path}` has a bad certificate: {error}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "APNs keystore `{path}` holds no certificate (PEM expected)"
        ));
    }
    let key = rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|error| format!("APNs keystore `{path}` has a bad key: {error}"))?
        .ok_or_else(|| format!("APNs keystore `{path}` holds no private key"))?;
    let mut tls = outbound::tls_builder()
        .with_root_certificates(outbound::web_roots())
        .with_client_auth_cert(certificates, key)
        .map_err(|error| format!("APNs keystore `{path}` is not usable: {error}"))?;
    tls.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tls)
}
