//! Reports: `GET /api/v1/reports/portfolio?date=` (outstanding by debt group, provisions, bad-debt ratio).

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        reports::{self, PortfolioQuery, PortfolioReport},
        Caller,
    },
    error::AppResult,
    http::{error::ErrorEnvelope, extract::ApiQuery},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(portfolio))
}

/// The portfolio by debt group with its provisions and bad-debt ratio (staff; not cooperatives).
#[utoipa::path(get, path = "/api/v1/reports/portfolio", tag = "reports", security(("bearer" = [])),
    params(PortfolioQuery),
    responses((status = 200, body = PortfolioReport), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope)))]
pub async fn portfolio(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PortfolioQuery>,
) -> AppResult<Json<PortfolioReport>> {
    reports::portfolio(&state.db, &caller, query)
        .await
        .map(Json)
}
