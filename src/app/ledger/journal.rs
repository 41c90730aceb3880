//! Reading the books: the chart of accounts with balances, the trial balance, and the journal.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, Side, Vnd};
use sea_orm::{
    sea_query::{Query, SelectStatement},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{
    books::{posted_sums, totals, BookQuery},
    READERS,
};
use crate::{
    app::{
        context::AppCtx,
        fund,
        page::{paginate, Page, PageRequest},
        Caller,
    },
    error::{AppError, AppResult, Reason},
    store::entities::{journal_entry, journal_line, ledger_account},
};

/// One account of the chart with what is posted to it.
#[derive(Debug, Clone)]
pub struct AccountBalance {
    /// The account as stored in the chart.
    pub account: ledger_account::Model,
    /// Its normal side, parsed from the chart.
    pub normal_side: Side,
    /// Σ debits.
    pub debit: Vnd,
    /// Σ credits.
    pub credit: Vnd,
}

impl AccountBalance {
    /// The balance on the account's normal side (debit − credit for a debit account).
    pub fn balance(&self) -> Vnd {
        normal_balance(self.normal_side, self.debit, self.credit)
    }
}

/// `debit − credit` on a debit-normal account, `credit − debit` on a credit-normal one.
pub(super) fn normal_balance(side: Side, debit: Vnd, credit: Vnd) -> Vnd {
    match side {
        Side::Debit => debit - credit,
        Side::Credit => credit - debit,
    }
}

/// The normal side stored for a chart account; any other text is an error naming the account.
pub(super) fn normal_side_of(account: &ledger_account::Model) -> AppResult<Side> {
    match account.normal_side.as_str() {
        "debit" => Ok(Side::Debit),
        "credit" => Ok(Side::Credit),
        other => Err(AppError::unreadable(
            "ledger account",
            &account.code,
            "normal side",
            other,
        )),
    }
}

/// Debit and credit totals per account code through a date (or of everything).
pub(super) async fn account_totals<C: ConnectionTrait>(
    conn: &C,
    through: Option<NaiveDate>,
) -> AppResult<BTreeMap<String, (Vnd, Vnd)>> {
    let sums = posted_sums(conn, &BookQuery::per_account().dated(None, through)).await?;
    Ok(sums
        .into_iter()
        .map(|sum| (sum.account_code, (sum.debit, sum.credit)))
        .collect())
}

/// The chart, each account with its totals through `through` (everything when `None`).
async fn chart_with_totals<C: ConnectionTrait>(
    conn: &C,
    through: Option<NaiveDate>,
) -> AppResult<Vec<AccountBalance>> {
    let totals = account_totals(conn, through).await?;
    let chart = ledger_account::Entity::find()
        .order_by_asc(ledger_account::Column::Code)
        .all(conn)
        .await?;
    chart
        .into_iter()
        .map(|account| {
            // An account nothing was posted to has no row in the totals.
            let (debit, credit) = totals
                .get(&account.code)
                .copied()
                .unwrap_or((Vnd::ZERO, Vnd::ZERO));
            Ok(AccountBalance {
                normal_side: normal_side_of(&account)?,
                account,
                debit,
                credit,
            })
        })
        .collect()
}

/// The chart of accounts with each account's balance (everything posted).
#[tracing::instrument(skip_all)]
pub async fn accounts(ctx: &AppCtx, caller: &Caller) -> AppResult<Vec<AccountBalance>> {
    caller.require(&READERS)?;
    chart_with_totals(&ctx.db, None).await
}

/// The trial balance through a date.
#[derive(Debug, Clone)]
pub struct TrialBalance {
    /// Entries dated on or before it count.
    pub date: NaiveDate,
    /// The chart with the totals.
    pub accounts: Vec<AccountBalance>,
}

impl TrialBalance {
    /// Σ debits and Σ credits of every account.
    pub fn totals(&self) -> (Vnd, Vnd) {
        totals(self.accounts.iter().map(|a| (a.debit, a.credit)))
    }
}

/// Per account debit and credit totals and the balance of the entries dated on or before `date`
/// (default: the business date).
#[tracing::instrument(skip_all, fields(date = ?date))]
pub async fn trial_balance(
    ctx: &AppCtx,
    caller: &Caller,
    date: Option<NaiveDate>,
) -> AppResult<TrialBalance> {
    caller.require(&READERS)?;
    let conn = &ctx.db;
    let date = match date {
        Some(date) => date,
        None => fund::business_date(conn).await?,
    };
    Ok(TrialBalance {
        date,
        accounts: chart_with_totals(conn, Some(date)).await?,
    })
}

/// A journal entry with its lines.
#[derive(Debug, Clone)]
pub struct PostedEntry {
    /// The header.
    pub entry: journal_entry::Model,
    /// Its lines in insertion order.
    pub lines: Vec<journal_line::Model>,
}

/// Which entries of the journal to list.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// Entries dated on or after.
    pub from: Option<NaiveDate>,
    /// Entries dated on or before.
    pub to: Option<NaiveDate>,
    /// Entries of one loan.
    pub loan_id: Option<LoanId>,
    /// Entries with a line on this account code.
    pub account: Option<String>,
}

