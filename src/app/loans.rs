//! Loans from the approved loan onward (DOMAIN.md §4, §5, §7): contract signing, disbursements,
//! repayments, reversals, restructuring, write-off; and what is owed: the loan with balances, its
//! schedule, transactions, payoff quote and statement, all as of the business date.
//!
//! Every money command: role check; then (on SQLite) the in-process writer gate; one transaction; lock
//! the loan row (`SELECT … FOR UPDATE` on PostgreSQL, a no-op write on SQLite so the transaction holds
//! the write lock from its first statement); the idempotency key lookup (replay or 409); append the
//! transaction; refold the loan with the engine up to the business date and post the difference to the
//! books ([`ledger::refold_and_post`]); cache the balances; audit; store the key; commit. A refusal by
//! the engine (e.g. a payment above the payoff) rolls everything back and is a 422.
//!
//! Roles (API.md, DOMAIN.md §7): accountants disburse, post repayments and reverse; officers and approvers
//! sign the contract; approvers restructure (Decree 45/2021 Art 27: with approval — the approver's call is
//! the approval, recorded in `approved_by`) and write off (Art 29: the risk handling council's decision, by
//! an approver); everyone reads, a cooperative only its own loans (404 otherwise).

use std::{future::Future, pin::Pin};

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    build_schedule, Allocation, InstallmentStatus, LoanState, PayoffQuote, ScheduleTerms, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    audit::{self, Change},
    cooperatives::paging,
    event_mail, follow_ups, fund,
    idempotency::{self, IdempotencyRequest, Idempotent},
    ledger::{self, Posting},
    loan_engine::{
        self, contract_of, events_of, kind, loan_group, transactions_of, RestructureTerms,
    },
    validate,
    writer::MoneyWriter,
    Caller,
};
use crate::{
    auth::Role,
    config::Settings,
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::{journal_entry, loan, loan_transaction},
};

// ----- views -----

/// The next installment the borrower has to pay something on, and what is still to pay on it net of the
/// advance held (DOMAIN.md §5: the advance is applied on the next due dates, first; an installment it covers
/// in full is skipped). See [`coopfund_domain::owed`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextDue {
    pub seq: u32,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// Principal still to pay on it, after the advance.
    pub principal_vnd: i64,
    /// Interest still to pay on it, after the advance (projected on the current balance until it is billed).
    pub interest_vnd: i64,
    /// principal_vnd + interest_vnd: what the borrower still has to pay on it.
    pub total_vnd: i64,
    /// The part of the advance held that its due date will apply to it (0 once it is billed: the advance
    /// was applied then).
    pub advance_applied_vnd: i64,
}

/// A loan with its terms and balances as of the business date (`as_of`), the same in the list and for
/// one loan: both fold the loan from its events as of the business date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanView {
    pub id: i64,
    pub number: String,
    /// approved, contract_signed, active, closed, written_off, recovered (written off, then all recovered).
    pub status: String,
    pub cooperative_id: i64,
    pub product_id: i64,
    pub application_id: i64,
    pub officer_id: Option<i64>,
    /// The approved principal.
    pub principal_vnd: i64,
    #[schema(value_type = String)]
    pub rate_percent: Decimal,
    pub method: String,
    pub installments: i32,
    pub period_months: i32,
    pub principal_grace: i32,
    pub day_count: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub first_due_on: Option<NaiveDate>,
    pub contract_number: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub signed_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub first_disbursed_on: Option<NaiveDate>,
    /// Settlement or write-off date.
    #[schema(value_type = Option<String>, format = Date)]
    pub closed_on: Option<NaiveDate>,
    pub disbursed_vnd: i64,
    pub in_term_principal_vnd: i64,
    pub overdue_principal_vnd: i64,
    /// Unpaid contractual interest of installments that fell overdue.
    pub unpaid_interest_vnd: i64,
    pub advance_vnd: i64,
    pub written_off_vnd: i64,
    /// A written-off loan: what remains under follow-up and what was recovered (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<follow_ups::UnderFollowUp>,
    pub dpd: i64,
    pub debt_group: i32,
    pub restructure_count: i32,
    pub next_due: Option<NextDue>,
    /// Everything due and overdue today: overdue principal, unpaid overdue interest, overdue and late interest
    /// (rounded as a payment today charges them), and what is unpaid on installments due today. Paying it
    /// makes the loan current; 0 for a closed or written-off loan. The payoff (`/payoff`) adds the principal
    /// not yet due and the current period's interest.
    pub owed_now_vnd: i64,
    /// The date the balances are as of: the business date (null only before any business date).
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stored rate, exactly; an unreadable one is an error naming the loan, never 0%.
fn rate_of(loan: &loan::Model) -> AppResult<Decimal> {
    loan.rate_percent.trim().parse().map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "stored loan data is not readable: loan {} rate_percent = {:?}",
            loan.id,
            loan.rate_percent
        ))
    })
}

fn i64_of(amount: Vnd) -> i64 {
    amount.to_i64().unwrap_or(i64::MAX)
}

