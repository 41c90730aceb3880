//! "How is this computed?" (issue 10): every amount of the payoff quote opened into the lines that make it.
//!
//! The lines are not a second calculation. When an explanation is asked for, the fold ([`crate::loan::explain`])
//! carries a `Trace`: after each step it takes (an accrual segment, a due date billed, what fell overdue at the
//! end of a day, a disbursement, a repayment, the advance applied, a restructuring, a write-off) it records how
//! each amount of the quote changed, **before** the rounding of accrued interest (the quote's amounts as exact
//! decimals). The explanation then writes one line per change:
//!
//! - an **accrual segment** (from, to, days, the balance, the annual rate, the formula `balance × rate × days /
//!   365` — or `balance × rate × m/12 × days / days of the period` for a product with the `per_period` day
//!   count) whose amount is what the fold added over those days (Circular 14/2017/TT-NHNN: the first day counts,
//!   the last does not, on the end-of-day balance);
//! - a **movement** (billed, fell overdue, paid, held as an advance, rescheduled, written off) in whole đồng;
//! - a **rounding** line where the engine rounds (DOMAIN.md §2): the installment's interest when it is billed,
//!   the fraction of a đồng dropped when a charge of overdue or late interest is paid in full, and the quote's
//!   own rounding of accrued interest *on the total* (never per segment), ROUND_HALF_UP.
//!
//! Lines show amounts to the cent: each line's amount is the change of the running exact total, both ends
//! rounded to the cent, so the cents of a segment can differ by one from its formula taken alone, and the lines
//! add up **exactly** to the amount shown. A line that nets to nothing is not kept: when an amount comes back to
//! exactly zero (paid in full, moved overdue, …) its earlier lines are dropped, so an explanation tells the story
//! since the amount was last zero.
//!
//! The trace exists only when asked for: the ordinary fold carries `None` and allocates nothing (issue 14).

use crate::allocation::PayoffQuote;
use crate::loan::{FoldError, LoanContract};
use crate::money::{round_half_up_to_dong, Vnd};
use crate::schedule::DayCount;
use crate::RepaymentKind;
use chrono::{Duration, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// How many quote amounts the fold traces (all but the total, which is their sum).
pub(crate) const TRACED_FIELDS: usize = 8;

/// An amount of the payoff quote ([`PayoffQuote`]); its wire name is the API's `_vnd` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteField {
    /// Principal of installments that fell overdue.
    OverduePrincipal,
    /// Contractual interest of installments that fell overdue, unpaid.
    UnpaidInterest,
    /// Interest on overdue principal at the overdue rate, rounded on the total.
    OverdueInterest,
    /// Late interest on unpaid overdue interest, rounded on the total.
    LateInterest,
    /// Interest due today and the current period's accrual, rounded on the total.
    CurrentInterest,
    /// Unpaid interest a restructuring carried into installments not yet due.
    RestructuredInterest,
    /// Principal in term (due today and not yet due).
    Principal,
    /// The advance held (deducted from the total).
    Advance,
    /// What settles the loan.
    Total,
}

impl QuoteField {
    /// The amounts the fold traces, in the order of its snapshots.
    pub const TRACED: [QuoteField; TRACED_FIELDS] = [
        QuoteField::OverduePrincipal,
        QuoteField::UnpaidInterest,
        QuoteField::OverdueInterest,
        QuoteField::LateInterest,
        QuoteField::CurrentInterest,
        QuoteField::RestructuredInterest,
        QuoteField::Principal,
        QuoteField::Advance,
    ];

    /// Every amount of the quote, in the order of the API's payoff quote: the traced ones, then
    /// the total they make.
    pub const ALL: [QuoteField; TRACED_FIELDS + 1] = {
        let mut all = [QuoteField::Total; TRACED_FIELDS + 1];
        // A `while` loop, as `for` is not allowed in a constant.
        let mut index = 0;
        while index < TRACED_FIELDS {
            all[index] = Self::TRACED[index];
            index += 1;
        }
        all
    };

