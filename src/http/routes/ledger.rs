//! `/api/v1/ledger`: the books (DOMAIN.md §9) — chart with balances, journal, trial balance. Readers:
//! admin, accountant, auditor, approver, officer (not cooperatives).

use axum::{
    extract::{Path, State},
    response::Response,
    Json,
};
use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::Vnd;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        ledger::{self, AccountBalance, EntryFilter, PostedEntry},
        Caller,
    },
    error::AppResult,
    http::{
        error::ErrorEnvelope,
        export::{self, ExportParams},
        extract::{ApiQuery, Export},
    },
    state::AppState,
    store::entities::journal_line,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts))
        .routes(routes!(list_entries))
        .routes(routes!(trial_balance))
        .routes(routes!(account_statement))
}

/// One account of the chart with its balance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// asset, contra_asset, liability, equity, income, expense, memo.
    pub kind: String,
    /// debit or credit.
    pub normal_side: String,
    #[schema(value_type = i64)]
    pub debit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub credit_vnd: Vnd,
    /// The balance on the account's normal side (debit − credit for debit accounts).
    #[schema(value_type = i64)]
    pub balance_vnd: Vnd,
}

impl From<AccountBalance> for AccountView {
    fn from(a: AccountBalance) -> Self {
        AccountView {
            balance_vnd: a.balance(),
            debit_vnd: a.debit,
            credit_vnd: a.credit,
            code: a.account.code,
            name_vi: a.account.name_vi,
            name_en: a.account.name_en,
            kind: a.account.kind,
            normal_side: a.account.normal_side,
        }
    }
}

/// The chart of accounts with each account's balance.
#[utoipa::path(get, path = "/api/v1/ledger/accounts", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccountView>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<AccountView>>> {
    let accounts = ledger::accounts(&state.db, &caller).await?;
    Ok(Json(accounts.into_iter().map(AccountView::from).collect()))
}

/// Filters and paging of the journal.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    /// Entries dated on or after (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Entries dated on or before (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Entries of one loan.
    pub loan_id: Option<i64>,
    /// Entries with a line on this account code.
    pub account: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One line of an entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineView {
    pub account_code: String,
    #[schema(value_type = i64)]
    pub debit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub credit_vnd: Vnd,
    pub loan_id: Option<i64>,
}

impl From<journal_line::Model> for LineView {
    fn from(line: journal_line::Model) -> Self {
        LineView {
            account_code: line.account_code,
            debit_vnd: Vnd::from_i64(line.debit_vnd),
            credit_vnd: Vnd::from_i64(line.credit_vnd),
            loan_id: line.loan_id,
        }
    }
}

/// A journal entry with its lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    #[schema(value_type = String, format = Date)]
    pub entry_date: NaiveDate,
    pub kind: String,
    pub description: String,
    pub loan_id: Option<i64>,
    pub transaction_id: Option<i64>,
    pub reverses_entry_id: Option<i64>,
    pub created_by: Option<i64>,
    pub posted_at: DateTime<Utc>,
    pub lines: Vec<LineView>,
}

impl From<PostedEntry> for EntryView {
    fn from(posted: PostedEntry) -> Self {
        let e = posted.entry;
        EntryView {
            id: e.id,
            entry_date: e.entry_date,
            kind: e.kind,
            description: e.description,
            loan_id: e.loan_id,
            transaction_id: e.transaction_id,
            reverses_entry_id: e.reverses_entry_id,
            created_by: e.created_by,
            posted_at: e.posted_at,
            lines: posted.lines.into_iter().map(LineView::from).collect(),
        }
    }
}

/// One page of entries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    pub next_cursor: Option<String>,
}

/// One journal line with its entry, as exported.
#[derive(Serialize)]
struct JournalLineRow {
    entry_id: i64,
    entry_date: String,
    kind: String,
    description: String,
    account_code: String,
    debit_vnd: Vnd,
    credit_vnd: Vnd,
    loan_id: Option<i64>,
    transaction_id: Option<i64>,
    reverses_entry_id: Option<i64>,
}

