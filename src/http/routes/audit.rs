//! `GET /api/v1/audit`: the audit trail (admin, auditor); `GET /api/v1/audit/verify` and
//! `GET /api/v1/audit/checkpoint`: the hash chains of the books (issue 11 item 1).

use axum::{extract::State, response::Response, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{audit, chains, Caller},
    error::AppResult,
    http::{
        dto::audit::{AuditPage, AuditQuery, ChainVerifyQuery, ChainsVerifyView, CheckpointView},
        export,
        extract::{ApiQuery, Export},
        responses::{BadRequest, Forbidden},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_chains))
        .routes(routes!(chain_checkpoint))
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
    export::json_or_table(format, &page, "audit", &page.items)
}

/// Verifies the hash chains over the audit trail, the journal (entries with their lines), the loan
/// transactions and the charter capital contributions: names, per chain, the first row edited, deleted,
/// inserted or reordered. With `checkpoint` (heads saved earlier), also proves that nothing at or before
/// them changed, even if a chain was re-hashed throughout.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    params(ChainVerifyQuery),
    responses((status = 200, body = ChainsVerifyView), BadRequest, Forbidden))]
pub async fn verify_chains(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ChainVerifyQuery>,
) -> AppResult<Json<ChainsVerifyView>> {
    let heads = match query.checkpoint.as_deref() {
        Some(text) => Some(chains::parse_checkpoint(text)?),
        None => None,
    };
    let report = chains::verify(&state.ctx, &caller, heads).await?;
    Ok(Json(report.into()))
}

/// The chain heads now, with the date: print and sign them off, and give them back to
/// `GET /api/v1/audit/verify?checkpoint=` later.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = CheckpointView), Forbidden))]
pub async fn chain_checkpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<CheckpointView>> {
    Ok(Json(chains::checkpoint(&state.ctx, &caller).await?.into()))
}
