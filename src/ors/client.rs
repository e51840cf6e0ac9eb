//! The ORS HTTP interface as a client: [`OrsClient`] is what a `type=ors` service needs from an ORS, served by the
//! in-process runtime ([`crate::ors::runtime::Ors`]) or, when a service names an ORS URL, by [`Remote`] over HTTP ([`crate::outbound`],
//! so the `gms` section's `http.*` timeouts and `http.client_port_range` apply)
//! in ORS's own wire format: `POST /scxml/session/start` (form: `src` and the parameters), `POST
//! /scxml/session/{id}/request/{name}` (form parameters; the answer's JSON object holds the flow's `<param>`s),
//! `POST /scxml/session/{id}/event/{name}` and `POST /scxml/session/{id}/terminate`.
//!
//! Answers are read with [`crate::ors::wire`], which `gms`'s own `/scxml` routes answer with too, so a `gms` can
//! stand in for ORS.

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use hyper::body::Bytes;

use crate::ors::exchange::{Answer, OrsError};
use crate::ors::wire;
use crate::outbound::{self, HttpClient};

/// What a `type=ors` service needs from an ORS.
#[async_trait]
pub trait OrsClient: Send + Sync + std::fmt::Debug {
    /// Starts a session of `src` with `params` (into its `<data>` items); returns its id.
    async fn start(
        &self,
        src: &str,
        params: &[(String, String)],
        ttl: Option<Duration>,
    ) -> Result<String, OrsError>;

    /// Sends request `name` and waits for the flow's answer.
    async fn request(
        &self,
        id: &str,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Answer, OrsError>;

    /// Terminates session `id`.
    async fn terminate(&self, id: &str) -> Result<(), OrsError>;
}

/// A real ORS (or another `gms`) reached over HTTP.
#[derive(Debug, Clone)]
pub struct Remote {
    base: String,
    client: HttpClient,
}

impl Remote {
    /// The ORS at `base` (`http://host:7210`), called with `client` (which carries the `gms.http.*` timeouts and
    /// the client port range).
    pub fn new(base: &str, client: HttpClient) -> Remote {
        Remote {
            base: base.trim_end_matches('/').to_string(),
            client,
        }
    }

    fn remote_error(&self, url: &str, reason: impl std::fmt::Display) -> OrsError {
        OrsError::Remote {
            url: url.to_string(),
            reason: reason.to_string(),
        }
    }

    /// POSTs `params` as a form to `url`; `what` names the call (`start`, the request name) for a timeout.
    async fn post(
        &self,
        url: &str,
        what: (&str, &str),
        params: &[(String, String)],
    ) -> Result<(u16, serde_json::Value), OrsError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        let request = hyper::Request::post(url)
            .header(
                hyper::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| self.remote_error(url, error))?;
        let reply = self
            .client
            .send(request)
            .await
            .map_err(|error| match error {
                outbound::Error::Timeout(waited) => OrsError::Timeout {
                    session: what.0.to_string(),
                    name: what.1.to_string(),
                    timeout_ms: waited.as_millis() as u64,
                },
                other => self.remote_error(url, other),
            })?;
        let status = reply.status;
        let json = if reply.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&reply.body).map_err(|_| {
                self.remote_error(
                    url,
                    format!("answered {status} with a body that is not JSON"),
                )
            })?
        };
        Ok((status, json))
    }
}

fn message_of(json: &serde_json::Value) -> String {
    json.get("message")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string()
}

#[async_trait]
impl OrsClient for Remote {
    async fn start(
        &self,
        src: &str,
        params: &[(String, String)],
        _ttl: Option<Duration>,
    ) -> Result<String, OrsError> {
        let url = format!("{}/scxml/session/start", self.base);
        let mut form = vec![("src".to_string(), src.to_string())];
        form.extend(params.iter().cloned());
        let (status, json) = self.post(&url, ("(new)", "start"), &form).await?;
        match status {
            200..=299 => json
                .get("sessionid")
                .and_then(|id| id.as_str())
                .map(str::to_string)
                .ok_or_else(|| self.remote_error(&url, "the answer has no `sessionid`")),
            _ => Err(self.remote_error(&url, format!("{status}: {}", message_of(&json)))),
        }
    }

    async fn request(
        &self,
        id: &str,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Answer, OrsError> {
        let url = format!("{}/scxml/session/{id}/request/{name}", self.base);
        let (status, json) = self.post(&url, (id, name), params).await?;
        wire::read_answer(status, &json, id, name).unwrap_or_else(|| {
            Err(self.remote_error(&url, format!("{status}: {}", message_of(&json))))
        })
    }

    async fn terminate(&self, id: &str) -> Result<(), OrsError> {
        let url = format!("{}/scxml/session/{id}/terminate", self.base);
        let (status, json) = self.post(&url, (id, "terminate"), &[]).await?;
        match status {
            200..=299 => Ok(()),
            404 => Err(OrsError::NotFound(id.to_string())),
            _ => Err(self.remote_error(&url, format!("{status}: {}", message_of(&json)))),
        }
    }
}

#[async_trait]
impl OrsClient for crate::ors::runtime::Ors {
    async fn start(
        &self,
        src: &str,
        params: &[(String, String)],
        ttl: Option<Duration>,
    ) -> Result<String, OrsError> {
        let params = params
            .iter()
            .map(|(name, value)| (name.clone(), crate::scxml::Value::string(value.as_str())))
            .collect();
        crate::ors::runtime::Ors::start(self, src, params, ttl).await
    }

    async fn request(
        &self,
        id: &str,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Answer, OrsError> {
        crate::ors::runtime::Ors::request(self, id, name, form_value(params), None).await
    }

    async fn terminate(&self, id: &str) -> Result<(), OrsError> {
        crate::ors::runtime::Ors::terminate(self, id).await
    }
}

/// Form parameters as event data (an object of strings; a repeated name keeps its first value).
pub fn form_value(params: &[(String, String)]) -> crate::scxml::Value {
    let mut entries: Vec<(std::sync::Arc<str>, crate::scxml::Value)> = Vec::new();
    for (name, value) in params {
        if !entries.iter().any(|(key, _)| &**key == name.as_str()) {
            entries.push((
                std::sync::Arc::from(name.as_str()),
                crate::scxml::Value::string(value.as_str()),
            ));
        }
    }
    crate::scxml::Value::Object(entries)
}
