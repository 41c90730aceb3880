//! `POST /api/v1/auth/token` (log in) and `DELETE /api/v1/auth/token` (log out).

use axum::{extract::State, http::HeaderMap, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{sessions, users, Caller},
    error::AppResult,
    http::{
        dto::{
            auth::{CredentialsBody, IssuedTokenView},
            users::UserView,
        },
        error::ErrorEnvelope,
        extract::ApiJson,
        responses::Unauthorized,
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
}

/// Logs in and returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = CredentialsBody,
    responses((status = 200, body = IssuedTokenView), Unauthorized,
              (status = 429, body = ErrorEnvelope, description = "locked after repeated failures")))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> AppResult<Json<IssuedTokenView>> {
    let issued = sessions::login(&state.ctx, body.into()).await?;
    Ok(Json(issued.into()))
}

/// Revokes the token the request was made with.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), Unauthorized))]
pub async fn logout(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    if let Some(token) = crate::http::extract::bearer_token(&headers) {
        sessions::revoke(&state.ctx, token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), Unauthorized))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> AppResult<Json<UserView>> {
    let user = users::me(&state.ctx, &caller).await?;
    Ok(Json(user.into()))
}