impl LoanView {
    /// The row as cached (balances as of `balances_as_of`; nothing the cache does not hold: no unpaid
    /// interest, write-off, next due or amount owed). Only the "before" of an audit record; every view a
    /// client reads is [`LoanView::live`].
    fn cached(m: loan::Model) -> AppResult<LoanView> {
        Ok(LoanView {
            rate_percent: rate_of(&m)?,
            id: m.id,
            number: m.number,
            status: m.status,
            cooperative_id: m.cooperative_id,
            product_id: m.product_id,
            application_id: m.application_id,
            officer_id: m.officer_id,
            principal_vnd: m.principal_vnd,
            method: m.method,
            installments: m.installments,
            period_months: m.period_months,
            principal_grace: m.principal_grace,
            day_count: m.day_count,
            first_due_on: m.first_due_on,
            contract_number: m.contract_number,
            signed_on: m.signed_on,
            first_disbursed_on: m.first_disbursed_on,
            closed_on: m.closed_on,
            disbursed_vnd: m.disbursed_vnd,
            in_term_principal_vnd: m.in_term_principal_vnd,
            overdue_principal_vnd: m.overdue_principal_vnd,
            unpaid_interest_vnd: 0,
            advance_vnd: m.advance_vnd,
            written_off_vnd: 0,
            follow_up: None,
            dpd: i64::from(m.dpd),
            debt_group: m.debt_group,
            restructure_count: m.restructure_count,
            next_due: None,
            owed_now_vnd: 0,
            as_of: m.balances_as_of,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }

    /// The live view: balances from the engine's fold as of `as_of` (the list and the detail both).
    fn live(m: loan::Model, state: &LoanState, as_of: NaiveDate) -> AppResult<LoanView> {
        let group = i32::from(loan_group(state).number());
        let status = ledger::status_of(&m.status, state);
        // The allocation order does not depend on the calendar.
        let order = contract_of(&m, &coopfund_domain::HolidayCalendar::none())?.allocation_order;
        let next_due = coopfund_domain::next_to_pay(state, &order).map(|next| NextDue {
            seq: next.seq,
            due_on: next.due_on,
            principal_vnd: i64_of(next.principal),
            interest_vnd: i64_of(next.interest),
            total_vnd: i64_of(next.total()),
            advance_applied_vnd: i64_of(next.advance_applied),
        });
        Ok(LoanView {
            status,
            first_disbursed_on: state.first_disbursed_on,
            closed_on: state.closed_on.or(state.written_off_on),
            disbursed_vnd: i64_of(state.disbursed),
            in_term_principal_vnd: i64_of(state.in_term_principal),
            overdue_principal_vnd: i64_of(state.overdue_principal),
            unpaid_interest_vnd: i64_of(state.unpaid_interest),
            advance_vnd: i64_of(state.advance),
            written_off_vnd: i64_of(state.written_off_principal),
            follow_up: follow_ups::under_follow_up(state),
            dpd: state.dpd,
            debt_group: group.max(m.debt_group.min(5)).max(1),
            restructure_count: i32::try_from(state.restructure_count).unwrap_or(i32::MAX),
            next_due: if state.disbursed.is_positive() && state.written_off_on.is_none() {
                next_due
            } else {
                None
            },
            owed_now_vnd: i64_of(coopfund_domain::owed_now(state).total()),
            as_of: Some(as_of),
            ..LoanView::cached(m)?
        })
    }
}

/// How a repayment was split (API.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct AllocationView {
    pub overdue_principal_vnd: i64,
    pub unpaid_interest_vnd: i64,
    pub overdue_interest_vnd: i64,
    pub late_interest_vnd: i64,
    pub interest_vnd: i64,
    pub principal_vnd: i64,
    pub prepaid_principal_vnd: i64,
    pub advance_vnd: i64,
    /// Advance held before and used by this payment (a payoff).
    pub advance_applied_vnd: i64,
    /// True when this payment settled the loan.
    pub settled_loan: bool,
}

impl From<&Allocation> for AllocationView {
    fn from(a: &Allocation) -> Self {
        AllocationView {
            overdue_principal_vnd: i64_of(a.overdue_principal),
            unpaid_interest_vnd: i64_of(a.unpaid_interest),
            overdue_interest_vnd: i64_of(a.overdue_interest),
            late_interest_vnd: i64_of(a.late_interest),
            interest_vnd: i64_of(a.interest),
            principal_vnd: i64_of(a.principal),
            prepaid_principal_vnd: i64_of(a.prepaid_principal),
            advance_vnd: i64_of(a.advance),
            advance_applied_vnd: i64_of(a.advance_applied),
            settled_loan: a.settled_loan,
        }
    }
}

/// A loan transaction (append-only; a reversal is a new transaction pointing at the original).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransactionView {
    pub id: i64,
    pub loan_id: i64,
    /// disbursement, repayment, restructure, write_off, recovery, reversal.
    pub kind: String,
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    pub amount_vnd: i64,
    pub reference: String,
    /// ordinary or prepayment (repayments).
    pub repayment_kind: Option<String>,
    /// For a reversal: the transaction it cancels.
    pub reverses_id: Option<i64>,
    /// The reversal that cancelled this transaction, if any.
    pub reversed_by: Option<i64>,
    pub reason: Option<String>,
    /// Restructuring terms, when a restructuring.
    #[schema(value_type = Option<Object>)]
    pub terms: Option<serde_json::Value>,
    pub approved_by: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// A repayment's allocation as the loan stands now (a back-dated event may change it).
    pub allocation: Option<AllocationView>,
}

fn transaction_view(
    tx: &loan_transaction::Model,
    all: &[loan_transaction::Model],
    state: Option<&LoanState>,
) -> TransactionView {
    let id_text = tx.id.to_string();
    let allocation = (tx.kind == kind::REPAYMENT)
        .then(|| {
            state
                .and_then(|s| {
                    s.allocations
                        .iter()
                        .find(|a| a.event_id.as_deref() == Some(id_text.as_str()))
                })
                .map(AllocationView::from)
        })
        .flatten();
    // A recovery's split: written-off principal (principal_vnd) and interest not recognised (interest_vnd).
    let allocation = allocation.or_else(|| {
        (tx.kind == kind::RECOVERY)
            .then(|| follow_ups::recovery_split(state?, &id_text))
            .flatten()
    });
    let terms = (tx.kind == kind::RESTRUCTURE)
        .then(|| serde_json::from_str(&tx.details).ok())
        .flatten();
    TransactionView {
        id: tx.id,
        loan_id: tx.loan_id,
        kind: tx.kind.clone(),
        value_date: tx.value_date,
        amount_vnd: tx.amount_vnd,
        reference: tx.reference.clone(),
        repayment_kind: tx.repayment_kind.clone(),
        reverses_id: tx.reverses_id,
        reversed_by: all
            .iter()
            .find(|r| r.reverses_id == Some(tx.id))
            .map(|r| r.id),
        reason: tx.reason.clone(),
        terms,
        approved_by: tx.approved_by,
        created_by: tx.created_by,
        created_at: tx.created_at,
        allocation,
    }
}

// ----- inputs -----

/// `POST /loans/{id}/sign`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInput {
    /// The contract number (số hợp đồng tín dụng).
    pub contract_number: String,
    /// The signing date, at most the business date.
    #[schema(value_type = String, format = Date)]
    pub signed_on: NaiveDate,
}

/// `POST /loans/{id}/disbursements` (API.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisbursementInput {
    pub amount_vnd: i64,
    /// At most the business date, not before the contract was signed.
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    /// The bank's reference (UNC …).
    pub reference: String,
}

/// `POST /loans/{id}/repayments` (API.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepaymentInput {
    pub amount_vnd: i64,
    /// At most the business date; back-dated payments are replayed by the engine.
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    pub reference: String,
    /// `ordinary` (excess held as an advance, default) or `prepayment` (excess cuts principal).
    #[serde(default)]
    pub kind: Option<String>,
}

/// `POST /loans/{id}/transactions/{tx}/reverse`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseInput {
    /// Why (required).
    pub reason: String,
}

