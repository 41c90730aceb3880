//! The books (DOMAIN.md §9): posting each loan's difference, reading the journal, the trial balance,
//! and `coopfund ledger verify`.
//!
//! ## Posting by difference
//! After every event the loan is refolded by the engine up to the business date; the engine states what
//! each account should hold for that loan ([`coopfund_domain::loan_book`]) and the balanced entry that
//! moves the posted balances there ([`coopfund_domain::entry_for_difference`]). That entry is written in
//! the transaction of the event, tagged with the loan and the transaction, every line carrying `loan_id`
//! (the loan subledger). A back-dated payment or a reversal therefore posts, on the business date, exactly
//! the correction the replay implies; a reversal's entry points at the reversed transaction's entry with
//! `reverses_entry_id`. Days already closed are never re-dated: corrections are posted on the business date.
//!
//! Entries are append-only: no code path here updates or deletes a journal row (a PostgreSQL trigger
//! refuses it too). Circular 200/2014 codes; Circular 52/2022 Art 5(2) for income recognition (the engine).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use coopfund_domain::{
    classification::DebtGroup, entry_for_difference, loan_book, Account, AccountBalances,
    BookInputs, HolidayCalendar, LoanState, Side, Vnd,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    cooperatives::paging,
    fund,
    loan_engine::{self, contract_of, events_of, loan_group, transactions_of},
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::{
        entities::{journal_entry, journal_line, ledger_account, loan},
        sum_vnd,
    },
};

/// Who reads the books: everyone but cooperatives.
pub const READERS: [Role; 5] = [
    Role::Admin,
    Role::Accountant,
    Role::Auditor,
    Role::Approver,
    Role::Officer,
];

/// What an entry is about (stored in `journal_entries`).
#[derive(Debug, Clone)]
pub struct Posting {
    /// Entry kind: the event's kind (`disbursement`, `repayment`, `reversal` …) or e.g. `close_of_business`.
    pub kind: String,
    /// The posting date (the business date).
    pub entry_date: NaiveDate,
    /// Human description.
    pub description: String,
    /// The loan transaction that caused it, if any.
    pub transaction_id: Option<i64>,
    /// The entry this one corrects (a reversal), if any.
    pub reverses_entry_id: Option<i64>,
    /// A unique key making a retried posting a no-op (e.g. `cob:LOAN:DATE`), if any.
    pub business_key: Option<String>,
}

/// What [`refold_and_post`] did.
#[derive(Debug, Clone)]
pub struct Refolded {
    /// The engine's state of the loan as of the date.
    pub state: LoanState,
    /// The loan row after its cached balances were updated.
    pub loan: loan::Model,
    /// The journal entry posted, if anything differed.
    pub entry_id: Option<i64>,
}

/// The balances posted so far for one loan (its subledger), as net debits by account.
pub async fn posted_book<C: ConnectionTrait>(conn: &C, loan_id: i64) -> AppResult<AccountBalances> {
    let rows: Vec<(String, i64, i64)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::AccountCode)
        .column_as(sum_vnd("debit_vnd"), "debits")
        .column_as(sum_vnd("credit_vnd"), "credits")
        .filter(journal_line::Column::LoanId.eq(loan_id))
        .group_by(journal_line::Column::AccountCode)
        .into_tuple()
        .all(conn)
        .await?;
    let mut book = AccountBalances::new();
    for (code, debits, credits) in rows {
        let account = Account::from_code(&code).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("journal line on unknown account {code}"))
        })?;
        book.add(account, Vnd::from_i64(debits) - Vnd::from_i64(credits));
    }
    Ok(book)
}

/// The book the engine says loan `loan` should hold in `state` with debt group `group`, given `posted`.
pub fn target_book(
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posted: &AccountBalances,
) -> AppResult<AccountBalances> {
    target_book_with(loan, state, group, posted, Provision::Keep)
}

/// What a posting does with the loan's specific provision (DOMAIN.md §8: it moves at month-end closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provision {
    /// Keep the provision posted so far (every event and every day but a month end).
    Keep,
    /// Hold this specific provision from now on (the month-end close); Dr 6426 / Cr 22931 or the reverse
    /// falls out of the difference.
    Set(Vnd),
}

