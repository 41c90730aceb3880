//! `POST /api/v1/auth/token` (log in) and `DELETE /api/v1/auth/token` (log out).

use axum::{extract::State, http::HeaderMap, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        sessions::{self, Credentials, IssuedToken},
        users::UserView,
        Caller,
    },
    error::AppResult,
    http::{error::ErrorEnvelope, extract::ApiJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
}

/// Logs in and returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = Credentials,
    responses((status = 200, body = IssuedToken), (status = 401, body = ErrorEnvelope),
              (status = 429, body = ErrorEnvelope, description = "locked after repeated failures")))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(creds): ApiJson<Credentials>,
) -> AppResult<Json<IssuedToken>> {
    sessions::login(&state.db, &state.settings.auth, creds)
        .await
        .map(Json)
}

/// Revokes the token the request was made with.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub async fn logout(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    if let Some(token) = crate::http::extract::bearer_token(&headers) {
        sessions::revoke(&state.db, token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> AppResult<Json<UserView>> {
    let id = caller.user_id.unwrap_or_default();
    use sea_orm::EntityTrait;
    let user = crate::store::entities::user::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| crate::error::AppError::not_found("tài khoản", "User"))?;
    Ok(Json(UserView::from(user)))
}