/// `POST /loans/{id}/restructure` (approver; Decree 45/2021 Art 27).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestructureInput {
    /// `adjustment` (due dates move, maturity unchanged) or `extension` (maturity later).
    pub kind: String,
    /// The first new due date, after the effective date.
    #[schema(value_type = String, format = Date)]
    pub first_due_on: NaiveDate,
    /// Number of new installments for all unpaid principal.
    pub installments: u32,
    /// Months between new due dates (default: the loan's).
    #[serde(default)]
    pub period_months: Option<u32>,
    /// Method of the new schedule (default: the loan's).
    #[serde(default)]
    pub method: Option<String>,
    /// Interest-only installments at the start (default 0).
    #[serde(default)]
    pub principal_grace: Option<u32>,
    /// Interest waived or reduced (classification §8: at least group 3). Must come with
    /// `interest_reduction_vnd`: a restructuring forgives nothing unless it says how much (DOMAIN.md §7).
    #[serde(default)]
    pub interest_reduced: Option<bool>,
    /// Interest forgiven, in đồng: late interest first, then overdue interest, then unpaid contractual interest;
    /// at most what is owed of those (default 0: nothing is forgiven).
    #[serde(default)]
    pub interest_reduction_vnd: Option<i64>,
    /// Effective date (default and maximum: the business date).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub value_date: Option<NaiveDate>,
    /// Why (required; the approval's grounds).
    pub reason: String,
}

/// `POST /loans/{id}/write-off` (approver; Decree 45/2021 Art 29).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteOffInput {
    /// The risk handling council's decision and grounds (required).
    pub reason: String,
    /// Effective date (default and maximum: the business date).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub value_date: Option<NaiveDate>,
    /// Confirms writing off a loan still in term (DPD 0, nothing overdue); refused without it (422).
    #[serde(default)]
    pub early: Option<bool>,
    /// Why a loan in term is written off (required with `early`).
    #[serde(default)]
    pub early_reason: Option<String>,
}

// ----- locking and the money command frame -----

/// Locks loan `id` for the rest of `txn` and returns it (404 when absent). PostgreSQL: `SELECT … FOR
/// UPDATE`; SQLite: a no-op `UPDATE` first, so the transaction holds the database's write lock from its
/// first statement (no `SQLITE_BUSY` upgrade failure later). The close of business locks each loan this way.
pub async fn lock_loan(txn: &DatabaseTransaction, id: i64) -> AppResult<loan::Model> {
    use sea_orm::ConnectionTrait;
    let found = if txn.get_database_backend() == DbBackend::Sqlite {
        let touched = loan::Entity::update_many()
            .col_expr(loan::Column::Version, Expr::col(loan::Column::Version))
            .filter(loan::Column::Id.eq(id))
            .exec(txn)
            .await?;
        if touched.rows_affected == 0 {
            None
        } else {
            loan::Entity::find_by_id(id).one(txn).await?
        }
    } else {
        loan::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
    };
    found.ok_or_else(loan_not_found)
}

fn loan_not_found() -> AppError {
    AppError::not_found("khoản vay", "Loan")
}

type Command<'t, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 't>>;

/// Runs a money command on loan `loan_id`: gate, transaction, lock, key lookup, the command, key, commit.
async fn run_money<T, F>(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    caller: &Caller,
    loan_id: i64,
    request: Option<&IdempotencyRequest>,
    status: u16,
    command: F,
) -> AppResult<Idempotent<T>>
where
    T: Serialize + Send,
    F: for<'t> FnOnce(&'t DatabaseTransaction, loan::Model, NaiveDate) -> Command<'t, T>,
{
    let _gate = writer.enter(db).await;
    let txn = db.begin().await?;
    let loan = lock_loan(&txn, loan_id).await?;
    if let Some(request) = request {
        if let Some(Idempotent::Replayed { status, body }) =
            idempotency::replay_of(&txn, caller, request).await?
        {
            txn.rollback().await?;
            return Ok(Idempotent::Replayed { status, body });
        }
    }
    let today = fund::business_date(&txn).await?;
    let value = command(&txn, loan, today).await?;
    if let Some(request) = request {
        if let Err(err) = idempotency::remember(&txn, caller, request, status, &value).await {
            txn.rollback().await?;
            return if idempotency::is_race(&err) {
                idempotency::resolve_race(db, caller, request).await
            } else {
                Err(err)
            };
        }
    }
    txn.commit().await?;
    Ok(Idempotent::Fresh(value))
}

fn wrong_state(loan: &loan::Model, action_vi: &str, action_en: &str) -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        "invalid_loan_state",
        Localized::new(
            format!(
                "Không thể {action_vi} khi khoản vay ở trạng thái '{}'.",
                loan.status
            ),
            format!(
                "Cannot {action_en} a loan whose status is '{}'.",
                loan.status
            ),
        ),
    )
    .with_field("status")
}

fn check_value_date(field: &str, value_date: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if value_date > today {
        return Err(AppError::new(
            ErrorKind::Rule,
            "value_date_after_business_date",
            Localized::new(
                format!("Ngày hiệu lực {value_date} sau ngày làm việc hiện tại {today}."),
                format!("The value date {value_date} is after the business date {today}."),
            ),
        )
        .with_field(field));
    }
    Ok(())
}

/// DOMAIN.md §7: a new schedule starts after the business date, so a back-dated restructuring can never leave
/// the loan past due on its new schedule the moment it is recorded.
fn check_new_schedule_starts_after(first_due_on: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if first_due_on <= today {
        return Err(AppError::new(
            ErrorKind::Rule,
            "restructure_first_due_not_after_business_date",
            Localized::new(
                format!(
                    "Kỳ trả nợ đầu tiên của lịch mới ({}) phải sau ngày làm việc hiện tại ({}).",
                    first_due_on.format("%d/%m/%Y"),
                    today.format("%d/%m/%Y")
                ),
                format!(
                    "The new schedule's first due date ({first_due_on}) must be after the business date ({today})."
                ),
            ),
        )
        .with_field("first_due_on"));
    }
    Ok(())
}

struct NewTransaction {
    kind: &'static str,
    value_date: NaiveDate,
    amount_vnd: i64,
    reference: String,
    repayment_kind: Option<String>,
    reverses_id: Option<i64>,
    reason: Option<String>,
    details: String,
    approved_by: Option<i64>,
}