/// [`target_book`] with the specific provision to hold.
pub fn target_book_with(
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posted: &AccountBalances,
    provision: Provision,
) -> AppResult<AccountBalances> {
    let day_count = loan_engine::day_count_of(loan)?;
    let specific_provision = match provision {
        Provision::Keep => None,
        Provision::Set(amount) => Some(amount),
    };
    let inputs = BookInputs {
        group,
        specific_provision,
        day_count,
    };
    Ok(loan_book(state, &inputs, posted))
}

fn to_i64(amount: Vnd) -> AppResult<i64> {
    amount
        .to_i64()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("amount {amount} does not fit in i64")))
}

/// Posts the balanced difference between the engine's book for `loan` (in `state`, group `group`) and what
/// is posted; returns the entry's id, or `None` when nothing differs. Call inside the event's transaction.
pub async fn post_loan_difference<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posting: &Posting,
) -> AppResult<Option<i64>> {
    post_loan_difference_with(conn, caller, loan, state, group, posting, Provision::Keep).await
}

/// [`post_loan_difference`] with the specific provision to hold.
pub async fn post_loan_difference_with<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posting: &Posting,
    provision: Provision,
) -> AppResult<Option<i64>> {
    let posted = posted_book(conn, loan.id).await?;
    let target = target_book_with(loan, state, group, &posted, provision)?;
    let entry = entry_for_difference(&target, &posted).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "loan {} book does not balance: {e}",
            loan.id
        ))
    })?;
    let Some(entry) = entry else { return Ok(None) };
    post_entry(conn, caller, Some(loan.id), &entry, posting)
        .await
        .map(Some)
}

/// Writes a balanced `entry` with `posting`'s header; every line carries `loan_id` (`None`: a
/// portfolio-level entry such as the general provision). Returns the entry's id.
pub async fn post_entry<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    loan_id: Option<i64>,
    entry: &coopfund_domain::JournalEntry,
    posting: &Posting,
) -> AppResult<i64> {
    let header = journal_entry::ActiveModel {
        entry_date: Set(posting.entry_date),
        kind: Set(posting.kind.clone()),
        description: Set(posting.description.clone()),
        loan_id: Set(loan_id),
        transaction_id: Set(posting.transaction_id),
        reverses_entry_id: Set(posting.reverses_entry_id),
        business_key: Set(posting.business_key.clone()),
        created_by: Set(caller.user_id()),
        posted_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut lines = Vec::with_capacity(entry.lines().len());
    for line in entry.lines() {
        let amount = to_i64(line.amount)?;
        let (debit_vnd, credit_vnd) = if line.side == Side::Debit {
            (amount, 0)
        } else {
            (0, amount)
        };
        lines.push(journal_line::ActiveModel {
            entry_id: Set(header.id),
            account_code: Set(line.account.code().to_string()),
            debit_vnd: Set(debit_vnd),
            credit_vnd: Set(credit_vnd),
            loan_id: Set(loan_id),
            ..Default::default()
        });
    }
    journal_line::Entity::insert_many(lines).exec(conn).await?;
    Ok(header.id)
}

/// The loan status the engine's state implies (`approved` and `contract_signed` stay until disbursed). A
/// written-off loan is `written_off` while anything remains under follow-up, then `recovered`.
pub fn status_of(current: &str, state: &LoanState) -> String {
    loan_engine::status_text_after_fold(current, state)
}

/// **The entry point for the close of business and every money command.** Refolds loan `loan` (already
/// locked by the caller, see [`crate::app::loans::lock_loan`]) from its stored events as of `date` (the
/// start of that business day: accrued through the day before, what fell due before it moved to overdue),
/// classifies it, posts the difference to the books with `posting`, and caches the balances on the loan
/// row — all on `conn`, the caller's transaction. A retried posting with the same `business_key` fails
/// on the unique index: the caller decides whether that means "already done".
pub async fn refold_and_post<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    loan: loan::Model,
    date: NaiveDate,
    posting: &Posting,
) -> AppResult<Refolded> {
    let calendar = super::calendar::in_force(conn).await?;
    refold_and_post_with(conn, caller, loan, date, posting, &calendar, |_, _, _| {
        Provision::Keep
    })
    .await
}

