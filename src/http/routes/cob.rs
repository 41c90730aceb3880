//! The business date and close of business: `GET /api/v1/business-date`, `POST /api/v1/cob/run`,
//! `GET /api/v1/cob/runs`.

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        cob::{self, Trigger},
        page::PageRequest,
        Caller,
    },
    error::AppResult,
    http::{
        dto::cob::{BusinessDateView, CobOutcome, CobRequest, CobRunPage, CobRunQuery},
        extract::{ApiJson, ApiQuery},
        responses::{BadRequest, Forbidden, Unprocessable},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(business_date))
        .routes(routes!(list_cob_runs))
}

/// The close of business, which gates each of its steps itself: a long run must not stop the API
/// (see `crate::http::router`).
pub fn gating_themselves() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(run_cob))
}

/// The fund's business date: what "today" means to the service.
#[utoipa::path(get, path = "/api/v1/business-date", tag = "close of business", security(("bearer" = [])),
    responses((status = 200, body = BusinessDateView)))]
pub async fn business_date(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<BusinessDateView>> {
    let dates = cob::business_dates(&state.ctx, &caller).await?;
    Ok(Json(dates.into()))
}

/// Closes every business date through `through`, in order (admin, accountant). Another instance
/// already running it makes this one skip (`ran: false`).
#[utoipa::path(post, path = "/api/v1/cob/run", tag = "close of business", security(("bearer" = [])),
    request_body = CobRequest,
    responses((status = 200, body = CobOutcome), Forbidden, Unprocessable))]
pub async fn run_cob(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CobRequest>,
) -> AppResult<Json<CobOutcome>> {
    let outcome = cob::run_through(&state.ctx, &caller, request.through, Trigger::Api).await?;
    Ok(Json(outcome.into()))
}

/// Close-of-business runs, newest first (admin, accountant, auditor).
#[utoipa::path(get, path = "/api/v1/cob/runs", tag = "close of business", security(("bearer" = [])),
    params(CobRunQuery),
    responses((status = 200, body = CobRunPage), BadRequest, Forbidden))]
pub async fn list_cob_runs(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CobRunQuery>,
) -> AppResult<Json<CobRunPage>> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let runs = cob::list_runs(&state.ctx, &caller, page).await?;
    Ok(Json(runs.into()))
}
