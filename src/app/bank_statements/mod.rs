//! Payments in from the bank (issue 12): import the fund's bank statement, match each credit to its
//! loan, post it once through the ordinary repayment use case, reconcile the bank account.
//!
//! - [`formats`]: reading CSV/XLSX (per-bank profiles in `[bank_statements]`), camt.053 and MT940.
//! - [`matching`]: which loan a line pays (pure).
//! - [`import`]: one transaction per file — the statement, its new lines with their proposals, the
//!   audit records — or nothing.
//! - [`confirm`]: the accountant's decisions: confirm (bulk or one), reassign or split, reject as "not
//!   a repayment"; confirming posts through [`crate::app::loans::repay`], idempotent on the line.
//! - [`reconcile`]: the bank's balances against account 1121 for the statement's dates.
//!
//! Roles: accountants import and decide, admins import and register cooperatives' accounts (with
//! officers), auditors and admins read.

pub mod confirm;
pub mod formats;
pub mod import;
pub mod matching;
pub mod reconcile;

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::RepaymentKind;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use self::formats::StatementFormat;
use super::{
    audit::{self, Change},
    validate, Caller,
};
use crate::{
    app::context::AppCtx,
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized},
    store::{
        self,
        entities::{
            bank_statement, bank_statement_line, cooperative, cooperative_bank_account, loan,
        },
    },
};

/// The state of a bank statement line, stored as its name (`proposed`, `awaiting_second`, ...) and
/// parsed once where a row is read ([`LineStatus::of`]): an unreadable stored name is an error
/// naming the line, never a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Matched to one loan (credit) or disbursement (debit), waiting for an accountant.
    Proposed,
    /// Several loans fit: the accountant chooses.
    Ambiguous,
    /// Nothing fits.
    Unmatched,
    /// Four-eyes: proposed for posting by one accountant, waiting for another.
    AwaitingSecond,
    /// Being posted now (claimed by one accountant).
    Posting,
    /// Posted as repayments (credit) or confirmed as a disbursement (debit).
    Posted,
    /// Not a repayment (with a reason).
    Rejected,
}

impl LineStatus {
    /// Every status, for filters and the OpenAPI enum.
    pub const ALL: [LineStatus; 7] = [
        LineStatus::Proposed,
        LineStatus::Ambiguous,
        LineStatus::Unmatched,
        LineStatus::AwaitingSecond,
        LineStatus::Posting,
        LineStatus::Posted,
        LineStatus::Rejected,
    ];

    /// The states a decision may still change.
    pub const OPEN: [LineStatus; 4] = [
        LineStatus::Proposed,
        LineStatus::Ambiguous,
        LineStatus::Unmatched,
        LineStatus::AwaitingSecond,
    ];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LineStatus::Proposed => "proposed",
            LineStatus::Ambiguous => "ambiguous",
            LineStatus::Unmatched => "unmatched",
            LineStatus::AwaitingSecond => "awaiting_second",
            LineStatus::Posting => "posting",
            LineStatus::Posted => "posted",
            LineStatus::Rejected => "rejected",
        }
    }

    /// Whether a decision may still change a line in this state.
    pub fn is_open(self) -> bool {
        LineStatus::OPEN.contains(&self)
    }

    /// The state of stored line `row`; an unreadable one is an error naming the line.
    pub fn of(row: &bank_statement_line::Model) -> AppResult<LineStatus> {
        row.status
            .parse()
            .map_err(|_| AppError::unreadable("bank statement line", row.id, "status", &row.status))
    }
}

/// Which way the money of a bank line went, stored as `credit` (in) or `debit` (out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money in: a repayment or a recovery to match.
    Credit,
    /// Money out: a disbursement to confirm.
    Debit,
}

impl Direction {
    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        }
    }

    /// The direction of stored line `row`; an unreadable one is an error naming the line.
    pub fn of(row: &bank_statement_line::Model) -> AppResult<Direction> {
        match row.direction.as_str() {
            "credit" => Ok(Direction::Credit),
            "debit" => Ok(Direction::Debit),
            other => Err(AppError::unreadable(
                "bank statement line",
                row.id,
                "direction",
                other,
            )),
        }
    }
}