/// [`refold_and_post`], the specific provision decided by `provision` from the loan row, the refolded state
/// and its debt group (the month-end close sets it, DOMAIN.md §8).
pub async fn refold_and_post_with<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    loan: loan::Model,
    date: NaiveDate,
    posting: &Posting,
    calendar: &HolidayCalendar,
    provision: impl FnOnce(&loan::Model, &LoanState, DebtGroup) -> Provision,
) -> AppResult<Refolded> {
    let contract = contract_of(&loan, calendar)?;
    let events = events_of(&transactions_of(conn, loan.id).await?)?;
    let state = loan_engine::fold_at(&contract, &events, date)?;
    let group = loan_group(&state).max(worst_sibling_group(conn, &loan).await?);
    let provision = provision(&loan, &state, group);
    let entry_id =
        post_loan_difference_with(conn, caller, &loan, &state, group, posting, provision).await?;
    let loan = cache_balances(conn, loan, &state, group, date).await?;
    Ok(Refolded {
        state,
        loan,
        entry_id,
    })
}

/// The worst debt group cached on the cooperative's other open loans (DOMAIN.md §8: all loans of one
/// cooperative take the group of its worst loan). The close of business recomputes the whole
/// cooperative each night; between closes an event uses this, so a loan never looks better than
/// its siblings made it.
pub async fn worst_sibling_group<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
) -> AppResult<DebtGroup> {
    let groups: Vec<i32> = loan::Entity::find()
        .select_only()
        .column(loan::Column::DebtGroup)
        .filter(loan::Column::CooperativeId.eq(loan.cooperative_id))
        .filter(loan::Column::Id.ne(loan.id))
        .filter(loan::Column::Status.eq("active"))
        .into_tuple()
        .all(conn)
        .await?;
    let worst = groups.into_iter().max().unwrap_or(1);
    Ok(DebtGroup::from_number(u8::try_from(worst).unwrap_or(1)).unwrap_or(DebtGroup::One))
}

/// Writes the engine's balances onto the loan row (cached for lists and reports; `ledger verify` checks them).
pub async fn cache_balances<C: ConnectionTrait>(
    conn: &C,
    loan: loan::Model,
    state: &LoanState,
    group: DebtGroup,
    date: NaiveDate,
) -> AppResult<loan::Model> {
    let status = status_of(&loan.status, state);
    let version = loan.version + 1;
    let mut active = loan.into_active_model();
    active.status = Set(status);
    active.first_disbursed_on = Set(state.first_disbursed_on);
    active.closed_on = Set(state.closed_on.or(state.written_off_on));
    active.disbursed_vnd = Set(to_i64(state.disbursed)?);
    active.in_term_principal_vnd = Set(to_i64(state.in_term_principal)?);
    active.overdue_principal_vnd = Set(to_i64(state.overdue_principal)?);
    active.advance_vnd = Set(to_i64(state.advance)?);
    active.dpd = Set(i32::try_from(state.dpd).unwrap_or(i32::MAX));
    active.debt_group = Set(i32::from(group.number()));
    active.restructure_count = Set(i32::try_from(state.restructure_count).unwrap_or(i32::MAX));
    active.balances_as_of = Set(Some(date));
    active.version = Set(version);
    active.updated_at = Set(Utc::now());
    Ok(active.update(conn).await?)
}

// ----- reading the books -----

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
    pub debit_vnd: i64,
    pub credit_vnd: i64,
    /// The balance on the account's normal side (debit − credit for debit accounts).
    pub balance_vnd: i64,
}

/// Totals per account through a date (or of everything).
async fn account_totals<C: ConnectionTrait>(
    conn: &C,
    through: Option<NaiveDate>,
) -> AppResult<BTreeMap<String, (i64, i64)>> {
    let mut select = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::AccountCode)
        .column_as(sum_vnd("debit_vnd"), "debits")
        .column_as(sum_vnd("credit_vnd"), "credits")
        .group_by(journal_line::Column::AccountCode);
    if let Some(date) = through {
        select = select.filter(
            journal_line::Column::EntryId.in_subquery(
                Query::select()
                    .column(journal_entry::Column::Id)
                    .from(journal_entry::Entity)
                    .and_where(journal_entry::Column::EntryDate.lte(date))
                    .to_owned(),
            ),
        );
    }
    let rows: Vec<(String, i64, i64)> = select.into_tuple().all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(code, d, c)| (code, (d, c)))
        .collect())
}