    /// The API field name (`overdue_interest_vnd`), also the page's anchor.
    pub fn wire_name(self) -> &'static str {
        match self {
            QuoteField::OverduePrincipal => "overdue_principal_vnd",
            QuoteField::UnpaidInterest => "unpaid_interest_vnd",
            QuoteField::OverdueInterest => "overdue_interest_vnd",
            QuoteField::LateInterest => "late_interest_vnd",
            QuoteField::CurrentInterest => "current_interest_vnd",
            QuoteField::RestructuredInterest => "restructured_interest_vnd",
            QuoteField::Principal => "principal_vnd",
            QuoteField::Advance => "advance_vnd",
            QuoteField::Total => "total_vnd",
        }
    }

    /// The field of that wire name.
    pub fn from_wire_name(name: &str) -> Option<QuoteField> {
        QuoteField::ALL.into_iter().find(|f| f.wire_name() == name)
    }

    /// This amount in a quote.
    pub fn of(self, quote: &PayoffQuote) -> Vnd {
        match self {
            QuoteField::OverduePrincipal => quote.overdue_principal,
            QuoteField::UnpaidInterest => quote.unpaid_interest,
            QuoteField::OverdueInterest => quote.overdue_interest,
            QuoteField::LateInterest => quote.late_interest,
            QuoteField::CurrentInterest => quote.current_interest,
            QuoteField::RestructuredInterest => quote.restructured_interest,
            QuoteField::Principal => quote.principal,
            QuoteField::Advance => quote.advance,
            QuoteField::Total => quote.total,
        }
    }

    /// True for the accrued amounts the quote rounds on the total.
    pub fn rounded_on_total(self) -> bool {
        matches!(
            self,
            QuoteField::OverdueInterest | QuoteField::LateInterest | QuoteField::CurrentInterest
        )
    }
}

/// One step of the fold, as the trace records it (no allocation: `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Days `from .. from + days` accrued on these end-of-day balances.
    Accrual {
        from: NaiveDate,
        days: i64,
        not_due_principal: Vnd,
        overdue_principal: Vnd,
        unpaid_interest: Vnd,
        period_months: u32,
        period_days: i64,
    },
    /// The end of day `on`: what was unpaid when its on-time window ended fell overdue.
    FellOverdue {
        on: NaiveDate,
    },
    /// Installment `seq` billed on its due date `on` (with interest a restructuring carried into it).
    Billed {
        on: NaiveDate,
        seq: u32,
        carried: Vnd,
    },
    /// The advance applied on a due date.
    AdvanceApplied {
        on: NaiveDate,
    },
    Disbursement {
        on: NaiveDate,
    },
    Repayment {
        on: NaiveDate,
        kind: RepaymentKind,
    },
    Restructure {
        on: NaiveDate,
    },
    WriteOff {
        on: NaiveDate,
    },
    Recovery {
        on: NaiveDate,
    },
}

/// One recorded change of one amount: exact values before and after the step.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Traced {
    step: Step,
    before: Decimal,
    after: Decimal,
}

/// What each step of a fold did to each amount of the quote (module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Trace {
    last: [Decimal; TRACED_FIELDS],
    lines: [Vec<Traced>; TRACED_FIELDS],
}

impl Trace {
    /// Records the amounts after `step`; an amount back at exactly zero forgets its earlier lines.
    pub(crate) fn record(&mut self, step: Step, now: [Decimal; TRACED_FIELDS]) {
        for (index, after) in now.into_iter().enumerate() {
            let before = self.last[index];
            if after == before {
                continue;
            }
            if after.is_zero() {
                self.lines[index].clear();
            } else {
                self.lines[index].push(Traced {
                    step,
                    before,
                    after,
                });
            }
        }
        self.last = now;
    }
}

