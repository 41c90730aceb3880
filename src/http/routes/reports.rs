//! Reports: `GET /api/v1/reports/portfolio?date=` (outstanding by debt group, provisions, bad-debt ratio).

use axum::{extract::State, response::Response, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{reports, reports_as_of, Caller},
    error::AppResult,
    http::{
        dto::{
            reports::{PortfolioQuery, PortfolioReport},
            reports_as_of::{AsOfQuery, AsOfReport, LendingQuery, LendingReportView},
        },
        export::{ExportFormat, ExportParams},
        extract::{ApiQuery, Export},
        responses::{BadRequest, Forbidden},
        sheets,
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(portfolio))
        .routes(routes!(as_of))
        .routes(routes!(lending))
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

/// The portfolio as it stood when `date` was closed (issue 11): debt groups with provisions and the
/// bad-debt ratio, aging with PAR10/PAR30 and their monthly trend, disbursements and collections by
/// district, cooperative kind and product over `from`..`date`, the largest exposures against the
/// 15%/25% limits, write-offs and recoveries. Transactions recorded after the date's close, even
/// back-dated ones, do not change it (`later_corrections` counts them). `?format=csv|xlsx` exports
/// it, one sheet per section.
#[utoipa::path(get, path = "/api/v1/reports/as-of", tag = "reports", security(("bearer" = [])),
    params(AsOfQuery, ExportParams),
    responses((status = 200, body = AsOfReport), BadRequest, Forbidden))]
pub async fn as_of(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<AsOfQuery>,
) -> AppResult<Response> {
    let report = reports_as_of::report_as_of(&state.ctx, &caller, query.into()).await?;
    let view = AsOfReport::from(&report);
    Ok(as_of_response(format, view))
}

/// The report as JSON or as a download (shared with the page).
pub fn as_of_response(format: ExportFormat, view: AsOfReport) -> Response {
    use axum::response::IntoResponse;
    match format {
        ExportFormat::Json => Json(view).into_response(),
        _ => sheets::stream(
            format,
            &format!("bao-cao-{}", view.date),
            move |mut sheets| async move {
                view.write(&mut sheets).await?;
                Ok(sheets)
            },
        ),
    }
}

/// The semi-annual or annual lending report to the central fund and the province (Decree 45/2021
/// Art 34/44; Circular 52/2022 Appendix 1a; cut-offs 30/6 and 31/12): loans made, collected,
/// outstanding by group, overdue, provisions, write-offs, and its reconciliation with the books at
/// the cut-off. `?format=csv|xlsx` exports it in the appendix's layout.
#[utoipa::path(get, path = "/api/v1/reports/lending", tag = "reports", security(("bearer" = [])),
    params(LendingQuery, ExportParams),
    responses((status = 200, body = LendingReportView), BadRequest, Forbidden))]
pub async fn lending(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<LendingQuery>,
) -> AppResult<Response> {
    let period = reports_as_of::LendingPeriod::parse(query.period.as_deref().unwrap_or("h1"))?;
    let report = reports_as_of::lending_report(&state.ctx, &caller, query.year, period).await?;
    Ok(lending_response(format, LendingReportView::from(&report)))
}

/// The lending report as JSON or as a download (shared with the page).
pub fn lending_response(format: ExportFormat, view: LendingReportView) -> Response {
    use axum::response::IntoResponse;
    match format {
        ExportFormat::Json => Json(view).into_response(),
        _ => sheets::stream(
            format,
            &format!("bao-cao-cho-vay-{}-{}", view.year, view.period),
            move |mut sheets| async move {
                view.write(&mut sheets).await?;
                Ok(sheets)
            },
        ),
    }
}
