//! `/api/v1/fund`: the fund at a glance, and its charter capital contributions.

use crate::http::responses::{BadRequest, Conflict, Forbidden};
use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        charter_capital::{self, ContributionInput, ContributionView, FundView},
        Caller,
    },
    error::AppResult,
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
    charter_capital::overview(&state.db, &caller, &state.settings.fund)
        .await
        .map(Json)
}

/// Records a charter capital contribution and posts Dr 1121 / Cr 4111 (admin, accountant).
#[utoipa::path(post, path = "/api/v1/fund/charter-capital", tag = "fund", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)), request_body = ContributionInput,
    responses((status = 201, body = ContributionView), BadRequest,
              Forbidden, Conflict))]
pub async fn contribute_charter_capital(
    State(state): State<AppState>,
    caller: Caller,
    keyed: crate::http::idempotency::Keyed<ContributionInput>,
) -> AppResult<axum::response::Response> {
    let outcome = charter_capital::contribute(
        &state.db,
        &state.money_writer,
        &caller,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(crate::http::idempotency::respond(
        outcome,
        StatusCode::CREATED,
    ))
}
