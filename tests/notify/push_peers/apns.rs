//! A local APNs peer: HTTP/2 with prior knowledge on 127.0.0.1 (APNs speaks only HTTP/2), `POST /3/device/{token}`.
//! It checks the ES256 provider token against the `.p8` key's public half, the `apns-*` headers and that the
//! body is JSON with an `aps` dictionary, records each request, and answers as APNs does (200 with `apns-id`,
//! or 400 `{"reason": "BadDeviceToken"}` for the device `bad`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

pub const KEY_ID: &str = "TEST123456";
pub const TEAM_ID: &str = "TEAM987654";
pub const TOPIC: &str = "com.example.gms";

/// One request as APNs saw it.
#[derive(Debug, Clone)]
pub struct ApnsRequest {
    pub path: String,
    pub version: Version,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    /// Problems found with the request (empty when well-formed).
    pub problems: Vec<String>,
}

/// An answer given instead of the normal one: status, `reason`, `Retry-After`.
pub type Scripted = (u16, &'static str, Option<&'static str>);

#[derive(Clone)]
pub struct ApnsPeer {
    pub url: String,
    pub seen: Arc<Mutex<Vec<ApnsRequest>>>,
    /// Answers given to the next requests, in order.
    pub scripted: Arc<Mutex<std::collections::VecDeque<Scripted>>>,
}

fn check_token(authorization: Option<&str>) -> Option<String> {
    let Some(token) = authorization.and_then(|value| value.strip_prefix("bearer ")) else {
        return Some("no bearer provider token".to_string());
    };
    let public = std::fs::read(super::key_file("apns-AuthKey_TEST123456.pub")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_ec_pem(&public).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    // APNs provider tokens carry only iss and iat.
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    match jsonwebtoken::decode::<Value>(token, &key, &validation) {
        Ok(data)
            if data.header.kid.as_deref() == Some(KEY_ID)
                && data.claims["iss"] == TEAM_ID
                && data.claims["iat"].is_u64() =>
        {
            None
        }
        Ok(data) => Some(format!(
            "bad token claims {:?} kid {:?}",
            data.claims, data.header.kid
        )),
        Err(error) => Some(format!("bad token: {error}")),
    }
}

async fn handle(
    seen: Arc<Mutex<Vec<ApnsRequest>>>,
    scripted: Arc<Mutex<std::collections::VecDeque<Scripted>>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let mut problems = Vec::new();
    let path = parts.uri.path().to_string();
    if parts.method != hyper::Method::POST || !path.starts_with("/3/device/") {
        problems.push(format!("bad request line {} {path}", parts.method));
    }
    if let Some(problem) = check_token(
        parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
    ) {
        problems.push(problem);
    }
    if parts
        .headers
        .get("apns-topic")
        .and_then(|v| v.to_str().ok())
        != Some(TOPIC)
    {
        problems.push("apns-topic".to_string());
    }
    match parts
        .headers
        .get("apns-push-type")
        .and_then(|v| v.to_str().ok())
    {
        Some("alert" | "background") => {}
        other => problems.push(format!("apns-push-type {other:?}")),
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !json["aps"].is_object() {
        problems.push("no aps dictionary".to_string());
    }
    let device = path.trim_start_matches("/3/device/").to_string();
    seen.lock().unwrap().push(ApnsRequest {
        path,
        version: parts.version,
        headers: parts.headers,
        body: json,
        problems: problems.clone(),
    });
    if let Some((status, reason, retry_after)) = scripted.lock().unwrap().pop_front() {
        let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
        if let Some(seconds) = retry_after {
            response = response.header("retry-after", seconds);
        }
        return Ok(response
            .body(Full::new(Bytes::from(
                json!({"reason": reason}).to_string(),
            )))
            .unwrap());
    }
    let response = if !problems.is_empty() {
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body(Full::new(Bytes::from(
                json!({"reason": "InvalidProviderToken"}).to_string(),
            )))
    } else if device == "bad" {
        Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Full::new(Bytes::from(
                json!({"reason": "BadDeviceToken"}).to_string(),
            )))
    } else {
        Response::builder()
            .status(StatusCode::OK)
            .header("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E4B8C")
            .body(Full::new(Bytes::new()))
    };
    Ok(response.unwrap())
}

impl ApnsPeer {
    pub async fn start() -> ApnsPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let scripted = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let peer_seen = seen.clone();
        let peer_scripted = scripted.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = peer_seen.clone();
                let scripted = peer_scripted.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(seen.clone(), scripted.clone(), request)
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ApnsPeer {
            url,
            seen,
            scripted,
        }
    }

    pub fn taken(&self) -> Vec<ApnsRequest> {
        self.seen.lock().unwrap().clone()
    }
}