fn account_view(
    account: ledger_account::Model,
    totals: &BTreeMap<String, (i64, i64)>,
) -> AccountView {
    let (debit_vnd, credit_vnd) = totals.get(&account.code).copied().unwrap_or((0, 0));
    let balance_vnd = if account.normal_side == "credit" {
        credit_vnd - debit_vnd
    } else {
        debit_vnd - credit_vnd
    };
    AccountView {
        code: account.code,
        name_vi: account.name_vi,
        name_en: account.name_en,
        kind: account.kind,
        normal_side: account.normal_side,
        debit_vnd,
        credit_vnd,
        balance_vnd,
    }
}

/// The chart of accounts with each account's balance (everything posted).
pub async fn accounts<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
) -> AppResult<Vec<AccountView>> {
    caller.require(&READERS)?;
    let totals = account_totals(conn, None).await?;
    let chart = ledger_account::Entity::find()
        .order_by_asc(ledger_account::Column::Code)
        .all(conn)
        .await?;
    Ok(chart
        .into_iter()
        .map(|a| account_view(a, &totals))
        .collect())
}

/// The trial balance through a date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrialBalance {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub accounts: Vec<AccountView>,
    pub total_debit_vnd: i64,
    pub total_credit_vnd: i64,
    /// Σ debits = Σ credits.
    pub balanced: bool,
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

/// Per account debit and credit totals and the balance of the entries dated on or before `date`.
pub async fn trial_balance<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    query: TrialBalanceQuery,
) -> AppResult<TrialBalance> {
    caller.require(&READERS)?;
    let date = match query.date {
        Some(date) => date,
        None => fund::business_date(conn).await?,
    };
    let totals = account_totals(conn, Some(date)).await?;
    let chart = ledger_account::Entity::find()
        .order_by_asc(ledger_account::Column::Code)
        .all(conn)
        .await?;
    let accounts: Vec<AccountView> = chart
        .into_iter()
        .map(|a| account_view(a, &totals))
        .collect();
    let total_debit_vnd = accounts.iter().map(|a| a.debit_vnd).sum();
    let total_credit_vnd = accounts.iter().map(|a| a.credit_vnd).sum();
    Ok(TrialBalance {
        date,
        accounts,
        total_debit_vnd,
        total_credit_vnd,
        balanced: total_debit_vnd == total_credit_vnd,
    })
}

/// One line of an entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineView {
    pub account_code: String,
    pub debit_vnd: i64,
    pub credit_vnd: i64,
    pub loan_id: Option<i64>,
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
    pub posted_at: chrono::DateTime<Utc>,
    pub lines: Vec<LineView>,
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

/// One page of entries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    pub next_cursor: Option<String>,
}

