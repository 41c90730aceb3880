//! The wire types of `/api/v1/loans` and their follow-ups: each view is the JSON of the record the use
//! case returns (`crate::app::loans`, `crate::app::follow_ups`), field for field, with its OpenAPI
//! schema; request bodies convert into the use case's input.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    classification::DebtGroup, DayCount, LoanStatus, Method, RepaymentKind, TransactionKind, Vnd,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::{follow_ups, loans, page::Page};

/// One page of loans, newest first, each as `GET /loans/{id}` shows it (as of the business date).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanPage {
    pub items: Vec<LoanView>,
    pub next_cursor: Option<String>,
}

impl From<Page<loans::LoanView>> for LoanPage {
    fn from(page: Page<loans::LoanView>) -> LoanPage {
        LoanPage {
            items: page.items.into_iter().map(LoanView::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// What remains of a written-off loan under follow-up, and what was recovered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnderFollowUp {
    #[schema(value_type = String, format = Date)]
    pub written_off_on: NaiveDate,
    /// Principal written off (memo 0042 at the write-off).
    #[schema(value_type = i64)]
    pub written_off_principal_vnd: Vnd,
    /// Interest not recognised at the write-off (memo 0041): unpaid contractual interest.
    #[schema(value_type = i64)]
    pub written_off_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub recovered_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub recovered_interest_vnd: Vnd,
    /// Principal still under follow-up (memo 0042 now).
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    /// Interest not recognised still under follow-up (memo 0041 now).
    #[schema(value_type = i64)]
    pub interest_vnd: Vnd,
    /// principal_vnd + interest_vnd: the most a recovery may be.
    #[schema(value_type = i64)]
    pub total_vnd: Vnd,
    /// When the last of it was recovered (the loan is then `recovered`).
    #[schema(value_type = Option<String>, format = Date)]
    pub recovered_on: Option<NaiveDate>,
}

impl From<follow_ups::UnderFollowUp> for UnderFollowUp {
    fn from(r: follow_ups::UnderFollowUp) -> UnderFollowUp {
        UnderFollowUp {
            written_off_on: r.written_off_on,
            written_off_principal_vnd: r.written_off_principal_vnd,
            written_off_interest_vnd: r.written_off_interest_vnd,
            recovered_principal_vnd: r.recovered_principal_vnd,
            recovered_interest_vnd: r.recovered_interest_vnd,
            principal_vnd: r.principal_vnd,
            interest_vnd: r.interest_vnd,
            total_vnd: r.total_vnd,
            recovered_on: r.recovered_on,
        }
    }
}

/// `POST /loans/{id}/follow-ups` (officer).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    /// visit, letter, legal_case or other.
    pub kind: String,
    /// When it was done (at most the business date).
    #[schema(value_type = String, format = Date)]
    pub acted_on: NaiveDate,
    /// What was done and found (required).
    pub note: String,
}

impl From<FollowUpInput> for follow_ups::FollowUpInput {
    fn from(r: FollowUpInput) -> follow_ups::FollowUpInput {
        follow_ups::FollowUpInput {
            kind: r.kind,
            acted_on: r.acted_on,
            note: r.note,
        }
    }
}

/// One follow-up action.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpView {
    pub id: i64,
    pub loan_id: i64,
    pub kind: String,
    #[schema(value_type = String, format = Date)]
    pub acted_on: NaiveDate,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<follow_ups::FollowUpView> for FollowUpView {
    fn from(r: follow_ups::FollowUpView) -> FollowUpView {
        FollowUpView {
            id: r.id,
            loan_id: r.loan_id,
            kind: r.kind,
            acted_on: r.acted_on,
            note: r.note,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// One recovery in the follow-up file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryLine {
    pub transaction_id: i64,
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    pub reference: String,
    #[schema(value_type = i64)]
    pub amount_vnd: Vnd,
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_vnd: Vnd,
}

impl From<follow_ups::RecoveryLine> for RecoveryLine {
    fn from(r: follow_ups::RecoveryLine) -> RecoveryLine {
        RecoveryLine {
            transaction_id: r.transaction_id,
            value_date: r.value_date,
            reference: r.reference,
            amount_vnd: r.amount_vnd,
            principal_vnd: r.principal_vnd,
            interest_vnd: r.interest_vnd,
        }
    }
}

/// `GET /loans/{id}/follow-ups`: what remains, the recoveries (reversed ones left out) and the actions,
/// oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpFile {
    pub loan_id: i64,
    pub status: String,
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    /// Absent when the loan is not written off.
    pub under_follow_up: Option<UnderFollowUp>,
    pub recoveries: Vec<RecoveryLine>,
    pub actions: Vec<FollowUpView>,
}

impl From<follow_ups::FollowUpFile> for FollowUpFile {
    fn from(r: follow_ups::FollowUpFile) -> FollowUpFile {
        FollowUpFile {
            loan_id: r.loan_id,
            status: r.status,
            as_of: r.as_of,
            under_follow_up: r.under_follow_up.map(Into::into),
            recoveries: r.recoveries.into_iter().map(Into::into).collect(),
            actions: r.actions.into_iter().map(Into::into).collect(),
        }
    }
}

/// The next installment the borrower has to pay something on, and what is still to pay on it net of the
/// advance held (DOMAIN.md §5: the advance is applied on the next due dates, first; an installment it covers
/// in full is skipped). See [`coopfund_domain::owed`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextDue {
    pub seq: u32,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// Principal still to pay on it, after the advance.
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    /// Interest still to pay on it, after the advance (projected on the current balance until it is billed).
    #[schema(value_type = i64)]
    pub interest_vnd: Vnd,
    /// principal_vnd + interest_vnd: what the borrower still has to pay on it.
    #[schema(value_type = i64)]
    pub total_vnd: Vnd,
    /// The part of the advance held that its due date will apply to it (0 once it is billed: the advance
    /// was applied then).
    #[schema(value_type = i64)]
    pub advance_applied_vnd: Vnd,
}

impl From<loans::NextDue> for NextDue {
    fn from(r: loans::NextDue) -> NextDue {
        NextDue {
            seq: r.seq,
            due_on: r.due_on,
            principal_vnd: r.principal_vnd,
            interest_vnd: r.interest_vnd,
            total_vnd: r.total_vnd,
            advance_applied_vnd: r.advance_applied_vnd,
        }
    }
}

/// A loan with its terms and balances as of the business date (`as_of`), the same in the list and for
/// one loan: both fold the loan from its events as of the business date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanView {
    pub id: i64,
    pub number: String,
    /// approved, contract_signed, active, closed, written_off, recovered (written off, then all recovered).
    #[schema(value_type = String)]
    pub status: LoanStatus,
    pub cooperative_id: i64,
    pub product_id: i64,
    pub application_id: i64,
    pub officer_id: Option<i64>,
    /// The approved principal.
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    #[schema(value_type = String)]
    pub rate_percent: Decimal,
    #[schema(value_type = String)]
    pub method: Method,
    pub installments: i32,
    pub period_months: i32,
    pub principal_grace: i32,
    #[schema(value_type = String)]
    pub day_count: DayCount,
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
    #[schema(value_type = i64)]
    pub disbursed_vnd: Vnd,
    #[schema(value_type = i64)]
    pub in_term_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub overdue_principal_vnd: Vnd,
    /// Unpaid contractual interest of installments that fell overdue.
    #[schema(value_type = i64)]
    pub unpaid_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub advance_vnd: Vnd,
    #[schema(value_type = i64)]
    pub written_off_vnd: Vnd,
    /// A written-off loan: what remains under follow-up and what was recovered (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<UnderFollowUp>,
    pub dpd: i64,
    #[schema(value_type = i32)]
    pub debt_group: DebtGroup,
    pub restructure_count: u32,
    pub next_due: Option<NextDue>,
    /// Everything due and overdue today: overdue principal, unpaid overdue interest, overdue and late interest
    /// (rounded as a payment today charges them), and what is unpaid on installments due today. Paying it
    /// makes the loan current; 0 for a closed or written-off loan. The payoff (`/payoff`) adds the principal
    /// not yet due and the current period's interest.
    #[schema(value_type = i64)]
    pub owed_now_vnd: Vnd,
    /// The date the balances are as of: the business date (null only before any business date).
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<loans::LoanView> for LoanView {
    fn from(r: loans::LoanView) -> LoanView {
        LoanView {
            id: r.id,
            number: r.number,
            status: r.status,
            cooperative_id: r.cooperative_id,
            product_id: r.product_id,
            application_id: r.application_id,
            officer_id: r.officer_id,
            principal_vnd: r.principal_vnd,
            rate_percent: r.rate_percent,
            method: r.method,
            installments: r.installments,
            period_months: r.period_months,
            principal_grace: r.principal_grace,
            day_count: r.day_count,
            first_due_on: r.first_due_on,
            contract_number: r.contract_number,
            signed_on: r.signed_on,
            first_disbursed_on: r.first_disbursed_on,
            closed_on: r.closed_on,
            disbursed_vnd: r.disbursed_vnd,
            in_term_principal_vnd: r.in_term_principal_vnd,
            overdue_principal_vnd: r.overdue_principal_vnd,
            unpaid_interest_vnd: r.unpaid_interest_vnd,
            advance_vnd: r.advance_vnd,
            written_off_vnd: r.written_off_vnd,
            follow_up: r.follow_up.map(Into::into),
            dpd: r.dpd,
            debt_group: r.debt_group,
            restructure_count: r.restructure_count,
            next_due: r.next_due.map(Into::into),
            owed_now_vnd: r.owed_now_vnd,
            as_of: r.as_of,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// How a repayment was split (API.md).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct AllocationView {
    #[schema(value_type = i64)]
    pub overdue_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub unpaid_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub overdue_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub late_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub prepaid_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub advance_vnd: Vnd,
    /// Advance held before and used by this payment (a payoff).
    #[schema(value_type = i64)]
    pub advance_applied_vnd: Vnd,
    /// True when this payment settled the loan.
    pub settled_loan: bool,
}

impl From<loans::AllocationView> for AllocationView {
    fn from(r: loans::AllocationView) -> AllocationView {
        AllocationView {
            overdue_principal_vnd: r.overdue_principal_vnd,
            unpaid_interest_vnd: r.unpaid_interest_vnd,
            overdue_interest_vnd: r.overdue_interest_vnd,
            late_interest_vnd: r.late_interest_vnd,
            interest_vnd: r.interest_vnd,
            principal_vnd: r.principal_vnd,
            prepaid_principal_vnd: r.prepaid_principal_vnd,
            advance_vnd: r.advance_vnd,
            advance_applied_vnd: r.advance_applied_vnd,
            settled_loan: r.settled_loan,
        }
    }
}

/// A loan transaction (append-only; a reversal is a new transaction pointing at the original).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransactionView {
    pub id: i64,
    pub loan_id: i64,
    /// disbursement, repayment, restructure, write_off, recovery, reversal.
    #[schema(value_type = String)]
    pub kind: TransactionKind,
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    #[schema(value_type = i64)]
    pub amount_vnd: Vnd,
    pub reference: String,
    /// ordinary or prepayment (repayments).
    #[schema(value_type = Option<String>)]
    pub repayment_kind: Option<RepaymentKind>,
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

impl From<loans::TransactionView> for TransactionView {
    fn from(r: loans::TransactionView) -> TransactionView {
        TransactionView {
            id: r.id,
            loan_id: r.loan_id,
            kind: r.kind,
            value_date: r.value_date,
            amount_vnd: r.amount_vnd,
            reference: r.reference,
            repayment_kind: r.repayment_kind,
            reverses_id: r.reverses_id,
            reversed_by: r.reversed_by,
            reason: r.reason,
            terms: r.terms,
            approved_by: r.approved_by,
            created_by: r.created_by,
            created_at: r.created_at,
            allocation: r.allocation.map(Into::into),
        }
    }
}

/// One installment of the current schedule with what was paid on it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleLine {
    pub seq: u32,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    pub days: i64,
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_vnd: Vnd,
    #[schema(value_type = i64)]
    pub closing_balance_vnd: Vnd,
    #[schema(value_type = i64)]
    pub paid_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub paid_interest_vnd: Vnd,
    /// paid, partly_paid, due, overdue, future (and restructured: moved into a new schedule).
    pub status: &'static str,
    /// The due date is a day off of the fund (weekly day off or holiday, DOMAIN.md §4).
    pub due_on_day_off: bool,
    /// The last day to pay without penalty: `due_on`, or the next business day when it is a day off.
    #[schema(value_type = String, format = Date)]
    pub pay_by: NaiveDate,
}

impl From<loans::ScheduleLine> for ScheduleLine {
    fn from(r: loans::ScheduleLine) -> ScheduleLine {
        ScheduleLine {
            seq: r.seq,
            due_on: r.due_on,
            days: r.days,
            principal_vnd: r.principal_vnd,
            interest_vnd: r.interest_vnd,
            total_vnd: r.total_vnd,
            closing_balance_vnd: r.closing_balance_vnd,
            paid_principal_vnd: r.paid_principal_vnd,
            paid_interest_vnd: r.paid_interest_vnd,
            status: r.status,
            due_on_day_off: r.due_on_day_off,
            pay_by: r.pay_by,
        }
    }
}

/// The current schedule (the preview's shape plus payments), as of the business date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanSchedule {
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    pub installments: Vec<ScheduleLine>,
    #[schema(value_type = i64)]
    pub total_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_interest_vnd: Vnd,
}

impl From<loans::LoanSchedule> for LoanSchedule {
    fn from(r: loans::LoanSchedule) -> LoanSchedule {
        LoanSchedule {
            as_of: r.as_of,
            installments: r.installments.into_iter().map(Into::into).collect(),
            total_principal_vnd: r.total_principal_vnd,
            total_interest_vnd: r.total_interest_vnd,
        }
    }
}

/// API.md's payoff quote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoffView {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    #[schema(value_type = i64)]
    pub overdue_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub unpaid_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub overdue_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub late_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub current_interest_vnd: Vnd,
    /// Unpaid interest a restructuring moved into installments not yet due: still owed (DOMAIN.md §7).
    #[schema(value_type = i64)]
    pub restructured_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub advance_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_vnd: Vnd,
}

impl From<loans::PayoffView> for PayoffView {
    fn from(r: loans::PayoffView) -> PayoffView {
        PayoffView {
            date: r.date,
            overdue_principal_vnd: r.overdue_principal_vnd,
            unpaid_interest_vnd: r.unpaid_interest_vnd,
            overdue_interest_vnd: r.overdue_interest_vnd,
            late_interest_vnd: r.late_interest_vnd,
            current_interest_vnd: r.current_interest_vnd,
            restructured_interest_vnd: r.restructured_interest_vnd,
            principal_vnd: r.principal_vnd,
            advance_vnd: r.advance_vnd,
            total_vnd: r.total_vnd,
        }
    }
}

/// One line of the loan statement ([`coopfund_domain::statement`]).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// disbursement, installment_due, advance_applied, repayment, restructure, write_off, recovery.
    pub kind: &'static str,
    pub transaction_id: Option<i64>,
    /// The installment, for installment_due.
    pub seq: Option<u32>,
    pub reference: String,
    #[schema(value_type = i64)]
    pub disbursed_vnd: Vnd,
    /// Billed on a due date.
    #[schema(value_type = i64)]
    pub principal_due_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_due_vnd: Vnd,
    /// Cash received.
    #[schema(value_type = i64)]
    pub received_vnd: Vnd,
    /// Principal paid (overdue, due and prepaid).
    #[schema(value_type = i64)]
    pub paid_principal_vnd: Vnd,
    /// Contractual interest paid (due and unpaid overdue).
    #[schema(value_type = i64)]
    pub paid_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub paid_overdue_interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub paid_late_interest_vnd: Vnd,
    /// Change of the advance held (+ held, − applied).
    #[schema(value_type = i64)]
    pub advance_change_vnd: Vnd,
    #[schema(value_type = i64)]
    pub written_off_vnd: Vnd,
    /// Interest forgiven by a restructuring (late, overdue and contractual), on its `restructure` line.
    #[schema(value_type = i64)]
    pub interest_reduced_vnd: Vnd,
    /// Running principal outstanding after the line.
    #[schema(value_type = i64)]
    pub principal_balance_vnd: Vnd,
    /// Running advance held after the line.
    #[schema(value_type = i64)]
    pub advance_balance_vnd: Vnd,
}