impl EntryFilter {
    /// The account filtered on, trimmed (`None` when absent or blank); a 400 naming `account` when
    /// it is longer than any code of the chart.
    pub fn account_code(&self) -> AppResult<Option<&str>> {
        let code = self
            .account
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        match code {
            Some(code) if code.len() > 10 => Err(AppError::invalid(
                "account",
                Reason::TooLong { max_chars: 10 },
            )),
            _ => Ok(code),
        }
    }
}

/// The ids of the entries with a line on account `code`: what both the journal and its lines
/// filter an account by.
pub(super) fn entries_on_account(code: &str) -> SelectStatement {
    Query::select()
        .column(journal_line::Column::EntryId)
        .from(journal_line::Entity)
        .and_where(journal_line::Column::AccountCode.eq(code))
        .to_owned()
}

/// The journal, newest first, with filters.
#[tracing::instrument(skip_all, fields(loan_id = ?filter.loan_id))]
pub async fn entries(
    ctx: &AppCtx,
    caller: &Caller,
    filter: EntryFilter,
    page: PageRequest,
) -> AppResult<Page<PostedEntry>> {
    caller.require(&READERS)?;
    let conn = &ctx.db;
    let mut select = journal_entry::Entity::find();
    if let Some(from) = filter.from {
        select = select.filter(journal_entry::Column::EntryDate.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(journal_entry::Column::EntryDate.lte(to));
    }
    if let Some(loan_id) = filter.loan_id {
        select = select.filter(journal_entry::Column::LoanId.eq(loan_id.get()));
    }
    if let Some(code) = filter.account_code()? {
        select = select.filter(journal_entry::Column::Id.in_subquery(entries_on_account(code)));
    }
    let rows = page
        .apply(select, journal_entry::Column::Id)
        .all(conn)
        .await?;
    let entries = paginate(rows, &page, |e| e.id);
    let ids: Vec<i64> = entries.items.iter().map(|e| e.id).collect();
    let mut lines_by_entry: BTreeMap<i64, Vec<journal_line::Model>> = BTreeMap::new();
    if !ids.is_empty() {
        let lines = journal_line::Entity::find()
            .filter(journal_line::Column::EntryId.is_in(ids))
            .order_by_asc(journal_line::Column::Id)
            .all(conn)
            .await?;
        for line in lines {
            lines_by_entry.entry(line.entry_id).or_default().push(line);
        }
    }
    Ok(entries.map(|entry| PostedEntry {
        // An entry is written with its lines in one transaction; none would be a corrupt book, which
        // `ledger verify` reports, so the journal still shows the header.
        lines: lines_by_entry.remove(&entry.id).unwrap_or_default(),
        entry,
    }))
}