/// The journal, newest first, with filters.
pub async fn entries<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    query: EntryQuery,
) -> AppResult<EntryPage> {
    caller.require(&READERS)?;
    let (limit, cursor) = paging(query.limit, query.cursor.as_deref())?;
    let mut select = journal_entry::Entity::find().order_by_desc(journal_entry::Column::Id);
    if let Some(cursor) = cursor {
        select = select.filter(journal_entry::Column::Id.lt(cursor));
    }
    if let Some(from) = query.from {
        select = select.filter(journal_entry::Column::EntryDate.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(journal_entry::Column::EntryDate.lte(to));
    }
    if let Some(loan_id) = query.loan_id {
        select = select.filter(journal_entry::Column::LoanId.eq(loan_id));
    }
    if let Some(code) = query
        .account
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if code.len() > 10 {
            return Err(AppError::invalid(
                "account",
                Reason::TooLong { max_chars: 10 },
            ));
        }
        select = select.filter(
            journal_entry::Column::Id.in_subquery(
                Query::select()
                    .column(journal_line::Column::EntryId)
                    .from(journal_line::Entity)
                    .and_where(journal_line::Column::AccountCode.eq(code))
                    .to_owned(),
            ),
        );
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    let has_more = rows.len() as u64 > limit;
    let rows: Vec<journal_entry::Model> = rows.into_iter().take(limit as usize).collect();
    let ids: Vec<i64> = rows.iter().map(|e| e.id).collect();
    let mut lines_by_entry: BTreeMap<i64, Vec<LineView>> = BTreeMap::new();
    if !ids.is_empty() {
        let lines = journal_line::Entity::find()
            .filter(journal_line::Column::EntryId.is_in(ids))
            .order_by_asc(journal_line::Column::Id)
            .all(conn)
            .await?;
        for line in lines {
            lines_by_entry
                .entry(line.entry_id)
                .or_default()
                .push(LineView {
                    account_code: line.account_code,
                    debit_vnd: line.debit_vnd,
                    credit_vnd: line.credit_vnd,
                    loan_id: line.loan_id,
                });
        }
    }
    let items: Vec<EntryView> = rows
        .into_iter()
        .map(|e| EntryView {
            lines: lines_by_entry.remove(&e.id).unwrap_or_default(),
            id: e.id,
            entry_date: e.entry_date,
            kind: e.kind,
            description: e.description,
            loan_id: e.loan_id,
            transaction_id: e.transaction_id,
            reverses_entry_id: e.reverses_entry_id,
            created_by: e.created_by,
            posted_at: e.posted_at,
        })
        .collect();
    let next_cursor = has_more
        .then(|| items.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(EntryPage { items, next_cursor })
}

// ----- ledger verify -----

/// What `coopfund ledger verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Journal entries checked.
    pub entries_checked: u64,
    /// Loans checked.
    pub loans_checked: u64,
    /// Σ debits of every line.
    pub total_debit_vnd: i64,
    /// Σ credits of every line.
    pub total_credit_vnd: i64,
    /// Every difference, readable; empty when everything holds.
    pub differences: Vec<String>,
}

impl VerifyReport {
    /// True when every check holds.
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }

    /// A readable report.
    pub fn render(&self) -> String {
        let mut out = format!(
            "ledger verify: {} entries, {} loans, debits {} = credits {}\n",
            self.entries_checked, self.loans_checked, self.total_debit_vnd, self.total_credit_vnd
        );
        if self.passed() {
            out.push_str("OK: every check holds\n");
        } else {
            out.push_str(&format!(
                "FAILED: {} difference(s)\n",
                self.differences.len()
            ));
            for difference in &self.differences {
                out.push_str(&format!("  - {difference}\n"));
            }
        }
        out
    }
}

/// The control accounts whose totals must equal the sum of the loan subledgers.
/// 22931 is one too: every specific provision line belongs to a loan (DOMAIN.md §8); so is the memo 0042 of
/// written-off loans under follow-up (each loan's share is checked against what remains, see `check_loan`).
const CONTROL_ACCOUNTS: [Account; 6] = [
    Account::LoansInTerm,
    Account::LoansOverdue,
    Account::InterestReceivable,
    Account::BorrowerAdvances,
    Account::SpecificProvision,
    Account::MemoWrittenOffLoans,
];

/// Checks the books (DOMAIN.md §9): every entry balances (on and off balance); Σ debits = Σ credits; each
/// control account's total equals the sum of the loans' subledger lines; each loan's cached balances equal
/// the engine's fold as of `balances_as_of`; each loan's posted book equals the engine's target book.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> AppResult<VerifyReport> {
    let mut report = VerifyReport::default();
    check_entries(conn, &mut report).await?;
    let subledgers = check_control_accounts(conn, &mut report).await?;
    let calendar = super::calendar::in_force(conn).await?;
    let loans = loan::Entity::find()
        .order_by_asc(loan::Column::Id)
        .all(conn)
        .await?;
    for loan in loans {
        report.loans_checked += 1;
        let posted = subledgers.get(&loan.id).cloned().unwrap_or_default();
        if let Err(err) = check_loan(conn, &loan, &posted, &mut report.differences, &calendar).await
        {
            report.differences.push(format!(
                "loan {} ({}): cannot be replayed: {}",
                loan.id, loan.number, err.message.en
            ));
        }
    }
    Ok(report)
}

