//! The Chat API v1 (`/genesys/1/service/{id}/ixn/chat[/refresh|send|startTyping|stopTyping|disconnect]`, public)
//! on the chat of any live service instance, and the agent side (`/genesys/1/contact-center/agents/{agent}/chats`
//! ..., internal listener only).
//!
//! Bodies: `application/x-www-form-urlencoded`, `multipart/form-data` (text parts), a JSON object (`{}` too) or none;
//! parameters from the query string count as well (`.../refresh?transcriptPosition=3`). `transcriptPosition` is a
//! number or a numeric string. Answers are the chat state of [`crate::chat::ChatView::to_json`]; errors the usual
//! `{"message", "exception"}`, which clients take as "the chat is over" once the chat has ended.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use serde_json::Value as JsonValue;

use super::error::{ApiError, ErrorBody};
use super::extract::parameters;
use crate::chat::Chats;
use crate::chat::desk::{self, ChatDesk, field};
use crate::scxml::Value as ScxmlValue;

/// The most bytes a chat request body may have.
const BODY_LIMIT: usize = 64 * 1024;

/// What the chat routes need: the chats, and the desk of operations that join them to services.
#[derive(Debug, Clone)]
pub struct ChatApi {
    /// The chats.
    pub chats: Arc<Chats>,
    /// The operations over chats, services, routing and pokes.
    pub desk: Arc<ChatDesk>,
}

/// The customer's routes (the public listener's Allow list has `ixn/chat/*`).
pub fn public_router(api: ChatApi) -> Router {
    Router::new()
        .route("/genesys/1/service/chat-sync", post(chat_sync))
        .route("/genesys/1/service/{id}/ixn/chat", post(create))
        .route(
            "/genesys/1/service/{id}/ixn/chat/{operation}",
            post(operate),
        )
        .with_state(api)
}

/// The agent side, for the internal listener.
pub fn internal_router(api: ChatApi) -> Router {
    Router::new()
        .route(
            "/genesys/1/contact-center/agents/{agent}/chats",
            get(agent_chats),
        )
        .route(
            "/genesys/1/contact-center/agents/{agent}/chats/{id}/{operation}",
            post(agent_operate),
        )
        .route("/genesys/1/chat/{id}/poke", post(poke))
        .with_state(api)
}

/// The description of the chat routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, chat_sync, operate, agent_chats, agent_operate, poke),
    components(schemas(ErrorBody)),
    tags((name = "chat", description = "Chat API v1 (public) and the agent side of chats (internal listener)"))
)]
pub struct ChatDoc;

/// The description of the chat routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <ChatDoc as utoipa::OpenApi>::openapi()
}

/// The request's parameters: the query string's, then the body's (form, multipart text parts, or a JSON object).
async fn fields(request: Request) -> Result<Vec<(String, String)>, ApiError> {
    let media = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(crate::media::essence)
        .unwrap_or_default();
    let mut fields: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if media == "multipart/form-data" {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|error| {
                ApiError::bad_request(format!("bad multipart body: {}", error.body_text()))
            })?;
        while let Some(field) = multipart.next_field().await.map_err(|error| {
            ApiError::bad_request(format!("bad multipart body: {}", error.body_text()))
        })? {
            let name = field.name().unwrap_or_default().to_string();
            let text = field.text().await.map_err(|error| {
                ApiError::bad_request(format!(
                    "bad multipart part `{name}`: {}",
                    error.body_text()
                ))
            })?;
            fields.push((name, text));
        }
        return Ok(fields);
    }
    if !(media.is_empty() || media == crate::media::FORM || media == crate::media::JSON) {
        return Err(ApiError::unsupported_media_type(format!(
            "the body must be a form, multipart/form-data or a JSON object, not {media}"
        )));
    }
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::too_large(format!(
                "the request body is larger than {BODY_LIMIT} bytes"
            ))
        })?;
    // The query string is already in `fields`; the body reads as every form or JSON body of the API does.
    let body_fields = parameters(Vec::new(), &headers, &body)?;
    fields.extend(body_fields.into_iter().map(|(name, value)| {
        let text = match value {
            ScxmlValue::String(text) => text.to_string(),
            other => other.to_json().to_string(),
        };
        (name, text)
    }));
    Ok(fields)
}