/// What a line of an explanation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplanationKind {
    /// Interest accrued over a segment of days on a constant balance.
    Accrual,
    /// Money lent.
    Disbursement,
    /// An installment billed on its due date (its principal or interest now due).
    Billed,
    /// The installment's interest rounded to the đồng when billed (DOMAIN.md §3, §4).
    RoundingAtBilling,
    /// Interest a restructuring carried into the installment billed.
    CarriedInterest,
    /// What was unpaid at the end of its on-time window fell overdue.
    FellOverdue,
    /// Paid by a repayment (or, for the advance, the excess held).
    Payment,
    /// Paid by a prepayment.
    Prepayment,
    /// The advance applied on a due date.
    AdvanceApplied,
    /// The fraction of a đồng dropped when a rounded charge was paid in full (DOMAIN.md §4).
    FractionDropped,
    /// Moved by a restructuring (Decree 45/2021 Art 27), or forgiven by its interest reduction.
    Restructure,
    /// Written off.
    WriteOff,
    /// A recovery on a written-off loan.
    Recovery,
    /// The quote's rounding of accrued interest to the đồng, on the total (ROUND_HALF_UP, DOMAIN.md §2).
    RoundingOnTotal,
    /// One amount of the quote, in the total.
    Component,
    /// The advance held, deducted from the total.
    AdvanceDeducted,
    /// An advance larger than everything owed: the total is 0, not negative.
    AdvanceAboveOwed,
}

/// How an accrual segment's amount is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "day_count")]
pub enum Formula {
    /// `balance × rate × days / 365` (Circular 14/2017/TT-NHNN).
    Actual365,
    /// `balance × rate × months/12 × days / days of the period` (a rate quoted per period, DOMAIN.md §4).
    PerPeriod {
        /// Months of the period.
        period_months: u32,
        /// Calendar days of the period being accrued.
        period_days: i64,
    },
}

impl Formula {
    /// The formula in words, English (the page writes it in the reader's language).
    pub fn text(self) -> String {
        match self {
            Formula::Actual365 => "balance × rate × days / 365".to_string(),
            Formula::PerPeriod {
                period_months,
                period_days,
            } => format!("balance × rate × {period_months}/12 × days / {period_days}"),
        }
    }

    /// The formula's exact value for a balance, an annual rate in percent and a number of days.
    pub fn value(self, balance: Vnd, rate_percent: Decimal, days: i64) -> Decimal {
        let numerator = balance.as_decimal() * rate_percent * Decimal::from(days);
        match self {
            Formula::Actual365 => numerator / Decimal::from(36_500),
            Formula::PerPeriod {
                period_months,
                period_days,
            } => {
                numerator * Decimal::from(period_months)
                    / (Decimal::from(1_200) * Decimal::from(period_days.max(1)))
            }
        }
    }
}

/// One line of an explained amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplanationLine {
    /// What the line is.
    pub kind: ExplanationKind,
    /// The date (an accrual's first day).
    pub from: NaiveDate,
    /// An accrual's end, not counted (the next day after its last).
    pub to: Option<NaiveDate>,
    /// An accrual's days.
    pub days: Option<i64>,
    /// The balance an accrual ran on.
    pub balance: Option<Vnd>,
    /// The annual rate of an accrual, percent (the overdue rate is the in-term rate × the multiplier).
    pub rate_percent: Option<Decimal>,
    /// How an accrual is computed.
    pub formula: Option<Formula>,
    /// The formula's value, unrounded (to 6 decimals).
    pub exact: Option<Decimal>,
    /// The line's amount in đồng, to the cent; the lines of an amount add up to it exactly.
    pub amount: Decimal,
    /// The installment concerned (a billing).
    pub installment: Option<u32>,
    /// For the total: the amount of the quote this line is.
    pub component: Option<QuoteField>,
}

