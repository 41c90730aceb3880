//! `/api/v1/outbox`: queued, sent and failed email (admin, auditor), and the retry of a failed
//! message (admin).

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{outbox, Caller},
    error::AppResult,
    http::{
        dto::outbox::{OutboxPage, OutboxQuery, OutboxView},
        extract::{ApiId, ApiQuery},
        responses::{BadRequest, Conflict, Forbidden, NotFound},
    },
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
    let page = outbox::list(&state.ctx, &caller, query.try_into()?).await?;
    Ok(Json(page.into()))
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
    let retried = outbox::retry(&state.ctx, &caller, id.into()).await?;
    Ok(Json(retried.into()))
}