async fn check_entries<C: ConnectionTrait>(conn: &C, report: &mut VerifyReport) -> AppResult<()> {
    let lines = journal_line::Entity::find()
        .order_by_asc(journal_line::Column::EntryId)
        .all(conn)
        .await?;
    let entry_count = journal_entry::Entity::find()
        .select_only()
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "n");
    let entries: Option<i64> = entry_count.into_tuple().one(conn).await?;
    report.entries_checked = entries.unwrap_or(0).unsigned_abs();
    let mut per_entry: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
    for line in &lines {
        let memo = Account::from_code(&line.account_code).is_some_and(Account::is_memo);
        let sums = per_entry.entry(line.entry_id).or_default();
        let offset = if memo { 2 } else { 0 };
        sums[offset] += line.debit_vnd;
        sums[offset + 1] += line.credit_vnd;
        report.total_debit_vnd += line.debit_vnd;
        report.total_credit_vnd += line.credit_vnd;
        let one_sided = (line.debit_vnd > 0) != (line.credit_vnd > 0)
            && line.debit_vnd >= 0
            && line.credit_vnd >= 0;
        if !one_sided {
            report.differences.push(format!(
                "journal line {} of entry {}: debit {} and credit {} (a line must have one positive side)",
                line.id, line.entry_id, line.debit_vnd, line.credit_vnd
            ));
        }
    }
    for (entry_id, [debits, credits, memo_debits, memo_credits]) in per_entry {
        if debits != credits || memo_debits != memo_credits {
            report.differences.push(format!(
                "entry {entry_id} does not balance: debits {debits} vs credits {credits} (memo {memo_debits} vs {memo_credits})"
            ));
        }
    }
    if report.total_debit_vnd != report.total_credit_vnd {
        report.differences.push(format!(
            "total debits {} differ from total credits {}",
            report.total_debit_vnd, report.total_credit_vnd
        ));
    }
    Ok(())
}

/// Returns each loan's subledger; reports control accounts whose totals differ from the subledgers' sum.
async fn check_control_accounts<C: ConnectionTrait>(
    conn: &C,
    report: &mut VerifyReport,
) -> AppResult<BTreeMap<i64, AccountBalances>> {
    let rows: Vec<(Option<i64>, String, i64, i64)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::LoanId)
        .column(journal_line::Column::AccountCode)
        .column_as(sum_vnd("debit_vnd"), "debits")
        .column_as(sum_vnd("credit_vnd"), "credits")
        .group_by(journal_line::Column::LoanId)
        .group_by(journal_line::Column::AccountCode)
        .into_tuple()
        .all(conn)
        .await?;
    let mut subledgers: BTreeMap<i64, AccountBalances> = BTreeMap::new();
    let mut control_totals: BTreeMap<Account, Vnd> = BTreeMap::new();
    let mut subledger_totals: BTreeMap<Account, Vnd> = BTreeMap::new();
    let mut portfolio_level: BTreeMap<Account, Vnd> = BTreeMap::new();
    for (loan_id, code, debits, credits) in rows {
        let Some(account) = Account::from_code(&code) else {
            report.differences.push(format!(
                "journal lines on account {code}, which is not in the chart"
            ));
            continue;
        };
        let net = Vnd::from_i64(debits) - Vnd::from_i64(credits);
        *control_totals.entry(account).or_default() += net;
        if loan_id.is_none() {
            *portfolio_level.entry(account).or_default() += net;
        }
        if account == Account::GeneralProvision && loan_id.is_some() {
            report.differences.push(format!(
                "general provision (22932) lines carry loan {loan_id:?}: it is portfolio-wide"
            ));
        }
        if let Some(loan_id) = loan_id {
            subledgers.entry(loan_id).or_default().add(account, net);
            *subledger_totals.entry(account).or_default() += net;
        }
    }
    for account in CONTROL_ACCOUNTS {
        let control = control_totals.get(&account).copied().unwrap_or_default();
        let subledger = subledger_totals.get(&account).copied().unwrap_or_default();
        if control != subledger {
            report.differences.push(format!(
                "control account {} holds {} but the loan subledgers sum to {}",
                account.code(),
                control,
                subledger
            ));
        }
    }
    // The general provision is posted only as Dr 6426 / Cr 22932 (or the reverse) without a loan, so the
    // portfolio-level expense equals the provision held.
    let general_held = -portfolio_level
        .get(&Account::GeneralProvision)
        .copied()
        .unwrap_or_default();
    let general_expense = portfolio_level
        .get(&Account::ProvisionExpense)
        .copied()
        .unwrap_or_default();
    if general_held != general_expense {
        report.differences.push(format!(
            "general provision: 22932 holds {general_held} but the portfolio-level provision expense (6426) is {general_expense}"
        ));
    }
    Ok(subledgers)
}

