//! Extractors that turn every kind of bad input into an [`AppError`] naming the field, and the
//! authenticated [`Caller`].

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use super::classified::{Classified, ValueDeserializer};
use crate::{
    app::{sessions, validate, Caller},
    error::{AppError, ErrorKind, Localized, Reason},
    state::AppState,
};

/// A JSON body, parsed strictly: unknown, missing and mistyped fields are 400s that name the
/// field; a body that is not JSON is 400 `malformed_json`; a wrong content type is 415.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// 415 unless the request says its body is JSON.
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), AppError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return Ok(());
    }
    Err(AppError::new(
        ErrorKind::UnsupportedMediaType,
        "unsupported_media_type",
        Localized::new(
            "Nội dung phải là JSON (Content-Type: application/json).",
            "The body must be JSON (Content-Type: application/json).",
        ),
    ))
}

/// The body of a request that says it is JSON ([`require_json`]), read whole ([`read_body`]); not
/// parsed yet.
pub async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    require_json(req.headers())?;
    read_body(req, state).await
}

/// The whole body, or 413 when it is over the limit (400 when it cannot be read).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                ErrorKind::PayloadTooLarge,
                "payload_too_large",
                Localized::new(
                    "Nội dung yêu cầu quá lớn.",
                    "The request body is too large.",
                ),
            )
        } else {
            AppError::new(
                ErrorKind::BadRequest,
                "unreadable_body",
                Localized::new(
                    "Không đọc được nội dung yêu cầu.",
                    "The request body could not be read.",
                ),
            )
        }
    })
}

/// Parses `bytes` as `T`, classifying serde's error into a stable code and field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Every body of this API is an object; serde would also accept an array for a struct, and
    // its complaint about lengths would only confuse.
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if matches!(
        first,
        Some(b'[')
            | Some(b'"')
            | Some(b'0'..=b'9')
            | Some(b'-')
            | Some(b't')
            | Some(b'f')
            | Some(b'n')
    ) {
        return Err(AppError::new(
            ErrorKind::BadRequest,
            "wrong_type",
            Localized::new(
                "Nội dung phải là một đối tượng JSON ({…}).",
                "The body must be a JSON object ({…}).",
            ),
        ));
    }
    // Syntax first (serde_json's `Syntax`/`Eof` category), then control characters in every string
    // of every body, before the use case (a NUL would reach PostgreSQL, which cannot store it, as
    // a 500), then the typed parse, whose errors keep their kind (`super::classified`).
    let value =
        serde_json::from_slice::<serde_json::Value>(bytes).map_err(|err| malformed(&err))?;
    reject_control_chars_in("", &value)?;
    serde_path_to_error::deserialize(ValueDeserializer(value)).map_err(|err| {
        let path = err.path().to_string();
        classify(&path, err.into_inner())
    })
}

/// 400 naming the field (`items[2].note`) of the first string, or key, with a control character.
fn reject_control_chars_in(path: &str, value: &serde_json::Value) -> Result<(), AppError> {
    use serde_json::Value;
    match value {
        Value::String(text) => validate::reject_control_chars(path, text, true),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| reject_control_chars_in(&format!("{path}[{i}]"), item)),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            validate::reject_control_chars(&field, key, false)?;
            reject_control_chars_in(&field, item)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// The 400 `invalid_query` for a query string that does not decode (or does not fit its type).
pub fn invalid_query(err: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::BadRequest,
        "invalid_query",
        Localized::new(
            format!("Tham số truy vấn không hợp lệ: {err}."),
            format!("Invalid query parameters: {err}."),
        ),
    )
}

/// The query's `(name, value)` pairs, decoded; 400 `invalid_query` when undecodable, and 400
/// naming the parameter when a name or value has a control character.
fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).map_err(invalid_query)?;
    for (key, value) in &pairs {
        validate::reject_control_chars(key, key, false)?;
        validate::reject_control_chars(key, value, false)?;
    }
    Ok(pairs)
}

/// A text path segment (`/ledger/accounts/{code}/…`), refused with a 400 naming `field` when it
/// has a control character.
pub fn path_text(field: &str, value: &str) -> Result<(), AppError> {
    validate::reject_control_chars(field, value, false)
}

