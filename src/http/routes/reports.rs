//! Reports: `GET /api/v1/reports/portfolio?date=` (outstanding by debt group, provisions, bad-debt ratio).

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{reports, Caller},
    error::AppResult,
    http::{
        dto::reports::{PortfolioQuery, PortfolioReport},
        extract::ApiQuery,
        responses::{BadRequest, Forbidden},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(portfolio))
}

/// The portfolio by debt group with its provisions and bad-debt ratio (staff; not cooperatives).
#[utoipa::path(get, path = "/api/v1/reports/portfolio", tag = "reports", security(("bearer" = [])),
    params(PortfolioQuery),
    responses((status = 200, body = PortfolioReport), BadRequest, Forbidden))]
pub async fn portfolio(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PortfolioQuery>,
) -> AppResult<Json<PortfolioReport>> {
    let portfolio = reports::portfolio(&state.ctx, &caller, query.date, query.from).await?;
    Ok(Json(PortfolioReport::from(&portfolio)))
}
