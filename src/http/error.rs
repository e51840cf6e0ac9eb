//! `ApiError`: every 4xx/5xx answer is `{"message": "...", "exception": "<kind>"}`; this is the only place that
//! maps domain errors to status codes. 5xx details are logged, not shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::{chat, services, storage, store};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status code.
    pub status: StatusCode,
    /// The kind of problem (`NotFound`, `InvalidParameter`, ...).
    pub exception: &'static str,
    /// A sentence naming the problem.
    pub message: String,
    /// What the public listener says instead of `message`, when that names internals.
    pub public: Option<&'static str>,
}

/// Carried by an answer whose message names internals: the public listener's edge answers this sentence instead,
/// with a request id, and logs the message under that id.
#[derive(Debug, Clone, Copy)]
pub struct HiddenDetail(pub &'static str);

/// The JSON body of every error answer.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A sentence naming the problem.
    pub message: String,
    /// The kind of problem.
    pub exception: String,
}

impl ApiError {
    /// An error with this status, kind and message.
    pub fn new(
        status: StatusCode,
        exception: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            exception,
            message: message.into(),
            public: None,
        }
    }

    /// 400 `InvalidParameter`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidParameter", message)
    }

    /// 404 `NotFound`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    /// 413 `PayloadTooLarge`.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", message)
    }

    /// 415 `UnsupportedMediaType`.
    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            message,
        )
    }

    /// 500 `InternalError`: logs `detail`, shows a generic sentence.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "the server failed to handle the request; see its log",
        )
    }

    /// The answer to a failed store: 503 `StoreUnavailable` when the store does not answer (a Redis outage:
    /// the client may retry, and nothing was done), 500 for corrupt data. The detail goes to the log only.
    pub fn store(error: &store::Error) -> ApiError {
        match error {
            store::Error::Backend(_) | store::Error::Closed => {
                tracing::warn!(%error, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "StoreUnavailable",
                    "the store does not answer, so the request was not carried out; try again shortly",
                )
            }
            store::Error::Corrupt(_) | store::Error::BadPrefix(_) => ApiError::internal(error),
        }
    }

    /// The kind used for a bare status code (routing errors and the like).
    pub fn kind_of(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "InvalidParameter",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            413 => "PayloadTooLarge",
            415 => "UnsupportedMediaType",
            422 => "InvalidParameter",
            503 => "ServiceUnavailable",
            status if status >= 500 => "InternalError",
            _ => "BadRequest",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            message: self.message,
            exception: self.exception.to_string(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(public) = self.public {
            response.extensions_mut().insert(HiddenDetail(public));
        }
        response
    }
}

impl From<storage::Error> for ApiError {
    fn from(error: storage::Error) -> ApiError {
        use storage::Error as E;
        match &error {
            E::NotFound(_) | E::KeyNotFound { .. } => ApiError::not_found(error.to_string()),
            E::InvalidKey(_) => ApiError::bad_request(error.to_string()),
            E::TooManyKeys { .. } => ApiError::too_large(error.to_string()),
            E::Store(error) => ApiError::store(error),
        }
    }
}

impl From<services::Error> for ApiError {
    fn from(error: services::Error) -> ApiError {
        use services::Error as E;
        match error {
            E::UnknownService(_) | E::UnknownKind { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "ServiceNotFound", error.to_string())
            }
            E::UnknownBuiltin { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "ServiceNotFound", error.to_string())
            }
            E::MissingParameter(_) | E::InvalidParameter { .. } => {
                ApiError::bad_request(error.to_string())
            }
            E::NotFound(_) | E::NodeGone { .. } => ApiError::not_found(error.to_string()),
            E::NoMatch(_) => ApiError::new(StatusCode::NOT_FOUND, "NoMatch", error.to_string()),
            E::Exhausted(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "NoMoreResources",
                error.to_string(),
            ),
            E::BackendInternal { public, .. } => ApiError {
                public: Some(public),
                ..ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "BackendUnavailable",
                    error.to_string(),
                )
            },
            E::Backend(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "BackendUnavailable",
                error.to_string(),
            ),
            E::Timeout(_) => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "Timeout", error.to_string())
            }
            E::NotHandled { .. } => ApiError::bad_request(error.to_string()),
            E::RequestNotHandled(_) => {
                ApiError::new(StatusCode::CONFLICT, "RequestNotHandled", error.to_string())
            }
            E::Storage(error) => error.into(),
            E::Store(error) => ApiError::store(&error),
        }
    }
}

impl From<chat::Error> for ApiError {
    fn from(error: chat::Error) -> ApiError {
        use chat::Error as E;
        match &error {
            E::NotFound(_) | E::NotInChat { .. } => ApiError::not_found(error.to_string()),
            E::Ended(_) => ApiError::new(StatusCode::NOT_FOUND, "ChatEnded", error.to_string()),
            E::AlreadyExists(_) | E::Full(_) => {
                ApiError::new(StatusCode::CONFLICT, "ChatConflict", error.to_string())
            }
            E::BadPosition { .. } => ApiError::bad_request(error.to_string()),
            E::TooLong { .. } => ApiError::too_large(error.to_string()),
            E::Store(error) => ApiError::store(error),
        }
    }
}
