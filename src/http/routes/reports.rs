//! Reports: `GET /api/v1/reports/portfolio?date=` (outstanding by debt group, provisions, bad-debt ratio).

use axum::{extract::State, response::Response, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{reports, reports_as_of, Caller},
    error::AppResult,
    http::{
        dto::{
            reports::{PortfolioQuery, PortfolioReport},
            reports_as_of::{
                AsOfQuery, AsOfReport, LendingQuery, LendingReportView, ProfileBody, ProfileView,
                TargetLineView, TargetsQuery, TargetsReport,
            },
        },
        export::ExportParams,
        extract::{ApiId, ApiJson, ApiQuery, Export},
        responses::{BadRequest, Forbidden, NotFound},
        sheets,
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(portfolio))
        .routes(routes!(as_of))
        .routes(routes!(lending))
        .routes(routes!(targets))
        .routes(routes!(record_profile, profile_history))
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
    Ok(sheets::json_or_sheets(format, view))
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
    let period = query
        .period
        .as_deref()
        .map(reports_as_of::LendingPeriod::parse)
        .transpose()?;
    let report = reports_as_of::lending_report(&state.ctx, &caller, query.year, period).await?;
    Ok(sheets::json_or_sheets(
        format,
        LendingReportView::from(&report),
    ))
}

/// The province's resolution on collective economy: what the fund contributed per year and district
/// (cooperatives and unions financed, new and repeat, share in agriculture, members reached, loans to
/// OCOP-product cooperatives, capital per member, share rated good or fairly good). Staff.
/// `?format=csv|xlsx` exports it.
#[utoipa::path(get, path = "/api/v1/reports/targets", tag = "reports", security(("bearer" = [])),
    params(TargetsQuery, ExportParams),
    responses((status = 200, body = TargetsReport), BadRequest, Forbidden))]
pub async fn targets(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<TargetsQuery>,
) -> AppResult<Response> {
    let report = targets_report(&state, &caller, query.from_year, query.to_year).await?;
    Ok(sheets::json_or_sheets(format, report))
}

/// The targets report with its defaults (shared with the page).
pub async fn targets_report(
    state: &AppState,
    caller: &Caller,
    from_year: Option<i32>,
    to_year: Option<i32>,
) -> AppResult<TargetsReport> {
    use chrono::Datelike;
    let to_year = match to_year {
        Some(year) => year,
        None => crate::app::cob::business_dates(&state.ctx, caller)
            .await?
            .business_date
            .year(),
    };
    let from_year = from_year.unwrap_or_else(|| 2021.max(to_year - 9).min(to_year));
    let lines =
        crate::app::cooperative_profiles::targets(&state.ctx, caller, from_year, to_year).await?;
    Ok(TargetsReport {
        from_year,
        to_year,
        lines: lines.iter().map(TargetLineView::from).collect(),
    })
}

/// Records a cooperative's profile (sector, members, OCOP products, rating) in force from
/// `effective_on`; earlier profiles stay as its history (admin, officer).
#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/profiles", tag = "cooperatives", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = ProfileBody,
    responses((status = 201, body = ProfileView), BadRequest, Forbidden, NotFound))]
pub async fn record_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<ProfileBody>,
) -> AppResult<(axum::http::StatusCode, Json<ProfileView>)> {
    let profile = crate::app::cooperative_profiles::record(
        &state.ctx,
        &caller,
        coopfund_domain::ids::CooperativeId::new(id),
        body.into(),
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(profile.into())))
}

/// A cooperative's profiles, newest first (a cooperative sees only its own).
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/profiles", tag = "cooperatives", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ProfileView>), NotFound))]
pub async fn profile_history(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<Vec<ProfileView>>> {
    let profiles = crate::app::cooperative_profiles::history(
        &state.ctx,
        &caller,
        coopfund_domain::ids::CooperativeId::new(id),
    )
    .await?;
    Ok(Json(profiles.into_iter().map(ProfileView::from).collect()))
}