/// Appends a transaction, refolds, posts the books, caches balances and audits; the transaction's view.
async fn record(
    txn: &DatabaseTransaction,
    caller: &Caller,
    loan: loan::Model,
    today: NaiveDate,
    new: NewTransaction,
) -> AppResult<TransactionView> {
    let inserted = loan_transaction::ActiveModel {
        loan_id: Set(loan.id),
        kind: Set(new.kind.to_string()),
        value_date: Set(new.value_date),
        amount_vnd: Set(new.amount_vnd),
        reference: Set(new.reference),
        repayment_kind: Set(new.repayment_kind),
        reverses_id: Set(new.reverses_id),
        reason: Set(new.reason),
        details: Set(new.details),
        approved_by: Set(new.approved_by),
        created_by: Set(caller.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let reverses_entry_id = match new.reverses_id {
        Some(original) => journal_entry::Entity::find()
            .filter(journal_entry::Column::TransactionId.eq(original))
            .order_by_asc(journal_entry::Column::Id)
            .one(txn)
            .await?
            .map(|e| e.id),
        None => None,
    };
    let posting = Posting {
        kind: new.kind.to_string(),
        entry_date: today,
        description: format!(
            "{} {} #{} ({}, {})",
            describe(new.kind),
            loan.number,
            inserted.id,
            inserted.value_date,
            inserted.reference
        ),
        transaction_id: Some(inserted.id),
        reverses_entry_id,
        business_key: Some(format!("loan:{}:tx:{}", loan.id, inserted.id)),
        posted_at: Utc::now(),
    };
    let before = LoanView::cached(loan.clone())?;
    let refolded = ledger::refold_and_post(txn, caller, loan, today, &posting).await?;
    // The allocation is not stored on the (append-only) transaction row: it is the engine's, recomputed on
    // every read, and kept as posted in the audit record below.
    let all = transactions_of(txn, refolded.loan.id).await?;
    let view = transaction_view(&inserted, &all, Some(&refolded.state));
    let after = LoanView::live(refolded.loan.clone(), &refolded.state, today)?;
    audit::record(txn, caller, Change {
        action: &format!("loan.{}", new.kind),
        entity_type: "loan",
        entity_id: refolded.loan.id.to_string(),
        before: Some(&before),
        after: Some(&serde_json::json!({ "transaction": view, "loan": after, "journal_entry_id": refolded.entry_id })),
    })
    .await?;
    Ok(view)
}

fn describe(kind: &str) -> &'static str {
    match kind {
        kind::DISBURSEMENT => "Giải ngân",
        kind::REPAYMENT => "Thu nợ",
        kind::REVERSAL => "Hủy giao dịch",
        kind::RESTRUCTURE => "Cơ cấu lại thời hạn trả nợ",
        kind::WRITE_OFF => "Xử lý rủi ro",
        kind::RECOVERY => "Thu hồi nợ đã xử lý rủi ro",
        _ => "Giao dịch",
    }
}

fn reference_of(reference: &str) -> AppResult<String> {
    validate::text("reference", reference, 100)
}

fn reason_of(reason: &str) -> AppResult<String> {
    validate::text("reason", reason, 2000)
}

// ----- commands -----

/// Signs the contract: `approved` → `contract_signed`. Officers and approvers.
pub async fn sign(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    caller: &Caller,
    loan_id: i64,
    input: SignInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<LoanView>> {
    caller.require(&[Role::Officer, Role::Approver])?;
    let contract_number = validate::text("contract_number", &input.contract_number, 50)?;
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        200,
        move |txn, loan, today| {
            Box::pin(async move {
                if loan.status != "approved" {
                    return Err(wrong_state(&loan, "ký hợp đồng", "sign the contract of"));
                }
                check_value_date("signed_on", input.signed_on, today)?;
                let before = LoanView::cached(loan.clone())?;
                let version = loan.version + 1;
                let mut active: loan::ActiveModel = loan.into();
                active.status = Set("contract_signed".into());
                active.contract_number = Set(Some(contract_number));
                active.signed_on = Set(Some(input.signed_on));
                active.version = Set(version);
                active.updated_at = Set(Utc::now());
                let signed = active.update(txn).await?;
                let calendar = super::calendar::in_force(txn).await?;
                let contract = contract_of(&signed, &calendar)?;
                let state = loan_engine::fold_at(&contract, &[], today)?;
                let after = LoanView::live(signed, &state, today)?;
                audit::record(
                    txn,
                    &caller_owned,
                    Change {
                        action: "loan.sign",
                        entity_type: "loan",
                        entity_id: after.id.to_string(),
                        before: Some(&before),
                        after: Some(&after),
                    },
                )
                .await?;
                Ok(after)
            })
        },
    )
    .await
}

/// Disburses a tranche (accountant): never above the approved principal (422), value date ≤ business date;
/// the first one makes the loan active.
pub async fn disburse(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    settings: &Settings,
    caller: &Caller,
    loan_id: i64,
    input: DisbursementInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Accountant])?;
    let amount_vnd = validate::positive("amount_vnd", input.amount_vnd)?;
    let reference = reference_of(&input.reference)?;
    let settings = settings.clone();
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        201,
        move |txn, loan, today| {
            Box::pin(async move {
                if !matches!(loan.status.as_str(), "contract_signed" | "active") {
                    return Err(wrong_state(&loan, "giải ngân", "disburse"));
                }
                check_value_date("value_date", input.value_date, today)?;
                if loan
                    .signed_on
                    .is_some_and(|signed| input.value_date < signed)
                {
                    return Err(AppError::new(
                        ErrorKind::Rule,
                        "value_date_before_contract",
                        Localized::new(
                            "Ngày giải ngân trước ngày ký hợp đồng.",
                            "The disbursement's value date is before the contract was signed.",
                        ),
                    )
                    .with_field("value_date"));
                }
                let new = NewTransaction {
                    kind: kind::DISBURSEMENT,
                    value_date: input.value_date,
                    amount_vnd,
                    reference,
                    repayment_kind: None,
                    reverses_id: None,
                    reason: None,
                    details: "{}".into(),
                    approved_by: None,
                };
                let view = record(txn, &caller_owned, loan, today, new).await?;
                // DOMAIN.md §10: the disbursement notice, in this transaction.
                event_mail::disbursement(txn, &settings, &view, today).await?;
                Ok(view)
            })
        },
    )
    .await
}

