//! The error responses a route declares in its OpenAPI annotation, once: a route lists the refusals
//! it can give by name instead of repeating `(status = 403, body = ErrorEnvelope)`:
//!
//! ```text
//! #[utoipa::path(post, path = "/api/v1/cooperatives", ...,
//!     responses((status = 201, body = CooperativeView), BadRequest, Forbidden, Conflict, Unprocessable))]
//! ```
//!
//! Each is the [`ErrorEnvelope`] with the status of one [`crate::error::ErrorKind`]. The statuses
//! every route shares through the extractors (401, 400 of a body or query, 413, 415) are added to the
//! document by [`super::openapi::complete`], so a route declares only the ones its use case decides.

use utoipa::IntoResponses;

use super::error::ErrorEnvelope;

/// 400: a field is invalid (named in `error.field`).
#[derive(IntoResponses)]
#[response(status = 400, description = "")]
pub struct BadRequest(pub ErrorEnvelope);

/// 401: no token, or an invalid, expired or revoked one.
#[derive(IntoResponses)]
#[response(status = 401, description = "")]
pub struct Unauthorized(pub ErrorEnvelope);

/// 403: the caller's role may not do this.
#[derive(IntoResponses)]
#[response(status = 403, description = "")]
pub struct Forbidden(pub ErrorEnvelope);

/// 404: no such record, or not one the caller may see.
#[derive(IntoResponses)]
#[response(status = 404, description = "")]
pub struct NotFound(pub ErrorEnvelope);

/// 409: a conflict with the stored state (a duplicate, a stale `version`, an idempotency key).
#[derive(IntoResponses)]
#[response(status = 409, description = "")]
pub struct Conflict(pub ErrorEnvelope);

/// 422: a business rule refuses the request (named by `error.code`).
#[derive(IntoResponses)]
#[response(status = 422, description = "")]
pub struct Unprocessable(pub ErrorEnvelope);
