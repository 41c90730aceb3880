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

view! {
    /// One page of loans, newest first, each as `GET /loans/{id}` shows it (as of the business date).
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct LoanPage from Page<loans::LoanView> {
        pub items: Vec<LoanView> [each],
        pub next_cursor: Option<String>,
    }
}

view! {
    /// What remains of a written-off loan under follow-up, and what was recovered.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct UnderFollowUp from follow_ups::UnderFollowUp {
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
}

view! {
    /// `POST /loans/{id}/follow-ups` (officer).
    #[derive(Debug, Clone, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct FollowUpInput into follow_ups::FollowUpInput {
        /// visit, letter, legal_case or other.
        pub kind: String,
        /// When it was done (at most the business date).
        #[schema(value_type = String, format = Date)]
        pub acted_on: NaiveDate,
        /// What was done and found (required).
        pub note: String,
    }
}

view! {
    /// One follow-up action.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct FollowUpView from follow_ups::FollowUpView {
        pub id: i64,
        pub loan_id: i64,
        #[schema(value_type = String)]
        pub kind: follow_ups::ActionKind,
        #[schema(value_type = String, format = Date)]
        pub acted_on: NaiveDate,
        pub note: String,
        pub created_by: Option<i64>,
        pub created_at: DateTime<Utc>,
    }
}

view! {
    /// One recovery in the follow-up file.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct RecoveryLine from follow_ups::RecoveryLine {
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
}

view! {
    /// `GET /loans/{id}/follow-ups`: what remains, the recoveries (reversed ones left out) and the actions,
    /// oldest first.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct FollowUpFile from follow_ups::FollowUpFile {
        pub loan_id: i64,
        pub status: String,
        #[schema(value_type = String, format = Date)]
        pub as_of: NaiveDate,
        /// Absent when the loan is not written off.
        pub under_follow_up: Option<UnderFollowUp> [map],
        pub recoveries: Vec<RecoveryLine> [each],
        pub actions: Vec<FollowUpView> [each],
    }
}

view! {
    /// The next installment the borrower has to pay something on, and what is still to pay on it net of the
    /// advance held (DOMAIN.md §5: the advance is applied on the next due dates, first; an installment it covers
    /// in full is skipped). See [`coopfund_domain::owed`].
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct NextDue from loans::NextDue {
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
}

view! {
    /// A loan with its terms and balances as of the business date (`as_of`), the same in the list and for
    /// one loan: both fold the loan from its events as of the business date.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct LoanView from loans::LoanView {
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
        pub follow_up: Option<UnderFollowUp> [map],
        pub dpd: i64,
        #[schema(value_type = i32)]
        pub debt_group: DebtGroup,
        pub restructure_count: u32,
        pub next_due: Option<NextDue> [map],
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
}

view! {
    /// How a repayment was split (API.md).
    #[derive(Debug, Clone, Default, Serialize, ToSchema)]
    pub struct AllocationView from loans::AllocationView {
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
}

view! {
    /// A loan transaction (append-only; a reversal is a new transaction pointing at the original).
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct TransactionView from loans::TransactionView {
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
        pub allocation: Option<AllocationView> [map],
    }
}

view! {
    /// One installment of the current schedule with what was paid on it.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct ScheduleLine from loans::ScheduleLine {
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
}

view! {
    /// The current schedule (the preview's shape plus payments), as of the business date.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct LoanSchedule from loans::LoanSchedule {
        #[schema(value_type = String, format = Date)]
        pub as_of: NaiveDate,
        pub installments: Vec<ScheduleLine> [each],
        #[schema(value_type = i64)]
        pub total_principal_vnd: Vnd,
        #[schema(value_type = i64)]
        pub total_interest_vnd: Vnd,
    }
}

view! {
    /// API.md's payoff quote.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct PayoffView from loans::PayoffView {
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
}

view! {
    /// One line of the loan statement ([`mod@coopfund_domain::statement`]).
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct StatementLine from loans::StatementLine {
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
}

view! {
    /// The loan statement: every movement in date order with running balances, and totals.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct LoanStatement from loans::LoanStatement {
        pub loan_id: i64,
        pub number: String,
        #[schema(value_type = String, format = Date)]
        pub as_of: NaiveDate,
        pub lines: Vec<StatementLine> [each],
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
}
