//! # coopfund-domain: the pure lending core of coopfund
//!
//! Everything here decides money and nothing here does I/O: no database, no HTTP, no clock. Dates are always
//! arguments. The modules, in the order a loan meets them:
//!
//! - [`money`]: whole-đồng amounts ([`Vnd`]), annual rates ([`AnnualRate`]) and the named rounding rules.
//! - [`calendar`]: months with month-end clamping; the fund's business days for the on-time rule.
//! - [`schedule`]: repayment schedules (annuity, equal principal, bullet) — DOMAIN.md §3.
//! - [`loan`]: a loan's state as a pure fold of its events: accrual, overdue, advances, payoff — §4, §5, §7.
//! - [`allocation`]: the allocation order, the allocation record and the payoff quote — §5.
//! - [`classification`]: debt groups, provisions, bad-debt ratio — §8.
//! - [`journal`]: balanced journal entries, the chart, each loan's books and posting by difference — §9.
//!
//! The specification is DOMAIN.md; legal sources are cited in each module's docs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod allocation;
pub mod calendar;
pub mod classification;
pub mod journal;
pub mod loan;
pub mod money;
pub mod schedule;

pub use allocation::{
    Allocation, AllocationOrder, Bucket, PayoffQuote, PrepaymentRule, RepaymentKind,
};
pub use calendar::{add_months_clamped, HolidayCalendar};
pub use classification::{
    classify, customer_group, general_provision, portfolio_summary, specific_provision,
    ClassificationConfig, ClassificationInput, DebtGroup, PortfolioSummary, ProvisionRates,
};
pub use journal::{
    entry_for_difference, general_provision_book, loan_book, Account, AccountBalances, BookInputs,
    JournalEntry, JournalEntryBuilder, JournalError, JournalLine, Side,
};
pub use loan::{
    effective_events, fold, fold_close_of_day, fold_without, payoff, EventKind, FoldError,
    InstallmentStatus, LoanContract, LoanError, LoanEvent, LoanFolder, LoanInstallment, LoanState,
    Restructure, RestructureKind,
};
pub use money::{round_half_up_to_dong, round_to_unit_ties_up, AnnualRate, MoneyError, Vnd};
pub use schedule::{
    build_schedule, DayCount, Installment, Method, Schedule, ScheduleTerms, TermsError,
};
