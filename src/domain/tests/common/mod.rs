//! The fixtures the domain's integration tests share, written once: an amount, an event, worked example
//! 3's disbursement, the number of property cases, a random loan contract and the steps that build a
//! random loan's valid events. The worked examples themselves are in
//! `coopfund_domain::examples`, shared with the service's tests.

// Every test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use coopfund_domain::{
    examples::date, fold, payoff, DayCount, EventKind, LoanContract, LoanEvent, Method,
    PrepaymentRule, ScheduleTerms, Vnd,
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
            prop::sample::select(vec![
                Method::Annuity,
                Method::EqualPrincipal,
                Method::Bullet,
            ]),
            prop::sample::select(vec![DayCount::Actual365, DayCount::PerPeriod]),
            prop::sample::select(vec![
                PrepaymentRule::ShortenTerm,
                PrepaymentRule::Reamortize,
            ]),
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
