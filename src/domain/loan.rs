//! What a borrower really owes: the loan's state as a pure fold of its events (DOMAIN.md §4, §5, §7).
//!
//! The schedule is the plan; what is owed follows what really happened. [`fold`] replays a loan's events
//! (disbursements, repayments, restructurings, write-off; reversed events are dropped) over calendar days and
//! returns the [`LoanState`] as of a date. A back-dated event or a reversal is handled by replaying from scratch:
//! the fold is fast because it moves **segment by segment** — balances are constant between two "key days" (an
//! event, a due date, the end of an on-time window), so a segment of k days accrues `balance × rate × k` at once.
//!
//! ## Daily accrual (Circular 14/2017/TT-NHNN: actual days / 365, end-of-day balance)
//! For each day d, on the balances at the **end** of d:
//! - contractual interest += principal not yet due × R/100/365 (`per_period`: × R/100 × (m/12) / days_k);
//! - overdue interest += overdue principal × R/100 × multiplier/365 (Circular 39/2016 Art 13(4), Civil Code 2015
//!   Art 466: at most 150% of the in-term rate; it replaces the in-term rate, it is not added to it);
//! - late interest += unpaid overdue contractual interest × late rate/365 (Civil Code 2015 Art 466(5): ≤ 10%/yr).
//!
//! Accruals are kept as exact numerators (`Σ balance × rate × days`) and divided only when read, so splitting a
//! segment anywhere gives the very same state (property-tested), and rounding happens only where §2 says.
//!
//! ## Due dates
//! At the **start** of a due date the installment is billed: its interest = round(contractual interest accrued over
//! [due_{k−1}, due_k)), its principal per the schedule; an advance held is applied to it at once (§5). Payments of
//! that day then pay it on time. At the **end** of the last on-time day (the due date, or the next business day
//! when the due date is not one, §4) whatever is unpaid falls overdue: principal moves from in-term to overdue,
//! interest becomes unpaid overdue interest.
//!
//! Choices where DOMAIN.md is silent (also listed in the crate docs):
//! - The schedule starts at the **first disbursement's value date** (D0), on that disbursement's amount, with the
//!   contract's other terms; a configured first due date is kept.
//! - Billed principal still inside an on-time window (a holiday due date) no longer accrues contractual interest,
//!   and bears no overdue interest until the window ends: paying on the next business day costs nothing extra.
//!   DPD still counts from the contractual due date once the window has passed.
//! - **Tranches**: a later disbursement is added to the principal not yet due and the remaining (unbilled)
//!   installments are rebuilt with the loan's method: annuity → a new level installment over the remaining
//!   dates; equal principal → the whole balance not yet due spread evenly again (last takes the rest); bullet →
//!   all at maturity. A disbursement after the last due date is refused; the total disbursed never exceeds the
//!   approved principal.
//! - **Restructuring** (Decree 45/2021 Art 27): on its effective date all unpaid principal (in term and overdue)
//!   is rescheduled over the new due dates (method, period and grace of the restructuring); the unpaid
//!   contractual interest (overdue, due that day, or carried by an earlier restructuring) is carried into the
//!   first new installment and stays in every payoff quote until paid ([`PayoffQuote::restructured_interest`]);
//!   accrued overdue and late interest stay owed (they are paid through the allocation order). A restructuring
//!   forgives nothing but its explicit `interest_reduction` in đồng (DOMAIN.md §7), taken from late interest,
//!   then overdue interest, then the carried contractual interest (penalty interest is what a lender gives up
//!   first), at most what is owed of those; it is kept in [`LoanState::interest_reductions`] and booked on memo
//!   0043. Nor can it be above the payoff net of the advance the borrower already paid
//!   ([`LoanError::InterestReductionAbovePayoff`]): forgiving interest the advance is there to pay would leave the
//!   fund owing the borrower money, which no command here refunds. Choice (DOMAIN.md §7 is silent): refused,
//!   naming the most that can be forgiven, rather than capped silently. An *adjustment* must keep the final maturity, an *extension* must move it later. Each one is counted
//!   ([`LoanState::restructure_count`]) for classification (§8).
//! - **Write-off** moves all principal out (written off, followed up off balance) and stops every accrual; the
//!   schedule is frozen as it stood (nothing more is billed or falls overdue, so the balances stay at zero however
//!   late the loan is replayed); later repayments, disbursements and restructurings are refused.
//! - **Recoveries** (Decree 45/2021 Art 29: written-off debts stay under follow-up, DOMAIN.md §9): money recovered
//!   on a written-off loan ([`EventKind::Recovery`]). What remains under follow-up is the principal written off
//!   and the *interest not recognised* at the write-off date ([`LoanState::written_off_interest`]: the unpaid
//!   contractual interest, billed or accrued, net of what a restructuring forgave — the memo 0041 balance).
//!   Overdue and late interest accrued until the write-off are not followed up: they were never booked, not even
//!   off balance, so a recovery of them could not be matched against any account; a fund that wins them in court
//!   records the surplus outside the loan. A recovery pays the principal first, then the interest
//!   ([`Recovery`]); one above what remains is refused naming the remaining amount; when nothing remains the loan
//!   is recovered ([`LoanState::recovered_on`]). A recovery dated before the write-off is refused (the loan is
//!   not written off yet on that date); a reversal replays without it, like any event.
//! - A payment on a settled loan is refused as above the payoff (which is 0); a disbursement on it as closed.
//! - Overdue and late interest are charged as round(accrued) when a payment reaches them; a part payment leaves
//!   the exact remainder accruing; a full payment of the rounded charge clears the sub-đồng residue.
//! - The contractual interest "accrued" used for postings is Σ billed interest + the current period's exact
//!   accrual, so the receivable always equals what was billed and is unpaid, to the đồng.

use crate::allocation::{
    Allocation, AllocationOrder, Bucket, PayoffQuote, PrepaymentRule, RepaymentKind,
};
use crate::calendar::{days_between, HolidayCalendar};
use crate::explain::{ExplainError, Explanation, Step, Trace, TRACED_FIELDS};
use crate::limits::{LATE_RATE_PERCENT_MAX, OVERDUE_MULTIPLIER_MAX};
use crate::money::{round_half_up_to_dong, Vnd};
use crate::schedule::{
    amortize, build_schedule, due_dates, AmortizationPlan, DayCount, Method, ScheduleTerms,
    TermsError, ALLOWED_PERIOD_MONTHS, MAX_INSTALLMENTS,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The denominator of actual/365 accruals with rates in percent: 100 × 365.
const ACTUAL_365_DENOMINATOR: Decimal = Decimal::from_parts(36_500, 0, 0, false, 0);

/// A signed loan contract: the schedule terms and the product's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanContract {
    /// The terms: `principal` is the approved principal; `disbursed_on` is replaced by the first disbursement's
    /// value date when the loan is folded.
    pub terms: ScheduleTerms,
    /// Overdue rate as a multiple of the in-term rate (default 1.5, at most 1.5).
    pub overdue_multiplier: Decimal,
    /// Late interest on unpaid interest, percent per year (default 10, at most 10).
    pub late_rate_percent: Decimal,
    /// The product's allocation order.
    pub allocation_order: AllocationOrder,
    /// What a prepayment's excess does.
    pub prepayment_rule: PrepaymentRule,
    /// The fund's business days (on-time rule of §4).
    pub calendar: HolidayCalendar,
}

impl LoanContract {
    /// A contract with DOMAIN.md's defaults: multiplier 1.5, late rate 10%, default order, shorten the term, no
    /// holidays.
    pub fn new(terms: ScheduleTerms) -> LoanContract {
        LoanContract {
            terms,
            overdue_multiplier: OVERDUE_MULTIPLIER_MAX,
            late_rate_percent: LATE_RATE_PERCENT_MAX,
            allocation_order: AllocationOrder::default(),
            prepayment_rule: PrepaymentRule::ShortenTerm,
            calendar: HolidayCalendar::none(),
        }
    }

    /// Checks the terms (§3) and the rate caps (§6).
    pub fn validate(&self) -> Result<(), LoanError> {
        self.terms.validate()?;
        if self.overdue_multiplier < Decimal::ONE
            || self.overdue_multiplier > OVERDUE_MULTIPLIER_MAX
        {
            return Err(LoanError::OverdueMultiplierOutOfRange(
                self.overdue_multiplier,
            ));
        }
        if self.late_rate_percent < Decimal::ZERO || self.late_rate_percent > LATE_RATE_PERCENT_MAX
        {
            return Err(LoanError::LateRateOutOfRange(self.late_rate_percent));
        }
        Ok(())
    }
}

/// Schedule adjustment or extension (Decree 45/2021 Art 27, DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestructureKind {
    /// Due dates move, the final maturity is unchanged.
    Adjustment,
    /// The final maturity moves later.
    Extension,
}

