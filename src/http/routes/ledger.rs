//! `/api/v1/ledger`: the books (DOMAIN.md §9) — chart with balances, journal, trial balance. Readers:
//! admin, accountant, auditor, approver, officer (not cooperatives).

use axum::{
    extract::{Path, State},
    response::Response,
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{ledger, Caller},
    error::AppResult,
    http::{
        dto::ledger::{
            AccountStatement, AccountStatementQuery, AccountView, EntryPage, EntryQuery,
            TrialBalance, TrialBalanceQuery,
        },
        export::{self, ExportParams},
        extract::{ApiQuery, Export},
        responses::{BadRequest, Forbidden, NotFound, Unprocessable},
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
    responses((status = 200, body = Vec<AccountView>), Forbidden))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<AccountView>>> {
    let accounts = ledger::accounts(&state.ctx, &caller).await?;
    Ok(Json(accounts.into_iter().map(AccountView::from).collect()))
}

/// Journal entries with their lines, newest first; filters: from, to, loan_id, account.
/// `?format=csv|xlsx` exports the page as one row per journal line.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(EntryQuery, ExportParams),
    responses((status = 200, body = EntryPage), BadRequest, Forbidden))]
pub async fn list_entries(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> AppResult<Response> {
    let (filter, page) = query.parse()?;
    let page = EntryPage::from(ledger::entries(&state.ctx, &caller, filter, page).await?);
    export::json_or_table(format, &page, "journal", &page.rows())
}

/// Debit and credit totals and balances per account through `date` (default: the business date).
/// `?format=csv|xlsx` exports one row per account.
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", security(("bearer" = [])),
    params(TrialBalanceQuery, ExportParams),
    responses((status = 200, body = TrialBalance), BadRequest, Forbidden))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<TrialBalanceQuery>,
) -> AppResult<Response> {
    let view = TrialBalance::from(ledger::trial_balance(&state.ctx, &caller, query.date).await?);
    let name = format!("trial-balance-{}", view.date);
    export::json_or_table(format, &view, &name, &view.accounts)
}

/// One account's movements over `from`..`to` with opening, running and closing balances (sổ chi
/// tiết); `?format=csv|xlsx` exports the lines.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{code}/statement", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path), AccountStatementQuery, ExportParams),
    responses((status = 200, body = AccountStatement), BadRequest, Forbidden, NotFound, Unprocessable))]
pub async fn account_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Export(format): Export,
    ApiQuery(query): ApiQuery<AccountStatementQuery>,
) -> AppResult<Response> {
    crate::http::extract::path_text("code", &code)?;
    let statement =
        ledger::account_statement(&state.ctx, &caller, &code, query.from, query.to).await?;
    let statement = AccountStatement::from(statement);
    let name = format!(
        "account-{}-{}-{}",
        statement.code, statement.from, statement.to
    );
    export::json_or_table(format, &statement, &name, &statement.lines)
}
