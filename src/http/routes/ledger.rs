//! `/api/v1/ledger`: the books (DOMAIN.md §9) — chart with balances, journal, trial balance. Readers:
//! admin, accountant, auditor, approver, officer (not cooperatives).

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        ledger::{self, AccountView, EntryPage, EntryQuery, TrialBalance, TrialBalanceQuery},
        Caller,
    },
    error::AppResult,
    http::{error::ErrorEnvelope, extract::ApiQuery},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts))
        .routes(routes!(list_entries))
        .routes(routes!(trial_balance))
}

/// The chart of accounts with each account's balance.
#[utoipa::path(get, path = "/api/v1/ledger/accounts", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccountView>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_accounts(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<AccountView>>> {
    ledger::accounts(&state.db, &caller).await.map(Json)
}

/// Journal entries with their lines, newest first; filters: from, to, loan_id, account.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", security(("bearer" = [])), params(EntryQuery),
    responses((status = 200, body = EntryPage), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_entries(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<EntryQuery>) -> AppResult<Json<EntryPage>> {
    ledger::entries(&state.db, &caller, query).await.map(Json)
}

/// Debit and credit totals and balances per account through `date` (default: the business date).
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", security(("bearer" = [])), params(TrialBalanceQuery),
    responses((status = 200, body = TrialBalance), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TrialBalanceQuery>,
) -> AppResult<Json<TrialBalance>> {
    ledger::trial_balance(&state.db, &caller, query).await.map(Json)
}