async fn check_loan<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    posted: &AccountBalances,
    differences: &mut Vec<String>,
    calendar: &HolidayCalendar,
) -> AppResult<()> {
    let name = format!("loan {} ({})", loan.id, loan.number);
    let Some(as_of) = loan.balances_as_of else {
        if posted.iter().next().is_some() {
            differences.push(format!("{name}: has journal lines but no cached balances"));
        }
        return Ok(());
    };
    let contract = contract_of(loan, calendar)?;
    let events = events_of(&transactions_of(conn, loan.id).await?)?;
    let state = loan_engine::fold_at(&contract, &events, as_of)?;
    let vnd = Vnd::from_i64;
    let cached = [
        ("disbursed_vnd", vnd(loan.disbursed_vnd), state.disbursed),
        (
            "in_term_principal_vnd",
            vnd(loan.in_term_principal_vnd),
            state.in_term_principal,
        ),
        (
            "overdue_principal_vnd",
            vnd(loan.overdue_principal_vnd),
            state.overdue_principal,
        ),
        ("advance_vnd", vnd(loan.advance_vnd), state.advance),
    ];
    for (field, stored, engine) in cached {
        if stored != engine {
            differences.push(format!("{name}: cached {field} is {stored} but the engine's fold as of {as_of} gives {engine}"));
        }
    }
    if i64::from(loan.dpd) != state.dpd {
        differences.push(format!(
            "{name}: cached dpd is {} but the engine gives {}",
            loan.dpd, state.dpd
        ));
    }
    let engine_group = loan_group(&state);
    let cached_group = u8::try_from(loan.debt_group)
        .ok()
        .and_then(DebtGroup::from_number);
    let Some(cached_group) = cached_group.filter(|g| *g >= engine_group) else {
        differences.push(format!(
            "{name}: cached debt group {} is better than the engine's group {}",
            loan.debt_group,
            engine_group.number()
        ));
        return Ok(());
    };
    let expected_status = status_of(&loan.status, &state);
    if loan.status != expected_status {
        differences.push(format!(
            "{name}: status is {} but the engine's fold gives {expected_status}",
            loan.status
        ));
    }
    // Subledger = the loan's cached principal and advance (control accounts).
    let subledger = [
        (
            Account::LoansInTerm,
            posted.net_debit(Account::LoansInTerm),
            state.in_term_principal,
        ),
        (
            Account::LoansOverdue,
            posted.net_debit(Account::LoansOverdue),
            state.overdue_principal,
        ),
        (
            Account::BorrowerAdvances,
            -posted.net_debit(Account::BorrowerAdvances),
            state.advance,
        ),
        // Decree 45/2021 Art 29: memo 0042 holds what remains under follow-up, so Σ 0042 = Σ remaining.
        (
            Account::MemoWrittenOffLoans,
            posted.net_debit(Account::MemoWrittenOffLoans),
            state.principal_under_follow_up(),
        ),
    ];
    for (account, ledger, engine) in subledger {
        if ledger != engine {
            differences.push(format!(
                "{name}: subledger of {} holds {ledger} but the loan's balance is {engine}",
                account.code()
            ));
        }
    }
    let target = target_book(loan, &state, cached_group, posted)?;
    for account in Account::ALL {
        let (want, have) = (target.net_debit(account), posted.net_debit(account));
        if want != have {
            differences.push(format!(
                "{name}: account {} has {have} posted (net debit) but the engine's book as of {as_of} is {want}",
                account.code()
            ));
        }
    }
    Ok(())
}

// ----- account statements -----

/// The most lines one account statement returns; a longer period must be narrowed.
const STATEMENT_LINES_MAX: usize = 20_000;

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
    pub debit_vnd: i64,
    pub credit_vnd: i64,
    pub balance_vnd: i64,
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
    pub opening_balance_vnd: i64,
    pub lines: Vec<AccountStatementLine>,
    pub total_debit_vnd: i64,
    pub total_credit_vnd: i64,
    pub closing_balance_vnd: i64,
}

