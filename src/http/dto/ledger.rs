//! `/ledger` on the wire: the chart with balances, the journal (and its export rows), the trial balance
//! and account statements.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{ids::LoanId, Vnd};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    app::{
        ledger::{self, AccountBalance, EntryFilter, PostedEntry},
        page::{Page, PageRequest},
    },
    error::AppResult,
    store::entities::journal_line,
};

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
    #[param(value_type = Option<i64>)]
    pub loan_id: Option<LoanId>,
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

view! {
    /// One page of entries, newest first.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct EntryPage from Page<PostedEntry> {
        pub items: Vec<EntryView> [each],
        pub next_cursor: Option<String>,
    }
}

/// One journal line with its entry, as exported.
#[derive(Serialize)]
pub struct JournalLineRow {
    pub entry_id: i64,
    pub entry_date: String,
    pub kind: String,
    pub description: String,
    pub account_code: String,
    pub debit_vnd: Vnd,
    pub credit_vnd: Vnd,
    pub loan_id: Option<i64>,
    pub transaction_id: Option<i64>,
    pub reverses_entry_id: Option<i64>,
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

impl EntryQuery {
    /// The filter and the page asked for (400 naming `limit` or `cursor` when out of range).
    pub fn parse(self) -> AppResult<(EntryFilter, PageRequest)> {
        let page = PageRequest::parse(self.limit, self.cursor.as_deref())?;
        let filter = EntryFilter {
            from: self.from,
            to: self.to,
            loan_id: self.loan_id,
            account: self.account,
        };
        Ok((filter, page))
    }
}

impl EntryPage {
    /// One row per journal line of the page, as exported.
    pub fn rows(&self) -> Vec<JournalLineRow> {
        self.items
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
            .collect()
    }
}

impl From<ledger::TrialBalance> for TrialBalance {
    fn from(balance: ledger::TrialBalance) -> Self {
        let (total_debit_vnd, total_credit_vnd) = balance.totals();
        TrialBalance {
            date: balance.date,
            total_debit_vnd,
            total_credit_vnd,
            balanced: total_debit_vnd == total_credit_vnd,
            accounts: balance
                .accounts
                .into_iter()
                .map(AccountView::from)
                .collect(),
        }
    }
}
