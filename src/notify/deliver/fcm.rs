//! `android`: Firebase Cloud Messaging HTTP v1 (`projects/{id}/messages:send` with an OAuth2 access token got
//! by exchanging a service-account JWT signed RS256 at the token endpoint), or the legacy GCM HTTP form when
//! `android.gcm.legacy` is set. A 503 is honoured: the message is sent again in the background after
//! `Retry-After` (or `android.unavailability_retry_timeout`), up to `android.gcm.retryNumber` times, so a
//! publish never waits for it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{Outcome, Outgoing, Status};
use crate::notify::config::AndroidChannel;
use crate::outbound::{HttpClient, Reply};

/// The OAuth2 scope FCM requires.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The fields of a Google service-account key file that FCM needs.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceAccount {
    /// `project_id`.
    pub project_id: String,
    /// `private_key_id` (the JWT `kid`).
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// `private_key` (PEM).
    pub private_key: String,
    /// `client_email` (the JWT `iss`).
    pub client_email: String,
    /// `token_uri`.
    #[serde(default)]
    pub token_uri: Option<String>,
}

#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Debug, Clone)]
struct AccessToken {
    value: String,
    valid_until: SystemTime,
}

/// Sender for one android channel.
#[derive(Debug)]
pub struct Fcm {
    channel: AndroidChannel,
    client: HttpClient,
    /// The service-account key, read once (FCM HTTP v1 only).
    account: Result<ServiceAccount, String>,
    token: Mutex<Option<AccessToken>>,
}

impl Fcm {
    /// A sender for `channel`.
    pub fn new(channel: AndroidChannel, client: HttpClient) -> Arc<Fcm> {
        let account = if channel.legacy {
            Err("legacy GCM uses no service account".to_string())
        } else {
            read_service_account(&channel.api_key)
        };
        if let Err(error) = &account
            && !channel.legacy
        {
            tracing::warn!("android channel: {error}; its deliveries will fail");
        }
        Arc::new(Fcm {
            channel,
            client,
            account,
            token: Mutex::new(None),
        })
    }

    /// Sends `outgoing` to the device `token`; on 503 schedules background retries and reports `Retrying`.
    pub async fn deliver(self: &Arc<Self>, device: &str, outgoing: &Outgoing) -> Outcome {
        match self.send_once(device, outgoing).await {
            Attempt::Done(outcome) => outcome,
            Attempt::Unavailable(delay) => {
                self.retry_later(device.to_string(), outgoing.clone(), delay, 1);
                Outcome::with(
                    Status::Retrying,
                    format!(
                        "FCM unavailable (503); sending again in {}s",
                        delay.as_secs()
                    ),
                )
            }
        }
    }

