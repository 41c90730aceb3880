//! `/api/v1/loans`: loans from approval onward and what is owed (API.md's fixed shapes). Money and state
//! POSTs take an optional `Idempotency-Key` (see [`crate::http::idempotency`]).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        loans::{
            self, DisbursementInput, LoanPage, LoanQuery, LoanSchedule, LoanStatement, LoanView,
            PayoffQuery, PayoffView, RepaymentInput, RestructureInput, ReverseInput, SignInput,
            TransactionView, WriteOffInput,
        },
        Caller,
    },
    error::{AppError, AppResult},
    http::{
        error::ErrorEnvelope,
        extract::{ApiId, ApiQuery},
        idempotency::{respond, Keyed},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_loans))
        .routes(routes!(get_loan))
        .routes(routes!(get_schedule))
        .routes(routes!(list_transactions))
        .routes(routes!(get_payoff))
        .routes(routes!(get_statement))
        .routes(routes!(sign_contract))
        .routes(routes!(disburse))
        .routes(routes!(repay))
        .routes(routes!(reverse_transaction))
        .routes(routes!(restructure))
        .routes(routes!(write_off))
}

/// Loans newest first (cooperative users: only theirs), balances as cached.
#[utoipa::path(get, path = "/api/v1/loans", tag = "loans", security(("bearer" = [])), params(LoanQuery),
    responses((status = 200, body = LoanPage), (status = 400, body = ErrorEnvelope)))]
pub async fn list_loans(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LoanQuery>,
) -> AppResult<Json<LoanPage>> {
    loans::list(&state.db, &caller, query).await.map(Json)
}

/// One loan with balances, next due, DPD and debt group as of the business date.
#[utoipa::path(get, path = "/api/v1/loans/{id}", tag = "loans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LoanView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_loan(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<LoanView>> {
    loans::get(&state.db, &caller, id).await.map(Json)
}

/// The current schedule with what was paid on each installment.
#[utoipa::path(get, path = "/api/v1/loans/{id}/schedule", tag = "loans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LoanSchedule), (status = 404, body = ErrorEnvelope)))]
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<LoanSchedule>> {
    loans::schedule(&state.db, &caller, id).await.map(Json)
}

/// Every transaction of the loan, oldest first, reversals included.
#[utoipa::path(get, path = "/api/v1/loans/{id}/transactions", tag = "loans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TransactionView>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_transactions(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<Vec<TransactionView>>> {
    loans::transactions(&state.db, &caller, id).await.map(Json)
}

/// The payoff quote on `date` (default: the business date).
#[utoipa::path(get, path = "/api/v1/loans/{id}/payoff", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), PayoffQuery),
    responses((status = 200, body = PayoffView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_payoff(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiQuery(query): ApiQuery<PayoffQuery>,
) -> AppResult<Json<PayoffView>> {
    loans::payoff(&state.db, &caller, id, query).await.map(Json)
}

/// The loan statement with running balances.
#[utoipa::path(get, path = "/api/v1/loans/{id}/statement", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = LoanStatement), (status = 404, body = ErrorEnvelope)))]
pub async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    crate::http::extract::Export(format): crate::http::extract::Export,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let statement = loans::statement(&state.db, &caller, id).await?;
    match format {
        crate::http::export::ExportFormat::Json => Ok(Json(statement).into_response()),
        _ => crate::http::export::table(
            format,
            &format!("statement-{}", statement.number),
            &statement.lines,
        ),
    }
}

/// Signs the contract (officer, approver): approved → contract_signed.
#[utoipa::path(post, path = "/api/v1/loans/{id}/sign", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = SignInput,
    responses((status = 200, body = LoanView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn sign_contract(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<SignInput>,
) -> AppResult<Response> {
    let outcome = loans::sign(
        &state.db,
        &state.money_writer,
        &caller,
        id,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(respond(outcome, StatusCode::OK))
}

/// Disburses a tranche (accountant); the first makes the loan active.
#[utoipa::path(post, path = "/api/v1/loans/{id}/disbursements", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = DisbursementInput,
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn disburse(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<DisbursementInput>,
) -> AppResult<Response> {
    let outcome = loans::disburse(
        &state.db,
        &state.money_writer,
        &state.settings,
        &caller,
        id,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(respond(outcome, StatusCode::CREATED))
}

/// Posts a repayment (accountant); the response carries its allocation.
#[utoipa::path(post, path = "/api/v1/loans/{id}/repayments", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RepaymentInput,
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn repay(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<RepaymentInput>,
) -> AppResult<Response> {
    let outcome = loans::repay(
        &state.db,
        &state.money_writer,
        &state.settings,
        &caller,
        id,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(respond(outcome, StatusCode::CREATED))
}

/// Reverses a transaction with a reason (accountant); nothing is deleted.
#[utoipa::path(post, path = "/api/v1/loans/{id}/transactions/{tx}/reverse", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("tx" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReverseInput,
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn reverse_transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tx)): Path<(String, String)>,
    keyed: Keyed<ReverseInput>,
) -> AppResult<Response> {
    let not_found = || AppError::not_found("tài nguyên", "Resource");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let tx: i64 = tx.parse().map_err(|_| not_found())?;
    let outcome = loans::reverse(
        &state.db,
        &state.money_writer,
        &caller,
        id,
        tx,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(respond(outcome, StatusCode::CREATED))
}

/// Restructures the loan (approver): `{"kind":"adjustment"|"extension","first_due_on","installments",
/// "period_months"?,"method"?,"principal_grace"?,"interest_reduced"?,"value_date"?,"reason"}`.
#[utoipa::path(post, path = "/api/v1/loans/{id}/restructure", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RestructureInput,
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn restructure(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<RestructureInput>,
) -> AppResult<Response> {
    let outcome = loans::restructure(
        &state.db,
        &state.money_writer,
        &caller,
        id,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(respond(outcome, StatusCode::CREATED))
}

/// Writes the loan off against its provision (approver): `{"reason","value_date"?}`.
#[utoipa::path(post, path = "/api/v1/loans/{id}/write-off", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = WriteOffInput,
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn write_off(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<WriteOffInput>,
) -> AppResult<Response> {
    let outcome = loans::write_off(
        &state.db,
        &state.money_writer,
        &caller,
        id,
        keyed.input,
        keyed.request.as_ref(),
    )
    .await?;
    Ok(respond(outcome, StatusCode::CREATED))
}
