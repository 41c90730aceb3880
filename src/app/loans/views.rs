//! What the loan use cases return: a loan, its transactions, schedule, payoff quote and statement as of a date,
//! built from the engine's fold (domain types: [`Vnd`] amounts, [`LoanStatus`], [`TransactionKind`], ...).
//!
//! They are also what a money command writes down inside its unit of work: the response kept for an idempotent
//! retry and the audit record, so their JSON is the API's (amounts serialise as integers of đồng, names as their
//! API spelling); `#[schema]` only documents that JSON.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    classification::DebtGroup, Allocation, DayCount, InstallmentStatus, InstallmentToPay,
    LoanState, LoanStatus, Method, PayoffQuote, RepaymentKind, TransactionKind, Vnd,
};
use rust_decimal::Decimal;
use serde::Serialize;

use super::super::{
    audit::Audited,
    context::AppCtx,
    follow_ups,
    loan_engine::{self, cached_group_of, kind_of, repayment_kind_of, status_of},
};
use crate::{
    error::{AppError, AppResult},
    store::entities::{loan, loan_transaction},
};

/// The next installment the borrower has to pay something on, and what is still to pay on it net of the
/// advance held (DOMAIN.md §5: the advance is applied on the next due dates, first; an installment it covers
/// in full is skipped). See [`coopfund_domain::owed`].
#[derive(Debug, Clone, Serialize)]
pub struct NextDue {
    pub seq: u32,
    pub due_on: NaiveDate,
    /// Principal still to pay on it, after the advance.
    pub principal_vnd: Vnd,
    /// Interest still to pay on it, after the advance (projected on the current balance until it is billed).
    pub interest_vnd: Vnd,
    /// principal_vnd + interest_vnd: what the borrower still has to pay on it.
    pub total_vnd: Vnd,
    /// The part of the advance held that its due date will apply to it (0 once it is billed: the advance
    /// was applied then).
    pub advance_applied_vnd: Vnd,
}

impl From<InstallmentToPay> for NextDue {
    fn from(next: InstallmentToPay) -> Self {
        NextDue {
            seq: next.seq,
            due_on: next.due_on,
            principal_vnd: next.principal,
            interest_vnd: next.interest,
            total_vnd: next.total(),
            advance_applied_vnd: next.advance_applied,
        }
    }
}