/// The new schedule for the remaining balance. Its JSON (the names as the API spells them) is what a `restructure`
/// transaction keeps in its details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Restructure {
    /// Adjustment or extension.
    pub kind: RestructureKind,
    /// The first new due date (after the effective date).
    pub first_due_on: NaiveDate,
    /// How many new installments.
    pub installments: u32,
    /// Months between new due dates (1, 3, 6 or 12).
    pub period_months: u32,
    /// The method of the new schedule.
    pub method: Method,
    /// New installments paying interest only at the start.
    pub principal_grace: u32,
    /// Interest was waived or reduced (classification §8 puts the loan at least in group 3).
    pub interest_reduced: bool,
    /// The interest forgiven, in đồng (DOMAIN.md §7: a restructuring forgives nothing unless it says so with an
    /// amount). It is taken from late interest, then overdue interest, then the unpaid contractual interest moved
    /// into the new schedule; it can be at most what is owed in those three. Stored as `interest_reduction_vnd`;
    /// rows written before it existed forgave nothing: 0.
    #[serde(rename = "interest_reduction_vnd", default)]
    pub interest_reduction: Vnd,
}

/// What happened to a loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Money lent (a tranche).
    Disbursement {
        /// Amount disbursed.
        amount: Vnd,
    },
    /// Money received.
    Repayment {
        /// Amount received.
        amount: Vnd,
        /// Ordinary or prepayment.
        kind: RepaymentKind,
    },
    /// A new schedule for the remaining balance.
    Restructure(Restructure),
    /// The loan is written off against its provision.
    WriteOff,
    /// Money recovered on a written-off loan (module docs): principal written off first, then interest not
    /// recognised.
    Recovery {
        /// Amount received.
        amount: Vnd,
    },
    /// Cancels the event with this id (it is dropped and the loan replayed as if it never happened).
    Reversal {
        /// The id of the reversed event.
        reversed_id: String,
    },
}

/// One event of a loan, ordered by (`value_date`, `sequence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanEvent {
    /// The transaction's id in the store.
    pub id: String,
    /// The value date (business date the event takes effect).
    pub value_date: NaiveDate,
    /// Tie-break within a value date (e.g. the store's insertion order).
    pub sequence: u64,
    /// What happened.
    pub kind: EventKind,
}

impl LoanEvent {
    /// A disbursement.
    pub fn disbursement(
        id: impl Into<String>,
        value_date: NaiveDate,
        sequence: u64,
        amount: Vnd,
    ) -> LoanEvent {
        LoanEvent {
            id: id.into(),
            value_date,
            sequence,
            kind: EventKind::Disbursement { amount },
        }
    }

    /// A repayment of the given kind.
    pub fn repayment(
        id: impl Into<String>,
        value_date: NaiveDate,
        sequence: u64,
        amount: Vnd,
        kind: RepaymentKind,
    ) -> LoanEvent {
        LoanEvent {
            id: id.into(),
            value_date,
            sequence,
            kind: EventKind::Repayment { amount, kind },
        }
    }
}

/// Why an event cannot be applied, or a contract is invalid. Each variant has a stable [`code`](LoanError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoanError {
    /// The schedule terms (or a restructuring's) are impossible.
    #[error(transparent)]
    Terms(#[from] TermsError),
    /// Multiplier outside 1..=1.5.
    #[error("the overdue multiplier {0} must be between 1 and 1.5")]
    OverdueMultiplierOutOfRange(Decimal),
    /// Late rate outside 0..=10.
    #[error("the late interest rate {0}% must be between 0 and 10% per year")]
    LateRateOutOfRange(Decimal),
    /// An amount ≤ 0.
    #[error("the amount must be positive, got {0}")]
    AmountNotPositive(Vnd),
    /// An amount > 10^15.
    #[error("the amount {0} is above the supported maximum of 10^15 đồng")]
    AmountTooLarge(Vnd),
    /// The tranche would take the total disbursed above the approved principal.
    #[error("disbursing {requested} would exceed the approved principal {approved} ({disbursed} already disbursed)")]
    DisbursementAboveApproved {
        /// Approved principal.
        approved: Vnd,
        /// Disbursed before this tranche.
        disbursed: Vnd,
        /// This tranche.
        requested: Vnd,
    },
    /// A tranche dated after the last due date.
    #[error("a tranche cannot be disbursed after the last due date")]
    TrancheAfterMaturity,
    /// A repayment, restructuring or write-off before any disbursement.
    #[error("the loan has not been disbursed")]
    NotDisbursed,
    /// A payment above the payoff (DOMAIN.md §5).
    #[error("the payment {amount} is above the payoff of {payoff}")]
    PaymentAbovePayoff {
        /// The payment.
        amount: Vnd,
        /// What settles the loan that day.
        payoff: Vnd,
    },
    /// The loan is settled.
    #[error("the loan was settled on {closed_on}")]
    LoanClosed {
        /// Settlement date.
        closed_on: NaiveDate,
    },
    /// The loan is written off.
    #[error("the loan was written off on {written_off_on}")]
    LoanWrittenOff {
        /// Write-off date.
        written_off_on: NaiveDate,
    },
    /// A recovery on a loan that is not written off (on the recovery's value date).
    #[error("only a written-off loan takes recoveries")]
    LoanNotWrittenOff,
    /// A recovery above what remains under follow-up.
    #[error("the recovery {amount} is above the {remaining} still under follow-up")]
    RecoveryAboveRemaining {
        /// The recovery.
        amount: Vnd,
        /// Principal and interest not recognised still under follow-up.
        remaining: Vnd,
    },
    /// An adjustment that would move the final maturity.
    #[error(
        "a schedule adjustment must keep the maturity {maturity}, the new one is {new_maturity}"
    )]
    AdjustmentChangesMaturity {
        /// Current maturity.
        maturity: NaiveDate,
        /// Maturity of the proposed schedule.
        new_maturity: NaiveDate,
    },
    /// An extension that does not move the final maturity later.
    #[error("an extension must end after the maturity {maturity}, the new one is {new_maturity}")]
    ExtensionDoesNotExtend {
        /// Current maturity.
        maturity: NaiveDate,
        /// Maturity of the proposed schedule.
        new_maturity: NaiveDate,
    },
    /// A restructuring whose first due date is not after its effective date.
    #[error("the first new due date must be after the restructuring date")]
    RestructureFirstDueNotAfterEffectiveDate,
    /// A restructuring forgiving more interest than is owed (late + overdue + unpaid contractual interest).
    #[error("the interest reduction {reduction} is above the interest owed of {owed}")]
    InterestReductionAboveInterestOwed {
        /// The reduction asked for.
        reduction: Vnd,
        /// Late + overdue + unpaid contractual interest on the restructuring date.
        owed: Vnd,
    },
    /// A restructuring forgiving more than the borrower still owes once the advance already paid is counted:
    /// the advance would then exceed the debt, and the fund would owe the borrower the difference.
    #[error("the interest reduction {reduction} is above the payoff of {payoff} net of the advance paid")]
    InterestReductionAbovePayoff {
        /// The reduction asked for.
        reduction: Vnd,
        /// The payoff on the restructuring date, net of the advance: the most that can be forgiven.
        payoff: Vnd,
    },
    /// A reversal of an unknown event (or of a reversal).
    #[error("no reversible event with id {0}")]
    UnknownReversal(String),
    /// An event older than what the folder already processed.
    #[error("event dated {value_date} comes after {as_of} was already processed")]
    EventOutOfOrder {
        /// The event's date.
        value_date: NaiveDate,
        /// The folder's position.
        as_of: NaiveDate,
    },
}

impl LoanError {
    /// A stable snake_case code for API and CLI messages.
    pub fn code(&self) -> &'static str {
        match self {
            LoanError::Terms(inner) => inner.code(),
            LoanError::OverdueMultiplierOutOfRange(_) => "overdue_multiplier_out_of_range",
            LoanError::LateRateOutOfRange(_) => "late_rate_out_of_range",
            LoanError::AmountNotPositive(_) => "amount_not_positive",
            LoanError::AmountTooLarge(_) => "amount_too_large",
            LoanError::DisbursementAboveApproved { .. } => "disbursement_above_approved",
            LoanError::TrancheAfterMaturity => "tranche_after_maturity",
            LoanError::NotDisbursed => "loan_not_disbursed",
            LoanError::PaymentAbovePayoff { .. } => "payment_above_payoff",
            LoanError::LoanClosed { .. } => "loan_closed",
            LoanError::LoanWrittenOff { .. } => "loan_written_off",
            LoanError::LoanNotWrittenOff => "loan_not_written_off",
            LoanError::RecoveryAboveRemaining { .. } => "recovery_above_remaining",
            LoanError::AdjustmentChangesMaturity { .. } => "adjustment_changes_maturity",
            LoanError::ExtensionDoesNotExtend { .. } => "extension_does_not_extend",
            LoanError::RestructureFirstDueNotAfterEffectiveDate => {
                "restructure_first_due_not_after_effective_date"
            }
            LoanError::InterestReductionAboveInterestOwed { .. } => {
                "interest_reduction_above_interest_owed"
            }
            LoanError::InterestReductionAbovePayoff { .. } => "interest_reduction_above_payoff",
            LoanError::UnknownReversal(_) => "unknown_reversal",
            LoanError::EventOutOfOrder { .. } => "event_out_of_order",
        }
    }

    /// The request field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            LoanError::Terms(inner) => Some(inner.field()),
            LoanError::OverdueMultiplierOutOfRange(_) => Some("overdue_multiplier"),
            LoanError::LateRateOutOfRange(_) => Some("late_rate_percent"),
            LoanError::AmountNotPositive(_)
            | LoanError::AmountTooLarge(_)
            | LoanError::DisbursementAboveApproved { .. }
            | LoanError::PaymentAbovePayoff { .. }
            | LoanError::RecoveryAboveRemaining { .. } => Some("amount_vnd"),
            LoanError::TrancheAfterMaturity | LoanError::EventOutOfOrder { .. } => {
                Some("value_date")
            }
            LoanError::AdjustmentChangesMaturity { .. }
            | LoanError::ExtensionDoesNotExtend { .. } => Some("installments"),
            LoanError::RestructureFirstDueNotAfterEffectiveDate => Some("first_due_on"),
            LoanError::InterestReductionAboveInterestOwed { .. }
            | LoanError::InterestReductionAbovePayoff { .. } => Some("interest_reduction_vnd"),
            _ => None,
        }
    }
}

