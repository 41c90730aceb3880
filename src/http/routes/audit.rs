//! `GET /api/v1/audit`: the audit trail (admin, auditor).

use crate::http::responses::Forbidden;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        audit::{self, AuditPage, AuditQuery},
        Caller,
    },
    error::AppResult,
    http::{
        export::{self, ExportFormat},
        extract::{ApiQuery, Export},
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
    let page = audit::list(&state.db, &caller, query).await?;
    match format {
        ExportFormat::Json => Ok(Json(page).into_response()),
        _ => export::table(format, "audit", &page.items),
    }
}
