//! The fixtures the domain's integration tests share, written once: an amount, an event, worked example
//! 3's disbursement, the number of property cases, a random loan contract and the steps that build a
//! random loan's valid events. The worked examples themselves are in
//! `coopfund_domain::examples`, shared with the service's tests.

// Every test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::ops::RangeInclusive;

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    add_months_clamped, examples::date, fold, payoff, DayCount, EventKind, LoanContract, LoanEvent,
    LoanState, Method, PrepaymentRule, RepaymentKind, Restructure, RestructureKind, ScheduleTerms,
    Vnd,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// `amount` đồng.
pub fn vnd(amount: i64) -> Vnd {
    Vnd::from_i64(amount)
}

/// An event of any kind.
pub fn event(id: &str, value_date: NaiveDate, sequence: u64, kind: EventKind) -> LoanEvent {
    LoanEvent {
        id: id.into(),
        value_date,
        sequence,
        kind,
    }
}

/// An ordinary repayment of `amount` đồng.
pub fn ordinary_repayment(
    id: &str,
    value_date: NaiveDate,
    sequence: u64,
    amount: i64,
) -> LoanEvent {
    LoanEvent::repayment(
        id,
        value_date,
        sequence,
        vnd(amount),
        RepaymentKind::Ordinary,
    )
}

/// Worked example 3's disbursement: 100,000,000 on 2026-01-10 (`d1`, the first event).
pub fn disbursed() -> LoanEvent {
    LoanEvent::disbursement("d1", date(2026, 1, 10), 1, vnd(100_000_000))
}

/// How many cases a property test runs: `PROPTEST_CASES` when set (CI runs more), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Any repayment method.
pub fn any_method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::Annuity,
        Method::EqualPrincipal,
        Method::Bullet,
    ])
}

/// Any day count.
pub fn any_day_count() -> impl Strategy<Value = DayCount> {
    prop::sample::select(vec![DayCount::Actual365, DayCount::PerPeriod])
}

/// Any prepayment rule.
pub fn any_prepayment_rule() -> impl Strategy<Value = PrepaymentRule> {
    prop::sample::select(vec![
        PrepaymentRule::ShortenTerm,
        PrepaymentRule::Reamortize,
    ])
}

/// A random contract disbursed on `disbursed_on`: 1,000,000 đồng to 10,000 billion, 0–20% a year,
/// `installments` of 1, 3 or 6 months, any method, day count and prepayment rule, and a principal
/// grace of up to `grace_max` installments (always fewer than the installments).
pub fn contract(
    disbursed_on: NaiveDate,
    installments: RangeInclusive<u32>,
    grace_max: u32,
) -> impl Strategy<Value = LoanContract> {
    (
        (
            1_000_000i64..=10_000_000_000_000,
            0u32..=2_000,
            installments,
            prop::sample::select(vec![1u32, 3, 6]),
        ),
        (
            any_method(),
            any_day_count(),
            any_prepayment_rule(),
            0u32..=grace_max,
        ),
    )
        .prop_map(
            move |(
                (principal, rate_bp, installments, period),
                (method, day_count, rule, grace),
            )| {
                let mut terms = ScheduleTerms::new(
                    vnd(principal),
                    Decimal::new(i64::from(rate_bp), 2),
                    disbursed_on,
                    installments,
                    period,
                    method,
                );
                terms.day_count = day_count;
                terms.principal_grace = grace.min(installments - 1);
                let mut contract = LoanContract::new(terms);
                contract.prepayment_rule = rule;
                contract
            },
        )
}

/// `per_mille` of the payoff on `date` (at least 1 đồng, so never above the payoff), or `None` once
/// nothing is owed or the events do not fold.
pub fn part_of_payoff(
    contract: &LoanContract,
    events: &[LoanEvent],
    date: NaiveDate,
    per_mille: u32,
) -> Option<Vnd> {
    let total = payoff(contract, events, date)
        .ok()?
        .total
        .to_i64()
        .unwrap_or(0);
    (total > 0).then(|| vnd((total * i64::from(per_mille) / 1_000).max(1)))
}

/// Keeps `event` only if every event still folds with it (a payment dated before a later tranche may
/// settle the loan, and the tranche would then be refused).
pub fn push_if_valid(contract: &LoanContract, events: &mut Vec<LoanEvent>, event: LoanEvent) {
    let last = events
        .iter()
        .map(|e| e.value_date)
        .max()
        .unwrap_or(event.value_date)
        .max(event.value_date);
    let mut with = events.clone();
    with.push(event);
    if fold(contract, &with, last).is_ok() {
        *events = with;
    }
}

/// A monthly restructuring on `date` valid for `state`, with no grace and nothing forgiven: an adjustment ending on
/// the maturity when `extension` is false and the maturity is far enough ahead; otherwise an extension of
/// `extended(installments to the maturity)` installments.
pub fn restructuring_on(
    state: &LoanState,
    date: NaiveDate,
    extension: bool,
    extended: impl FnOnce(u32) -> u32,
    method: Method,
) -> Restructure {
    let maturity = state.schedule.last().map_or(date, |i| i.due_on);
    let first_due_on = add_months_clamped(date, 1).expect("date");
    let months_to_maturity = (0..400u32)
        .find(|&k| add_months_clamped(first_due_on, k).is_none_or(|due| due >= maturity))
        .unwrap_or(0);
    let adjustment_fits =
        add_months_clamped(first_due_on, months_to_maturity) == Some(maturity) && maturity > date;
    let (kind, installments) = if !extension && adjustment_fits {
        (RestructureKind::Adjustment, months_to_maturity + 1)
    } else {
        (RestructureKind::Extension, extended(months_to_maturity + 1))
    };
    Restructure {
        kind,
        first_due_on,
        installments,
        period_months: 1,
        method,
        principal_grace: 0,
        interest_reduced: false,
        interest_reduction: Vnd::ZERO,
    }
}

/// The disbursements of a random loan starting on `start`: all of the principal then, or, with a `tranche` of
/// (days later, per mille first), that part of it then and the rest as a second tranche (kept only if valid).
pub fn disbursements(
    contract: &LoanContract,
    start: NaiveDate,
    tranche: Option<(i64, u32)>,
) -> Vec<LoanEvent> {
    let approved = contract.terms.principal;
    let first = match tranche {
        Some((_, per_mille)) => {
            vnd((approved.to_i64().unwrap_or(0) * i64::from(per_mille) / 1_000).max(1))
        }
        None => approved,
    };
    let mut events = vec![LoanEvent::disbursement("d0", start, 0, first)];
    if let Some((day, _)) = tranche {
        let rest = LoanEvent::disbursement("d1", start + Duration::days(day), 1, approved - first);
        push_if_valid(contract, &mut events, rest);
    }
    events
}

/// Adds each of `payments` (value date, per mille of the payoff on it, prepayment?, sequence) in turn as payment
/// `r{index}` when it is valid, and stops once nothing is owed.
pub fn push_payments(
    contract: &LoanContract,
    events: &mut Vec<LoanEvent>,
    payments: impl IntoIterator<Item = (NaiveDate, u32, bool, u64)>,
) {
    for (index, (date, per_mille, prepayment, sequence)) in payments.into_iter().enumerate() {
        let Some(amount) = part_of_payoff(contract, events, date, per_mille) else {
            return;
        };
        let kind = if prepayment {
            RepaymentKind::Prepayment
        } else {
            RepaymentKind::Ordinary
        };
        let payment = LoanEvent::repayment(format!("r{index}"), date, sequence, amount, kind);
        push_if_valid(contract, events, payment);
    }
}