/// A [`LoanError`] with the id of the event that caused it (`None` for a contract error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FoldError {
    /// The event that could not be applied.
    pub event_id: Option<String>,
    /// Why.
    pub error: LoanError,
}

impl FoldError {
    /// The inner error's code.
    pub fn code(&self) -> &'static str {
        self.error.code()
    }

    /// The inner error's field.
    pub fn field(&self) -> Option<&'static str> {
        self.error.field()
    }
}

/// Where an installment stands (API.md's `status`, plus `restructured`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallmentStatus {
    /// Nothing left to pay.
    Paid,
    /// Billed, partly paid, still on time.
    PartlyPaid,
    /// Billed today (or in its on-time window), nothing paid.
    Due,
    /// Its on-time window has passed with something unpaid.
    Overdue,
    /// Not yet due.
    Future,
    /// Its unpaid remainder was moved into a restructured schedule.
    Restructured,
}

/// One installment of the current schedule with what was paid on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LoanInstallment {
    /// 1-based sequence number (restructured schedules continue the numbering).
    pub seq: u32,
    /// The due date.
    pub due_on: NaiveDate,
    /// Days of the period.
    pub days: i64,
    /// Principal of the installment.
    pub principal: Vnd,
    /// Interest: billed on the due date; before it, a projection on the current balance.
    pub interest: Vnd,
    /// True once billed (the interest is then final).
    pub billed: bool,
    /// Principal paid (a prepayment shortening the term pays the last installments in advance).
    pub paid_principal: Vnd,
    /// Interest paid.
    pub paid_interest: Vnd,
    /// Unpaid principal moved into a restructured schedule.
    pub rescheduled_principal: Vnd,
    /// Unpaid interest moved into a restructured schedule.
    pub rescheduled_interest: Vnd,
    /// Interest carried in from the schedule this one replaced (part of `interest`).
    pub carried_interest: Vnd,
    /// True once its on-time window passed with something unpaid.
    pub fell_overdue: bool,
    /// Principal left after this installment, per the schedule.
    pub closing_balance: Vnd,
    /// Status as of the state's date.
    pub status: InstallmentStatus,
}

impl LoanInstallment {
    /// principal + interest.
    pub fn total(&self) -> Vnd {
        self.principal + self.interest
    }

    /// Principal still owed on it.
    pub fn unpaid_principal(&self) -> Vnd {
        self.principal - self.paid_principal - self.rescheduled_principal
    }

    /// Interest still owed on it (only meaningful once billed).
    pub fn unpaid_interest(&self) -> Vnd {
        self.interest - self.paid_interest - self.rescheduled_interest
    }

    fn from_plan(line: &crate::schedule::Installment) -> LoanInstallment {
        LoanInstallment {
            seq: line.seq,
            due_on: line.due_on,
            days: line.days,
            principal: line.principal,
            interest: line.interest,
            billed: false,
            paid_principal: Vnd::ZERO,
            paid_interest: Vnd::ZERO,
            rescheduled_principal: Vnd::ZERO,
            rescheduled_interest: Vnd::ZERO,
            carried_interest: Vnd::ZERO,
            fell_overdue: false,
            closing_balance: line.closing_balance,
            status: InstallmentStatus::Future,
        }
    }
}

/// Interest forgiven by a restructuring (DOMAIN.md §7), by component. Contractual interest forgiven lowers the
/// interest receivable (or the memo 0041); overdue and late interest were never booked (they are recognised when
/// collected), so only the memo account of waived interest records them (see the journal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InterestReduction {
    /// The restructuring event.
    pub event_id: String,
    /// Its effective date.
    pub value_date: NaiveDate,
    /// Late interest forgiven.
    pub late_interest: Vnd,
    /// Overdue interest forgiven.
    pub overdue_interest: Vnd,
    /// Unpaid contractual interest forgiven.
    pub contractual_interest: Vnd,
}

impl InterestReduction {
    /// The whole reduction.
    pub fn total(&self) -> Vnd {
        self.late_interest + self.overdue_interest + self.contractual_interest
    }
}

/// Money recovered on a written-off loan (module docs), split as it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Recovery {
    /// The recovery event.
    pub event_id: String,
    /// Its value date.
    pub value_date: NaiveDate,
    /// Amount received.
    pub amount: Vnd,
    /// Written-off principal recovered (Dr 1121 / Cr 711, Dr 0090 / Cr 0042).
    pub principal: Vnd,
    /// Interest not recognised recovered (Dr 1121 / Cr 51511, Dr 0090 / Cr 0041).
    pub interest: Vnd,
}

/// A loan as of a date: every balance of DOMAIN.md §4, the current schedule and every allocation.
///
/// Serialisable so that a folder's position can be stored and resumed ([`crate::snapshot`]); the stored form is
/// versioned there ([`crate::snapshot::SNAPSHOT_FORMAT_VERSION`]), so any change to these fields bumps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LoanState {
    /// The date of this state (see [`fold`] and [`fold_close_of_day`] for what it includes).
    pub as_of: NaiveDate,
    /// True when day `as_of` is closed: its end-of-day moves and its own accrual are included.
    pub day_closed: bool,
    /// Approved principal.
    pub approved_principal: Vnd,
    /// Total disbursed.
    pub disbursed: Vnd,
    /// The first disbursement's value date (D0).
    pub first_disbursed_on: Option<NaiveDate>,
    /// The current schedule.
    pub schedule: Vec<LoanInstallment>,
    /// Principal in term (not yet due, or due and still on time); ledger 12831.
    pub in_term_principal: Vnd,
    /// Principal overdue; ledger 12832.
    pub overdue_principal: Vnd,
    /// Unpaid overdue contractual interest.
    pub unpaid_interest: Vnd,
    /// Advance held (ledger 3388).
    pub advance: Vnd,
    /// Days past due: `as_of` − the oldest contractual due date with anything unpaid after its on-time window.
    pub dpd: i64,
    /// Every repayment's allocation and every application of the advance, in order.
    pub allocations: Vec<Allocation>,
    /// Σ contractual interest billed (rounded per installment), including a payoff's current interest.
    pub interest_billed: Vnd,
    /// Σ contractual interest collected.
    pub interest_collected: Vnd,
    /// Σ overdue interest collected (charged when paid).
    pub overdue_interest_collected: Vnd,
    /// Σ late interest collected (charged when paid).
    pub late_interest_collected: Vnd,
    /// Σ principal collected (due, overdue and prepaid).
    pub principal_collected: Vnd,
    /// Σ cash received (repayments and recoveries).
    pub cash_received: Vnd,
    /// Restructurings so far (§8).
    pub restructure_count: u32,
    /// The last restructuring's date.
    pub last_restructured_on: Option<NaiveDate>,
    /// Whether a restructuring waived or reduced interest (§8, group 3).
    pub interest_reduced: bool,
    /// Every interest reduction granted by a restructuring, in order (DOMAIN.md §7).
    pub interest_reductions: Vec<InterestReduction>,
    /// Principal written off.
    pub written_off_principal: Vnd,
    /// The write-off date.
    pub written_off_on: Option<NaiveDate>,
    /// Interest not recognised at the write-off (unpaid contractual interest, billed or accrued, less what a
    /// restructuring forgave): followed up with the principal.
    pub written_off_interest: Vnd,
    /// Every recovery on the written-off loan, in order.
    pub recoveries: Vec<Recovery>,
    /// The date the last of what was written off was recovered.
    pub recovered_on: Option<NaiveDate>,
    /// The date the loan was settled.
    pub closed_on: Option<NaiveDate>,
    /// Principal not yet billed (the base of contractual interest).
    not_due_principal: Vnd,
    /// Exact contractual accrual of the current period: `current_carry + current_units / denominator`.
    current_units: Decimal,
    current_carry: Decimal,
    /// Exact overdue and late interest accrued and not yet paid, × 36,500.
    overdue_units: Decimal,
    late_units: Decimal,
    next_unbilled: usize,
    first_open: usize,
    grace_until_seq: u32,
    method: Method,
    period_months: u32,
}