/// Posts a repayment (accountant). Above the payoff → 422 naming the payoff; equal to it closes the loan.
pub async fn repay(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    settings: &Settings,
    caller: &Caller,
    loan_id: i64,
    input: RepaymentInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Accountant])?;
    let amount_vnd = validate::positive("amount_vnd", input.amount_vnd)?;
    let reference = reference_of(&input.reference)?;
    let repayment_kind = validate::one_of(
        "kind",
        input.kind.as_deref().unwrap_or("ordinary"),
        &["ordinary", "prepayment"],
    )?;
    let settings = settings.clone();
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        201,
        move |txn, loan, today| {
            Box::pin(async move {
                if loan.status != "active" {
                    return Err(wrong_state(&loan, "thu nợ", "post a repayment on"));
                }
                check_value_date("value_date", input.value_date, today)?;
                let new = NewTransaction {
                    kind: kind::REPAYMENT,
                    value_date: input.value_date,
                    amount_vnd,
                    reference,
                    repayment_kind: Some(repayment_kind.to_string()),
                    reverses_id: None,
                    reason: None,
                    details: "{}".into(),
                    approved_by: None,
                };
                let view = record(txn, &caller_owned, loan, today, new).await?;
                // DOMAIN.md §10: the payment receipt (allocation, next due), in this transaction.
                event_mail::payment_receipt(txn, &settings, &view, today).await?;
                Ok(view)
            })
        },
    )
    .await
}

/// Reverses a transaction (accountant; reason required): appends a reversal, replays the loan without the
/// original and posts the correcting entry, linked to the original's entry. Nothing is deleted.
pub async fn reverse(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    caller: &Caller,
    loan_id: i64,
    transaction_id: i64,
    input: ReverseInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Accountant])?;
    let reason = reason_of(&input.reason)?;
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        201,
        move |txn, loan, today| {
            Box::pin(async move {
                let all = transactions_of(txn, loan.id).await?;
                let original = all
                    .iter()
                    .find(|t| t.id == transaction_id)
                    .ok_or_else(|| AppError::not_found("giao dịch", "Transaction"))?;
                if original.kind == kind::REVERSAL {
                    return Err(AppError::new(
                        ErrorKind::Conflict,
                        "reversal_not_reversible",
                        Localized::new(
                            "Không thể hủy một giao dịch hủy.",
                            "A reversal cannot itself be reversed.",
                        ),
                    ));
                }
                if all.iter().any(|t| t.reverses_id == Some(original.id)) {
                    return Err(AppError::new(
                        ErrorKind::Conflict,
                        "already_reversed",
                        Localized::new(
                            "Giao dịch này đã được hủy.",
                            "This transaction was already reversed.",
                        ),
                    ));
                }
                let new = NewTransaction {
                    kind: kind::REVERSAL,
                    value_date: original.value_date,
                    amount_vnd: original.amount_vnd,
                    reference: original.reference.clone(),
                    repayment_kind: None,
                    reverses_id: Some(original.id),
                    reason: Some(reason),
                    details: "{}".into(),
                    approved_by: None,
                };
                record(txn, &caller_owned, loan, today, new).await
            })
        },
    )
    .await
}

/// Restructures (approver): all unpaid principal over a new schedule (Decree 45/2021 Art 27).
pub async fn restructure(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    caller: &Caller,
    loan_id: i64,
    input: RestructureInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Approver])?;
    let kind_name = validate::one_of("kind", &input.kind, &["adjustment", "extension"])?;
    let reason = reason_of(&input.reason)?;
    if let Some(method) = input.method.as_deref() {
        validate::one_of("method", method, &["annuity", "equal_principal", "bullet"])?;
    }
    let interest_reduction_vnd = validate::non_negative(
        "interest_reduction_vnd",
        input.interest_reduction_vnd.unwrap_or(0),
    )?;
    if input.interest_reduced == Some(true) && interest_reduction_vnd == 0 {
        return Err(AppError::new(
            ErrorKind::Rule,
            "interest_reduction_amount_required",
            Localized::new(
                "Miễn, giảm lãi phải ghi rõ số tiền lãi được miễn, giảm (interest_reduction_vnd).",
                "An interest reduction must state the amount forgiven (interest_reduction_vnd).",
            ),
        )
        .with_field("interest_reduction_vnd"));
    }
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        201,
        move |txn, loan, today| {
            Box::pin(async move {
                if loan.status != "active" {
                    return Err(wrong_state(&loan, "cơ cấu lại", "restructure"));
                }
                let value_date = input.value_date.unwrap_or(today);
                check_value_date("value_date", value_date, today)?;
                check_new_schedule_starts_after(input.first_due_on, today)?;
                let terms = RestructureTerms {
                    kind: kind_name.to_string(),
                    first_due_on: input.first_due_on,
                    installments: input.installments,
                    period_months: input
                        .period_months
                        .unwrap_or(u32::try_from(loan.period_months).unwrap_or(1)),
                    method: input.method.clone().unwrap_or_else(|| loan.method.clone()),
                    principal_grace: input.principal_grace.unwrap_or(0),
                    interest_reduced: input.interest_reduced.unwrap_or(false)
                        || interest_reduction_vnd > 0,
                    interest_reduction_vnd,
                };
                let new = NewTransaction {
                    kind: kind::RESTRUCTURE,
                    value_date,
                    amount_vnd: 0,
                    reference: kind_name.to_string(),
                    repayment_kind: None,
                    reverses_id: None,
                    reason: Some(reason),
                    details: serde_json::to_string(&terms).map_err(AppError::internal)?,
                    approved_by: caller_owned.user_id(),
                };
                record(txn, &caller_owned, loan, today, new).await
            })
        },
    )
    .await
}

/// Writes the loan off against its provision (approver, for the risk handling council, Decree 45/2021
/// Art 29): Dr 22931 / Cr 12831-12832, a provision short of the principal topped up in the same entry
/// (Dr 6426), memo 0042; accruals stop. A loan still in term needs `early: true` with `early_reason`.
pub async fn write_off(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    caller: &Caller,
    loan_id: i64,
    input: WriteOffInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Approver])?;
    let reason = reason_of(&input.reason)?;
    let early = follow_ups::early_write_off(input.early, input.early_reason.as_deref())?;
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        201,
        move |txn, loan, today| {
            Box::pin(async move {
                if loan.status != "active" {
                    return Err(wrong_state(&loan, "xử lý rủi ro", "write off"));
                }
                let value_date = input.value_date.unwrap_or(today);
                check_value_date("value_date", value_date, today)?;
                let (state, _) = state_of(txn, &loan, value_date).await?;
                let details = follow_ups::check_write_off(&state, early.as_ref())?;
                let new = NewTransaction {
                    kind: kind::WRITE_OFF,
                    value_date,
                    amount_vnd: loan.in_term_principal_vnd + loan.overdue_principal_vnd,
                    reference: "write-off".into(),
                    repayment_kind: None,
                    reverses_id: None,
                    reason: Some(reason),
                    details,
                    approved_by: caller_owned.user_id(),
                };
                record(txn, &caller_owned, loan, today, new).await
            })
        },
    )
    .await
}

