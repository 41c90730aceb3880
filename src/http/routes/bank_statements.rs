//! `/api/v1/bank-statements`: import the fund's bank statements (the body is the file), review the
//! proposals, confirm or reject lines (`/api/v1/bank-statement-lines/{id}/…`), reconcile against 1121;
//! and `/api/v1/cooperatives/{id}/bank-accounts`, the accounts a cooperative pays from (issue 12).

use axum::{
    extract::{RawQuery, Request, State},
    http::StatusCode,
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        bank_statements::{self, confirm, import, reconcile},
        validate, Caller,
    },
    error::AppResult,
    http::{
        dto::bank_statements::{
            BankAccountView, BulkConfirmInput, BulkOutcome, ConfirmInput, ImportOutcome,
            ImportQuery, LineView, NewBankAccount, Reconciliation, RejectInput, StatementDetail,
            StatementQuery, StatementView,
        },
        error::ErrorEnvelope,
        extract::{invalid_query, read_body, ApiId, ApiJson, ApiQuery},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_statement, list_statements))
        .routes(routes!(get_statement))
        .routes(routes!(confirm_statement))
        .routes(routes!(get_reconciliation))
        .routes(routes!(get_line))
        .routes(routes!(confirm_line))
        .routes(routes!(reject_line))
        .routes(routes!(list_bank_accounts, add_bank_account))
}

/// The import's query, parsed strictly (`format` is this route's own parameter, not an export format).
fn import_query(raw: Option<&str>) -> AppResult<ImportQuery> {
    let raw = raw.unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
    for (key, value) in &pairs {
        validate::reject_control_chars(key, value, false)?;
    }
    serde_urlencoded::from_str(raw).map_err(invalid_query)
}

/// Imports a statement file (accountant, admin): the body is the file as exported by the bank.
/// 201 with the new statement and its lines' proposals; 200 when this very file was imported before
/// (nothing added); lines already known from an overlapping statement are not added again. A file that
/// does not read is a 400 naming the line and column; nothing is half-imported.
#[utoipa::path(post, path = "/api/v1/bank-statements", tag = "bank statements", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The statement file (CSV, XLSX, camt.053 XML or MT940 text)"),
    responses((status = 201, body = ImportOutcome), (status = 200, body = ImportOutcome, description = "The same file again: nothing added"),
              (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 413, body = ErrorEnvelope)))]
pub async fn import_statement(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    request: Request,
) -> AppResult<(StatusCode, Json<ImportOutcome>)> {
    caller.require(&[crate::auth::Role::Accountant, crate::auth::Role::Admin])?;
    let query = import_query(raw.as_deref())?;
    let bytes = read_body(request, &state).await?;
    let outcome = import::import(&state.ctx, &caller, query.into(), &bytes).await?;
    // The same file again added nothing: 200, not 201.
    let status = if outcome.duplicate_file {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(outcome.into())))
}

/// Statements newest first (accountant, admin, auditor).
#[utoipa::path(get, path = "/api/v1/bank-statements", tag = "bank statements", security(("bearer" = [])),
    params(StatementQuery),
    responses((status = 200, body = Vec<StatementView>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_statements(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<StatementQuery>,
) -> AppResult<Json<Vec<StatementView>>> {
    let statements = bank_statements::list(&state.db, &caller, query.into()).await?;
    Ok(Json(
        statements.into_iter().map(StatementView::from).collect(),
    ))
}

/// A statement with its lines, their proposals (loan, reason, confidence) and decisions; an open credit
/// shows the payoff of its proposed loan on its value date.
#[utoipa::path(get, path = "/api/v1/bank-statements/{id}", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = StatementDetail), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<StatementDetail>> {
    let statement = bank_statements::get(&state.ctx, &caller, id).await?;
    Ok(Json(statement.into()))
}

/// Confirms the statement's proposals (accountant): the lines given, or every proposed line with at
/// least the configured confidence. Each line posts once; refused lines (above the payoff …) are listed.
#[utoipa::path(post, path = "/api/v1/bank-statements/{id}/confirm", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = BulkConfirmInput,
    responses((status = 200, body = BulkOutcome), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn confirm_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<BulkConfirmInput>,
) -> AppResult<Json<BulkOutcome>> {
    let outcome = confirm::confirm_statement(&state.ctx, &caller, id, input.into()).await?;
    Ok(Json(outcome.into()))
}

/// The bank's opening and closing balances against account 1121 for the statement's dates, with the
/// difference explained line by line (accountant, admin, auditor).
#[utoipa::path(get, path = "/api/v1/bank-statements/{id}/reconciliation", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Reconciliation), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_reconciliation(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<Reconciliation>> {
    let reconciliation = reconcile::reconcile(&state.db, &caller, id).await?;
    Ok(Json(reconciliation.into()))
}

/// One statement line with its proposal and decision.
#[utoipa::path(get, path = "/api/v1/bank-statement-lines/{id}", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = LineView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_line(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<LineView>> {
    let line = bank_statements::line(&state.ctx, &caller, id).await?;
    Ok(Json(line.into()))
}

/// Confirms a line (accountant): `{}` posts the proposal; `{"splits":[{"loan_id","amount_vnd"}]}`
/// reassigns or splits it; a debit takes `{"transaction_id"}` of its disbursement. Posts an ordinary
/// repayment per part (value date = the bank's, reference = the bank's transaction id), once: a line
/// already posted is returned as it is. Above the payoff → 422 naming it. Four-eyes: the first
/// confirmation only proposes (`awaiting_second`).
#[utoipa::path(post, path = "/api/v1/bank-statement-lines/{id}/confirm", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ConfirmInput,
    responses((status = 200, body = LineView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn confirm_line(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> AppResult<Json<LineView>> {
    let line = confirm::confirm(&state.ctx, &caller, id, input.try_into()?).await?;
    Ok(Json(line.into()))
}

/// Marks a line "not a repayment" with a reason (accountant).
#[utoipa::path(post, path = "/api/v1/bank-statement-lines/{id}/reject", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RejectInput,
    responses((status = 200, body = LineView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reject_line(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<RejectInput>,
) -> AppResult<Json<LineView>> {
    let line = confirm::reject(&state.ctx, &caller, id, input.into()).await?;
    Ok(Json(line.into()))
}

/// The accounts a cooperative pays from (staff).
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/bank-accounts", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<BankAccountView>), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_bank_accounts(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<Vec<BankAccountView>>> {
    let accounts = bank_statements::bank_accounts(&state.db, &caller, id).await?;
    Ok(Json(
        accounts.into_iter().map(BankAccountView::from).collect(),
    ))
}

/// Registers an account a cooperative pays from (admin, officer, accountant): a transfer from it
/// without a loan number is matched by the amount due. 409 when another cooperative has it.
#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/bank-accounts", tag = "bank statements", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NewBankAccount,
    responses((status = 201, body = BankAccountView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn add_bank_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<NewBankAccount>,
) -> AppResult<(StatusCode, Json<BankAccountView>)> {
    let account = bank_statements::add_bank_account(&state.ctx, &caller, id, input.into()).await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}