impl LoanState {
    fn empty(contract: &LoanContract, as_of: NaiveDate) -> LoanState {
        LoanState {
            as_of,
            day_closed: false,
            approved_principal: contract.terms.principal,
            disbursed: Vnd::ZERO,
            first_disbursed_on: None,
            schedule: Vec::new(),
            in_term_principal: Vnd::ZERO,
            overdue_principal: Vnd::ZERO,
            unpaid_interest: Vnd::ZERO,
            advance: Vnd::ZERO,
            dpd: 0,
            allocations: Vec::new(),
            interest_billed: Vnd::ZERO,
            interest_collected: Vnd::ZERO,
            overdue_interest_collected: Vnd::ZERO,
            late_interest_collected: Vnd::ZERO,
            principal_collected: Vnd::ZERO,
            cash_received: Vnd::ZERO,
            restructure_count: 0,
            last_restructured_on: None,
            interest_reduced: false,
            interest_reductions: Vec::new(),
            written_off_principal: Vnd::ZERO,
            written_off_on: None,
            written_off_interest: Vnd::ZERO,
            recoveries: Vec::new(),
            recovered_on: None,
            closed_on: None,
            not_due_principal: Vnd::ZERO,
            current_units: Decimal::ZERO,
            current_carry: Decimal::ZERO,
            overdue_units: Decimal::ZERO,
            late_units: Decimal::ZERO,
            next_unbilled: 0,
            first_open: 0,
            grace_until_seq: contract.terms.principal_grace,
            method: contract.terms.method,
            period_months: contract.terms.period_months,
        }
    }

    /// Overdue interest accrued and not yet paid, exact.
    pub fn overdue_interest_exact(&self) -> Decimal {
        self.overdue_units / ACTUAL_365_DENOMINATOR
    }

    /// Late interest accrued and not yet paid, exact.
    pub fn late_interest_exact(&self) -> Decimal {
        self.late_units / ACTUAL_365_DENOMINATOR
    }

    /// Principal not yet billed (the base of contractual interest).
    pub fn principal_not_due(&self) -> Vnd {
        self.not_due_principal
    }

    /// Contractual interest accrued in the current period and not yet billed, exact.
    pub fn current_interest_exact(&self, day_count: DayCount) -> Decimal {
        self.current_carry + self.current_units / self.current_denominator(day_count)
    }

    /// Σ contractual interest accrued since the first disbursement, exact: billed + current period (§2: post
    /// round(this) − already posted).
    pub fn contractual_interest_exact(&self, day_count: DayCount) -> Decimal {
        self.interest_billed.as_decimal() + self.current_interest_exact(day_count)
    }

    /// Contractual interest forgiven by restructurings (lowers the receivable).
    pub fn contractual_interest_waived(&self) -> Vnd {
        self.interest_reductions
            .iter()
            .map(|r| r.contractual_interest)
            .sum()
    }

    /// Every đồng of interest forgiven by restructurings (the memo account of waived interest).
    pub fn interest_waived(&self) -> Vnd {
        self.interest_reductions.iter().map(|r| r.total()).sum()
    }

    /// Unpaid interest a restructuring moved into installments not yet billed (DOMAIN.md §7: it stays in every
    /// payoff until paid).
    pub fn restructured_interest_not_due(&self) -> Vnd {
        self.schedule[self.next_unbilled..]
            .iter()
            .map(|i| i.carried_interest)
            .sum()
    }

    /// Written-off principal recovered so far.
    pub fn recovered_principal(&self) -> Vnd {
        self.recoveries.iter().map(|r| r.principal).sum()
    }

    /// Interest not recognised recovered so far.
    pub fn recovered_interest(&self) -> Vnd {
        self.recoveries.iter().map(|r| r.interest).sum()
    }

    /// Written-off principal still under follow-up (memo 0042).
    pub fn principal_under_follow_up(&self) -> Vnd {
        self.written_off_principal - self.recovered_principal()
    }

    /// Interest not recognised still under follow-up (memo 0041 of a written-off loan).
    pub fn interest_under_follow_up(&self) -> Vnd {
        self.written_off_interest - self.recovered_interest()
    }

    /// Principal still owed (in term + overdue).
    pub fn outstanding_principal(&self) -> Vnd {
        self.in_term_principal + self.overdue_principal
    }

    /// What §8's classification needs from this loan.
    pub fn classification_input(&self) -> crate::classification::ClassificationInput {
        crate::classification::ClassificationInput {
            dpd: self.dpd,
            restructure_count: self.restructure_count,
            interest_reduced: self.interest_reduced,
        }
    }

    /// True once the loan was settled (everything paid).
    pub fn is_fully_repaid(&self) -> bool {
        self.closed_on.is_some()
    }

    /// The next installment with something left to pay (billed or not).
    pub fn next_due(&self) -> Option<&LoanInstallment> {
        self.schedule.iter().find(|i| {
            !matches!(
                i.status,
                InstallmentStatus::Paid
                    | InstallmentStatus::Restructured
                    | InstallmentStatus::Overdue
            )
        })
    }

    /// The payoff on `as_of` (DOMAIN.md §5): every component, less the advance.
    pub fn payoff_quote(&self, day_count: DayCount) -> PayoffQuote {
        let interest_due_today: Vnd = self.due_today().map(|i| i.unpaid_interest()).sum();
        let quote = PayoffQuote {
            date: self.as_of,
            overdue_principal: self.overdue_principal,
            unpaid_interest: self.unpaid_interest,
            overdue_interest: round_half_up_to_dong(self.overdue_interest_exact()),
            late_interest: round_half_up_to_dong(self.late_interest_exact()),
            current_interest: interest_due_today
                + round_half_up_to_dong(self.current_interest_exact(day_count)),
            restructured_interest: self.restructured_interest_not_due(),
            principal: self.in_term_principal,
            advance: self.advance,
            total: Vnd::ZERO,
        };
        let gross = quote.overdue_principal
            + quote.unpaid_interest
            + quote.overdue_interest
            + quote.late_interest
            + quote.current_interest
            + quote.restructured_interest
            + quote.principal;
        PayoffQuote {
            total: (gross - quote.advance).clamp_non_negative(),
            ..quote
        }
    }

    fn current_denominator(&self, day_count: DayCount) -> Decimal {
        match (day_count, self.schedule.get(self.next_unbilled)) {
            (DayCount::PerPeriod, Some(next)) => {
                Decimal::from(1_200) * Decimal::from(next.days.max(1))
            }
            _ => ACTUAL_365_DENOMINATOR,
        }
    }

    /// Billed installments whose on-time window has not passed (they are "due today").
    fn due_today(&self) -> impl Iterator<Item = &LoanInstallment> {
        let first = self.first_open.min(self.next_unbilled);
        self.schedule[first..self.next_unbilled]
            .iter()
            .filter(|i| !i.fell_overdue)
    }

    fn is_open(installment: &LoanInstallment) -> bool {
        !installment.unpaid_principal().is_zero() || !installment.unpaid_interest().is_zero()
    }
}

/// Replays a loan's events one at a time, moving through days segment by segment. [`fold`] is the usual entry;
/// the folder is public so that callers (and the property tests) can stop and look at any point.
#[derive(Debug, Clone)]
pub struct LoanFolder<'c> {
    contract: &'c LoanContract,
    state: LoanState,
    started: bool,
    /// What each step did to the payoff quote's amounts ([`explain`]); `None` (no allocation, no work) unless an
    /// explanation was asked for.
    trace: Option<Box<Trace>>,
}