impl std::fmt::Display for LineStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LineStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        LineStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown bank line status {text:?}"))
    }
}

/// Who may read statements.
const READERS: &[Role] = &[Role::Accountant, Role::Admin, Role::Auditor];

// ----- views -----

/// How many lines of a statement are in each state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LineCounts {
    pub proposed: i64,
    pub ambiguous: i64,
    pub unmatched: i64,
    pub awaiting_second: i64,
    pub posting: i64,
    pub posted: i64,
    pub rejected: i64,
}

/// A statement as imported.
#[derive(Debug, Clone, Serialize)]
pub struct StatementView {
    pub id: i64,
    pub bank_account: String,
    /// csv, xlsx, camt053 or mt940.
    pub format: StatementFormat,
    pub profile: Option<String>,
    pub file_name: String,
    pub file_sha256: String,
    pub statement_ref: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub opening_balance_vnd: Option<i64>,
    pub closing_balance_vnd: Option<i64>,
    /// Lines in the file.
    pub line_count: i32,
    /// Lines of the file not seen before (the others belong to an earlier statement).
    pub new_line_count: i32,
    pub imported_by: Option<i64>,
    pub imported_at: DateTime<Utc>,
    /// The states of this statement's own lines.
    pub counts: LineCounts,
}

impl StatementView {
    /// The stored statement with its lines' counts; a format that is not one of [`formats::FORMATS`] is an
    /// error naming the row.
    fn of(m: bank_statement::Model, counts: LineCounts) -> AppResult<Self> {
        let format = StatementFormat::parse(&m.format)
            .ok_or_else(|| AppError::unreadable("bank statement", m.id, "format", &m.format))?;
        Ok(StatementView {
            id: m.id,
            bank_account: m.bank_account,
            format,
            profile: m.profile,
            file_name: m.file_name,
            file_sha256: m.file_sha256,
            statement_ref: m.statement_ref,
            period_from: m.period_from,
            period_to: m.period_to,
            opening_balance_vnd: m.opening_balance_vnd,
            closing_balance_vnd: m.closing_balance_vnd,
            line_count: m.line_count,
            new_line_count: m.new_line_count,
            imported_by: m.imported_by,
            imported_at: m.imported_at,
            counts,
        })
    }
}

/// One part of a line to post on one loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub loan_id: i64,
    pub amount_vnd: i64,
}

/// One line with its proposal and decision.
#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub id: i64,
    /// The statement that first brought the line.
    pub statement_id: i64,
    pub line_no: i32,
    pub booking_date: NaiveDate,
    pub value_date: NaiveDate,
    /// credit (money in) or debit (money out).
    pub direction: Direction,
    pub amount_vnd: i64,
    pub description: String,
    pub bank_transaction_id: Option<String>,
    pub counterparty_name: String,
    pub counterparty_account: String,
    /// proposed, ambiguous, unmatched, awaiting_second, posting, posted, rejected.
    pub status: LineStatus,
    /// The loan proposed (credit) or of the disbursement proposed (debit).
    pub proposed_loan_id: Option<i64>,
    pub proposed_loan_number: Option<String>,
    /// Debit: the disbursement transaction proposed.
    pub proposed_transaction_id: Option<i64>,
    /// Why it was matched or not (loan_number, loan_number_truncated, account_and_amount_due …).
    pub match_reason: String,
    /// 0–100.
    pub match_confidence: i32,
    /// Loans (credit) or disbursements (debit) that were considered.
    pub candidates: Vec<i64>,
    /// What is (to be) posted: loan and amount per part.
    pub plan: Vec<Split>,
    /// ordinary or prepayment.
    pub repayment_kind: Option<RepaymentKind>,
    /// The loan transactions posted for it.
    pub posted_transactions: Vec<i64>,
    pub reject_reason: Option<String>,
    /// Why the last attempt to post failed.
    pub last_error: Option<String>,
    pub proposed_by: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    /// For an open credit with a proposed loan: the payoff on the value date (a line above it is
    /// not posted).
    pub payoff_vnd: Option<i64>,
}

