//! How a payment is split among what is owed (DOMAIN.md §5), and what the payoff is.
//!
//! - Circular 39/2016/TT-NHNN Art 18(4): on an overdue loan, principal is collected before interest, hence the
//!   default order: overdue principal (oldest installment first), unpaid overdue interest (oldest first), overdue
//!   interest, late interest, interest due today, principal due today. A product may set another order
//!   ([`AllocationOrder::new`] checks that it names each bucket exactly once).
//! - The excess of an **ordinary** payment is held as an advance and applied first on each following due date, in
//!   the same order, until used up; principal is not reduced early, so interest runs as scheduled.
//! - An ordinary payment when nothing is due (e.g. between due dates on a current loan) is therefore held whole as
//!   an advance (our reading of §5: "the excess … is held as an advance").
//! - The excess of a **prepayment** cuts principal at once, per product ([`PrepaymentRule`]): from the last
//!   installment backwards (the term shortens) or re-amortizing the remaining installments. A prepayment does not
//!   pay the interest of the current period early (worked example 3's variant bills it at the next due date). If
//!   its excess is larger than the principal not yet due (possible only when it is still below the payoff), the
//!   rest is held as an advance.
//! - A payment equal to the payoff settles the loan (after the overdue items it pays the current period's accrued
//!   interest and all remaining principal, using the advance too); a payment above it is refused with the payoff.
//!
//! "Due today" means billed and still inside the on-time window (the due date, or the next business day when the
//! due date is a holiday, DOMAIN.md §4).

use crate::money::Vnd;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One kind of debt a payment can settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Principal of installments that fell overdue, oldest first.
    OverduePrincipal,
    /// Contractual interest of installments that fell overdue, oldest first.
    UnpaidInterest,
    /// Interest on overdue principal (at the overdue multiplier).
    OverdueInterest,
    /// Late interest on unpaid overdue interest.
    LateInterest,
    /// Interest of installments due today.
    Interest,
    /// Principal of installments due today.
    Principal,
}

impl Bucket {
    /// All buckets, in the default order (Circular 39/2016 Art 18(4)).
    pub const DEFAULT_ORDER: [Bucket; 6] = [
        Bucket::OverduePrincipal,
        Bucket::UnpaidInterest,
        Bucket::OverdueInterest,
        Bucket::LateInterest,
        Bucket::Interest,
        Bucket::Principal,
    ];
}

/// A product's allocation order: each [`Bucket`] exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationOrder(Vec<Bucket>);

impl AllocationOrder {
    /// An order; refuses lists that miss or repeat a bucket.
    pub fn new(buckets: Vec<Bucket>) -> Option<AllocationOrder> {
        let complete = buckets.len() == Bucket::DEFAULT_ORDER.len()
            && Bucket::DEFAULT_ORDER
                .iter()
                .all(|b| buckets.iter().filter(|x| *x == b).count() == 1);
        complete.then_some(AllocationOrder(buckets))
    }

    /// The buckets in order.
    pub fn buckets(&self) -> &[Bucket] {
        &self.0
    }
}

impl Default for AllocationOrder {
    fn default() -> AllocationOrder {
        AllocationOrder(Bucket::DEFAULT_ORDER.to_vec())
    }
}

/// What a prepayment's excess does to the schedule (per product).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrepaymentRule {
    /// Cut principal from the last installment backwards: the term shortens, installments keep their size.
    #[default]
    ShortenTerm,
    /// Spread the lower balance over the remaining installments (same method): installments shrink.
    Reamortize,
}

/// Whether a repayment's excess is held (ordinary) or cuts principal (prepayment, trả nợ trước hạn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepaymentKind {
    /// Excess held as an advance.
    #[default]
    Ordinary,
    /// Excess cuts principal at once.
    Prepayment,
}

/// How one repayment (or one application of the advance on a due date) was split; API.md's `allocation`.
///
/// Conservation: `overdue_principal + unpaid_interest + overdue_interest + late_interest + interest + principal +
/// prepaid_principal + advance = amount + advance_applied`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The repayment event's id; `None` for an application of the advance on a due date.
    pub event_id: Option<String>,
    /// The value date.
    pub value_date: NaiveDate,
    /// Cash received (0 for an application of the advance).
    pub amount: Vnd,
    /// Overdue principal paid.
    pub overdue_principal: Vnd,
    /// Unpaid overdue contractual interest paid.
    pub unpaid_interest: Vnd,
    /// Overdue interest charged and paid.
    pub overdue_interest: Vnd,
    /// Late interest charged and paid.
    pub late_interest: Vnd,
    /// Contractual interest paid: due today, plus the current period's accrued interest on a payoff.
    pub interest: Vnd,
    /// Principal due today paid.
    pub principal: Vnd,
    /// Principal not yet due paid early (prepayment excess, or a payoff).
    pub prepaid_principal: Vnd,
    /// Excess newly held as an advance.
    pub advance: Vnd,
    /// Advance held before and used by this allocation (a payoff, or the application on a due date).
    pub advance_applied: Vnd,
    /// True when this payment settled the loan (it equalled the payoff).
    pub settled_loan: bool,
}

impl Allocation {
    /// Everything this allocation put somewhere (must equal `amount + advance_applied`).
    pub fn total_allocated(&self) -> Vnd {
        self.overdue_principal
            + self.unpaid_interest
            + self.overdue_interest
            + self.late_interest
            + self.interest
            + self.principal
            + self.prepaid_principal
            + self.advance
    }

    /// Principal paid of any kind.
    pub fn total_principal(&self) -> Vnd {
        self.overdue_principal + self.principal + self.prepaid_principal
    }

    pub(crate) fn add_to(&mut self, bucket: Bucket, amount: Vnd) {
        match bucket {
            Bucket::OverduePrincipal => self.overdue_principal += amount,
            Bucket::UnpaidInterest => self.unpaid_interest += amount,
            Bucket::OverdueInterest => self.overdue_interest += amount,
            Bucket::LateInterest => self.late_interest += amount,
            Bucket::Interest => self.interest += amount,
            Bucket::Principal => self.principal += amount,
        }
    }
}

/// DOMAIN.md §5: what settles the loan on `date`, with every component (API.md's payoff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoffQuote {
    /// The date of the quote.
    pub date: NaiveDate,
    /// Overdue principal.
    pub overdue_principal: Vnd,
    /// Unpaid overdue contractual interest.
    pub unpaid_interest: Vnd,
    /// Overdue interest accrued, rounded.
    pub overdue_interest: Vnd,
    /// Late interest accrued, rounded.
    pub late_interest: Vnd,
    /// Interest due today not yet paid, plus the current period's interest accrued up to the day before.
    pub current_interest: Vnd,
    /// Unpaid interest a restructuring moved into installments not yet due (DOMAIN.md §7: it stays owed).
    pub restructured_interest: Vnd,
    /// All remaining in-term principal (due today and not yet due).
    pub principal: Vnd,
    /// The advance held, deducted.
    pub advance: Vnd,
    /// The sum of the components less the advance.
    pub total: Vnd,
}