impl<'c> LoanFolder<'c> {
    /// A folder for an undisbursed loan; checks the contract.
    pub fn new(contract: &'c LoanContract) -> Result<LoanFolder<'c>, FoldError> {
        contract.validate().map_err(|error| FoldError {
            event_id: None,
            error,
        })?;
        let as_of = contract.terms.disbursed_on;
        Ok(LoanFolder {
            contract,
            state: LoanState::empty(contract, as_of),
            started: false,
            trace: None,
        })
    }

    /// Applies one event (not a reversal: [`fold`] drops reversed events before replaying). Events must come in
    /// (value_date, sequence) order.
    pub fn apply(&mut self, event: &LoanEvent) -> Result<(), FoldError> {
        let wrap = |error| FoldError {
            event_id: Some(event.id.clone()),
            error,
        };
        if self.started && event.value_date < self.state.as_of
            || self.state.day_closed && event.value_date == self.state.as_of
        {
            return Err(wrap(LoanError::EventOutOfOrder {
                value_date: event.value_date,
                as_of: self.state.as_of,
            }));
        }
        self.advance_to(event.value_date);
        let date = event.value_date;
        let (result, step) = match &event.kind {
            EventKind::Disbursement { amount } => (
                self.disburse(date, *amount),
                Step::Disbursement { on: date },
            ),
            EventKind::Repayment { amount, kind } => (
                self.repay(&event.id, date, *amount, *kind),
                Step::Repayment {
                    on: date,
                    kind: *kind,
                },
            ),
            EventKind::Restructure(terms) => (
                self.restructure(&event.id, date, terms),
                Step::Restructure { on: date },
            ),
            EventKind::WriteOff => (self.write_off(date), Step::WriteOff { on: date }),
            EventKind::Recovery { amount } => (
                self.recover(&event.id, date, *amount),
                Step::Recovery { on: date },
            ),
            EventKind::Reversal { reversed_id } => (
                Err(LoanError::UnknownReversal(reversed_id.clone())),
                Step::Recovery { on: date },
            ),
        };
        result.map_err(wrap)?;
        self.note(step);
        Ok(())
    }

    /// Moves to the start of `date` (its due-date billing done, its events still to come). Never goes back.
    pub fn advance_to(&mut self, date: NaiveDate) {
        if !self.started {
            self.state.as_of = date;
            return;
        }
        // Each step moves at least one day forward, so the days to go bound the loop.
        let mut steps_left = days_between(self.state.as_of, date);
        while self.state.as_of < date && steps_left > 0 {
            steps_left -= 1;
            let from = if self.state.day_closed {
                self.state.as_of.succ_opt().unwrap_or(self.state.as_of)
            } else {
                self.end_of_day(self.state.as_of);
                self.note(Step::FellOverdue {
                    on: self.state.as_of,
                });
                self.state.as_of
            };
            let next = self.next_key_day(date);
            self.accrue(from, days_between(from, next));
            self.open_day(next);
        }
    }

    /// Closes the current day: moves what fell overdue at its end and accrues the day itself.
    pub fn close_day(&mut self) {
        if self.started && !self.state.day_closed {
            self.end_of_day(self.state.as_of);
            self.note(Step::FellOverdue {
                on: self.state.as_of,
            });
            self.accrue(self.state.as_of, 1);
            self.state.day_closed = true;
        }
    }

    /// The state so far, with statuses, DPD and projections computed.
    pub fn state(&self) -> LoanState {
        let mut state = self.state.clone();
        finish(self.contract, &mut state);
        state
    }

    /// The folder's own position, before statuses and projections are computed (what a snapshot keeps), and
    /// whether the first disbursement was applied.
    pub(crate) fn position(&self) -> (&LoanState, bool) {
        (&self.state, self.started)
    }

    /// A folder resumed at a stored position ([`LoanFolder::position`]); checks the contract like [`LoanFolder::new`].
    pub(crate) fn resume(
        contract: &'c LoanContract,
        state: LoanState,
        started: bool,
    ) -> Result<LoanFolder<'c>, FoldError> {
        contract.validate().map_err(|error| FoldError {
            event_id: None,
            error,
        })?;
        Ok(LoanFolder {
            contract,
            state,
            started,
            trace: None,
        })
    }

    /// The state so far (consumes the folder).
    pub fn into_state(mut self) -> LoanState {
        finish(self.contract, &mut self.state);
        self.state
    }

    // ----- days -----

    fn next_key_day(&self, target: NaiveDate) -> NaiveDate {
        let state = &self.state;
        let mut next = target;
        if let Some(unbilled) = state.schedule.get(state.next_unbilled) {
            next = next.min(unbilled.due_on);
        }
        for installment in &state.schedule[state.first_open..state.next_unbilled] {
            if !installment.fell_overdue && LoanState::is_open(installment) {
                let grace_end = self.contract.calendar.grace_end(installment.due_on);
                if grace_end > state.as_of {
                    next = next.min(grace_end);
                }
            }
        }
        next
    }

    /// DOMAIN.md §4: the balances at the end of a day accrue for that day, `days` times (days `from`,
    /// `from + 1`, …).
    fn accrue(&mut self, from: NaiveDate, days: i64) {
        let state = &mut self.state;
        if days <= 0 || state.written_off_on.is_some() || state.closed_on.is_some() {
            return;
        }
        let step = self.trace.is_some().then(|| Step::Accrual {
            from,
            days,
            not_due_principal: state.not_due_principal,
            overdue_principal: state.overdue_principal,
            unpaid_interest: state.unpaid_interest,
            period_months: state.period_months,
            period_days: state
                .schedule
                .get(state.next_unbilled)
                .map_or(0, |i| i.days),
        });
        let terms = &self.contract.terms;
        let days = Decimal::from(days);
        let rate = terms.rate_percent;
        if !state.not_due_principal.is_zero() {
            let per_day = match terms.day_count {
                DayCount::Actual365 => state.not_due_principal.as_decimal() * rate,
                DayCount::PerPeriod => {
                    state.not_due_principal.as_decimal() * rate * Decimal::from(state.period_months)
                }
            };
            state.current_units += per_day * days;
        }
        let overdue_rate = rate * self.contract.overdue_multiplier;
        state.overdue_units += state.overdue_principal.as_decimal() * overdue_rate * days;
        state.late_units +=
            state.unpaid_interest.as_decimal() * self.contract.late_rate_percent * days;
        if let Some(step) = step {
            self.note(step);
        }
    }

    /// Records what `step` did to each amount of the payoff quote, when an explanation is being built.
    fn note(&mut self, step: Step) {
        if self.trace.is_none() {
            return;
        }
        let now = self.quote_exact();
        if let Some(trace) = self.trace.as_mut() {
            trace.record(step, now);
        }
    }

    /// The payoff quote's amounts before the rounding of accrued interest, in [`QuoteField::TRACED`] order.
    fn quote_exact(&self) -> [Decimal; TRACED_FIELDS] {
        let state = &self.state;
        let day_count = self.contract.terms.day_count;
        let due_today: Vnd = state.due_today().map(|i| i.unpaid_interest()).sum();
        [
            state.overdue_principal.as_decimal(),
            state.unpaid_interest.as_decimal(),
            state.overdue_interest_exact(),
            state.late_interest_exact(),
            due_today.as_decimal() + state.current_interest_exact(day_count),
            state.restructured_interest_not_due().as_decimal(),
            state.in_term_principal.as_decimal(),
            state.advance.as_decimal(),
        ]
    }

    /// Start of a day: bill the installment due that day and apply the advance to it.
    fn open_day(&mut self, date: NaiveDate) {
        self.state.as_of = date;
        self.state.day_closed = false;
        if self.state.written_off_on.is_some() {
            // Written off: the schedule is frozen (module docs).
            return;
        }
        let index = self.state.next_unbilled;
        if self
            .state
            .schedule
            .get(index)
            .is_some_and(|i| i.due_on == date)
        {
            self.bill(index);
            let installment = &self.state.schedule[index];
            self.note(Step::Billed {
                on: date,
                seq: installment.seq,
                carried: installment.carried_interest,
            });
            self.apply_advance(date);
            self.close_if_settled(date);
            self.note(Step::AdvanceApplied { on: date });
        }
    }

    fn bill(&mut self, index: usize) {
        let day_count = self.contract.terms.day_count;
        let state = &mut self.state;
        let fresh_interest = round_half_up_to_dong(state.current_interest_exact(day_count));
        state.current_units = Decimal::ZERO;
        state.current_carry = Decimal::ZERO;
        state.interest_billed += fresh_interest;
        let installment = &mut state.schedule[index];
        installment.interest = fresh_interest + installment.carried_interest;
        installment.billed = true;
        state.not_due_principal -= installment.unpaid_principal();
        state.next_unbilled = index + 1;
    }

    /// End of a day: what is unpaid when its on-time window ends falls overdue.
    fn end_of_day(&mut self, date: NaiveDate) {
        let state = &mut self.state;
        if state.written_off_on.is_some() {
            return;
        }
        for index in state.first_open..state.next_unbilled {
            let installment = &mut state.schedule[index];
            if installment.fell_overdue || !LoanState::is_open(installment) {
                continue;
            }
            if self.contract.calendar.grace_end(installment.due_on) <= date {
                installment.fell_overdue = true;
                let principal = installment.unpaid_principal();
                state.in_term_principal -= principal;
                state.overdue_principal += principal;
                state.unpaid_interest += installment.unpaid_interest();
            }
        }
    }

    // ----- events -----

    fn check_amount(amount: Vnd) -> Result<(), LoanError> {
        if !amount.is_positive() {
            return Err(LoanError::AmountNotPositive(amount));
        }
        if amount > Vnd::from_i64(Vnd::MAX_INPUT) {
            return Err(LoanError::AmountTooLarge(amount));
        }
        Ok(())
    }