impl LineView {
    /// The view of stored line `m`; a stored value that cannot be read is an error naming the line.
    fn of(m: bank_statement_line::Model, loan_number: Option<String>) -> AppResult<Self> {
        let unreadable = |field: &str, text: &str| {
            AppError::unreadable("bank statement line", m.id, field, text)
        };
        let ids = |field: &str, text: &str| {
            serde_json::from_str::<Vec<i64>>(text).map_err(|_| unreadable(field, text))
        };
        let status = LineStatus::of(&m)?;
        let direction = Direction::of(&m)?;
        let repayment_kind = m
            .repayment_kind
            .as_deref()
            .map(|text| text.parse().map_err(|_| unreadable("repayment_kind", text)))
            .transpose()?;
        let candidates = ids("candidates", &m.candidates)?;
        let posted_transactions = ids("posted_transactions", &m.posted_transactions)?;
        let plan = match m.plan.as_deref() {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text).map_err(|_| unreadable("plan", text))?,
        };
        Ok(LineView {
            id: m.id,
            statement_id: m.statement_id,
            line_no: m.line_no,
            booking_date: m.booking_date,
            value_date: m.value_date,
            direction,
            amount_vnd: m.amount_vnd,
            description: m.description,
            bank_transaction_id: m.bank_transaction_id,
            counterparty_name: m.counterparty_name,
            counterparty_account: m.counterparty_account,
            status,
            proposed_loan_id: m.proposed_loan_id,
            proposed_loan_number: loan_number,
            proposed_transaction_id: m.proposed_transaction_id,
            match_reason: m.match_reason,
            match_confidence: m.match_confidence,
            candidates,
            plan,
            repayment_kind,
            posted_transactions,
            reject_reason: m.reject_reason,
            last_error: m.last_error,
            proposed_by: m.proposed_by,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            payoff_vnd: None,
        })
    }

    /// Whether a decision may still change this line.
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }
}

/// A statement with its lines.
#[derive(Debug, Clone, Serialize)]
pub struct StatementDetail {
    pub statement: StatementView,
    pub lines: Vec<LineView>,
}

/// `?limit=` of the list.
#[derive(Debug, Clone, Default)]
pub struct StatementQuery {
    /// At most this many, newest first (default 50).
    pub limit: Option<u64>,
}

fn statement_not_found() -> AppError {
    AppError::not_found("sao kê", "Bank statement")
}

fn line_not_found() -> AppError {
    AppError::not_found("dòng sao kê", "Bank statement line")
}

async fn counts_of<C: ConnectionTrait>(conn: &C, statement_id: i64) -> AppResult<LineCounts> {
    let rows: Vec<(String, i64)> = bank_statement_line::Entity::find()
        .select_only()
        .column(bank_statement_line::Column::Status)
        .column_as(
            sea_orm::sea_query::Expr::cust("CAST(COUNT(*) AS BIGINT)"),
            "n",
        )
        .filter(bank_statement_line::Column::StatementId.eq(statement_id))
        .group_by(bank_statement_line::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let mut counts = LineCounts::default();
    for (state, n) in rows {
        let state: LineStatus = state.parse().map_err(|_| {
            AppError::internal(anyhow::anyhow!(
                "a stored line of bank statement {statement_id} has status {state:?}"
            ))
        })?;
        let count = match state {
            LineStatus::Proposed => &mut counts.proposed,
            LineStatus::Ambiguous => &mut counts.ambiguous,
            LineStatus::Unmatched => &mut counts.unmatched,
            LineStatus::AwaitingSecond => &mut counts.awaiting_second,
            LineStatus::Posting => &mut counts.posting,
            LineStatus::Posted => &mut counts.posted,
            LineStatus::Rejected => &mut counts.rejected,
        };
        *count = n;
    }
    Ok(counts)
}

async fn statement_view<C: ConnectionTrait>(
    conn: &C,
    m: bank_statement::Model,
) -> AppResult<StatementView> {
    let counts = counts_of(conn, m.id).await?;
    StatementView::of(m, counts)
}

/// Statements newest first (accountants, admins, auditors).
#[tracing::instrument(name = "list bank statements", skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    query: StatementQuery,
) -> AppResult<Vec<StatementView>> {
    caller.require(READERS)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            crate::error::Reason::OutOfRange {
                min: "1".into(),
                max: "200".into(),
            },
        ));
    }
    let rows = bank_statement::Entity::find()
        .order_by_desc(bank_statement::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(statement_view(db, row).await?);
    }
    Ok(views)
}