impl ExplanationLine {
    fn movement(kind: ExplanationKind, from: NaiveDate, amount: Decimal) -> ExplanationLine {
        ExplanationLine {
            kind,
            from,
            to: None,
            days: None,
            balance: None,
            rate_percent: None,
            formula: None,
            exact: None,
            amount,
            installment: None,
            component: None,
        }
    }
}

/// One amount of the quote and the lines that make it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedAmount {
    /// Which amount.
    pub field: QuoteField,
    /// The amount, equal to the quote's.
    pub amount: Vnd,
    /// The lines; their amounts add up to `amount` exactly.
    pub lines: Vec<ExplanationLine>,
}

impl ExplainedAmount {
    /// Σ of the lines (equals `amount`).
    pub fn lines_total(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// The payoff quote on a date with every amount explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The quote the amounts come from.
    pub quote: PayoffQuote,
    /// Every amount of the quote, in [`QuoteField::ALL`] order.
    pub amounts: Vec<ExplainedAmount>,
}

impl Explanation {
    /// The explained amount of a field.
    pub fn amount(&self, field: QuoteField) -> Option<&ExplainedAmount> {
        self.amounts.iter().find(|a| a.field == field)
    }
}

/// Why a loan cannot be explained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The events do not fold (as for the payoff quote).
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// The traced lines do not reach the quote's amount: a defect of the engine's trace, never shown as lines.
    #[error("the lines of {field:?} add up to {explained}, the quote says {quoted}")]
    Unexplained {
        /// The amount concerned.
        field: QuoteField,
        /// The quote's amount.
        quoted: Vnd,
        /// What the lines add up to.
        explained: Decimal,
    },
}

fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Builds the explanation of `quote` from the fold's trace (module docs).
pub(crate) fn build(
    contract: &LoanContract,
    trace: &Trace,
    quote: PayoffQuote,
) -> Result<Explanation, ExplainError> {
    let mut amounts = Vec::with_capacity(QuoteField::ALL.len());
    for (index, field) in QuoteField::TRACED.into_iter().enumerate() {
        let mut lines = Vec::new();
        for traced in &trace.lines[index] {
            let change = cents(traced.after) - cents(traced.before);
            lines_of_step(contract, field, traced.step, change, &mut lines);
        }
        let quoted = field.of(&quote);
        let explained: Decimal = lines.iter().map(|l: &ExplanationLine| l.amount).sum();
        let rounding = quoted.as_decimal() - explained;
        if !rounding.is_zero() {
            if !field.rounded_on_total() || rounding.abs() > Decimal::new(5, 1) {
                return Err(ExplainError::Unexplained {
                    field,
                    quoted,
                    explained,
                });
            }
            lines.push(ExplanationLine::movement(
                ExplanationKind::RoundingOnTotal,
                quote.date,
                rounding,
            ));
        }
        amounts.push(ExplainedAmount {
            field,
            amount: quoted,
            lines,
        });
    }
    amounts.push(total_of(&quote));
    Ok(Explanation { quote, amounts })
}

/// The total: each component, less the advance (never below zero).
fn total_of(quote: &PayoffQuote) -> ExplainedAmount {
    let mut lines = Vec::new();
    for field in QuoteField::TRACED {
        let amount = field.of(quote);
        if amount.is_zero() {
            continue;
        }
        let mut line = if field == QuoteField::Advance {
            ExplanationLine::movement(
                ExplanationKind::AdvanceDeducted,
                quote.date,
                -amount.as_decimal(),
            )
        } else {
            ExplanationLine::movement(ExplanationKind::Component, quote.date, amount.as_decimal())
        };
        line.component = Some(field);
        lines.push(line);
    }
    let explained: Decimal = lines.iter().map(|l| l.amount).sum();
    let clamp = quote.total.as_decimal() - explained;
    if !clamp.is_zero() {
        lines.push(ExplanationLine::movement(
            ExplanationKind::AdvanceAboveOwed,
            quote.date,
            clamp,
        ));
    }
    ExplainedAmount {
        field: QuoteField::Total,
        amount: quote.total,
        lines,
    }
}

