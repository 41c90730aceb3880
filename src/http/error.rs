//! Errors to responses: `{"error":{"code","message","field"}}` with the message in the language
//! of `Accept-Language` (Vietnamese by default).
//!
//! A handler's `AppError` becomes a response carrying an unrendered [`ErrorBody`] extension;
//! the [`localize_errors`] middleware, which sees the request headers, renders it. The same
//! middleware gives axum's own bodiless errors (405, 413 …) the same shape.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorKind, Lang, Localized};

/// An error waiting for its language.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub code: String,
    pub field: Option<String>,
    pub message: Localized,
}

/// The JSON error envelope (for the OpenAPI document).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

/// One error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `too_long`.
    pub code: String,
    /// Human message in the caller's language.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The HTTP status of each kind of error.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Rule => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if matches!(self.kind, ErrorKind::Internal | ErrorKind::Unavailable) {
            // The cause goes to the log in full; the caller sees only a plain message.
            tracing::error!(error = %self, "internal error");
        }
        let mut response = status_of(self.kind).into_response();
        response.extensions_mut().insert(ErrorBody {
            code: self.code,
            field: self.field,
            message: self.message,
        });
        response
    }
}

/// Renders error bodies in the caller's language, and gives bodiless 4xx/5xx the same shape.
pub async fn localize_errors(request: Request, next: Next) -> Response {
    let lang = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    let response = next.run(request).await;
    let status = response.status();
    let pending = response.extensions().get::<ErrorBody>().cloned();
    let body = match pending {
        Some(body) => body,
        None if (status.is_client_error() || status.is_server_error())
            && is_not_json(&response) =>
        {
            generic_body(status)
        }
        None => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    let envelope = ErrorEnvelope {
        error: ErrorDetail {
            code: body.code,
            message: body.message.get(lang).to_string(),
            field: body.field,
        },
    };
    let json = Json(envelope).into_response().into_body();
    Response::from_parts(parts, Body::new(json))
}

/// True for a bodiless or plain error that needs the JSON shape; a page (HTML, from src/web) is
/// already what its reader should see.
fn is_not_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| !ct.starts_with("application/json") && !ct.starts_with("text/html"))
}

fn generic_body(status: StatusCode) -> ErrorBody {
    let (code, vi, en) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Không tìm thấy.", "Not found."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Phương thức không được hỗ trợ.",
            "Method not allowed.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Nội dung yêu cầu quá lớn.",
            "The request body is too large.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Nội dung phải là JSON (Content-Type: application/json).",
            "The body must be JSON (Content-Type: application/json).",
        ),
        s if s.is_server_error() => (
            "internal_error",
            "Đã có lỗi hệ thống; vui lòng thử lại sau.",
            "Something went wrong on our side; please try again later.",
        ),
        _ => ("bad_request", "Yêu cầu không hợp lệ.", "Bad request."),
    };
    ErrorBody {
        code: code.into(),
        field: None,
        message: Localized::new(vi, en),
    }
}