/// The statement of account `code` over `[from, to]`: opening balance, each entry's debit and
/// credit in date order with the running balance, closing balance. Staff (not cooperatives).
pub async fn account_statement<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    code: &str,
    query: AccountStatementQuery,
) -> AppResult<AccountStatement> {
    use sea_orm::sea_query::{Alias, Func, Order};
    caller.require(&READERS)?;
    let account = ledger_account::Entity::find_by_id(code.to_string())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản kế toán", "Ledger account"))?;
    let to = match query.to {
        Some(date) => date,
        None => fund::business_date(conn).await?,
    };
    let from = query.from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if from > to {
        return Err(AppError::invalid(
            "from",
            Reason::OutOfRange {
                min: "2000-01-01".into(),
                max: to.to_string(),
            },
        ));
    }
    let credit_normal = account.normal_side == "credit";
    let signed = |debit: i64, credit: i64| {
        if credit_normal {
            credit - debit
        } else {
            debit - credit
        }
    };
    let before = account_totals(conn, from.pred_opt()).await?;
    let (opening_debit, opening_credit) = before.get(code).copied().unwrap_or((0, 0));
    let opening_balance_vnd = signed(opening_debit, opening_credit);

    let (jl, je) = (Alias::new("journal_lines"), Alias::new("journal_entries"));
    let statement = Query::select()
        .expr_as(
            Expr::col((je.clone(), Alias::new("entry_date"))),
            Alias::new("entry_date"),
        )
        .expr_as(
            Expr::col((je.clone(), Alias::new("id"))),
            Alias::new("entry_id"),
        )
        .expr_as(
            Expr::col((je.clone(), Alias::new("kind"))),
            Alias::new("kind"),
        )
        .expr_as(
            Expr::col((je.clone(), Alias::new("description"))),
            Alias::new("description"),
        )
        .expr_as(
            Expr::col((je.clone(), Alias::new("loan_id"))),
            Alias::new("loan_id"),
        )
        .expr_as(
            Func::cast_as(
                Func::sum(Expr::col((jl.clone(), Alias::new("debit_vnd")))),
                Alias::new("BIGINT"),
            ),
            Alias::new("debit_vnd"),
        )
        .expr_as(
            Func::cast_as(
                Func::sum(Expr::col((jl.clone(), Alias::new("credit_vnd")))),
                Alias::new("BIGINT"),
            ),
            Alias::new("credit_vnd"),
        )
        .from(jl.clone())
        .inner_join(
            je.clone(),
            Expr::col((jl.clone(), Alias::new("entry_id"))).equals((je.clone(), Alias::new("id"))),
        )
        .and_where(Expr::col((jl.clone(), Alias::new("account_code"))).eq(code))
        .and_where(Expr::col((je.clone(), Alias::new("entry_date"))).gte(from))
        .and_where(Expr::col((je.clone(), Alias::new("entry_date"))).lte(to))
        .group_by_columns([
            (je.clone(), Alias::new("entry_date")),
            (je.clone(), Alias::new("id")),
            (je.clone(), Alias::new("kind")),
            (je.clone(), Alias::new("description")),
            (je.clone(), Alias::new("loan_id")),
        ])
        .order_by((je.clone(), Alias::new("entry_date")), Order::Asc)
        .order_by((je, Alias::new("id")), Order::Asc)
        .limit(STATEMENT_LINES_MAX as u64 + 1)
        .to_owned();
    let rows = conn.query_all(&statement).await?;
    if rows.len() > STATEMENT_LINES_MAX {
        return Err(AppError::new(
            ErrorKind::Rule,
            "statement_too_long",
            Localized::new(
                format!("Sổ chi tiết vượt quá {STATEMENT_LINES_MAX} dòng; hãy thu hẹp khoảng thời gian (from, to)."),
                format!("The statement has more than {STATEMENT_LINES_MAX} lines; narrow the period (from, to)."),
            ),
        )
        .with_field("from"));
    }
    let mut balance_vnd = opening_balance_vnd;
    let (mut total_debit_vnd, mut total_credit_vnd) = (0i64, 0i64);
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let debit_vnd: i64 = row.try_get("", "debit_vnd")?;
        let credit_vnd: i64 = row.try_get("", "credit_vnd")?;
        balance_vnd += signed(debit_vnd, credit_vnd);
        total_debit_vnd += debit_vnd;
        total_credit_vnd += credit_vnd;
        lines.push(AccountStatementLine {
            entry_date: row.try_get("", "entry_date")?,
            entry_id: row.try_get("", "entry_id")?,
            kind: row.try_get("", "kind")?,
            description: row.try_get("", "description")?,
            loan_id: row.try_get("", "loan_id")?,
            debit_vnd,
            credit_vnd,
            balance_vnd,
        });
    }
    Ok(AccountStatement {
        code: account.code,
        name_vi: account.name_vi,
        name_en: account.name_en,
        normal_side: account.normal_side,
        from,
        to,
        opening_balance_vnd,
        lines,
        total_debit_vnd,
        total_credit_vnd,
        closing_balance_vnd: balance_vnd,
    })
}