/// `POST /loans/{id}/recoveries` (accountant; Decree 45/2021 Art 29, DOMAIN.md §9).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryInput {
    pub amount_vnd: i64,
    /// At most the business date, not before the write-off.
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    /// The bank's reference, or the court's enforcement decision.
    pub reference: String,
}

/// Records money recovered on a written-off loan (accountant): the written-off principal first (Dr 1121 /
/// Cr 711, Dr 0090 / Cr 0042), then the interest not recognised (Dr 1121 / Cr 51511, Dr 0090 / Cr 0041); the
/// loan is `recovered` when nothing remains. Above what remains → 422 naming it. Idempotent like a repayment;
/// a receipt mail is queued in the same transaction.
pub async fn recover(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    settings: &Settings,
    caller: &Caller,
    loan_id: i64,
    input: RecoveryInput,
    request: Option<&IdempotencyRequest>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Accountant])?;
    let amount_vnd = validate::positive("amount_vnd", input.amount_vnd)?;
    let reference = reference_of(&input.reference)?;
    let settings = settings.clone();
    let caller_owned = caller.clone();
    run_money(
        db,
        writer,
        caller,
        loan_id,
        request,
        201,
        move |txn, loan, today| {
            Box::pin(async move {
                // A recovered loan goes to the engine too: its refusal names what remains (0).
                if !matches!(loan.status.as_str(), "written_off" | "recovered") {
                    return Err(wrong_state(
                        &loan,
                        "thu hồi nợ đã xử lý rủi ro",
                        "record a recovery on",
                    ));
                }
                check_value_date("value_date", input.value_date, today)?;
                let new = NewTransaction {
                    kind: kind::RECOVERY,
                    value_date: input.value_date,
                    amount_vnd,
                    reference,
                    repayment_kind: None,
                    reverses_id: None,
                    reason: None,
                    details: "{}".into(),
                    approved_by: None,
                };
                let view = record(txn, &caller_owned, loan, today, new).await?;
                event_mail::recovery_receipt(txn, &settings, &view, today).await?;
                Ok(view)
            })
        },
    )
    .await
}

// ----- reads -----

async fn visible_loan<C: sea_orm::ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<loan::Model> {
    caller.require(&Role::ALL)?;
    let loan = loan::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(loan_not_found)?;
    if !caller.may_see_cooperative(loan.cooperative_id) {
        return Err(loan_not_found());
    }
    Ok(loan)
}

/// A loan's state from its events, as of `date`, with the fund's calendar in force.
async fn state_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    date: NaiveDate,
) -> AppResult<(LoanState, Vec<loan_transaction::Model>)> {
    let calendar = super::calendar::in_force(conn).await?;
    state_with(conn, loan, date, &calendar).await
}

/// [`state_of`] with the calendar already loaded.
async fn state_with<C: sea_orm::ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    date: NaiveDate,
    calendar: &coopfund_domain::HolidayCalendar,
) -> AppResult<(LoanState, Vec<loan_transaction::Model>)> {
    let contract = contract_of(loan, calendar)?;
    let transactions = transactions_of(conn, loan.id).await?;
    let state = loan_engine::fold_at(&contract, &events_of(&transactions)?, date)?;
    Ok((state, transactions))
}

/// One loan with balances, next due, DPD and group as of the business date.
pub async fn get(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<LoanView> {
    let loan = visible_loan(db, caller, id).await?;
    let today = fund::business_date(db).await?;
    let (state, _) = state_of(db, &loan, today).await?;
    LoanView::live(loan, &state, today)
}

/// Filters and paging of the loan list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoanQuery {
    /// approved, contract_signed, active, closed, written_off, recovered.
    pub status: Option<String>,
    pub cooperative_id: Option<i64>,
    /// Only loans with DPD > 0 (true) or none (false), as cached by the last close of business or money
    /// command (the same as shown for open loans, which every close refreshes).
    pub overdue: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of loans, newest first, each as `GET /loans/{id}` shows it (as of the business date).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanPage {
    pub items: Vec<LoanView>,
    pub next_cursor: Option<String>,
}

/// Loans newest first; a cooperative user sees only its own.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    query: LoanQuery,
) -> AppResult<LoanPage> {
    caller.require(&Role::ALL)?;
    let (limit, cursor) = paging(query.limit, query.cursor.as_deref())?;
    let mut select = loan::Entity::find().order_by_desc(loan::Column::Id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(loan::Column::CooperativeId.eq(own));
    }
    if let Some(cursor) = cursor {
        select = select.filter(loan::Column::Id.lt(cursor));
    }
    if let Some(status) = query.status.as_deref() {
        let status = validate::one_of(
            "status",
            status,
            &[
                "approved",
                "contract_signed",
                "active",
                "closed",
                "written_off",
                "recovered",
            ],
        )?;
        select = select.filter(loan::Column::Status.eq(status));
    }
    if let Some(cooperative_id) = query.cooperative_id {
        select = select.filter(loan::Column::CooperativeId.eq(cooperative_id));
    }
    match query.overdue {
        Some(true) => select = select.filter(loan::Column::Dpd.gt(0)),
        Some(false) => select = select.filter(loan::Column::Dpd.eq(0)),
        None => {}
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let rows: Vec<loan::Model> = rows.into_iter().take(limit as usize).collect();
    // Each loan of the page folded as of the business date, as `get` does, so the list and the detail
    // agree on every field; the page's transactions are read in one query.
    let today = fund::business_date(db).await?;
    let mut transactions = transactions_by_loan(db, rows.iter().map(|l| l.id)).await?;
    let calendar = super::calendar::in_force(db).await?;
    let items = rows
        .into_iter()
        .map(|loan| {
            let contract = contract_of(&loan, &calendar)?;
            let events = events_of(&transactions.remove(&loan.id).unwrap_or_default())?;
            let state = loan_engine::fold_at(&contract, &events, today)?;
            LoanView::live(loan, &state, today)
        })
        .collect::<AppResult<Vec<LoanView>>>()?;
    let next_cursor = has_more
        .then(|| items.last().map(|l| l.id.to_string()))
        .flatten();
    Ok(LoanPage { items, next_cursor })
}

/// The transactions of `loan_ids` in insertion order (the engine's tie-break), by loan, in one query.
async fn transactions_by_loan(
    db: &DatabaseConnection,
    loan_ids: impl IntoIterator<Item = i64>,
) -> AppResult<std::collections::HashMap<i64, Vec<loan_transaction::Model>>> {
    let mut by_loan: std::collections::HashMap<i64, Vec<loan_transaction::Model>> =
        Default::default();
    let rows = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.is_in(loan_ids))
        .order_by_asc(loan_transaction::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        by_loan.entry(row.loan_id).or_default().push(row);
    }
    Ok(by_loan)
}