    fn check_active(&self) -> Result<(), LoanError> {
        if let Some(written_off_on) = self.state.written_off_on {
            return Err(LoanError::LoanWrittenOff { written_off_on });
        }
        if !self.started {
            return Err(LoanError::NotDisbursed);
        }
        Ok(())
    }

    fn disburse(&mut self, date: NaiveDate, amount: Vnd) -> Result<(), LoanError> {
        LoanFolder::check_amount(amount)?;
        if let Some(written_off_on) = self.state.written_off_on {
            return Err(LoanError::LoanWrittenOff { written_off_on });
        }
        if let Some(closed_on) = self.state.closed_on {
            return Err(LoanError::LoanClosed { closed_on });
        }
        let approved = self.contract.terms.principal;
        if self.state.disbursed + amount > approved {
            return Err(LoanError::DisbursementAboveApproved {
                approved,
                disbursed: self.state.disbursed,
                requested: amount,
            });
        }
        if self.started {
            return self.disburse_tranche(amount);
        }
        let terms = ScheduleTerms {
            principal: amount,
            disbursed_on: date,
            ..self.contract.terms.clone()
        };
        let schedule = build_schedule(&terms)?;
        let state = &mut self.state;
        state.schedule = schedule
            .installments
            .iter()
            .map(LoanInstallment::from_plan)
            .collect();
        state.first_disbursed_on = Some(date);
        state.disbursed = amount;
        state.in_term_principal = amount;
        state.not_due_principal = amount;
        state.as_of = date;
        state.day_closed = false;
        self.started = true;
        Ok(())
    }

    /// Tranches (module docs): the remaining installments are rebuilt on the larger balance.
    fn disburse_tranche(&mut self, amount: Vnd) -> Result<(), LoanError> {
        if self.state.next_unbilled >= self.state.schedule.len() {
            return Err(LoanError::TrancheAfterMaturity);
        }
        let state = &mut self.state;
        state.disbursed += amount;
        state.in_term_principal += amount;
        state.not_due_principal += amount;
        self.reamortize_unbilled();
        Ok(())
    }

    fn repay(
        &mut self,
        id: &str,
        date: NaiveDate,
        amount: Vnd,
        kind: RepaymentKind,
    ) -> Result<(), LoanError> {
        LoanFolder::check_amount(amount)?;
        self.check_active()?;
        let payoff = self.state.payoff_quote(self.contract.terms.day_count).total;
        if amount > payoff {
            return Err(LoanError::PaymentAbovePayoff { amount, payoff });
        }
        self.state.cash_received += amount;
        let mut allocation = Allocation {
            event_id: Some(id.to_string()),
            value_date: date,
            amount,
            ..Default::default()
        };
        if amount == payoff {
            self.settle(date, &mut allocation);
        } else {
            let excess = self.allocate_in_order(amount, &mut allocation);
            self.place_excess(excess, kind, &mut allocation);
        }
        self.state.allocations.push(allocation);
        self.close_if_settled(date);
        Ok(())
    }

    /// Pays the buckets in the product's order; returns what is left.
    fn allocate_in_order(&mut self, amount: Vnd, allocation: &mut Allocation) -> Vnd {
        let mut left = amount;
        for &bucket in self.contract.allocation_order.buckets() {
            let paid = self.pay_bucket(bucket, left);
            allocation.add_to(bucket, paid);
            left -= paid;
        }
        left
    }

    fn place_excess(&mut self, excess: Vnd, kind: RepaymentKind, allocation: &mut Allocation) {
        let mut left = excess;
        if kind == RepaymentKind::Prepayment {
            let cut = left.min(self.state.not_due_principal);
            if cut.is_positive() {
                self.prepay_principal(cut);
                allocation.prepaid_principal = cut;
                left -= cut;
            }
        }
        self.state.advance += left;
        allocation.advance = left;
    }

    /// §5: on a due date the advance is applied first, in the same order, until used up.
    fn apply_advance(&mut self, date: NaiveDate) {
        let held = self.state.advance;
        if held.is_zero() {
            return;
        }
        let mut allocation = Allocation {
            event_id: None,
            value_date: date,
            ..Default::default()
        };
        let left = self.allocate_in_order(held, &mut allocation);
        allocation.advance_applied = held - left;
        self.state.advance = left;
        if allocation.advance_applied.is_positive() {
            self.state.allocations.push(allocation);
        }
    }

    /// A payment equal to the payoff: everything owed is paid, using the advance too.
    fn settle(&mut self, date: NaiveDate, allocation: &mut Allocation) {
        let day_count = self.contract.terms.day_count;
        allocation.advance_applied = self.state.advance;
        allocation.settled_loan = true;
        let available = allocation.amount + self.state.advance;
        self.state.advance = Vnd::ZERO;
        let left = self.allocate_in_order(available, allocation);
        let state = &mut self.state;
        let current_interest = round_half_up_to_dong(state.current_interest_exact(day_count));
        state.current_units = Decimal::ZERO;
        state.current_carry = Decimal::ZERO;
        state.interest_billed += current_interest;
        // Interest a restructuring moved into installments not yet due was billed long ago: collect it too.
        let restructured_interest = state.restructured_interest_not_due();
        state.interest_collected += current_interest + restructured_interest;
        allocation.interest += current_interest + restructured_interest;
        let remaining = state.not_due_principal;
        allocation.prepaid_principal += remaining;
        state.principal_collected += remaining;
        state.in_term_principal -= remaining;
        state.not_due_principal = Vnd::ZERO;
        for (offset, installment) in state.schedule[state.next_unbilled..].iter_mut().enumerate() {
            let fresh = if offset == 0 {
                current_interest
            } else {
                Vnd::ZERO
            };
            installment.interest = fresh + installment.carried_interest;
            installment.paid_interest = installment.interest;
            installment.paid_principal = installment.principal - installment.rescheduled_principal;
            installment.billed = true;
        }
        state.next_unbilled = state.schedule.len();
        debug_assert_eq!(
            left,
            current_interest + restructured_interest + remaining,
            "payoff on {date} does not match the allocation"
        );
    }

    fn close_if_settled(&mut self, date: NaiveDate) {
        let state = &self.state;
        let nothing_owed = state.outstanding_principal().is_zero()
            && state.unpaid_interest.is_zero()
            && round_half_up_to_dong(state.overdue_interest_exact()).is_zero()
            && round_half_up_to_dong(state.late_interest_exact()).is_zero()
            && state.current_units.is_zero()
            && state.current_carry.is_zero()
            && state.schedule[..state.next_unbilled]
                .iter()
                .all(|i| !LoanState::is_open(i))
            && state.restructured_interest_not_due().is_zero();
        if nothing_owed && state.disbursed.is_positive() && state.closed_on.is_none() {
            self.state.closed_on = Some(date);
            self.state.overdue_units = Decimal::ZERO;
            self.state.late_units = Decimal::ZERO;
        }
    }

    /// Pays up to `limit` of one bucket; returns what it paid.
    fn pay_bucket(&mut self, bucket: Bucket, limit: Vnd) -> Vnd {
        if !limit.is_positive() {
            return Vnd::ZERO;
        }
        match bucket {
            Bucket::OverduePrincipal => self.pay_installments(limit, true, true),
            Bucket::UnpaidInterest => self.pay_installments(limit, true, false),
            Bucket::Interest => self.pay_installments(limit, false, false),
            Bucket::Principal => self.pay_installments(limit, false, true),
            Bucket::OverdueInterest => {
                let paid = pay_accrued(&mut self.state.overdue_units, limit);
                self.state.overdue_interest_collected += paid;
                paid
            }
            Bucket::LateInterest => {
                let paid = pay_accrued(&mut self.state.late_units, limit);
                self.state.late_interest_collected += paid;
                paid
            }
        }
    }

    /// Pays principal or interest of overdue (or due-today) installments, oldest first.
    fn pay_installments(&mut self, limit: Vnd, overdue: bool, principal: bool) -> Vnd {
        let state = &mut self.state;
        let mut left = limit;
        for index in state.first_open..state.next_unbilled {
            let installment = &mut state.schedule[index];
            if installment.fell_overdue != overdue || left.is_zero() {
                continue;
            }
            let owed = if principal {
                installment.unpaid_principal()
            } else {
                installment.unpaid_interest()
            };
            let paid = owed.min(left);
            if paid.is_zero() {
                continue;
            }
            left -= paid;
            match (principal, overdue) {
                (true, true) => {
                    installment.paid_principal += paid;
                    state.overdue_principal -= paid;
                }
                (true, false) => {
                    installment.paid_principal += paid;
                    state.in_term_principal -= paid;
                }
                (false, true) => {
                    installment.paid_interest += paid;
                    state.unpaid_interest -= paid;
                }
                (false, false) => installment.paid_interest += paid,
            }
            if principal {
                state.principal_collected += paid;
            } else {
                state.interest_collected += paid;
            }
        }
        while state.first_open < state.next_unbilled
            && !LoanState::is_open(&state.schedule[state.first_open])
        {
            state.first_open += 1;
        }
        limit - left
    }