/// Journal entries with their lines, newest first; filters: from, to, loan_id, account.
/// `?format=csv|xlsx` exports the page as one row per journal line.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(EntryQuery, ExportParams),
    responses((status = 200, body = EntryPage), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_entries(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> AppResult<Response> {
    let filter = EntryFilter {
        from: query.from,
        to: query.to,
        loan_id: query.loan_id,
        account: query.account,
    };
    let page = ledger::entries(
        &state.db,
        &caller,
        filter,
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    let page = EntryPage {
        items: page.items.into_iter().map(EntryView::from).collect(),
        next_cursor: page.next_cursor,
    };
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
    export::json_or_table(format, &page, "journal", &rows)
}

/// `?date=` of the trial balance (default: the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrialBalanceQuery {
    /// YYYY-MM-DD; entries dated on or before it count.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// The trial balance through a date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrialBalance {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub accounts: Vec<AccountView>,
    #[schema(value_type = i64)]
    pub total_debit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_credit_vnd: Vnd,
    /// Σ debits = Σ credits.
    pub balanced: bool,
}

/// Debit and credit totals and balances per account through `date` (default: the business date).
/// `?format=csv|xlsx` exports one row per account.
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", security(("bearer" = [])),
    params(TrialBalanceQuery, ExportParams),
    responses((status = 200, body = TrialBalance), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    Export(format): Export,
    ApiQuery(query): ApiQuery<TrialBalanceQuery>,
) -> AppResult<Response> {
    let balance = ledger::trial_balance(&state.db, &caller, query.date).await?;
    let (total_debit_vnd, total_credit_vnd) = balance.totals();
    let view = TrialBalance {
        date: balance.date,
        total_debit_vnd,
        total_credit_vnd,
        balanced: total_debit_vnd == total_credit_vnd,
        accounts: balance
            .accounts
            .into_iter()
            .map(AccountView::from)
            .collect(),
    };
    let name = format!("trial-balance-{}", view.date);
    export::json_or_table(format, &view, &name, &view.accounts)
}

/// `?from=&to=` of an account statement (default: the business date's month up to the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountStatementQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

/// One journal entry's effect on the account, with the running balance on the account's normal side.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountStatementLine {
    #[schema(value_type = String, format = Date)]
    pub entry_date: NaiveDate,
    pub entry_id: i64,
    pub kind: String,
    pub description: String,
    pub loan_id: Option<i64>,
    #[schema(value_type = i64)]
    pub debit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub credit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub balance_vnd: Vnd,
}

/// An account's movements over a period (sổ chi tiết tài khoản).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountStatement {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub normal_side: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The balance of the entries dated before `from`.
    #[schema(value_type = i64)]
    pub opening_balance_vnd: Vnd,
    pub lines: Vec<AccountStatementLine>,
    #[schema(value_type = i64)]
    pub total_debit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_credit_vnd: Vnd,
    #[schema(value_type = i64)]
    pub closing_balance_vnd: Vnd,
}

impl From<ledger::AccountStatement> for AccountStatement {
    fn from(s: ledger::AccountStatement) -> Self {
        let (total_debit_vnd, total_credit_vnd) = s.totals();
        let closing_balance_vnd = s.closing_balance();
        AccountStatement {
            code: s.account.code,
            name_vi: s.account.name_vi,
            name_en: s.account.name_en,
            normal_side: s.account.normal_side,
            from: s.from,
            to: s.to,
            opening_balance_vnd: s.opening_balance,
            lines: s
                .lines
                .into_iter()
                .map(|line| AccountStatementLine {
                    entry_date: line.entry.entry_date,
                    entry_id: line.entry.id,
                    kind: line.entry.kind,
                    description: line.entry.description,
                    loan_id: line.entry.loan_id,
                    debit_vnd: line.debit,
                    credit_vnd: line.credit,
                    balance_vnd: line.balance,
                })
                .collect(),
            total_debit_vnd,
            total_credit_vnd,
            closing_balance_vnd,
        }
    }
}

/// One account's movements over `from`..`to` with opening, running and closing balances (sổ chi
/// tiết); `?format=csv|xlsx` exports the lines.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{code}/statement", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path), AccountStatementQuery, ExportParams),
    responses((status = 200, body = AccountStatement), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn account_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Export(format): Export,
    ApiQuery(query): ApiQuery<AccountStatementQuery>,
) -> AppResult<Response> {
    crate::http::extract::path_text("code", &code)?;
    let statement =
        ledger::account_statement(&state.db, &caller, &code, query.from, query.to).await?;
    let statement = AccountStatement::from(statement);
    let name = format!(
        "account-{}-{}-{}",
        statement.code, statement.from, statement.to
    );
    export::json_or_table(format, &statement, &name, &statement.lines)
}