/// One installment of the current schedule with what was paid on it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleLine {
    pub seq: u32,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    pub days: i64,
    pub principal_vnd: i64,
    pub interest_vnd: i64,
    pub total_vnd: i64,
    pub closing_balance_vnd: i64,
    pub paid_principal_vnd: i64,
    pub paid_interest_vnd: i64,
    /// paid, partly_paid, due, overdue, future (and restructured: moved into a new schedule).
    pub status: String,
    /// The due date is a day off of the fund (weekly day off or holiday, DOMAIN.md §4).
    pub due_on_day_off: bool,
    /// The last day to pay without penalty: `due_on`, or the next business day when it is a day off.
    #[schema(value_type = String, format = Date)]
    pub pay_by: NaiveDate,
}

/// The current schedule (the preview's shape plus payments), as of the business date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanSchedule {
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    pub installments: Vec<ScheduleLine>,
    pub total_principal_vnd: i64,
    pub total_interest_vnd: i64,
}

fn status_name(status: InstallmentStatus) -> &'static str {
    match status {
        InstallmentStatus::Paid => "paid",
        InstallmentStatus::PartlyPaid => "partly_paid",
        InstallmentStatus::Due => "due",
        InstallmentStatus::Overdue => "overdue",
        InstallmentStatus::Future => "future",
        InstallmentStatus::Restructured => "restructured",
    }
}

/// The schedule; before the first disbursement, the plan as if disbursed on the business date.
pub async fn schedule(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<LoanSchedule> {
    let loan = visible_loan(db, caller, id).await?;
    let today = fund::business_date(db).await?;
    let calendar = super::calendar::in_force(db).await?;
    let (state, _) = state_with(db, &loan, today, &calendar).await?;
    let installments: Vec<ScheduleLine> = if state.disbursed.is_positive() {
        state
            .schedule
            .iter()
            .map(|i| ScheduleLine {
                seq: i.seq,
                due_on: i.due_on,
                days: i.days,
                principal_vnd: i64_of(i.principal),
                interest_vnd: i64_of(i.interest),
                total_vnd: i64_of(i.total()),
                closing_balance_vnd: i64_of(i.closing_balance),
                paid_principal_vnd: i64_of(i.paid_principal),
                paid_interest_vnd: i64_of(i.paid_interest),
                status: status_name(i.status).into(),
                due_on_day_off: !calendar.is_business_day(i.due_on),
                pay_by: calendar.grace_end(i.due_on),
            })
            .collect()
    } else {
        let contract = contract_of(&loan, &calendar)?;
        let terms = ScheduleTerms {
            disbursed_on: today,
            ..contract.terms
        };
        let plan = build_schedule(&terms)
            .map_err(|e| AppError::internal(anyhow::anyhow!("stored terms: {e}")))?;
        plan.installments
            .iter()
            .map(|i| ScheduleLine {
                seq: i.seq,
                due_on: i.due_on,
                days: i.days,
                principal_vnd: i64_of(i.principal),
                interest_vnd: i64_of(i.interest),
                total_vnd: i64_of(i.total),
                closing_balance_vnd: i64_of(i.closing_balance),
                paid_principal_vnd: 0,
                paid_interest_vnd: 0,
                status: "future".into(),
                due_on_day_off: !calendar.is_business_day(i.due_on),
                pay_by: calendar.grace_end(i.due_on),
            })
            .collect()
    };
    let total_principal_vnd = installments.iter().map(|i| i.principal_vnd).sum();
    let total_interest_vnd = installments.iter().map(|i| i.interest_vnd).sum();
    Ok(LoanSchedule {
        as_of: today,
        installments,
        total_principal_vnd,
        total_interest_vnd,
    })
}

/// All of a loan's transactions in the order they were recorded (oldest first, so a statement reads
/// top-down), reversals included.
pub async fn transactions(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<Vec<TransactionView>> {
    let loan = visible_loan(db, caller, id).await?;
    let today = fund::business_date(db).await?;
    let (state, all) = state_of(db, &loan, today).await?;
    Ok(all
        .iter()
        .map(|t| transaction_view(t, &all, Some(&state)))
        .collect())
}

/// `?date=` of the payoff quote (default: the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PayoffQuery {
    /// YYYY-MM-DD.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// API.md's payoff quote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoffView {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub overdue_principal_vnd: i64,
    pub unpaid_interest_vnd: i64,
    pub overdue_interest_vnd: i64,
    pub late_interest_vnd: i64,
    pub current_interest_vnd: i64,
    /// Unpaid interest a restructuring moved into installments not yet due: still owed (DOMAIN.md §7).
    pub restructured_interest_vnd: i64,
    pub principal_vnd: i64,
    pub advance_vnd: i64,
    pub total_vnd: i64,
}

impl From<PayoffQuote> for PayoffView {
    fn from(q: PayoffQuote) -> Self {
        PayoffView {
            date: q.date,
            overdue_principal_vnd: i64_of(q.overdue_principal),
            unpaid_interest_vnd: i64_of(q.unpaid_interest),
            overdue_interest_vnd: i64_of(q.overdue_interest),
            late_interest_vnd: i64_of(q.late_interest),
            current_interest_vnd: i64_of(q.current_interest),
            restructured_interest_vnd: i64_of(q.restructured_interest),
            principal_vnd: i64_of(q.principal),
            advance_vnd: i64_of(q.advance),
            total_vnd: i64_of(q.total),
        }
    }
}

/// What settles the loan on `date` (DOMAIN.md §5), with every component.
pub async fn payoff(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    query: PayoffQuery,
) -> AppResult<PayoffView> {
    let loan = visible_loan(db, caller, id).await?;
    let date = match query.date {
        Some(date) => date,
        None => fund::business_date(db).await?,
    };
    let day_count = loan_engine::day_count_of(&loan)?;
    let (state, _) = state_of(db, &loan, date).await?;
    Ok(state.payoff_quote(day_count).into())
}

/// One line of the loan statement.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct StatementLine {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// disbursement, installment_due, advance_applied, repayment, restructure, write_off, recovery.
    pub kind: String,
    pub transaction_id: Option<i64>,
    /// The installment, for installment_due.
    pub seq: Option<u32>,
    pub reference: String,
    pub disbursed_vnd: i64,
    /// Billed on a due date.
    pub principal_due_vnd: i64,
    pub interest_due_vnd: i64,
    /// Cash received.
    pub received_vnd: i64,
    /// Principal paid (overdue, due and prepaid).
    pub paid_principal_vnd: i64,
    /// Contractual interest paid (due and unpaid overdue).
    pub paid_interest_vnd: i64,
    pub paid_overdue_interest_vnd: i64,
    pub paid_late_interest_vnd: i64,
    /// Change of the advance held (+ held, − applied).
    pub advance_change_vnd: i64,
    pub written_off_vnd: i64,
    /// Interest forgiven by a restructuring (late, overdue and contractual), on its `restructure` line.
    pub interest_reduced_vnd: i64,
    /// Running principal outstanding after the line.
    pub principal_balance_vnd: i64,
    /// Running advance held after the line.
    pub advance_balance_vnd: i64,
}

