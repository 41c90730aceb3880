//! `/api/v1/outbox`: queued, sent and failed email (admin, auditor), and the retry of a failed
//! message (admin).

use crate::http::responses::{BadRequest, Conflict, Forbidden, NotFound};
use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        outbox::{self, OutboxPage, OutboxQuery, OutboxView},
        Caller,
    },
    error::AppResult,
    http::extract::{ApiId, ApiQuery},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_outbox))
        .routes(routes!(retry_outbox))
}

/// Lists email messages newest first, by status (admin, auditor).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox", security(("bearer" = [])),
    params(OutboxQuery),
    responses((status = 200, body = OutboxPage), BadRequest,
              Forbidden))]
pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> AppResult<Json<OutboxPage>> {
    outbox::list(&state.db, &caller, query).await.map(Json)
}

/// Puts a failed message back in the queue, attempts reset (admin).
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "outbox", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = OutboxView), Forbidden,
              NotFound, Conflict))]
pub async fn retry_outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<OutboxView>> {
    outbox::retry(&state.db, &caller, id).await.map(Json)
}
