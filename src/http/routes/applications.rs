//! `/api/v1/applications`: loan applications and their life cycle, up to the loan approval
//! creates.

use axum::{body::Bytes, extract::State, http::StatusCode, Json};
use serde::de::DeserializeOwned;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        applications,
        idempotency::{IdempotencyKey, Idempotent},
        Caller,
    },
    error::AppResult,
    http::{
        dto::applications::{
            ApplicationBody, ApplicationPageView, ApplicationPatchBody, ApplicationQuery,
            ApplicationView, AppraisalBody, DecisionBody,
        },
        error::ErrorEnvelope,
        extract::{parse_json, ApiId, ApiJson, ApiQuery},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_application, list_applications))
        .routes(routes!(get_application, update_application))
        .routes(routes!(submit_application))
        .routes(routes!(appraise_application))
        .routes(routes!(approve_application))
        .routes(routes!(reject_application))
        .routes(routes!(withdraw_application))
}

/// An optional JSON body: empty means the defaults (so `POST …/submit` needs no body).
fn optional_body<T: DeserializeOwned + Default>(bytes: &Bytes) -> AppResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(bytes)
    }
}

/// The reason of an optional decision body.
fn reason(bytes: &Bytes) -> AppResult<Option<String>> {
    optional_body::<DecisionBody>(bytes).map(|body| body.reason)
}

/// Creates a draft application (officer for any cooperative; a cooperative user for itself).
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", security(("bearer" = [])),
    request_body = ApplicationBody,
    responses((status = 201, body = ApplicationView), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ApplicationBody>,
) -> AppResult<(StatusCode, Json<ApplicationView>)> {
    let created = applications::create(&state.ctx, &caller, body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Lists applications newest first, by status and cooperative (a cooperative user sees its own).
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", security(("bearer" = [])),
    params(ApplicationQuery),
    responses((status = 200, body = ApplicationPageView), (status = 400, body = ErrorEnvelope)))]
pub async fn list_applications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ApplicationQuery>,
) -> AppResult<Json<ApplicationPageView>> {
    let page = applications::list(&state.ctx, &caller, query.try_into()?).await?;
    Ok(Json(page.into()))
}

/// One application (404 for another cooperative's).
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<ApplicationView>> {
    let found = applications::get(&state.ctx, &caller, id.into()).await?;
    Ok(Json(found.into()))
}

/// Edits a draft; `version` must be current (officer or the borrowing cooperative).
#[utoipa::path(patch, path = "/api/v1/applications/{id}", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ApplicationPatchBody,
    responses((status = 200, body = ApplicationView), (status = 403, body = ErrorEnvelope), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn update_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<ApplicationPatchBody>,
) -> AppResult<Json<ApplicationView>> {
    let changes = body.try_into()?;
    let updated = applications::update(&state.ctx, &caller, id.into(), changes).await?;
    Ok(Json(updated.into()))
}

/// draft → submitted (officer or the borrowing cooperative); body optional `{"reason"}`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = Option<DecisionBody>),
    responses((status = 200, body = ApplicationView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn submit_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    body: Bytes,
) -> AppResult<Json<ApplicationView>> {
    let submitted = applications::submit(&state.ctx, &caller, id.into(), reason(&body)?).await?;
    Ok(Json(submitted.into()))
}

/// submitted → appraised with `{"note", "recommendation"}` (officer).
#[utoipa::path(post, path = "/api/v1/applications/{id}/appraise", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AppraisalBody,
    responses((status = 200, body = ApplicationView), (status = 403, body = ErrorEnvelope), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn appraise_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<AppraisalBody>,
) -> AppResult<Json<ApplicationView>> {
    let appraisal = body.try_into()?;
    let appraised = applications::appraise(&state.ctx, &caller, id.into(), appraisal).await?;
    Ok(Json(appraised.into()))
}

/// Approves (approver): checks four-eyes and Decree 45 limits (422); creates the loan, or moves
/// to `awaiting_council` above the council threshold. The view carries `loan_id`, `loan_number`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/approve", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body(content = Option<DecisionBody>),
    responses((status = 200, body = ApplicationView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn approve_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> AppResult<axum::response::Response> {
    let reason = reason(&body)?;
    let key = crate::http::idempotency::idempotency_key(&headers)?
        .map(|key| IdempotencyKey::new(&key, &body))
        .transpose()?;
    let outcome =
        applications::approve_keyed(&state.ctx, &caller, id.into(), reason, key.as_ref()).await?;
    let outcome = match outcome {
        Idempotent::Fresh(approved) => Idempotent::Fresh(ApplicationView::from(approved)),
        Idempotent::Replayed { status, body } => Idempotent::Replayed { status, body },
    };
    Ok(crate::http::idempotency::respond(
        outcome,
        axum::http::StatusCode::OK,
    ))
}

/// Rejects with `{"reason"}` (approver).
#[utoipa::path(post, path = "/api/v1/applications/{id}/reject", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 200, body = ApplicationView), (status = 403, body = ErrorEnvelope), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reject_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    body: Bytes,
) -> AppResult<Json<ApplicationView>> {
    let rejected = applications::reject(&state.ctx, &caller, id.into(), reason(&body)?).await?;
    Ok(Json(rejected.into()))
}

/// Withdraws from any open state (officer or the borrowing cooperative); body optional `{"reason"}`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/withdraw", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = Option<DecisionBody>),
    responses((status = 200, body = ApplicationView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn withdraw_application(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    body: Bytes,
) -> AppResult<Json<ApplicationView>> {
    let withdrawn = applications::withdraw(&state.ctx, &caller, id.into(), reason(&body)?).await?;
    Ok(Json(withdrawn.into()))
}
