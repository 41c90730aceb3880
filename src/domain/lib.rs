//! # coopfund-domain: the pure lending core of coopfund
//!
//! Everything here decides money and nothing here does I/O: no database, no HTTP, no clock. Dates are always
//! arguments. The modules, in the order a loan meets them:
//!
//! - [`ids`]: typed ids of the records the service keeps ([`ids::LoanId`], ...).
//! - [`money`]: whole-đồng amounts ([`Vnd`]), annual rates ([`AnnualRate`]) and the named rounding rules.
//! - [`calendar`]: months with month-end clamping; the fund's business days for the on-time rule.
//! - [`schedule`]: repayment schedules (annuity, equal principal, bullet) — DOMAIN.md §3.
//! - [`loan`]: a loan's state as a pure fold of its events: accrual, overdue, advances, payoff — §4, §5, §7.
//! - [`allocation`]: the allocation order, the allocation record and the payoff quote — §5.
//! - [`snapshot`]: a loan's folded position kept and advanced, so a read folds only the events after it; equal to
//!   the full refold (property-tested), refused as stale after a back-dated event or a reversal of what it holds.
//! - [`mod@explain`]: "how is this computed?" — every amount of the payoff quote opened into its lines, recorded by the
//!   fold itself.
//! - [`application`]: an application's life cycle, four-eyes and the approval decision — §6, §7.
//! - [`borrower`]: who the fund may lend to: the kinds of cooperative, never an enterprise (Decree 45 Art 20).
//! - [`limits`]: the legal caps on rates and the Decree 45 lending limits — §6.
//! - [`owed`]: what the borrower has to pay: the next installment net of the advance, everything owed today — §4, §5.
//! - [`classification`]: debt groups, provisions, bad-debt ratio — §8.
//! - [`journal`]: balanced journal entries, the chart, each loan's books and posting by difference — §9.
//! - [`status`]: a loan's status after a fold, the debt group it is shown in, and the stored names of statuses,
//!   transaction kinds and the engine's choices — §4, §8.
//! - [`mod@statement`]: the loan statement with running balances, from the fold and the stored transactions.
//!
//! The specification is DOMAIN.md; legal sources are cited in each module's docs.
//!
//! ## How the service uses it
//! - Preview: [`ScheduleTerms`] → [`build_schedule`] (validates; [`TermsError::code`]/[`TermsError::field`]).
//! - Loans: store the events, replay them with [`fold`] (as of a date), [`fold_close_of_day`] (COB) or
//!   [`payoff`]; a new event is accepted when the replay with it succeeds ([`FoldError::code`] otherwise, e.g.
//!   `payment_above_payoff` carrying the payoff). Reversal: keep the event, add an [`EventKind::Reversal`] (or use
//!   [`fold_without`]), replay. With a stored [`snapshot::FoldSnapshot`]: [`snapshot::advance`] the events after
//!   it, or [`snapshot::fold_from`] (falls back to the full refold when the snapshot is stale).
//! - Books: [`classify`] the loan, [`loan_book`] gives the balances its accounts should hold, and
//!   [`entry_for_difference`] the balanced entry to post with the event.
//!
//! ## Choices where DOMAIN.md is silent or ambiguous
//! Each is explained in its module's docs: the schedule starts at the first disbursement's value date; a payment
//! when nothing is due is held whole as an advance; a prepayment does not pay the current period's interest early,
//! and an excess above the principal not yet due is held as an advance; billed principal inside a holiday's
//! on-time window accrues neither contractual nor overdue interest; DPD counts from the contractual due date;
//! overdue and late interest are charged as round(accrued) when paid; tranches rebuild the unbilled installments;
//! restructuring reschedules all unpaid principal and carries unpaid interest into the first new installment;
//! write-off stops accruals, freezes the schedule and refuses later events but recoveries, which pay the written-off
//! principal first, then the interest not recognised at the write-off; a restructured loan is "current" below 1 DPD; the
//! installment unit rounds only the annuity installment.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aging;
pub mod allocation;
pub mod application;
pub mod borrower;
pub mod calendar;
pub mod chain;
pub mod classification;
pub mod examples;
pub mod explain;
pub mod ids;
pub mod journal;
pub mod limits;
pub mod loan;
pub mod money;
pub mod owed;
pub mod schedule;
pub mod snapshot;
pub mod statement;
pub mod status;
pub mod vietqr;

pub use allocation::{
    Allocation, AllocationOrder, Bucket, PayoffQuote, PrepaymentRule, RepaymentKind,
};
pub use borrower::{CooperativeKind, KindRefusal};
pub use calendar::{add_months_clamped, HolidayCalendar, WeekDays};
pub use classification::{
    classify, customer_group, general_provision, portfolio_summary, specific_provision,
    ClassificationConfig, ClassificationInput, DebtGroup, PortfolioSummary, ProvisionRates,
};
pub use explain::{
    ExplainError, ExplainedAmount, Explanation, ExplanationKind, ExplanationLine, Formula,
    QuoteField,
};
pub use journal::{
    entry_for_difference, general_provision_book, loan_book, Account, AccountBalances, BookInputs,
    JournalEntry, JournalEntryBuilder, JournalError, JournalLine, Side,
};
pub use loan::{
    effective_events, explain, fold, fold_close_of_day, fold_without, payoff, EventKind, FoldError,
    InstallmentStatus, InterestReduction, LoanContract, LoanError, LoanEvent, LoanFolder,
    LoanInstallment, LoanState, Recovery, Restructure, RestructureKind,
};
pub use money::{
    round_half_up_to_dong, round_to_unit_ties_up, AnnualRate, Language, MoneyError, Vnd,
};
pub use owed::{next_to_pay, owed_now, InstallmentToPay, OwedNow};
pub use schedule::{
    build_schedule, DayCount, Installment, Method, Schedule, ScheduleTerms, TermsError,
};
pub use statement::{
    statement, statement_period, LineKind, Movements, Statement, StatementLine, StatementPeriod,
    StatementTransaction,
};
pub use status::{loan_group, shown_group, LoanStatus, TransactionKind, UnknownName};