/// Loan numbers of `ids`.
async fn loan_numbers<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<i64>,
) -> AppResult<std::collections::HashMap<i64, String>> {
    let mut numbers = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = loan::Entity::find()
            .select_only()
            .column(loan::Column::Id)
            .column(loan::Column::Number)
            .filter(loan::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        numbers.extend(rows);
    }
    Ok(numbers)
}

async fn line_views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<bank_statement_line::Model>,
) -> AppResult<Vec<LineView>> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|l| l.proposed_loan_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let numbers = loan_numbers(conn, ids).await?;
    rows.into_iter()
        .map(|l| {
            let number = l.proposed_loan_id.and_then(|id| numbers.get(&id).cloned());
            LineView::of(l, number)
        })
        .collect()
}

/// Adds the payoff on the value date to each open credit with a proposed loan (one quote per loan and
/// date), so a line above it is seen before anyone clicks.
pub async fn add_payoffs(ctx: &AppCtx, caller: &Caller, lines: &mut [LineView]) -> AppResult<()> {
    let mut quotes: std::collections::HashMap<(i64, NaiveDate), Option<i64>> =
        std::collections::HashMap::new();
    for line in lines.iter_mut() {
        let (Some(loan_id), true, true) = (
            line.proposed_loan_id,
            line.direction == Direction::Credit,
            line.is_open(),
        ) else {
            continue;
        };
        let key = (loan_id, line.value_date);
        if let std::collections::hash_map::Entry::Vacant(slot) = quotes.entry(key) {
            let quote =
                match crate::app::loans::payoff(ctx, caller, loan_id.into(), Some(line.value_date))
                    .await
                {
                    Ok(p) => Some(crate::app::ledger::stored_vnd(p.total_vnd)?),
                    Err(_) => None,
                };
            slot.insert(quote);
        }
        line.payoff_vnd = quotes[&key];
    }
    Ok(())
}

/// A statement with its lines (in file order) and, for open credits, the payoff of the proposed loan.
#[tracing::instrument(name = "read a bank statement", skip_all, fields(statement_id = id))]
pub async fn get(ctx: &AppCtx, caller: &Caller, id: i64) -> AppResult<StatementDetail> {
    let db = &ctx.db;
    caller.require(READERS)?;
    let statement = bank_statement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(statement_not_found)?;
    let rows = bank_statement_line::Entity::find()
        .filter(bank_statement_line::Column::StatementId.eq(id))
        .order_by_asc(bank_statement_line::Column::LineNo)
        .order_by_asc(bank_statement_line::Column::Id)
        .all(db)
        .await?;
    let mut lines = line_views(db, rows).await?;
    add_payoffs(ctx, caller, &mut lines).await?;
    Ok(StatementDetail {
        statement: statement_view(db, statement).await?,
        lines,
    })
}

/// One line.
#[tracing::instrument(name = "read a bank statement line", skip_all, fields(line_id = id))]
pub async fn line(ctx: &AppCtx, caller: &Caller, id: i64) -> AppResult<LineView> {
    let db = &ctx.db;
    caller.require(READERS)?;
    let row = bank_statement_line::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(line_not_found)?;
    let mut views = line_views(db, vec![row]).await?;
    add_payoffs(ctx, caller, &mut views).await?;
    Ok(views.remove(0))
}

// ----- cooperatives' bank accounts -----

/// `POST /cooperatives/{id}/bank-accounts`.
#[derive(Debug, Clone)]
pub struct NewBankAccount {
    /// The account number as the bank writes it; stored as its digits and letters.
    pub account_number: String,
    /// The bank and branch.
    pub bank_name: String,
}

/// A cooperative's registered account.
#[derive(Debug, Clone, Serialize)]
pub struct BankAccountView {
    pub id: i64,
    pub cooperative_id: i64,
    pub account_number: String,
    pub bank_name: String,
    pub created_at: DateTime<Utc>,
}

