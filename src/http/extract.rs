//! Request extractors with the project's error bodies: [`Fields`] reads form parameters from the query string and
//! an `application/x-www-form-urlencoded` or `multipart/form-data` body (any other body type is 415), within the
//! size limit of option `gms/storage.max_size` (413 above it), and records the masked parameters for the request
//! log line. [`parameters`] reads the parameters of the ORS interface and of service requests, where a JSON object
//! body is accepted too.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use bytes::Bytes;

use super::error::ApiError;
use super::state::AppState;
use crate::scxml::Value as ScxmlValue;
use crate::storage::Value;

/// The masked parameters of one request, filled by [`Fields`] and written by the request log line.
#[derive(Debug, Clone, Default)]
pub struct LoggedParams(pub Arc<Mutex<Option<String>>>);

/// Form parameters of a request: the query string's, then the body's.
#[derive(Debug, Default)]
pub struct Fields {
    /// Query string parameters.
    pub query: Vec<(String, String)>,
    /// Body fields (multipart files keep their content type and file name).
    pub body: Vec<(String, Value)>,
}

impl FromRequest<AppState> for Fields {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Fields, ApiError> {
        let limit = state.config.get().gms.storage_max_size;
        let (parts, body) = request.into_parts();
        let mut fields = Fields::default();
        if let Some(query) = parts.uri.query() {
            fields.query = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        }
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let too_large = || {
            ApiError::too_large(format!(
                "the request body is larger than {limit} bytes (option gms/storage.max_size)"
            ))
        };
        if declared.is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes: Bytes = axum::body::to_bytes(body, limit).await.map_err(|error| {
            if super::serve::is_body_timeout(&error) {
                ApiError::new(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    "RequestTimeout",
                    super::serve::BodyTimedOut.to_string(),
                )
            } else {
                too_large()
            }
        })?;
        fields.body = body_fields(content_type.as_deref(), bytes).await?;
        if let Some(slot) = parts.extensions.get::<LoggedParams>()
            && let Ok(mut slot) = slot.0.lock()
        {
            *slot = Some(crate::log::mask_params(fields.all_for_log()));
        }
        Ok(fields)
    }
}

/// The fields of a request body of type `content_type` (form or multipart; none for an empty body without a
/// type): 400 for a malformed body, 415 for another type. Multipart files keep their content type and file name.
pub async fn body_fields(
    content_type: Option<&str>,
    bytes: Bytes,
) -> Result<Vec<(String, Value)>, ApiError> {
    let media = content_type.map(crate::media::essence);
    match media.as_deref() {
        None if bytes.is_empty() => Ok(Vec::new()),
        Some("application/x-www-form-urlencoded") => Ok(form_urlencoded::parse(&bytes)
            .into_owned()
            .map(|(name, value)| (name, Value::text(&value)))
            .collect()),
        Some("multipart/form-data") => {
            let mut request = Request::new(Body::from(bytes));
            if let Some(content_type) = content_type
                && let Ok(value) = axum::http::HeaderValue::from_str(content_type)
            {
                request.headers_mut().insert(CONTENT_TYPE, value);
            }
            let mut fields = Vec::new();
            let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| {
                ApiError::bad_request(format!("bad multipart body: {}", e.body_text()))
            })?;
            while let Some(field) = multipart.next_field().await.map_err(|e| {
                ApiError::bad_request(format!("bad multipart body: {}", e.body_text()))
            })? {
                let Some(name) = field.name().map(str::to_string) else {
                    return Err(ApiError::bad_request("a multipart part has no name"));
                };
                let file_name = field.file_name().map(str::to_string);
                let content_type = field.content_type().map(str::to_string);
                let data = field.bytes().await.map_err(|e| {
                    ApiError::bad_request(format!("bad multipart part `{name}`: {}", e.body_text()))
                })?;
                let value = if file_name.is_none()
                    && content_type
                        .as_deref()
                        .is_none_or(|ct| ct.starts_with("text/plain"))
                {
                    Value {
                        bytes: data,
                        content_type: None,
                        file_name: None,
                    }
                } else {
                    Value {
                        bytes: data,
                        content_type: content_type.or(Some("application/octet-stream".into())),
                        file_name,
                    }
                };
                fields.push((name, value));
            }
            Ok(fields)
        }
        other => Err(ApiError::unsupported_media_type(format!(
            "expected a body of type application/x-www-form-urlencoded or multipart/form-data, got {}",
            other.unwrap_or("a body without a content type")
        ))),
    }
}

impl Fields {
    fn all_for_log(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.query.clone();
        for (name, value) in &self.body {
            let shown = match value.as_text() {
                Some(text) => text.to_string(),
                None => format!("<{} bytes>", value.bytes.len()),
            };
            all.push((name.clone(), shown));
        }
        all
    }
}

/// Query and body parameters, in order (a JSON body's values keep their JSON type): the query string, then an
/// `application/x-www-form-urlencoded` or `application/json` object body (415 for any other type).
pub fn parameters(
    query: Vec<(String, String)>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, ScxmlValue)>, ApiError> {
    let mut params: Vec<(String, ScxmlValue)> = query
        .into_iter()
        .map(|(name, value)| (name, ScxmlValue::string(value)))
        .collect();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(crate::media::essence)
        .unwrap_or_default();
    if media == crate::media::JSON {
        let json: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!("the JSON body is not valid: {error}"))
        })?;
        let serde_json::Value::Object(map) = json else {
            return Err(ApiError::bad_request("the JSON body must be an object"));
        };
        params.extend(
            map.iter()
                .map(|(name, value)| (name.clone(), ScxmlValue::from_json(value))),
        );
    } else if media == crate::media::FORM || media.is_empty() {
        params.extend(
            form_urlencoded::parse(body)
                .map(|(name, value)| (name.into_owned(), ScxmlValue::string(value.into_owned()))),
        );
    } else {
        return Err(ApiError::unsupported_media_type(format!(
            "the body must be application/x-www-form-urlencoded or application/json, not {media}"
        )));
    }
    Ok(params)
}
