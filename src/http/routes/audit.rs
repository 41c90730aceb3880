//! `GET /api/v1/audit`: the audit trail (admin, auditor).

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        audit::{self, AuditPage, AuditQuery},
        Caller,
    },
    error::AppResult,
    http::{error::ErrorEnvelope, extract::ApiQuery},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Every recorded change (who, when, what, before and after), newest first, with filters.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorEnvelope)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    audit::list(&state.db, &caller, query).await.map(Json)
}