/// The lines one step adds to one amount, whose amounts add up to `change`.
fn lines_of_step(
    contract: &LoanContract,
    field: QuoteField,
    step: Step,
    change: Decimal,
    lines: &mut Vec<ExplanationLine>,
) {
    let (kind, on) = match step {
        Step::Accrual {
            from,
            days,
            not_due_principal,
            overdue_principal,
            unpaid_interest,
            period_months,
            period_days,
        } => {
            let terms = &contract.terms;
            let accrual = match field {
                QuoteField::CurrentInterest => Some((
                    not_due_principal,
                    terms.rate_percent,
                    match terms.day_count {
                        DayCount::Actual365 => Formula::Actual365,
                        DayCount::PerPeriod => Formula::PerPeriod {
                            period_months,
                            period_days,
                        },
                    },
                )),
                QuoteField::OverdueInterest => Some((
                    overdue_principal,
                    terms.rate_percent * contract.overdue_multiplier,
                    Formula::Actual365,
                )),
                QuoteField::LateInterest => Some((
                    unpaid_interest,
                    contract.late_rate_percent,
                    Formula::Actual365,
                )),
                _ => None,
            };
            if let Some((balance, rate_percent, formula)) = accrual {
                lines.push(ExplanationLine {
                    kind: ExplanationKind::Accrual,
                    from,
                    to: Some(from + Duration::days(days)),
                    days: Some(days),
                    balance: Some(balance),
                    rate_percent: Some(rate_percent.normalize()),
                    formula: Some(formula),
                    exact: Some(
                        formula
                            .value(balance, rate_percent, days)
                            .round_dp(6)
                            .normalize(),
                    ),
                    amount: change,
                    installment: None,
                    component: None,
                });
                return;
            }
            (ExplanationKind::Accrual, from)
        }
        Step::Billed { on, seq, carried } => {
            if field == QuoteField::CurrentInterest {
                // Billing turns the period's exact accrual into whole đồng, plus any interest carried in.
                let mut push = |kind, amount: Decimal| {
                    if !amount.is_zero() {
                        let mut line = ExplanationLine::movement(kind, on, amount);
                        line.installment = Some(seq);
                        lines.push(line);
                    }
                };
                push(ExplanationKind::CarriedInterest, carried.as_decimal());
                push(
                    ExplanationKind::RoundingAtBilling,
                    change - carried.as_decimal(),
                );
                return;
            }
            let mut line = ExplanationLine::movement(ExplanationKind::Billed, on, change);
            line.installment = Some(seq);
            lines.push(line);
            return;
        }
        Step::FellOverdue { on } => (ExplanationKind::FellOverdue, on),
        Step::AdvanceApplied { on } => (ExplanationKind::AdvanceApplied, on),
        Step::Disbursement { on } => (ExplanationKind::Disbursement, on),
        Step::Repayment {
            on,
            kind: RepaymentKind::Ordinary,
        } => (ExplanationKind::Payment, on),
        Step::Repayment {
            on,
            kind: RepaymentKind::Prepayment,
        } => (ExplanationKind::Prepayment, on),
        Step::Restructure { on } => (ExplanationKind::Restructure, on),
        Step::WriteOff { on } => (ExplanationKind::WriteOff, on),
        Step::Recovery { on } => (ExplanationKind::Recovery, on),
    };
    // A movement is whole đồng; what is not is a charge rounded and paid in full (its fraction dropped).
    let whole = round_half_up_to_dong(change).as_decimal();
    if !whole.is_zero() {
        lines.push(ExplanationLine::movement(kind, on, whole));
    }
    if change != whole {
        lines.push(ExplanationLine::movement(
            ExplanationKind::FractionDropped,
            on,
            change - whole,
        ));
    }
}