    /// §5: a prepayment's excess cuts principal not yet due at once.
    fn prepay_principal(&mut self, cut: Vnd) {
        let state = &mut self.state;
        state.not_due_principal -= cut;
        state.in_term_principal -= cut;
        state.principal_collected += cut;
        match self.contract.prepayment_rule {
            PrepaymentRule::ShortenTerm => {
                let mut left = cut;
                for installment in state.schedule[state.next_unbilled..].iter_mut().rev() {
                    let paid = installment.unpaid_principal().min(left);
                    installment.paid_principal += paid;
                    left -= paid;
                }
            }
            PrepaymentRule::Reamortize => self.reamortize_unbilled(),
        }
    }

    /// Rebuilds the unbilled installments on the principal not yet due (tranche, re-amortizing prepayment).
    fn reamortize_unbilled(&mut self) {
        let state = &mut self.state;
        let first = state.next_unbilled;
        let Some(start_on) = first
            .checked_sub(1)
            .map(|i| state.schedule[i].due_on)
            .or(state.first_disbursed_on)
        else {
            return;
        };
        let dates: Vec<NaiveDate> = state.schedule[first..].iter().map(|i| i.due_on).collect();
        if dates.is_empty() {
            return;
        }
        let first_seq = state.schedule[first].seq;
        let grace = state.schedule[first..]
            .iter()
            .filter(|i| i.seq <= state.grace_until_seq)
            .count();
        let terms = &self.contract.terms;
        let plan = AmortizationPlan {
            start_on,
            due_dates: &dates,
            first_seq,
            balance: state.not_due_principal,
            grace_installments: grace,
            method: state.method,
            rate_percent: terms.rate_percent,
            day_count: terms.day_count,
            period_months: state.period_months,
            installment_unit: terms.installment_unit,
        };
        let rebuilt = amortize(&plan);
        for (installment, line) in state.schedule[first..]
            .iter_mut()
            .zip(&rebuilt.installments)
        {
            let carried = installment.carried_interest;
            *installment = LoanInstallment::from_plan(line);
            installment.carried_interest = carried;
        }
    }

    /// Decree 45/2021 Art 27: a new schedule for all unpaid principal (module docs). Nothing is forgiven but the
    /// explicit `interest_reduction` (DOMAIN.md §7).
    fn restructure(
        &mut self,
        id: &str,
        date: NaiveDate,
        terms: &Restructure,
    ) -> Result<(), LoanError> {
        self.check_active()?;
        if let Some(closed_on) = self.state.closed_on {
            return Err(LoanError::LoanClosed { closed_on });
        }
        let new_dates = self.check_restructure(date, terms)?;
        let day_count = self.contract.terms.day_count;
        // What the borrower still owes net of the advance: a reduction above it would leave the fund owing them.
        let payoff = self.state.payoff_quote(day_count).total;
        let state = &mut self.state;
        // Unpaid interest of billed installments, and interest an earlier restructuring carried into installments
        // not yet billed (they are replaced below): all of it moves into the new schedule.
        let billed_unpaid_interest: Vnd = state.schedule[state.first_open..state.next_unbilled]
            .iter()
            .map(|i| i.unpaid_interest())
            .sum();
        let mut carried_interest = billed_unpaid_interest + state.restructured_interest_not_due();
        if terms.interest_reduction.is_negative() {
            return Err(LoanError::AmountNotPositive(terms.interest_reduction));
        }
        if terms.interest_reduction.is_positive() {
            let owed = round_half_up_to_dong(state.late_interest_exact())
                + round_half_up_to_dong(state.overdue_interest_exact())
                + carried_interest;
            if terms.interest_reduction > owed {
                return Err(LoanError::InterestReductionAboveInterestOwed {
                    reduction: terms.interest_reduction,
                    owed,
                });
            }
            if terms.interest_reduction > payoff {
                return Err(LoanError::InterestReductionAbovePayoff {
                    reduction: terms.interest_reduction,
                    payoff,
                });
            }
            // Penalty interest is forgiven first: it is the part a lender gives up most readily.
            let mut left = terms.interest_reduction;
            let late_interest = pay_accrued(&mut state.late_units, left);
            left -= late_interest;
            let overdue_interest = pay_accrued(&mut state.overdue_units, left);
            left -= overdue_interest;
            let contractual_interest = left.min(carried_interest);
            carried_interest -= contractual_interest;
            state.interest_reductions.push(InterestReduction {
                event_id: id.to_string(),
                value_date: date,
                late_interest,
                overdue_interest,
                contractual_interest,
            });
        }
        for installment in &mut state.schedule[state.first_open..state.next_unbilled] {
            let principal = installment.unpaid_principal();
            let interest = installment.unpaid_interest();
            installment.rescheduled_principal += principal;
            installment.rescheduled_interest += interest;
        }
        // The current period's accrual moves to the new first period; per_period's denominator changes with it.
        state.current_carry = state.current_interest_exact(day_count);
        state.current_units = Decimal::ZERO;
        let outstanding = state.outstanding_principal();
        let start_on = state
            .next_unbilled
            .checked_sub(1)
            .map(|i| state.schedule[i].due_on)
            .or(state.first_disbursed_on)
            .unwrap_or(date);
        state.schedule.truncate(state.next_unbilled);
        let first_seq = state.schedule.last().map_or(1, |i| i.seq + 1);
        let plan = AmortizationPlan {
            start_on,
            due_dates: &new_dates,
            first_seq,
            balance: outstanding,
            grace_installments: terms.principal_grace as usize,
            method: terms.method,
            rate_percent: self.contract.terms.rate_percent,
            day_count,
            period_months: terms.period_months,
            installment_unit: self.contract.terms.installment_unit,
        };
        let rebuilt = amortize(&plan);
        state
            .schedule
            .extend(rebuilt.installments.iter().map(LoanInstallment::from_plan));
        if let Some(first_new) = state.schedule.get_mut(state.next_unbilled) {
            first_new.carried_interest = carried_interest;
        }
        state.first_open = state.next_unbilled;
        state.in_term_principal = outstanding;
        state.overdue_principal = Vnd::ZERO;
        state.unpaid_interest = Vnd::ZERO;
        state.not_due_principal = outstanding;
        state.method = terms.method;
        state.period_months = terms.period_months;
        state.grace_until_seq = first_seq - 1 + terms.principal_grace;
        state.restructure_count += 1;
        state.last_restructured_on = Some(date);
        state.interest_reduced |= terms.interest_reduced || terms.interest_reduction.is_positive();
        Ok(())
    }

    fn check_restructure(
        &self,
        date: NaiveDate,
        terms: &Restructure,
    ) -> Result<Vec<NaiveDate>, LoanError> {
        if terms.installments == 0 {
            return Err(TermsError::NoInstallments.into());
        }
        if terms.installments > MAX_INSTALLMENTS {
            return Err(TermsError::TooManyInstallments {
                installments: terms.installments,
                max: MAX_INSTALLMENTS,
            }
            .into());
        }
        if terms.principal_grace >= terms.installments {
            return Err(TermsError::GraceNotBelowInstallments {
                grace: terms.principal_grace,
                installments: terms.installments,
            }
            .into());
        }
        if !ALLOWED_PERIOD_MONTHS.contains(&terms.period_months) {
            return Err(TermsError::PeriodNotAllowed(terms.period_months).into());
        }
        if terms.first_due_on <= date {
            return Err(LoanError::RestructureFirstDueNotAfterEffectiveDate);
        }
        let dates = due_dates(
            date,
            Some(terms.first_due_on),
            terms.installments,
            terms.period_months,
        )?;
        let maturity = self.state.schedule.last().map_or(date, |i| i.due_on);
        let new_maturity = *dates.last().unwrap_or(&terms.first_due_on);
        match terms.kind {
            RestructureKind::Adjustment if new_maturity != maturity => {
                Err(LoanError::AdjustmentChangesMaturity {
                    maturity,
                    new_maturity,
                })
            }
            RestructureKind::Extension if new_maturity <= maturity => {
                Err(LoanError::ExtensionDoesNotExtend {
                    maturity,
                    new_maturity,
                })
            }
            _ => Ok(dates),
        }
    }

    fn write_off(&mut self, date: NaiveDate) -> Result<(), LoanError> {
        self.check_active()?;
        if let Some(closed_on) = self.state.closed_on {
            return Err(LoanError::LoanClosed { closed_on });
        }
        let day_count = self.contract.terms.day_count;
        let state = &mut self.state;
        let recognised =
            state.interest_billed + round_half_up_to_dong(state.current_interest_exact(day_count));
        state.written_off_interest =
            (recognised - state.interest_collected - state.contractual_interest_waived())
                .clamp_non_negative();
        state.written_off_principal = state.outstanding_principal();
        state.in_term_principal = Vnd::ZERO;
        state.overdue_principal = Vnd::ZERO;
        state.not_due_principal = Vnd::ZERO;
        state.written_off_on = Some(date);
        Ok(())
    }

