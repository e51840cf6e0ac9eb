//! `android`: Firebase Cloud Messaging HTTP v1 (`projects/{id}/messages:send` with an OAuth2 access token got
//! by exchanging a service-account JWT signed RS256 at the token endpoint), or the legacy GCM HTTP form when
//! `android.gcm.legacy` is set.
//!
//! What FCM's answers mean here ([`Sent`]): 404 / `UNREGISTERED` (legacy `NotRegistered`, `InvalidRegistration`)
//! is a dead token; 429, 500 and 503 are "unavailable", sent again later by the notification service (with
//! `Retry-After` when FCM gave one); a 401 drops the cached access token, which is renewed once and the send tried
//! again once. The message's `data` may not exceed 4,096 bytes (checked before sending), and `android.ttl` is
//! capped at FCM's 28 days.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{MAX_PAYLOAD, Outcome, Outgoing, Sent};
use crate::notify::config::AndroidChannel;
use crate::outbound::{HttpClient, Reply};

/// The longest `ttl` FCM accepts: 28 days, in seconds.
pub const MAX_TTL: u64 = 2_419_200;

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

    /// Sends `outgoing` to the device `device`.
    pub async fn send(&self, device: &str, outgoing: &Outgoing) -> Sent {
        let size = data_payload(outgoing).to_string().len();
        if size > MAX_PAYLOAD {
            return Sent::Failed(format!(
                "the message data is {size} bytes; FCM accepts at most {MAX_PAYLOAD}"
            ));
        }
        let mut renewed = false;
        loop {
            let sent = if self.channel.legacy {
                self.send_legacy(device, outgoing).await
            } else {
                self.send_v1(device, outgoing).await
            };
            let reply = match sent {
                Ok(reply) => reply,
                Err(outcome) => return Sent::Failed(outcome.detail.unwrap_or_default()),
            };
            let detail = || format!("FCM answered {}: {}", reply.status, error_text(&reply.body));
            return match reply.status {
                200 if self.channel.legacy => legacy_outcome(&reply.body),
                200 => Sent::Delivered,
                // The access token was refused (revoked, expired early): a new one, once.
                401 if !self.channel.legacy && !renewed => {
                    *self.token.lock().await = None;
                    renewed = true;
                    continue;
                }
                404 => Sent::Dead(detail()),
                400 | 403 if fcm_error_code(&reply.body).as_deref() == Some("UNREGISTERED") => {
                    Sent::Dead(detail())
                }
                429 | 500 | 502 | 503 | 504 => Sent::Unavailable {
                    retry_after: super::retry_after(&reply.headers),
                    detail: detail(),
                },
                _ => Sent::Failed(detail()),
            };
        }
    }

    /// The base delay and the most attempts of retries on this channel (`android.unavailability_retry_timeout`,
    /// `android.gcm.retryNumber`).
    pub fn retry_policy(&self) -> (Duration, u32) {
        (
            self.channel.unavailability_retry_timeout,
            self.channel.retry_number,
        )
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
            android["ttl"] = json!(format!("{}s", expire.min(MAX_TTL)));
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
            body["time_to_live"] = json!(expire.min(MAX_TTL));
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

/// FCM data messages carry only string values.
fn data_payload(outgoing: &Outgoing) -> Value {
    let mut data = json!({"message": outgoing.text, "tag": outgoing.tag});
    if let Some(mediatype) = &outgoing.mediatype {
        data["mediatype"] = json!(mediatype);
    }
    data
}

/// The `errorCode` of an FCM v1 error body (`error.details[].errorCode`), or its `error.status`.
fn fcm_error_code(body: &[u8]) -> Option<String> {
    let reply: Value = serde_json::from_slice(body).ok()?;
    let details = reply.pointer("/error/details").and_then(Value::as_array);
    details
        .into_iter()
        .flatten()
        .find_map(|detail| detail.get("errorCode").and_then(Value::as_str))
        .or_else(|| reply.pointer("/error/status").and_then(Value::as_str))
        .map(str::to_string)
}

fn error_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

/// The legacy API answers 200 with per-device results.
fn legacy_outcome(body: &[u8]) -> Sent {
    let reply: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if reply.get("success").and_then(Value::as_u64).unwrap_or(0) > 0 {
        return Sent::Delivered;
    }
    let error = reply
        .pointer("/results/0/error")
        .and_then(Value::as_str)
        .unwrap_or("no success in the reply");
    match error {
        "NotRegistered" | "InvalidRegistration" => {
            Sent::Dead(format!("GCM refused the message: {error}"))
        }
        "Unavailable" | "InternalServerError" => Sent::Unavailable {
            retry_after: None,
            detail: format!("GCM refused the message: {error}"),
        },
        _ => Sent::Failed(format!("GCM refused the message: {error}")),
    }
}
