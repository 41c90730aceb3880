//! `GET /api/v1/audit`: the audit trail (admin, auditor).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{audit, Caller},
    error::AppResult,
    http::{
        dto::audit::{AuditPage, AuditQuery},
        export::{self, ExportFormat},
        extract::{ApiQuery, Export},
        responses::Forbidden,
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Every recorded change (who, when, what, before and after), newest first, with filters.
/// `?format=csv|xlsx` exports the page.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery, ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = AuditPage), Forbidden))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> AppResult<Response> {
    let page = AuditPage::from(audit::list(&state.ctx, &caller, query.try_into()?).await?);
    match format {
        ExportFormat::Json => Ok(Json(page).into_response()),
        _ => export::table(format, "audit", &page.items),
    }
}
