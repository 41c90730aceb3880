//! The HTTP side of idempotency keys (API.md): [`Keyed`] reads the JSON body strictly (like
//! [`super::extract::ApiJson`]) together with the optional `Idempotency-Key` header and fingerprints
//! the request; [`respond`] renders a fresh result or replays the stored first response with
//! `Idempotency-Replayed: true`.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Request},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    app::idempotency::{self, Idempotent, IdempotencyRequest},
    error::{AppError, ErrorKind, Localized},
    http::extract::parse_json,
};

/// A JSON body and, when the client sent `Idempotency-Key`, the keyed request's fingerprint.
pub struct Keyed<T> {
    /// The parsed body.
    pub input: T,
    /// The key and fingerprint, when a key was sent.
    pub request: Option<IdempotencyRequest>,
}

impl<S, T> FromRequest<S> for Keyed<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(AppError::new(
                ErrorKind::UnsupportedMediaType,
                "unsupported_media_type",
                Localized::new(
                    "Nội dung phải là JSON (Content-Type: application/json).",
                    "The body must be JSON (Content-Type: application/json).",
                ),
            ));
        }
        let key = match req.headers().get(idempotency::HEADER) {
            None => None,
            Some(value) => Some(value.to_str().map(str::to_string).map_err(|_| {
                AppError::invalid(
                    idempotency::HEADER,
                    crate::error::Reason::InvalidFormat { expected: "1 to 200 visible ASCII characters" },
                )
            })?),
        };
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(
                    ErrorKind::PayloadTooLarge,
                    "payload_too_large",
                    Localized::new("Nội dung yêu cầu quá lớn.", "The request body is too large."),
                )
            } else {
                AppError::new(
                    ErrorKind::BadRequest,
                    "unreadable_body",
                    Localized::new("Không đọc được nội dung yêu cầu.", "The request body could not be read."),
                )
            }
        })?;
        let input = parse_json(&bytes)?;
        let request = key.map(|key| IdempotencyRequest::new(&key, &method, &path, &bytes)).transpose()?;
        Ok(Keyed { input, request })
    }
}

/// A fresh result with `status`, or the stored first response with `Idempotency-Replayed: true`.
pub fn respond<T: Serialize>(outcome: Idempotent<T>, status: StatusCode) -> Response {
    match outcome {
        Idempotent::Fresh(value) => (status, Json(value)).into_response(),
        Idempotent::Replayed { status, body } => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(idempotency::REPLAYED_HEADER, HeaderValue::from_static("true"));
            response
        }
    }
}
