//! `/api/v1/users`: accounts and roles, for admins.

use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{users, Caller},
    error::AppResult,
    http::{
        dto::users::{NewUserBody, UserChangeBody, UserView},
        extract::{ApiId, ApiJson},
        responses::{BadRequest, Conflict, Forbidden, NotFound},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, change_user))
}

/// Creates an account (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUserBody,
    responses((status = 201, body = UserView), BadRequest, Forbidden, Conflict))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let user = users::create(&state.ctx, &caller, body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Lists accounts (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserView>), Forbidden))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<UserView>>> {
    let all = users::list(&state.ctx, &caller).await?;
    Ok(Json(all.into_iter().map(UserView::from).collect()))
}

/// One account (admin).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = UserView), Forbidden, NotFound))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<UserView>> {
    let user = users::get(&state.ctx, &caller, id.into()).await?;
    Ok(Json(user.into()))
}

/// Disables, re-enables or sets a new password (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UserChangeBody,
    responses((status = 200, body = UserView), Forbidden, NotFound, Conflict))]
pub async fn change_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<UserChangeBody>,
) -> AppResult<Json<UserView>> {
    let user = users::change(&state.ctx, &caller, id.into(), body.into()).await?;
    Ok(Json(user.into()))
}
