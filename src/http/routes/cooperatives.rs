//! `/api/v1/cooperatives`: the borrowers.

use crate::http::responses::{BadRequest, Conflict, Forbidden, NotFound, Unprocessable};
use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        cooperatives::{
            self, CooperativeInput, CooperativePage, CooperativePatch, CooperativeQuery,
            CooperativeView,
        },
        Caller,
    },
    error::AppResult,
    http::extract::{ApiId, ApiJson, ApiQuery},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_cooperative, list_cooperatives))
        .routes(routes!(get_cooperative, update_cooperative))
}

/// Registers a cooperative (admin, officer).
#[utoipa::path(post, path = "/api/v1/cooperatives", tag = "cooperatives", security(("bearer" = [])),
    request_body = CooperativeInput,
    responses((status = 201, body = CooperativeView), BadRequest,
              Forbidden, Conflict,
              Unprocessable))]
pub async fn create_cooperative(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CooperativeInput>,
) -> AppResult<(StatusCode, Json<CooperativeView>)> {
    let today = state.today();
    let created =
        cooperatives::create(&state.db, &caller, &state.settings.fund, today, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
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
    cooperatives::list(&state.db, &caller, query)
        .await
        .map(Json)
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
    cooperatives::get(&state.db, &caller, id).await.map(Json)
}

/// Updates some fields; `version` must be current (admin, officer).
#[utoipa::path(patch, path = "/api/v1/cooperatives/{id}", tag = "cooperatives", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CooperativePatch,
    responses((status = 200, body = CooperativeView), Forbidden, BadRequest,
              NotFound, Conflict))]
pub async fn update_cooperative(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(patch): ApiJson<CooperativePatch>,
) -> AppResult<Json<CooperativeView>> {
    let today = state.today();
    cooperatives::update(&state.db, &caller, &state.settings.fund, today, id, patch)
        .await
        .map(Json)
}