/// Creates the chat of service instance `id` (any live service: `request-chat` or an `ors` service).
#[utoipa::path(post, path = "/genesys/1/service/{id}/ixn/chat", tag = "chat",
    params(("id" = String, Path, description = "Service id (`_id`)")),
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`userDisplayName` or `firstName`/`lastName`, `email`, `subject`, `notify_by` (`comet`: changes go to the `gms_user` header's `/_genesys` channel), `_verbose`; other fields are kept as user data. Also multipart, a JSON object, or no body"),
    responses((status = 200, description = "The chat state: `chatIxnState`, `chatSessionId`, `transcriptPosition`, `transcriptToShow`, `startedAt`, `chatServiceMessage` (with `_verbose`, the `_chatIxnAPI_*_URL`s)", body = Object),
        (status = 400, body = ErrorBody), (status = 404, description = "Unknown or ended service", body = ErrorBody),
        (status = 409, description = "The service already has a chat", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn create(
    State(api): State<ChatApi>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<JsonValue>, ApiError> {
    let user = gms_user(&request);
    let fields = fields(request).await?;
    Ok(Json(
        api.desk
            .open(&id, &fields, user.as_deref())
            .await?
            .to_json(),
    ))
}

/// `chat-sync`: creates a `request-chat` service and its chat in one call.
#[utoipa::path(post, path = "/genesys/1/service/chat-sync", tag = "chat",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "The fields of `ixn/chat`; those starting with `_` are the service's parameters (`_ttl`, `_verbose`)"),
    responses((status = 200, description = "The chat state with the service's `_id` and `_chatIxnAPI-CREATE-URL`", body = Object),
        (status = 400, body = ErrorBody), (status = 404, description = "No `request-chat` service is configured", body = ErrorBody),
        (status = 415, body = ErrorBody)))]
async fn chat_sync(
    State(api): State<ChatApi>,
    request: Request,
) -> Result<Json<JsonValue>, ApiError> {
    let user = gms_user(&request);
    let fields = fields(request).await?;
    Ok(Json(api.desk.open_sync(&fields, user.as_deref()).await?))
}

fn gms_user(request: &Request) -> Option<String> {
    request
        .headers()
        .get("gms_user")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

fn position(fields: &[(String, String)]) -> Result<Option<i64>, ApiError> {
    field(fields, "transcriptPosition")
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            text.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "transcriptPosition must be a whole number, not `{text}`"
                ))
            })
        })
        .transpose()
}