    /// Money recovered on a written-off loan: principal first, then interest not recognised (module docs).
    fn recover(&mut self, id: &str, date: NaiveDate, amount: Vnd) -> Result<(), LoanError> {
        LoanFolder::check_amount(amount)?;
        if !self.started {
            return Err(LoanError::NotDisbursed);
        }
        if self.state.written_off_on.is_none() {
            return Err(LoanError::LoanNotWrittenOff);
        }
        let state = &mut self.state;
        let principal_left = state.principal_under_follow_up();
        let remaining = principal_left + state.interest_under_follow_up();
        if amount > remaining {
            return Err(LoanError::RecoveryAboveRemaining { amount, remaining });
        }
        let principal = amount.min(principal_left);
        state.cash_received += amount;
        state.recoveries.push(Recovery {
            event_id: id.to_string(),
            value_date: date,
            amount,
            principal,
            interest: amount - principal,
        });
        if amount == remaining {
            state.recovered_on = Some(date);
        }
        Ok(())
    }
}

/// Pays up to `limit` of an exact accrual (× 36,500) charged as round(accrued); a full payment clears the residue.
fn pay_accrued(units: &mut Decimal, limit: Vnd) -> Vnd {
    let charge = round_half_up_to_dong(*units / ACTUAL_365_DENOMINATOR);
    let paid = charge.min(limit).clamp_non_negative();
    if paid == charge {
        *units = Decimal::ZERO;
    } else {
        *units -= paid.as_decimal() * ACTUAL_365_DENOMINATOR;
    }
    paid
}

/// Statuses, DPD, closing balances and interest projections of a state.
fn finish(contract: &LoanContract, state: &mut LoanState) {
    let as_of = state.as_of;
    let oldest_overdue = state
        .schedule
        .iter()
        .filter(|i| i.fell_overdue && LoanState::is_open(i))
        .map(|i| i.due_on)
        .min();
    state.dpd = oldest_overdue.map_or(0, |due_on| days_between(due_on, as_of).max(0));
    let mut balance: Vnd = state
        .schedule
        .iter()
        .map(|i| i.principal - i.rescheduled_principal)
        .sum();
    for installment in &mut state.schedule {
        balance -= installment.principal - installment.rescheduled_principal;
        installment.closing_balance = balance;
        installment.status = status_of(installment);
    }
    project_interest(contract, state);
}

fn status_of(installment: &LoanInstallment) -> InstallmentStatus {
    let open = LoanState::is_open(installment);
    let rescheduled = installment.rescheduled_principal.is_positive()
        || installment.rescheduled_interest.is_positive();
    if !installment.billed {
        let prepaid =
            installment.principal.is_positive() && installment.unpaid_principal().is_zero();
        return if prepaid {
            InstallmentStatus::Paid
        } else {
            InstallmentStatus::Future
        };
    }
    match (open, rescheduled, installment.fell_overdue) {
        (false, true, _) => InstallmentStatus::Restructured,
        (false, false, _) => InstallmentStatus::Paid,
        (true, _, true) => InstallmentStatus::Overdue,
        _ if installment.paid_principal.is_positive()
            || installment.paid_interest.is_positive() =>
        {
            InstallmentStatus::PartlyPaid
        }
        _ => InstallmentStatus::Due,
    }
}

/// Projects the interest of unbilled installments on the principal not yet due (display only; billing uses the
/// real accrual).
fn project_interest(contract: &LoanContract, state: &mut LoanState) {
    let terms = &contract.terms;
    let first = state.next_unbilled;
    if first >= state.schedule.len() || state.written_off_on.is_some() || state.closed_on.is_some()
    {
        return;
    }
    let accrued_through = if state.day_closed {
        state.as_of.succ_opt().unwrap_or(state.as_of)
    } else {
        state.as_of
    };
    let mut balance = state.not_due_principal;
    let mut previous_due = accrued_through;
    let current = state.current_interest_exact(terms.day_count);
    let period_months = state.period_months;
    for (offset, installment) in state.schedule[first..].iter_mut().enumerate() {
        let days = days_between(previous_due, installment.due_on).max(0);
        let exact = match terms.day_count {
            DayCount::Actual365 => {
                balance.as_decimal() * terms.rate_percent * Decimal::from(days)
                    / ACTUAL_365_DENOMINATOR
            }
            DayCount::PerPeriod => {
                balance.as_decimal()
                    * terms.rate_percent
                    * Decimal::from(period_months)
                    * Decimal::from(days)
                    / (Decimal::from(1_200) * Decimal::from(installment.days.max(1)))
            }
        };
        let exact = if offset == 0 { exact + current } else { exact };
        installment.interest = round_half_up_to_dong(exact) + installment.carried_interest;
        balance -= installment.unpaid_principal();
        previous_due = installment.due_on;
    }
}

/// The events that count: reversed events and the reversals themselves dropped, sorted by (value_date, sequence).
pub fn effective_events(events: &[LoanEvent]) -> Result<Vec<&LoanEvent>, FoldError> {
    let mut reversed: Vec<&str> = Vec::new();
    for event in events {
        if let EventKind::Reversal { reversed_id } = &event.kind {
            let target = events
                .iter()
                .find(|e| &e.id == reversed_id && !matches!(e.kind, EventKind::Reversal { .. }));
            if target.is_none() {
                return Err(FoldError {
                    event_id: Some(event.id.clone()),
                    error: LoanError::UnknownReversal(reversed_id.clone()),
                });
            }
            reversed.push(reversed_id);
        }
    }
    let mut kept: Vec<&LoanEvent> = events
        .iter()
        .filter(|e| {
            !matches!(e.kind, EventKind::Reversal { .. }) && !reversed.contains(&e.id.as_str())
        })
        .collect();
    kept.sort_by_key(|e| (e.value_date, e.sequence));
    Ok(kept)
}

/// The loan as of the **start** of `through`, after the events of that day: interest accrued over the days
/// before `through`, the installment due on `through` billed (and the advance applied to it), the events with a
/// value date ≤ `through` applied. What falls overdue at the end of `through` has not yet moved. This is "what
/// is owed on `through`" (payoff, statements, the screens on the business date).
pub fn fold(
    contract: &LoanContract,
    events: &[LoanEvent],
    through: NaiveDate,
) -> Result<LoanState, FoldError> {
    Ok(fold_events(contract, events, through, false)?.into_state())
}

/// The loan at the **end** of `day` (close of business): as [`fold`], plus the end-of-day moves to overdue and
/// the accrual of `day` itself. DPD is counted on `day`.
pub fn fold_close_of_day(
    contract: &LoanContract,
    events: &[LoanEvent],
    day: NaiveDate,
) -> Result<LoanState, FoldError> {
    let mut folder = fold_events(contract, events, day, false)?;
    folder.close_day();
    Ok(folder.into_state())
}

/// [`fold`] as if the events with these ids had never happened (a reversal: the store keeps the event and its
/// reversal, the engine replays without it).
pub fn fold_without(
    contract: &LoanContract,
    events: &[LoanEvent],
    reversed_ids: &[&str],
    through: NaiveDate,
) -> Result<LoanState, FoldError> {
    let kept: Vec<LoanEvent> = events
        .iter()
        .filter(|e| !reversed_ids.contains(&e.id.as_str()))
        .cloned()
        .collect();
    fold(contract, &kept, through)
}

/// DOMAIN.md §5: the payoff quote on `date` with every component.
pub fn payoff(
    contract: &LoanContract,
    events: &[LoanEvent],
    date: NaiveDate,
) -> Result<PayoffQuote, FoldError> {
    Ok(fold(contract, events, date)?.payoff_quote(contract.terms.day_count))
}

/// "How is this computed?": the payoff quote on `date` with every amount opened into the lines that make it,
/// recorded by the very fold that computes the quote (see [`mod@crate::explain`]).
pub fn explain(
    contract: &LoanContract,
    events: &[LoanEvent],
    date: NaiveDate,
) -> Result<Explanation, ExplainError> {
    let mut folder = fold_events(contract, events, date, true)?;
    let trace = folder.trace.take().unwrap_or_default();
    let state = folder.into_state();
    let quote = state.payoff_quote(contract.terms.day_count);
    crate::explain::build(contract, &trace, quote)
}

fn fold_events<'c>(
    contract: &'c LoanContract,
    events: &[LoanEvent],
    through: NaiveDate,
    traced: bool,
) -> Result<LoanFolder<'c>, FoldError> {
    let mut folder = LoanFolder::new(contract)?;
    if traced {
        folder.trace = Some(Box::default());
    }
    for event in effective_events(events)?
        .into_iter()
        .filter(|e| e.value_date <= through)
    {
        folder.apply(event)?;
    }
    folder.advance_to(through);
    Ok(folder)
}