impl From<cooperative_bank_account::Model> for BankAccountView {
    fn from(m: cooperative_bank_account::Model) -> Self {
        BankAccountView {
            id: m.id,
            cooperative_id: m.cooperative_id,
            account_number: m.account_number,
            bank_name: m.bank_name,
            created_at: m.created_at,
        }
    }
}

async fn cooperative_exists(db: &DatabaseConnection, id: i64) -> AppResult<()> {
    cooperative::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))
}

/// Registers an account a cooperative pays from (admin, officer, accountant); 409 when another
/// cooperative has it.
#[tracing::instrument(name = "register a cooperative bank account", skip_all, fields(cooperative_id = cooperative_id))]
pub async fn add_bank_account(
    ctx: &AppCtx,
    caller: &Caller,
    cooperative_id: i64,
    input: NewBankAccount,
) -> AppResult<BankAccountView> {
    caller.require(&[Role::Admin, Role::Officer, Role::Accountant])?;
    let typed = validate::text("account_number", &input.account_number, 50)?;
    let account_number = matching::account_key(&typed);
    if account_number.len() < 4 {
        return Err(AppError::invalid(
            "account_number",
            crate::error::Reason::InvalidFormat {
                expected: "an account number of at least 4 digits or letters",
            },
        ));
    }
    let bank_name = validate::text("bank_name", &input.bank_name, 200)?;
    cooperative_exists(&ctx.db, cooperative_id).await?;
    let txn = sea_orm::TransactionTrait::begin(&ctx.db).await?;
    let inserted = cooperative_bank_account::ActiveModel {
        cooperative_id: Set(cooperative_id),
        account_number: Set(account_number),
        bank_name: Set(bank_name),
        created_by: Set(caller.user_id()),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|err| {
        if store::is_unique_violation(&err) {
            AppError::duplicate("account_number")
        } else {
            err.into()
        }
    })?;
    let view = BankAccountView::from(inserted);
    audit::record_at(
        &txn,
        caller,
        ctx.now(),
        Change::created(
            "cooperative.bank_account.add",
            "cooperative",
            cooperative_id.to_string(),
            &view,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// The accounts registered for a cooperative (staff).
#[tracing::instrument(name = "list a cooperative's bank accounts", skip_all, fields(cooperative_id = cooperative_id))]
pub async fn bank_accounts(
    db: &DatabaseConnection,
    caller: &Caller,
    cooperative_id: i64,
) -> AppResult<Vec<BankAccountView>> {
    caller.require(&Role::STAFF)?;
    cooperative_exists(db, cooperative_id).await?;
    Ok(cooperative_bank_account::Entity::find()
        .filter(cooperative_bank_account::Column::CooperativeId.eq(cooperative_id))
        .order_by_asc(cooperative_bank_account::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(BankAccountView::from)
        .collect())
}

/// The loan whose number is `number` as typed (case, spaces and dashes do not matter), for the review
/// page's reassign field; 404 naming the number otherwise.
#[tracing::instrument(name = "find a loan by number", skip_all)]
pub async fn loan_id_by_number(
    db: &DatabaseConnection,
    caller: &Caller,
    number: &str,
) -> AppResult<i64> {
    caller.require(READERS)?;
    let wanted = matching::compact(number);
    let not_found = || {
        AppError::new(
            ErrorKind::NotFound,
            "loan_number_not_found",
            Localized::new(
                format!("Không có khoản vay số «{number}»."),
                format!("There is no loan numbered «{number}»."),
            ),
        )
        .with_field("splits")
    };
    if wanted.is_empty() {
        return Err(not_found());
    }
    let loans: Vec<(i64, String)> = loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .column(loan::Column::Number)
        .into_tuple()
        .all(db)
        .await?;
    loans
        .into_iter()
        .find(|(_, n)| matching::compact(n) == wanted)
        .map(|(id, _)| id)
        .ok_or_else(not_found)
}

/// A 409 with `code` and a message.
fn conflict(code: &str, vi: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Conflict, code, Localized::new(vi, en))
}
