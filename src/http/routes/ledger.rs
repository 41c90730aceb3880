//! `/api/v1/ledger`: the books (DOMAIN.md §9) — chart with balances, journal, trial balance. Readers:
//! admin, accountant, auditor, approver, officer (not cooperatives).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        ledger::{
            self, AccountStatement, AccountStatementQuery, AccountView, EntryPage, EntryQuery,
            TrialBalance, TrialBalanceQuery,
        },
        Caller,
    },
    error::AppResult,
    http::{
        error::ErrorEnvelope,
        export::{self, ExportFormat},
        extract::{ApiQuery, Export},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts))
        .routes(routes!(list_entries))
        .routes(routes!(trial_balance))
        .routes(routes!(account_statement))
}

/// The chart of accounts with each account's balance.
#[utoipa::path(get, path = "/api/v1/ledger/accounts", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccountView>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<AccountView>>> {
    ledger::accounts(&state.db, &caller).await.map(Json)
}

/// Journal entries with their lines, newest first; filters: from, to, loan_id, account.
/// `?format=csv|xlsx` exports the page as one row per journal line.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(EntryQuery, ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = EntryPage), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_entries(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> AppResult<Response> {
    let page = ledger::entries(&state.db, &caller, query).await?;
    if format == ExportFormat::Json {
        return Ok(Json(page).into_response());
    }
    let rows: Vec<JournalLineRow> = page
        .items
        .iter()
        .flat_map(|entry| {
            entry.lines.iter().map(move |line| JournalLineRow {
                entry_id: entry.id,
                entry_date: entry.entry_date.to_string(),
                kind: entry.kind.clone(),
                description: entry.description.clone(),
                account_code: line.account_code.clone(),
                debit_vnd: line.debit_vnd,
                credit_vnd: line.credit_vnd,
                loan_id: line.loan_id,
                transaction_id: entry.transaction_id,
                reverses_entry_id: entry.reverses_entry_id,
            })
        })
        .collect();
    export::table(format, "journal", &rows)
}

/// One journal line with its entry, as exported.
#[derive(serde::Serialize)]
struct JournalLineRow {
    entry_id: i64,
    entry_date: String,
    kind: String,
    description: String,
    account_code: String,
    debit_vnd: i64,
    credit_vnd: i64,
    loan_id: Option<i64>,
    transaction_id: Option<i64>,
    reverses_entry_id: Option<i64>,
}

/// Debit and credit totals and balances per account through `date` (default: the business date).
/// `?format=csv|xlsx` exports one row per account.
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", security(("bearer" = [])),
    params(TrialBalanceQuery, ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = TrialBalance), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<TrialBalanceQuery>,
) -> AppResult<Response> {
    let balance = ledger::trial_balance(&state.db, &caller, query).await?;
    match format {
        ExportFormat::Json => Ok(Json(balance).into_response()),
        _ => export::table(
            format,
            &format!("trial-balance-{}", balance.date),
            &balance.accounts,
        ),
    }
}

/// One account's movements over `from`..`to` with opening, running and closing balances (sổ chi
/// tiết); `?format=csv|xlsx` exports the lines.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{code}/statement", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path), AccountStatementQuery, ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = AccountStatement), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn account_statement(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path(code): axum::extract::Path<String>,
    Export(format): Export,
    ApiQuery(query): ApiQuery<AccountStatementQuery>,
) -> AppResult<Response> {
    crate::http::extract::path_text("code", &code)?;
    let statement = ledger::account_statement(&state.db, &caller, &code, query).await?;
    match format {
        ExportFormat::Json => Ok(Json(statement).into_response()),
        _ => export::table(
            format,
            &format!(
                "account-{}-{}-{}",
                statement.code, statement.from, statement.to
            ),
            &statement.lines,
        ),
    }
}