/// The loan statement: every movement in date order with running balances, and totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanStatement {
    pub loan_id: i64,
    pub number: String,
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    pub lines: Vec<StatementLine>,
    pub total_disbursed_vnd: i64,
    pub total_received_vnd: i64,
    pub total_principal_paid_vnd: i64,
    pub total_interest_paid_vnd: i64,
    pub total_overdue_interest_paid_vnd: i64,
    pub total_late_interest_paid_vnd: i64,
    /// Interest forgiven by restructurings.
    pub total_interest_reduced_vnd: i64,
    pub principal_outstanding_vnd: i64,
    pub advance_vnd: i64,
}

fn allocation_line(a: &Allocation, tx: Option<&loan_transaction::Model>) -> StatementLine {
    StatementLine {
        date: a.value_date,
        kind: if a.event_id.is_some() {
            "repayment".into()
        } else {
            "advance_applied".into()
        },
        transaction_id: tx.map(|t| t.id),
        reference: tx.map(|t| t.reference.clone()).unwrap_or_default(),
        received_vnd: i64_of(a.amount),
        paid_principal_vnd: i64_of(a.total_principal()),
        paid_interest_vnd: i64_of(a.interest + a.unpaid_interest),
        paid_overdue_interest_vnd: i64_of(a.overdue_interest),
        paid_late_interest_vnd: i64_of(a.late_interest),
        advance_change_vnd: i64_of(a.advance) - i64_of(a.advance_applied),
        ..Default::default()
    }
}

/// The statement as of the business date (reversed transactions left out: they never happened).
pub async fn statement(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<LoanStatement> {
    let loan = visible_loan(db, caller, id).await?;
    let today = fund::business_date(db).await?;
    let (state, all) = state_of(db, &loan, today).await?;
    let reversed: Vec<i64> = all.iter().filter_map(|t| t.reverses_id).collect();
    // (date, order within the day, line): disbursements, then billing, then the advance, then payments.
    let mut keyed: Vec<(NaiveDate, u8, i64, StatementLine)> = Vec::new();
    for tx in all
        .iter()
        .filter(|t| !reversed.contains(&t.id) && t.kind != kind::REVERSAL)
    {
        let line = StatementLine {
            date: tx.value_date,
            kind: tx.kind.clone(),
            transaction_id: Some(tx.id),
            reference: tx.reference.clone(),
            ..Default::default()
        };
        match tx.kind.as_str() {
            kind::DISBURSEMENT => keyed.push((
                tx.value_date,
                0,
                tx.id,
                StatementLine {
                    disbursed_vnd: tx.amount_vnd,
                    ..line
                },
            )),
            kind::RESTRUCTURE => {
                let tx_id = tx.id.to_string();
                let reduced: Vnd = state
                    .interest_reductions
                    .iter()
                    .filter(|r| r.event_id == tx_id)
                    .map(|r| r.total())
                    .sum();
                keyed.push((
                    tx.value_date,
                    4,
                    tx.id,
                    StatementLine {
                        interest_reduced_vnd: i64_of(reduced),
                        ..line
                    },
                ));
            }
            kind::RECOVERY => keyed.push((
                tx.value_date,
                6,
                tx.id,
                StatementLine {
                    received_vnd: tx.amount_vnd,
                    ..line
                },
            )),
            kind::WRITE_OFF => {
                let written = i64_of(state.written_off_principal);
                keyed.push((
                    tx.value_date,
                    5,
                    tx.id,
                    StatementLine {
                        written_off_vnd: written,
                        ..line
                    },
                ));
            }
            _ => {}
        }
    }
    for installment in state
        .schedule
        .iter()
        .filter(|i| i.billed && i.due_on <= today)
    {
        keyed.push((
            installment.due_on,
            1,
            i64::from(installment.seq),
            StatementLine {
                date: installment.due_on,
                kind: "installment_due".into(),
                seq: Some(installment.seq),
                principal_due_vnd: i64_of(
                    installment.principal - installment.rescheduled_principal,
                ),
                interest_due_vnd: i64_of(installment.interest),
                ..Default::default()
            },
        ));
    }
    for (index, allocation) in state.allocations.iter().enumerate() {
        let tx = allocation
            .event_id
            .as_deref()
            .and_then(|id| all.iter().find(|t| t.id.to_string() == id));
        let order = if tx.is_some() { 3 } else { 2 };
        let tie = tx.map_or(index as i64, |t| t.id);
        keyed.push((
            allocation.value_date,
            order,
            tie,
            allocation_line(allocation, tx),
        ));
    }
    keyed.sort_by_key(|(date, order, tie, _)| (*date, *order, *tie));
    let (mut principal, mut advance) = (0i64, 0i64);
    let mut lines = Vec::with_capacity(keyed.len());
    for (_, _, _, mut line) in keyed {
        principal += line.disbursed_vnd - line.paid_principal_vnd - line.written_off_vnd;
        advance += line.advance_change_vnd;
        line.principal_balance_vnd = principal;
        line.advance_balance_vnd = advance;
        lines.push(line);
    }
    let sum = |f: fn(&StatementLine) -> i64| lines.iter().map(f).sum::<i64>();
    Ok(LoanStatement {
        loan_id: loan.id,
        number: loan.number,
        as_of: today,
        total_disbursed_vnd: sum(|l| l.disbursed_vnd),
        total_received_vnd: sum(|l| l.received_vnd),
        total_principal_paid_vnd: sum(|l| l.paid_principal_vnd),
        total_interest_paid_vnd: sum(|l| l.paid_interest_vnd),
        total_overdue_interest_paid_vnd: sum(|l| l.paid_overdue_interest_vnd),
        total_late_interest_paid_vnd: sum(|l| l.paid_late_interest_vnd),
        total_interest_reduced_vnd: sum(|l| l.interest_reduced_vnd),
        principal_outstanding_vnd: i64_of(state.outstanding_principal()),
        advance_vnd: i64_of(state.advance),
        lines,
    })
}