/// 400 `malformed_json` with where the JSON stops making sense.
fn malformed(err: &serde_json::Error) -> AppError {
    AppError::new(
        ErrorKind::BadRequest,
        "malformed_json",
        Localized::new(
            format!(
                "Nội dung không phải JSON hợp lệ (dòng {}, cột {}).",
                err.line(),
                err.column()
            ),
            format!(
                "The body is not valid JSON (line {}, column {}).",
                err.line(),
                err.column()
            ),
        ),
    )
}

/// The 400 of a body that is JSON but not the request's shape, from the failure's kind and the
/// path of the field (`serde_path_to_error`; `.` is the body itself).
fn classify(path: &str, err: Classified) -> AppError {
    let field_at_path = if path == "." { "" } else { path }.to_string();
    match err {
        Classified::UnknownField(name) => {
            // The path already ends at the unknown key.
            let field = if field_at_path.is_empty() {
                name
            } else {
                field_at_path
            };
            AppError::new(
                ErrorKind::BadRequest,
                "unknown_field",
                Localized::new(
                    format!("Trường '{field}' không được hỗ trợ."),
                    format!("Unknown field '{field}'."),
                ),
            )
            .with_field(field)
        }
        Classified::MissingField(name) => {
            // The path is the object that lacks the key.
            let field = if field_at_path.is_empty() {
                name.to_string()
            } else {
                format!("{field_at_path}.{name}")
            };
            AppError {
                code: "missing_field".into(),
                ..AppError::invalid(field, Reason::Required)
            }
        }
        Classified::InvalidType { expected } => AppError::new(
            ErrorKind::BadRequest,
            "wrong_type",
            Localized::new(
                format!("Trường '{field_at_path}' sai kiểu dữ liệu (cần {expected})."),
                format!("Field '{field_at_path}' has the wrong type (expected {expected})."),
            ),
        )
        .with_field(field_at_path),
        Classified::Invalid(detail) => AppError::new(
            ErrorKind::BadRequest,
            "invalid_value",
            Localized::new(
                format!("Giá trị của trường '{field_at_path}' không hợp lệ: {detail}."),
                format!("Field '{field_at_path}' has an invalid value: {detail}."),
            ),
        )
        .with_field(field_at_path),
    }
}

/// Query parameters, parsed strictly (400 `invalid_query` naming the problem). The `format`
/// parameter is reserved for exports on every route and read by [`Export`] instead.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = query_pairs(parts)?;
        let kept: Vec<_> = pairs
            .into_iter()
            .filter(|(key, _)| key != "format")
            .collect();
        let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
        serde_urlencoded::from_str(&query)
            .map(ApiQuery)
            .map_err(invalid_query)
    }
}

/// `?format=json|csv|xlsx` of a list that can be exported (400 naming `format` otherwise).
pub struct Export(pub crate::http::export::ExportFormat);

impl<S: Send + Sync> FromRequestParts<S> for Export {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = query_pairs(parts)?;
        let format = pairs
            .iter()
            .find(|(key, _)| key == "format")
            .map(|(_, value)| value.as_str());
        crate::http::export::ExportFormat::parse(format).map(Export)
    }
}

/// A numeric id in the path; anything else is a 404 (no such resource).
pub struct ApiId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ApiId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| AppError::not_found("tài nguyên", "Resource"))?;
        raw.parse::<i64>()
            .map(ApiId)
            .map_err(|_| AppError::not_found("tài nguyên", "Resource"))
    }
}

/// The bearer token of a request, if any. The scheme is matched without regard to case
/// (`Bearer`, `bearer`, `BEARER`), as RFC 7235 says authentication schemes are.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim_start();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            AppError::new(
                ErrorKind::Unauthorized,
                "missing_credentials",
                Localized::new(
                    "Cần đăng nhập: gửi header Authorization: Bearer <token>.",
                    "Authentication required: send Authorization: Bearer <token>.",
                ),
            )
        })?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut caller = sessions::authenticate(&state.ctx, token, request_id).await?;
        if let Some(lang) = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        {
            caller.lang = crate::error::Lang::from_accept_language(lang);
        }
        Ok(caller)
    }
}
