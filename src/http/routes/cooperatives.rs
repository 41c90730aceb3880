//! `/api/v1/cooperatives`: the borrowers.

use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{cooperatives, Caller},
    error::AppResult,
    http::{
        dto::cooperatives::{
            CooperativeBody, CooperativePage, CooperativePatchBody, CooperativeQuery,
            CooperativeView,
        },
        extract::{ApiId, ApiJson, ApiQuery},
        responses::{BadRequest, Conflict, Forbidden, NotFound, Unprocessable},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_cooperative, list_cooperatives))
        .routes(routes!(get_cooperative, update_cooperative))
}

/// Registers a cooperative (admin, officer).
#[utoipa::path(post, path = "/api/v1/cooperatives", tag = "cooperatives", security(("bearer" = [])),
    request_body = CooperativeBody,
    responses((status = 201, body = CooperativeView), BadRequest, Forbidden, Conflict, Unprocessable))]
pub async fn create_cooperative(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CooperativeBody>,
) -> AppResult<(StatusCode, Json<CooperativeView>)> {
    let created = cooperatives::create(&state.ctx, &caller, body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Lists cooperatives, newest first, with search (a cooperative user sees only itself).
#[utoipa::path(get, path = "/api/v1/cooperatives", tag = "cooperatives", security(("bearer" = [])),
    params(CooperativeQuery),
    responses((status = 200, body = CooperativePage), BadRequest))]
pub async fn list_cooperatives(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CooperativeQuery>,
) -> AppResult<Json<CooperativePage>> {
    let page = cooperatives::list(&state.ctx, &caller, query.try_into()?).await?;
    Ok(Json(page.into()))
}

/// One cooperative (404 for a cooperative user asking for another).
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}", tag = "cooperatives", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CooperativeView), NotFound))]
pub async fn get_cooperative(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<CooperativeView>> {
    let found = cooperatives::get(&state.ctx, &caller, id.into()).await?;
    Ok(Json(found.into()))
}

/// Updates some fields; `version` must be current (admin, officer).
#[utoipa::path(patch, path = "/api/v1/cooperatives/{id}", tag = "cooperatives", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CooperativePatchBody,
    responses((status = 200, body = CooperativeView), Forbidden, BadRequest, NotFound, Conflict))]
pub async fn update_cooperative(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<CooperativePatchBody>,
) -> AppResult<Json<CooperativeView>> {
    let updated = cooperatives::update(&state.ctx, &caller, id.into(), body.try_into()?).await?;
    Ok(Json(updated.into()))
}