    fn retry_later(
        self: &Arc<Self>,
        device: String,
        outgoing: Outgoing,
        delay: Duration,
        attempt: u32,
    ) {
        if attempt > self.channel.retry_number {
            tracing::warn!(subscription = %outgoing.subscription_id, "FCM still unavailable; message dropped after retries");
            return;
        }
        let sender = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            match sender.send_once(&device, &outgoing).await {
                Attempt::Done(outcome) => {
                    tracing::info!(subscription = %outgoing.subscription_id, ?outcome, "FCM retry finished");
                }
                Attempt::Unavailable(delay) => {
                    sender.retry_later(device, outgoing, delay, attempt + 1)
                }
            }
        });
    }

    async fn send_once(&self, device: &str, outgoing: &Outgoing) -> Attempt {
        let sent = if self.channel.legacy {
            self.send_legacy(device, outgoing).await
        } else {
            self.send_v1(device, outgoing).await
        };
        let reply = match sent {
            Ok(reply) => reply,
            Err(outcome) => return Attempt::Done(outcome),
        };
        match reply.status {
            200 if self.channel.legacy => Attempt::Done(legacy_outcome(&reply.body)),
            200 => Attempt::Done(Outcome::delivered()),
            503 => Attempt::Unavailable(
                retry_after(&reply).unwrap_or(self.channel.unavailability_retry_timeout),
            ),
            status => Attempt::Done(Outcome::failed(format!(
                "FCM answered {status}: {}",
                error_text(&reply.body)
            ))),
        }
    }

    async fn send_v1(&self, device: &str, outgoing: &Outgoing) -> Result<Reply, Outcome> {
        let account = self
            .account
            .as_ref()
            .map_err(|error| Outcome::failed(error.clone()))?;
        let token = self.access_token(account).await?;
        let mut android = json!({});
        if let Some(key) = &outgoing.format.collapse_key {
            android["collapse_key"] = json!(key);
        }
        if let Some(expire) = outgoing.expire {
            android["ttl"] = json!(format!("{expire}s"));
        }
        let body = json!({
            "message": {
                "token": device,
                "data": data_payload(outgoing),
                "android": android,
            }
        });
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.channel.fcm_url.trim_end_matches('/'),
            account.project_id
        );
        let request = Request::post(url.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", token.value),
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|error| Outcome::failed(format!("bad FCM URL `{url}`: {error}")))?;
        self.client
            .send(request)
            .await
            .map_err(|error| Outcome::failed(format!("FCM unreachable: {error}")))
    }

    async fn send_legacy(&self, device: &str, outgoing: &Outgoing) -> Result<Reply, Outcome> {
        let mut body = json!({"to": device, "data": data_payload(outgoing)});
        if let Some(key) = &outgoing.format.collapse_key {
            body["collapse_key"] = json!(key);
        }
        if self.channel.delay_while_idle {
            body["delay_while_idle"] = json!(true);
        }
        if let Some(expire) = outgoing.expire {
            body["time_to_live"] = json!(expire);
        }
        let request = Request::post(self.channel.gcm_url.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::AUTHORIZATION,
                format!("key={}", self.channel.api_key),
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|error| {
                Outcome::failed(format!("bad GCM URL `{}`: {error}", self.channel.gcm_url))
            })?;
        self.client
            .send(request)
            .await
            .map_err(|error| Outcome::failed(format!("GCM unreachable: {error}")))
    }

    fn token_url(&self, account: &ServiceAccount) -> String {
        self.channel
            .token_url
            .clone()
            .or_else(|| account.token_uri.clone())
            .unwrap_or_else(|| crate::notify::config::GOOGLE_TOKEN_URL.to_string())
    }

    /// A cached access token, or a new one from the token endpoint (RFC 7523 JWT bearer grant).
    async fn access_token(&self, account: &ServiceAccount) -> Result<AccessToken, Outcome> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.valid_until > SystemTime::now()
        {
            return Ok(token.clone());
        }
        let token_url = self.token_url(account);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            iss: &account.client_email,
            scope: FCM_SCOPE,
            aud: &token_url,
            iat: now,
            exp: now + 3600,
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = account.private_key_id.clone();
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.as_bytes()).map_err(
            |error| {
                Outcome::failed(format!(
                    "service account private key is not usable: {error}"
                ))
            },
        )?;
        let assertion = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|error| Outcome::failed(format!("cannot sign the token request: {error}")))?;
        let form = serde_urlencoded::to_string([
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .unwrap_or_default();
        let request = Request::post(token_url.as_str())
            .header(
                hyper::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Full::new(Bytes::from(form)))
            .map_err(|error| Outcome::failed(format!("bad token URL `{token_url}`: {error}")))?;
        let reply = self
            .client
            .send(request)
            .await
            .map_err(|error| Outcome::failed(format!("token endpoint unreachable: {error}")))?;
        if reply.status != 200 {
            return Err(Outcome::failed(format!(
                "token endpoint answered {}: {}",
                reply.status,
                error_text(&reply.body)
            )));
        }
        #[derive(Deserialize)]
        struct TokenReply {
            access_token: String,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let parsed: TokenReply = serde_json::from_slice(&reply.body).map_err(|error| {
            Outcome::failed(format!("token endpoint reply is not valid: {error}"))
        })?;
        // Renew a minute early so a token never expires on the way.
        let lifetime = parsed.expires_in.unwrap_or(3600).saturating_sub(60);
        let token = AccessToken {
            value: parsed.access_token,
            valid_until: SystemTime::now() + Duration::from_secs(lifetime),
        };
        *cached = Some(token.clone());
        Ok(token)
    }
}

/// Reads the service-account key file named by `android.gcm.apiKey`.
fn read_service_account(path: &str) -> Result<ServiceAccount, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read service account key `{path}`: {error}"))?;
    serde_json::from_str(&text)
        .map_err(|error| format!("service account key `{path}` is not valid: {error}"))
}

enum Attempt {
    Done(Outcome),
    Unavailable(Duration),
}

/// FCM data messages carry only string values.
fn data_payload(outgoing: &Outgoing) -> Value {
    let mut data = json!({"message": outgoing.text, "tag": outgoing.tag});
    if let Some(mediatype) = &outgoing.mediatype {
        data["mediatype"] = json!(mediatype);
    }
    data
}

/// `Retry-After` in seconds (the HTTP-date form falls back to the configured timeout).
fn retry_after(reply: &Reply) -> Option<Duration> {
    let value = reply
        .headers
        .get(hyper::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn error_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

/// The legacy API answers 200 with per-device results.
fn legacy_outcome(body: &[u8]) -> Outcome {
    let reply: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if reply.get("success").and_then(Value::as_u64).unwrap_or(0) > 0 {
        return Outcome::delivered();
    }
    let error = reply
        .pointer("/results/0/error")
        .and_then(Value::as_str)
        .unwrap_or("no success in the reply");
    Outcome::failed(format!("GCM refused the message: {error}"))
}