/// A loan with its terms and balances as of the business date (`as_of`), the same in the list and for
/// one loan: both fold the loan from its events as of the business date.
#[derive(Debug, Clone, Serialize)]
pub struct LoanView {
    pub id: i64,
    pub number: String,
    /// approved, contract_signed, active, closed, written_off, recovered (written off, then all recovered).
    pub status: LoanStatus,
    pub cooperative_id: i64,
    pub product_id: i64,
    pub application_id: i64,
    pub officer_id: Option<i64>,
    /// The approved principal.
    pub principal_vnd: Vnd,
    pub rate_percent: Decimal,
    pub method: Method,
    pub installments: i32,
    pub period_months: i32,
    pub principal_grace: i32,
    pub day_count: DayCount,
    pub first_due_on: Option<NaiveDate>,
    pub contract_number: Option<String>,
    pub signed_on: Option<NaiveDate>,
    pub first_disbursed_on: Option<NaiveDate>,
    /// Settlement or write-off date.
    pub closed_on: Option<NaiveDate>,
    pub disbursed_vnd: Vnd,
    pub in_term_principal_vnd: Vnd,
    pub overdue_principal_vnd: Vnd,
    /// Unpaid contractual interest of installments that fell overdue.
    pub unpaid_interest_vnd: Vnd,
    pub advance_vnd: Vnd,
    pub written_off_vnd: Vnd,
    /// A written-off loan: what remains under follow-up and what was recovered (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<follow_ups::UnderFollowUp>,
    pub dpd: i64,
    pub debt_group: DebtGroup,
    pub restructure_count: u32,
    pub next_due: Option<NextDue>,
    /// Everything due and overdue today: overdue principal, unpaid overdue interest, overdue and late interest
    /// (rounded as a payment today charges them), and what is unpaid on installments due today. Paying it
    /// makes the loan current; 0 for a closed or written-off loan. The payoff (`/payoff`) adds the principal
    /// not yet due and the current period's interest.
    pub owed_now_vnd: Vnd,
    /// The date the balances are as of: the business date (null only before any business date).
    pub as_of: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn count_of(loan: &loan::Model, what: &str, value: i32) -> AppResult<u32> {
    u32::try_from(value).map_err(|_| AppError::unreadable("loan", loan.id, what, value))
}

impl LoanView {
    /// The row as cached (balances as of `balances_as_of`, which a money command reads through
    /// `ledger::effective_balances_as_of` before it gets here; nothing the cache does not hold: no unpaid
    /// interest, write-off, next due or amount owed). Only the "before" of an audit record; every view a
    /// client reads is [`LoanView::live`].
    pub(super) fn cached(m: loan::Model) -> AppResult<LoanView> {
        Ok(LoanView {
            status: status_of(&m)?,
            rate_percent: loan_engine::rate_of(&m)?,
            method: loan_engine::method_of(&m)?,
            day_count: loan_engine::day_count_of(&m)?,
            debt_group: cached_group_of(&m)?,
            restructure_count: count_of(&m, "restructure_count", m.restructure_count)?,
            id: m.id,
            number: m.number,
            cooperative_id: m.cooperative_id,
            product_id: m.product_id,
            application_id: m.application_id,
            officer_id: m.officer_id,
            principal_vnd: Vnd::from_i64(m.principal_vnd),
            installments: m.installments,
            period_months: m.period_months,
            principal_grace: m.principal_grace,
            first_due_on: m.first_due_on,
            contract_number: m.contract_number,
            signed_on: m.signed_on,
            first_disbursed_on: m.first_disbursed_on,
            closed_on: m.closed_on,
            disbursed_vnd: Vnd::from_i64(m.disbursed_vnd),
            in_term_principal_vnd: Vnd::from_i64(m.in_term_principal_vnd),
            overdue_principal_vnd: Vnd::from_i64(m.overdue_principal_vnd),
            unpaid_interest_vnd: Vnd::ZERO,
            advance_vnd: Vnd::from_i64(m.advance_vnd),
            written_off_vnd: Vnd::ZERO,
            follow_up: None,
            dpd: i64::from(m.dpd),
            next_due: None,
            owed_now_vnd: Vnd::ZERO,
            as_of: m.balances_as_of,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }

    /// The live view: balances from the engine's fold as of `as_of` (the list and the detail both).
    pub(super) fn live(
        ctx: &AppCtx,
        m: loan::Model,
        state: &LoanState,
        as_of: NaiveDate,
    ) -> AppResult<LoanView> {
        let cached = LoanView::cached(m.clone())?;
        let own = coopfund_domain::loan_group(state, &ctx.policy.classification);
        let group = coopfund_domain::shown_group(own, cached.debt_group);
        // The allocation order does not depend on the calendar.
        let order = loan_engine::contract_of(&m, &coopfund_domain::HolidayCalendar::none())?
            .allocation_order;
        let open = state.disbursed.is_positive() && state.written_off_on.is_none();
        Ok(LoanView {
            status: cached.status.after_fold(state),
            first_disbursed_on: state.first_disbursed_on,
            closed_on: state.closed_on.or(state.written_off_on),
            disbursed_vnd: state.disbursed,
            in_term_principal_vnd: state.in_term_principal,
            overdue_principal_vnd: state.overdue_principal,
            unpaid_interest_vnd: state.unpaid_interest,
            advance_vnd: state.advance,
            written_off_vnd: state.written_off_principal,
            follow_up: follow_ups::under_follow_up(state),
            dpd: state.dpd,
            debt_group: group,
            restructure_count: state.restructure_count,
            next_due: open
                .then(|| coopfund_domain::next_to_pay(state, &order).map(NextDue::from))
                .flatten(),
            owed_now_vnd: coopfund_domain::owed_now(state).total(),
            as_of: Some(as_of),
            ..cached
        })
    }
}

/// A loan's audit records name it by its id.
impl Audited for LoanView {
    const ENTITY_TYPE: &'static str = "loan";
    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

/// How a repayment was split (API.md).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AllocationView {
    pub overdue_principal_vnd: Vnd,
    pub unpaid_interest_vnd: Vnd,
    pub overdue_interest_vnd: Vnd,
    pub late_interest_vnd: Vnd,
    pub interest_vnd: Vnd,
    pub principal_vnd: Vnd,
    pub prepaid_principal_vnd: Vnd,
    pub advance_vnd: Vnd,
    /// Advance held before and used by this payment (a payoff).
    pub advance_applied_vnd: Vnd,
    /// True when this payment settled the loan.
    pub settled_loan: bool,
}

impl From<&Allocation> for AllocationView {
    fn from(a: &Allocation) -> Self {
        AllocationView {
            overdue_principal_vnd: a.overdue_principal,
            unpaid_interest_vnd: a.unpaid_interest,
            overdue_interest_vnd: a.overdue_interest,
            late_interest_vnd: a.late_interest,
            interest_vnd: a.interest,
            principal_vnd: a.principal,
            prepaid_principal_vnd: a.prepaid_principal,
            advance_vnd: a.advance,
            advance_applied_vnd: a.advance_applied,
            settled_loan: a.settled_loan,
        }
    }
}

/// A loan transaction (append-only; a reversal is a new transaction pointing at the original).
#[derive(Debug, Clone, Serialize)]
pub struct TransactionView {
    pub id: i64,
    pub loan_id: i64,
    /// disbursement, repayment, restructure, write_off, recovery, reversal.
    pub kind: TransactionKind,
    pub value_date: NaiveDate,
    pub amount_vnd: Vnd,
    pub reference: String,
    /// ordinary or prepayment (repayments).
    pub repayment_kind: Option<RepaymentKind>,
    /// For a reversal: the transaction it cancels.
    pub reverses_id: Option<i64>,
    /// The reversal that cancelled this transaction, if any.
    pub reversed_by: Option<i64>,
    pub reason: Option<String>,
    /// Restructuring terms, when a restructuring.
    pub terms: Option<serde_json::Value>,
    pub approved_by: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// A repayment's allocation as the loan stands now (a back-dated event may change it).
    pub allocation: Option<AllocationView>,
}

impl TransactionView {
    /// Transaction `tx` of the loan whose transactions are `all`, its allocation (a repayment's) or split (a
    /// recovery's) as `state` has it.
    pub(crate) fn of(
        tx: &loan_transaction::Model,
        all: &[loan_transaction::Model],
        state: &LoanState,
    ) -> AppResult<TransactionView> {
        let id_text = tx.id.to_string();
        let kind = kind_of(tx)?;
        let allocation = match kind {
            TransactionKind::Repayment => state
                .allocations
                .iter()
                .find(|a| a.event_id.as_deref() == Some(id_text.as_str()))
                .map(AllocationView::from),
            // A recovery's split: written-off principal (principal_vnd) and interest not recognised
            // (interest_vnd).
            TransactionKind::Recovery => follow_ups::recovery_split(state, &id_text),
            _ => None,
        };
        // The terms as stored (checked readable), so older rows show exactly what they recorded.
        let terms = match loan_engine::restructure_terms_of(tx)? {
            Some(_) => Some(serde_json::from_str(&tx.details).map_err(AppError::internal)?),
            None => None,
        };
        Ok(TransactionView {
            id: tx.id,
            loan_id: tx.loan_id,
            kind,
            value_date: tx.value_date,
            amount_vnd: Vnd::from_i64(tx.amount_vnd),
            reference: tx.reference.clone(),
            repayment_kind: repayment_kind_of(tx)?,
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
        })
    }
}

/// One installment of the current schedule with what was paid on it.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleLine {
    pub seq: u32,
    pub due_on: NaiveDate,
    pub days: i64,
    pub principal_vnd: Vnd,
    pub interest_vnd: Vnd,
    pub total_vnd: Vnd,
    pub closing_balance_vnd: Vnd,
    pub paid_principal_vnd: Vnd,
    pub paid_interest_vnd: Vnd,
    /// paid, partly_paid, due, overdue, future (and restructured: moved into a new schedule).
    pub status: &'static str,
    /// The due date is a day off of the fund (weekly day off or holiday, DOMAIN.md §4).
    pub due_on_day_off: bool,
    /// The last day to pay without penalty: `due_on`, or the next business day when it is a day off.
    pub pay_by: NaiveDate,
}

/// The API spelling of an installment's status.
pub fn installment_status_name(status: InstallmentStatus) -> &'static str {
    match status {
        InstallmentStatus::Paid => "paid",
        InstallmentStatus::PartlyPaid => "partly_paid",
        InstallmentStatus::Due => "due",
        InstallmentStatus::Overdue => "overdue",
        InstallmentStatus::Future => "future",
        InstallmentStatus::Restructured => "restructured",
    }
}

/// The current schedule (the preview's shape plus payments), as of the business date.
#[derive(Debug, Clone, Serialize)]
pub struct LoanSchedule {
    pub as_of: NaiveDate,
    pub installments: Vec<ScheduleLine>,
    pub total_principal_vnd: Vnd,
    pub total_interest_vnd: Vnd,
}

/// API.md's payoff quote.
#[derive(Debug, Clone, Serialize)]
pub struct PayoffView {
    pub date: NaiveDate,
    pub overdue_principal_vnd: Vnd,
    pub unpaid_interest_vnd: Vnd,
    pub overdue_interest_vnd: Vnd,
    pub late_interest_vnd: Vnd,
    pub current_interest_vnd: Vnd,
    /// Unpaid interest a restructuring moved into installments not yet due: still owed (DOMAIN.md §7).
    pub restructured_interest_vnd: Vnd,
    pub principal_vnd: Vnd,
    pub advance_vnd: Vnd,
    pub total_vnd: Vnd,
}

impl From<PayoffQuote> for PayoffView {
    fn from(q: PayoffQuote) -> Self {
        PayoffView {
            date: q.date,
            overdue_principal_vnd: q.overdue_principal,
            unpaid_interest_vnd: q.unpaid_interest,
            overdue_interest_vnd: q.overdue_interest,
            late_interest_vnd: q.late_interest,
            current_interest_vnd: q.current_interest,
            restructured_interest_vnd: q.restructured_interest,
            principal_vnd: q.principal,
            advance_vnd: q.advance,
            total_vnd: q.total,
        }
    }
}

/// One line of the loan statement ([`mod@coopfund_domain::statement`]).
#[derive(Debug, Clone, Serialize)]
pub struct StatementLine {
    pub date: NaiveDate,
    /// disbursement, installment_due, advance_applied, repayment, restructure, write_off, recovery.
    pub kind: &'static str,
    pub transaction_id: Option<i64>,
    /// The installment, for installment_due.
    pub seq: Option<u32>,
    pub reference: String,
    pub disbursed_vnd: Vnd,
    /// Billed on a due date.
    pub principal_due_vnd: Vnd,
    pub interest_due_vnd: Vnd,
    /// Cash received.
    pub received_vnd: Vnd,
    /// Principal paid (overdue, due and prepaid).
    pub paid_principal_vnd: Vnd,
    /// Contractual interest paid (due and unpaid overdue).
    pub paid_interest_vnd: Vnd,
    pub paid_overdue_interest_vnd: Vnd,
    pub paid_late_interest_vnd: Vnd,
    /// Change of the advance held (+ held, − applied).
    pub advance_change_vnd: Vnd,
    pub written_off_vnd: Vnd,
    /// Interest forgiven by a restructuring (late, overdue and contractual), on its `restructure` line.
    pub interest_reduced_vnd: Vnd,
    /// Running principal outstanding after the line.
    pub principal_balance_vnd: Vnd,
    /// Running advance held after the line.
    pub advance_balance_vnd: Vnd,
}

impl From<&coopfund_domain::StatementLine> for StatementLine {
    fn from(line: &coopfund_domain::StatementLine) -> Self {
        StatementLine {
            date: line.date,
            kind: line.kind.as_str(),
            transaction_id: line.transaction_id,
            seq: line.seq,
            reference: line.reference.clone(),
            disbursed_vnd: line.moved.disbursed,
            principal_due_vnd: line.moved.principal_due,
            interest_due_vnd: line.moved.interest_due,
            received_vnd: line.moved.received,
            paid_principal_vnd: line.moved.paid_principal,
            paid_interest_vnd: line.moved.paid_interest,
            paid_overdue_interest_vnd: line.moved.paid_overdue_interest,
            paid_late_interest_vnd: line.moved.paid_late_interest,
            advance_change_vnd: line.advance_change,
            written_off_vnd: line.moved.written_off,
            interest_reduced_vnd: line.interest_reduced,
            principal_balance_vnd: line.principal_balance,
            advance_balance_vnd: line.advance_balance,
        }
    }
}

/// The loan statement: every movement in date order with running balances, and totals.
#[derive(Debug, Clone, Serialize)]
pub struct LoanStatement {
    pub loan_id: i64,
    pub number: String,
    pub as_of: NaiveDate,
    pub lines: Vec<StatementLine>,
    pub total_disbursed_vnd: Vnd,
    pub total_received_vnd: Vnd,
    pub total_principal_paid_vnd: Vnd,
    pub total_interest_paid_vnd: Vnd,
    pub total_overdue_interest_paid_vnd: Vnd,
    pub total_late_interest_paid_vnd: Vnd,
    /// Interest forgiven by restructurings.
    pub total_interest_reduced_vnd: Vnd,
    pub principal_outstanding_vnd: Vnd,
    pub advance_vnd: Vnd,
}

impl LoanStatement {
    /// The statement of loan `loan` as the domain computed it.
    pub(super) fn of(loan: &loan::Model, statement: coopfund_domain::Statement) -> LoanStatement {
        LoanStatement {
            loan_id: loan.id,
            number: loan.number.clone(),
            as_of: statement.as_of,
            lines: statement.lines.iter().map(StatementLine::from).collect(),
            total_disbursed_vnd: statement.total_disbursed,
            total_received_vnd: statement.total_received,
            total_principal_paid_vnd: statement.total_principal_paid,
            total_interest_paid_vnd: statement.total_interest_paid,
            total_overdue_interest_paid_vnd: statement.total_overdue_interest_paid,
            total_late_interest_paid_vnd: statement.total_late_interest_paid,
            total_interest_reduced_vnd: statement.total_interest_reduced,
            principal_outstanding_vnd: statement.principal_outstanding,
            advance_vnd: statement.advance,
        }
    }
}
