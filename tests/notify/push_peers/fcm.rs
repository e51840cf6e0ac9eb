//! A local Firebase Cloud Messaging peer: `POST /token` (RFC 7523 JWT bearer grant; checks the RS256 assertion
//! with the service account's public key), `POST /v1/projects/{project}/messages:send` (checks the bearer token)
//! and the legacy `POST /fcm/send` (checks `Authorization: key=`). It can answer 503 with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const ACCESS_TOKEN: &str = "ya29.local-peer-token";
pub const CLIENT_EMAIL: &str = "gms-push@gms-test.iam.gserviceaccount.com";
pub const PROJECT: &str = "gms-test";
pub const LEGACY_KEY: &str = "AIzaLegacyServerKey";

/// What the peer saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub token_requests: usize,
    pub token_errors: Vec<String>,
    /// Bodies of accepted and refused sends, in order.
    pub sends: Vec<Value>,
    pub legacy_sends: Vec<(String, Value)>,
    /// How many sends still get a 503.
    pub unavailable: usize,
    /// Answers given to the next sends instead of the normal one: status, `Retry-After`, body.
    pub scripted: std::collections::VecDeque<(u16, Option<&'static str>, Value)>,
}

#[derive(Clone)]
pub struct FcmPeer {
    pub url: String,
    pub seen: Arc<Mutex<Seen>>,
}

#[derive(Clone)]
struct PeerState {
    seen: Arc<Mutex<Seen>>,
    token_url: Arc<Mutex<String>>,
}

async fn token(State(state): State<PeerState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut seen = state.seen.lock().unwrap();
    seen.token_requests += 1;
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let problem = if headers.get("content-type").and_then(|v| v.to_str().ok())
        != Some("application/x-www-form-urlencoded")
    {
        Some("content type".to_string())
    } else if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        Some("grant_type".to_string())
    } else {
        let public = std::fs::read(super::key_file("fcm-service-account.pub")).unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[state.token_url.lock().unwrap().clone()]);
        validation.set_issuer(&[CLIENT_EMAIL]);
        match jsonwebtoken::decode::<Value>(
            form.get("assertion").map(String::as_str).unwrap_or(""),
            &key,
            &validation,
        ) {
            Ok(data)
                if data.claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
                    && data.header.kid.as_deref() == Some("key-1") =>
            {
                None
            }
            Ok(data) => Some(format!("claims {:?}", data.claims)),
            Err(error) => Some(format!("jwt: {error}")),
        }
    };
    if let Some(problem) = problem {
        seen.token_errors.push(problem);
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    axum::Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

async fn send(
    State(state): State<PeerState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut seen = state.seen.lock().unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.sends.push(body);
    if let Some((status, retry_after, body)) = seen.scripted.pop_front() {
        let mut response =
            (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", seconds.parse().unwrap());
        }
        return response;
    }
    if project != PROJECT {
        return (StatusCode::NOT_FOUND, "unknown project").into_response();
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {ACCESS_TOKEN}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"status": "UNAUTHENTICATED"}})),
        )
            .into_response();
    }
    if seen.unavailable > 0 {
        seen.unavailable -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            "try later",
        )
            .into_response();
    }
    axum::Json(json!({"name": format!("projects/{PROJECT}/messages/{}", seen.sends.len())}))
        .into_response()
}

async fn legacy(State(state): State<PeerState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut seen = state.seen.lock().unwrap();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.legacy_sends.push((authorization.clone(), body));
    if authorization != format!("key={LEGACY_KEY}") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(json!({"multicast_id": 1, "success": 1, "failure": 0, "canonical_ids": 0, "results": [{"message_id": "0:1"}]}))
        .into_response()
}

impl FcmPeer {
    pub async fn start() -> FcmPeer {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let token_url = Arc::new(Mutex::new(String::new()));
        let router = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .route("/fcm/send", post(legacy))
            .with_state(PeerState {
                seen: seen.clone(),
                token_url: token_url.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        *token_url.lock().unwrap() = format!("{url}/token");
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        FcmPeer { url, seen }
    }

    /// Writes a service-account key file pointing at this peer's token endpoint; returns its path.
    pub fn service_account(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let private_key =
            std::fs::read_to_string(super::key_file("fcm-service-account.key")).unwrap();
        let account = json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "key-1",
            "private_key": private_key,
            "client_email": CLIENT_EMAIL,
            "token_uri": format!("{}/token", self.url),
        });
        let path = dir.join("service-account.json");
        std::fs::write(&path, account.to_string()).unwrap();
        path
    }
}