/// A chat operation of the customer: `refresh`, `send`, `startTyping`, `stopTyping`, `disconnect`.
#[utoipa::path(post, path = "/genesys/1/service/{id}/ixn/chat/{operation}", tag = "chat",
    params(("id" = String, Path, description = "Service id (`_id`)"),
        ("operation" = String, Path, description = "`refresh` (optional `transcriptPosition`, optional `message`), `send` (`message`), `startTyping`, `stopTyping`, `disconnect`")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`transcriptPosition`, `message`"),
    responses((status = 200, description = "The chat state, with the entries from `transcriptPosition` (without it, those not given yet)", body = Object),
        (status = 400, description = "Unknown operation, missing `message`, bad `transcriptPosition`", body = ErrorBody),
        (status = 404, description = "No chat on this service, or the chat has ended (`ChatEnded`)", body = ErrorBody),
        (status = 413, description = "A message over the size limit", body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn operate(
    State(api): State<ChatApi>,
    Path((id, operation)): Path<(String, String)>,
    request: Request,
) -> Result<Json<JsonValue>, ApiError> {
    let fields = fields(request).await?;
    let chats = &api.chats;
    let view = match operation.as_str() {
        "refresh" => {
            chats
                .refresh(&id, position(&fields)?, field(&fields, "message"))
                .await?
        }
        "send" => {
            let message = field(&fields, "message")
                .filter(|message| !message.is_empty())
                .ok_or_else(|| ApiError::bad_request("parameter `message` is mandatory"))?;
            chats.send(&id, message).await?
        }
        "startTyping" => chats.typing(&id, true).await?,
        "stopTyping" => chats.typing(&id, false).await?,
        "disconnect" => chats.disconnect(&id).await?,
        other => {
            return Err(ApiError::bad_request(format!(
                "`{other}` is not a chat operation: refresh, send, startTyping, stopTyping or disconnect"
            )));
        }
    };
    Ok(Json(view.to_json()))
}

/// The chats agent `agent` is in, with their transcripts.
#[utoipa::path(get, path = "/genesys/1/contact-center/agents/{agent}/chats", tag = "chat",
    params(("agent" = String, Path, description = "Agent id")),
    responses((status = 200, description = "`{\"chats\": [{\"_id\", \"chatSessionId\", \"chatIxnState\", \"transcriptToShow\", ...}]}`", body = Object)))]
async fn agent_chats(
    State(api): State<ChatApi>,
    Path(agent): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let chats: Vec<JsonValue> = api
        .chats
        .chats_of(&agent)
        .await?
        .into_iter()
        .map(|chat| {
            let mut json = chat.view.to_json();
            if let Some(object) = json.as_object_mut() {
                object.insert("_id".into(), chat.service.into());
                object.insert("nickname".into(), chat.view.meta.nickname.clone().into());
                object.insert(
                    "userData".into(),
                    JsonValue::Object(chat.view.meta.user_data.clone()),
                );
            }
            json
        })
        .collect();
    Ok(Json(serde_json::json!({ "chats": chats })))
}

/// What agent `agent` does in the chat of service `id`: `send` (`message`), `typing` (`typing=true|false`),
/// `leave`.
#[utoipa::path(post, path = "/genesys/1/contact-center/agents/{agent}/chats/{id}/{operation}", tag = "chat",
    params(("agent" = String, Path, description = "Agent id"), ("id" = String, Path, description = "Service id of the chat"),
        ("operation" = String, Path, description = "`send` (`message`), `typing` (`typing=true|false`), `leave`")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`message`, `typing`"),
    responses((status = 200, description = "The chat state with the whole transcript", body = Object),
        (status = 400, body = ErrorBody), (status = 404, description = "No such chat, the agent is not in it, or it has ended", body = ErrorBody),
        (status = 413, body = ErrorBody)))]
async fn agent_operate(
    State(api): State<ChatApi>,
    Path((agent, id, operation)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<JsonValue>, ApiError> {
    let fields = fields(request).await?;
    let chats = &api.chats;
    let view = match operation.as_str() {
        "send" => {
            let message = field(&fields, "message")
                .filter(|message| !message.is_empty())
                .ok_or_else(|| ApiError::bad_request("parameter `message` is mandatory"))?;
            chats.agent_send(&id, &agent, message).await?
        }
        "typing" => {
            let typing = field(&fields, "typing")
                .and_then(crate::config::value::parse_bool)
                .ok_or_else(|| ApiError::bad_request("parameter `typing` must be true or false"))?;
            chats.agent_typing(&id, &agent, typing).await?
        }
        "leave" => chats.agent_leave(&id, &agent).await?,
        other => {
            return Err(ApiError::bad_request(format!(
                "`{other}` is not an agent chat operation: send, typing or leave"
            )));
        }
    };
    Ok(Json(view.to_json()))
}

/// Internal poke: sends `poke_message` (else the service's `default_poke_message`) to the customer's device
/// subscribed at chat creation (`push_notification_deviceid`, `push_notification_type`).
#[utoipa::path(post, path = "/genesys/1/chat/{id}/poke", tag = "chat",
    params(("id" = String, Path, description = "Service id of the chat")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`poke_message` (optional)"),
    responses((status = 200, description = "The Notification service's delivery report", body = Object),
        (status = 400, description = "No message and no `default_poke_message`", body = ErrorBody),
        (status = 404, description = "No chat on this service", body = ErrorBody)))]
async fn poke(
    State(api): State<ChatApi>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<JsonValue>, ApiError> {
    let fields = fields(request).await?;
    Ok(Json(
        api.desk.poke(&id, field(&fields, "poke_message")).await?,
    ))
}

impl From<desk::Error> for ApiError {
    fn from(error: desk::Error) -> ApiError {
        match error {
            desk::Error::BadParameter(message) | desk::Error::Notify(message) => {
                ApiError::bad_request(message)
            }
            desk::Error::Chat(error) => error.into(),
            desk::Error::Service(error) => error.into(),
        }
    }
}
