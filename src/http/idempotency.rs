//! The HTTP side of idempotency keys (API.md): [`Keyed`] reads the JSON body strictly (like
//! [`super::extract::ApiJson`]) together with the optional `Idempotency-Key` header and fingerprints
//! the body ([`IdempotencyKey`], for [`crate::app::idempotency::run_keyed`]); [`respond`] renders a
//! fresh result with the route's status, or replays the stored first response with the same status
//! and `Idempotency-Replayed: true`. The status code is decided here, never in `app/`.

use axum::{
    body::Body,
    extract::{FromRequest, Request},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    app::idempotency::{self, IdempotencyKey, Idempotent},
    error::AppError,
    http::extract::{parse_json, read_body, require_json},
};

/// A JSON body and, when the client sent `Idempotency-Key`, the keyed request's fingerprint.
pub struct Keyed<T> {
    /// The parsed body.
    pub input: T,
    /// The key and the body's fingerprint, when a key was sent: pass it to
    /// [`crate::app::idempotency::run_keyed`].
    pub key: Option<IdempotencyKey>,
}

impl<S, T> FromRequest<S> for Keyed<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers())?;
        let key = idempotency_key(req.headers())?;
        let bytes = read_body(req, state).await?;
        let input = parse_json(&bytes)?;
        let key = key
            .map(|key| IdempotencyKey::new(&key, &bytes))
            .transpose()?;
        Ok(Keyed { input, key })
    }
}

/// The `Idempotency-Key` header's value, if sent (400 naming it when it is not text).
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, AppError> {
    headers
        .get(idempotency::HEADER)
        .map(|value| {
            value.to_str().map(str::to_string).map_err(|_| {
                AppError::invalid(
                    idempotency::HEADER,
                    crate::error::Reason::InvalidFormat {
                        expected: "1 to 200 visible ASCII characters",
                    },
                )
            })
        })
        .transpose()
}

/// A fresh result with `status`, or the stored first response with `Idempotency-Replayed: true` and
/// the same `status` (or the status stored with it by the deprecated frame).
pub fn respond<T: Serialize>(outcome: Idempotent<T>, status: StatusCode) -> Response {
    match outcome {
        Idempotent::Fresh(value) => (status, Json(value)).into_response(),
        Idempotent::Replayed {
            status: stored,
            body,
        } => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = stored
                .and_then(|code| StatusCode::from_u16(code).ok())
                .unwrap_or(status);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(
                idempotency::REPLAYED_HEADER,
                HeaderValue::from_static("true"),
            );
            response
        }
    }
}
