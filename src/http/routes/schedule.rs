//! `POST /api/v1/schedule/preview`: a schedule from terms, for any logged-in user.

use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{schedule_preview, Caller},
    auth::Role,
    error::AppResult,
    http::{
        dto::schedule::{PreviewRequest, PreviewResponse},
        extract::ApiJson,
        responses::BadRequest,
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview_schedule))
}

/// Computes a repayment schedule from terms (DOMAIN.md §3).
#[utoipa::path(post, path = "/api/v1/schedule/preview", tag = "schedule", security(("bearer" = [])),
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), BadRequest))]
pub async fn preview_schedule(
    caller: Caller,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> AppResult<Json<PreviewResponse>> {
    caller.require(&Role::ALL)?;
    let preview = schedule_preview::preview(&request.into())?;
    Ok(Json(preview.into()))
}