impl From<loans::StatementLine> for StatementLine {
    fn from(r: loans::StatementLine) -> StatementLine {
        StatementLine {
            date: r.date,
            kind: r.kind,
            transaction_id: r.transaction_id,
            seq: r.seq,
            reference: r.reference,
            disbursed_vnd: r.disbursed_vnd,
            principal_due_vnd: r.principal_due_vnd,
            interest_due_vnd: r.interest_due_vnd,
            received_vnd: r.received_vnd,
            paid_principal_vnd: r.paid_principal_vnd,
            paid_interest_vnd: r.paid_interest_vnd,
            paid_overdue_interest_vnd: r.paid_overdue_interest_vnd,
            paid_late_interest_vnd: r.paid_late_interest_vnd,
            advance_change_vnd: r.advance_change_vnd,
            written_off_vnd: r.written_off_vnd,
            interest_reduced_vnd: r.interest_reduced_vnd,
            principal_balance_vnd: r.principal_balance_vnd,
            advance_balance_vnd: r.advance_balance_vnd,
        }
    }
}

/// The loan statement: every movement in date order with running balances, and totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanStatement {
    pub loan_id: i64,
    pub number: String,
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    pub lines: Vec<StatementLine>,
    #[schema(value_type = i64)]
    pub total_disbursed_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_received_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_principal_paid_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_interest_paid_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_overdue_interest_paid_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_late_interest_paid_vnd: Vnd,
    /// Interest forgiven by restructurings.
    #[schema(value_type = i64)]
    pub total_interest_reduced_vnd: Vnd,
    #[schema(value_type = i64)]
    pub principal_outstanding_vnd: Vnd,
    #[schema(value_type = i64)]
    pub advance_vnd: Vnd,
}

impl From<loans::LoanStatement> for LoanStatement {
    fn from(r: loans::LoanStatement) -> LoanStatement {
        LoanStatement {
            loan_id: r.loan_id,
            number: r.number,
            as_of: r.as_of,
            lines: r.lines.into_iter().map(Into::into).collect(),
            total_disbursed_vnd: r.total_disbursed_vnd,
            total_received_vnd: r.total_received_vnd,
            total_principal_paid_vnd: r.total_principal_paid_vnd,
            total_interest_paid_vnd: r.total_interest_paid_vnd,
            total_overdue_interest_paid_vnd: r.total_overdue_interest_paid_vnd,
            total_late_interest_paid_vnd: r.total_late_interest_paid_vnd,
            total_interest_reduced_vnd: r.total_interest_reduced_vnd,
            principal_outstanding_vnd: r.principal_outstanding_vnd,
            advance_vnd: r.advance_vnd,
        }
    }
}
