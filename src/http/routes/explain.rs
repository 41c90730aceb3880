//! `GET /api/v1/loans/{id}/explain`: "how is this computed?" — the payoff quote with every amount opened into
//! the lines that make it (issue 10 §3). Read like the payoff quote: staff, the auditor, and a cooperative its
//! own loans only (404 otherwise).

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{loans, Caller},
    error::AppResult,
    http::{
        dto::explain::{ExplainQuery, ExplanationView},
        extract::{ApiId, ApiQuery},
        responses::{BadRequest, NotFound, Unprocessable},
    },
    state::AppState,
};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_explanation))
}

/// The payoff quote on `date` (default: the business date) with, for every `_vnd` field of the quote, its
/// `amount_vnd` and the `lines` that make it (accrual segments with from, to, days, balance, rate and formula;
/// billings, payments, roundings), adding up to it exactly. 422 when the loan's events cannot be replayed.
#[utoipa::path(get, path = "/api/v1/loans/{id}/explain", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ExplainQuery),
    responses((status = 200, body = ExplanationView), BadRequest, NotFound, Unprocessable))]
pub async fn get_explanation(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiQuery(query): ApiQuery<ExplainQuery>,
) -> AppResult<Json<ExplanationView>> {
    loans::explain(&state.ctx, &caller, id.into(), query.date)
        .await
        .map(|explanation| Json(explanation.into()))
}
