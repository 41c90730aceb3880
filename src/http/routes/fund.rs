//! `/api/v1/fund`: the fund at a glance, and its charter capital contributions.

use crate::http::responses::{BadRequest, Conflict, Forbidden};
use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{charter_capital, idempotency::Idempotent, Caller},
    error::AppResult,
    http::dto::fund::{ContributionBody, ContributionView, FundView},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_fund))
        .routes(routes!(contribute_charter_capital))
}

/// The fund: name, province, business date, paid-in charter capital and its contributions (staff).
#[utoipa::path(get, path = "/api/v1/fund", tag = "fund", security(("bearer" = [])),
    responses((status = 200, body = FundView), Forbidden))]
pub async fn get_fund(State(state): State<AppState>, caller: Caller) -> AppResult<Json<FundView>> {
    let fund = charter_capital::overview(&state.ctx, &caller).await?;
    Ok(Json(fund.into()))
}

/// Records a charter capital contribution and posts Dr 1121 / Cr 4111 (admin, accountant).
#[utoipa::path(post, path = "/api/v1/fund/charter-capital", tag = "fund", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)), request_body = ContributionBody,
    responses((status = 201, body = ContributionView), BadRequest,
              Forbidden, Conflict))]
pub async fn contribute_charter_capital(
    State(state): State<AppState>,
    caller: Caller,
    keyed: crate::http::idempotency::Keyed<ContributionBody>,
) -> AppResult<axum::response::Response> {
    let outcome =
        charter_capital::contribute(&state.ctx, &caller, keyed.input.into(), keyed.key.as_ref())
            .await?;
    let outcome = match outcome {
        Idempotent::Fresh(created) => Idempotent::Fresh(ContributionView::from(created)),
        Idempotent::Replayed { status, body } => Idempotent::Replayed { status, body },
    };
    Ok(crate::http::idempotency::respond(
        outcome,
        StatusCode::CREATED,
    ))
}
