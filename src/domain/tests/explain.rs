//! "How is this computed?": DOMAIN.md's worked example 3 explained line by line (exact figures), and the
//! property that for random loans with late, partial, back-dated and reversed payments (and tranches and
//! restructurings) every explained amount's lines add up to the payoff quote's amount.

mod common;

use common::{cases, contract, disbursed, disbursements, push_if_valid, push_payments, vnd};
use coopfund_domain::examples::{date as d, example_3};

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    explain, payoff, DayCount, EventKind, Explanation, ExplanationKind, Formula, LoanContract,
    LoanEvent, Method, QuoteField, RepaymentKind, Restructure, RestructureKind, ScheduleTerms, Vnd,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// (kind, from, amount) of each line of a field, for compact exact assertions.
fn lines_of(
    explanation: &Explanation,
    field: QuoteField,
) -> Vec<(ExplanationKind, NaiveDate, Decimal)> {
    explanation
        .amount(field)
        .expect("every field is explained")
        .lines
        .iter()
        .map(|l| (l.kind, l.from, l.amount))
        .collect()
}

#[test]
fn worked_example_3_ten_days_late_every_amount_opens_into_its_lines() {
    let explanation = explain(&example_3(), &[disbursed()], d(2026, 2, 20)).expect("explains");
    assert_eq!(
        explanation.quote,
        payoff(&example_3(), &[disbursed()], d(2026, 2, 20)).expect("quote")
    );

    // Overdue interest = round(10,000,000 × 0.12 × 1.5 × 10/365) = 49,315: one segment, rounded on the total.
    let overdue = explanation
        .amount(QuoteField::OverdueInterest)
        .expect("field");
    assert_eq!(overdue.amount, vnd(49_315));
    let segment = &overdue.lines[0];
    assert_eq!(
        (
            segment.kind,
            segment.from,
            segment.to,
            segment.days,
            segment.balance,
            segment.rate_percent,
            segment.formula,
            segment.exact,
            segment.amount
        ),
        (
            ExplanationKind::Accrual,
            d(2026, 2, 10),
            Some(d(2026, 2, 20)),
            Some(10),
            Some(vnd(10_000_000)),
            Some(dec!(18)),
            Some(Formula::Actual365),
            Some(dec!(49315.068493)),
            dec!(49315.07)
        )
    );
    assert_eq!(
        lines_of(&explanation, QuoteField::OverdueInterest)[1..],
        [(
            ExplanationKind::RoundingOnTotal,
            d(2026, 2, 20),
            dec!(-0.07)
        )]
    );

    // Late interest = round(1,019,178 × 0.10 × 10/365) = 2,792.
    let late = explanation.amount(QuoteField::LateInterest).expect("field");
    assert_eq!(late.amount, vnd(2_792));
    assert_eq!(late.lines[0].balance, Some(vnd(1_019_178)));
    assert_eq!(late.lines[0].rate_percent, Some(dec!(10)));
    assert_eq!(
        late.lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        [dec!(2792.27), dec!(-0.27)]
    );

    // The installment fell overdue at the end of its due date.
    assert_eq!(
        lines_of(&explanation, QuoteField::OverduePrincipal),
        [(ExplanationKind::FellOverdue, d(2026, 2, 10), dec!(10000000))]
    );
    assert_eq!(
        lines_of(&explanation, QuoteField::UnpaidInterest),
        [(ExplanationKind::FellOverdue, d(2026, 2, 10), dec!(1019178))]
    );

    // Current interest: 90,000,000 × 0.12 × 10/365 = 295,890.41 (DOMAIN.md), rounded on the total.
    assert_eq!(
        lines_of(&explanation, QuoteField::CurrentInterest),
        [
            (ExplanationKind::Accrual, d(2026, 2, 10), dec!(295890.41)),
            (
                ExplanationKind::RoundingOnTotal,
                d(2026, 2, 20),
                dec!(-0.41)
            ),
        ]
    );
    assert_eq!(
        lines_of(&explanation, QuoteField::Principal),
        [
            (
                ExplanationKind::Disbursement,
                d(2026, 1, 10),
                dec!(100000000)
            ),
            (
                ExplanationKind::FellOverdue,
                d(2026, 2, 10),
                dec!(-10000000)
            ),
        ]
    );

    // The total lists every component: 10,000,000 + 1,019,178 + 49,315 + 2,792 + 295,890 + 90,000,000.
    let total = explanation.amount(QuoteField::Total).expect("field");
    assert_eq!(total.amount, vnd(101_367_175));
    assert_eq!(total.lines_total(), dec!(101367175));
    assert_eq!(total.lines.len(), 6);
}

#[test]
fn the_installment_interest_is_rounded_when_billed_on_its_due_date() {
    // On 2026-02-10 installment 1 is billed: round(100,000,000 × 0.12 × 31/365 = 1,019,178.08) = 1,019,178.
    let explanation = explain(&example_3(), &[disbursed()], d(2026, 2, 10)).expect("explains");
    let current = explanation
        .amount(QuoteField::CurrentInterest)
        .expect("field");
    assert_eq!(current.amount, vnd(1_019_178));
    assert_eq!(current.lines[0].days, Some(31));
    assert_eq!(current.lines[0].exact, Some(dec!(1019178.082192)));
    assert_eq!(
        lines_of(&explanation, QuoteField::CurrentInterest),
        [
            (ExplanationKind::Accrual, d(2026, 1, 10), dec!(1019178.08)),
            (
                ExplanationKind::RoundingAtBilling,
                d(2026, 2, 10),
                dec!(-0.08)
            ),
        ]
    );
    assert_eq!(current.lines[1].installment, Some(1));
}

/// Worked example 3 disbursed, then 11,100,000 paid on 2026-02-20 as `kind` (the installment of
/// 2026-02-10 is 11,071,285).
fn paid_11_100_000_on_february_20(kind: RepaymentKind) -> [LoanEvent; 2] {
    [
        disbursed(),
        LoanEvent::repayment("r1", d(2026, 2, 20), 2, vnd(11_100_000), kind),
    ]
}

#[test]
fn a_payment_in_full_of_a_rounded_charge_clears_the_amount_and_the_excess_is_an_advance() {
    let events = paid_11_100_000_on_february_20(RepaymentKind::Ordinary);
    let explanation = explain(&example_3(), &events, d(2026, 2, 20)).expect("explains");
    for field in [
        QuoteField::OverdueInterest,
        QuoteField::LateInterest,
        QuoteField::OverduePrincipal,
        QuoteField::UnpaidInterest,
    ] {
        let amount = explanation.amount(field).expect("field");
        assert_eq!(amount.amount, Vnd::ZERO, "{field:?}");
        assert!(amount.lines.is_empty(), "{field:?}: {:?}", amount.lines);
    }
    // 11,100,000 − 11,071,285 owed = 28,715 held as an advance, deducted from the total.
    assert_eq!(
        lines_of(&explanation, QuoteField::Advance),
        [(ExplanationKind::Payment, d(2026, 2, 20), dec!(28715))]
    );
    let total = explanation.amount(QuoteField::Total).expect("field");
    assert!(total
        .lines
        .iter()
        .any(|l| l.kind == ExplanationKind::AdvanceDeducted && l.amount == dec!(-28715)));
}

#[test]
fn the_prepayment_variant_bills_828_323_from_two_segments() {
    // round(90,000,000 × 0.12 × 10/365 + 89,971,285 × 0.12 × 18/365) = round(295,890.41 + 532,432.81) = 828,323.
    let events = paid_11_100_000_on_february_20(RepaymentKind::Prepayment);
    let explanation = explain(&example_3(), &events, d(2026, 3, 10)).expect("explains");
    let current = explanation
        .amount(QuoteField::CurrentInterest)
        .expect("field");
    assert_eq!(current.amount, vnd(828_323));
    let balances: Vec<_> = current.lines.iter().map(|l| l.balance).collect();
    assert_eq!(
        balances,
        [Some(vnd(90_000_000)), Some(vnd(89_971_285)), None]
    );
    assert_eq!(
        current.lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        [dec!(295890.41), dec!(532432.81), dec!(-0.22)]
    );
    assert_eq!(current.lines[2].kind, ExplanationKind::RoundingAtBilling);
}

#[test]
fn a_per_period_product_writes_its_formula_with_the_period() {
    let mut terms = ScheduleTerms::new(
        vnd(120_000_000),
        dec!(7.2),
        d(2026, 1, 31),
        12,
        1,
        Method::EqualPrincipal,
    );
    terms.day_count = DayCount::PerPeriod;
    let contract = LoanContract::new(terms);
    let events = [LoanEvent::disbursement(
        "d1",
        d(2026, 1, 31),
        1,
        vnd(120_000_000),
    )];
    let explanation = explain(&contract, &events, d(2026, 2, 10)).expect("explains");
    let current = explanation
        .amount(QuoteField::CurrentInterest)
        .expect("field");
    // 120,000,000 × 7.2% × 1/12 × 10/28 = 257,142.857143 → 257,143.
    assert_eq!(
        current.lines[0].formula,
        Some(Formula::PerPeriod {
            period_months: 1,
            period_days: 28
        })
    );
    assert_eq!(current.lines[0].exact, Some(dec!(257142.857143)));
    assert_eq!(current.amount, vnd(257_143));
    assert_eq!(current.lines_total(), dec!(257143));
}

/// A random loan and a plan: payments (day, per-mille of the payoff, prepayment?, entered late?), a tranche, a
/// restructuring day, a reversal.
#[derive(Debug, Clone)]
struct Scenario {
    contract: LoanContract,
    payments: Vec<(i64, u32, bool, bool)>,
    tranche: Option<(i64, u32)>,
    restructure_on: Option<i64>,
    reverse: Option<prop::sample::Index>,
    explain_on: i64,
}

fn start() -> NaiveDate {
    d(2026, 1, 31)
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        contract(start(), 1..=60, 0),
        prop::collection::vec(
            (1i64..1_200, 1u32..=1_000, any::<bool>(), any::<bool>()),
            0..8,
        ),
        prop::option::of((1i64..200, 1u32..=900)),
        prop::option::of(30i64..900),
        prop::option::of(any::<prop::sample::Index>()),
        0i64..1_500,
    )
        .prop_map(
            |(contract, mut payments, tranche, restructure_on, reverse, explain_on)| {
                payments.sort();
                Scenario {
                    contract,
                    payments,
                    tranche,
                    restructure_on,
                    reverse,
                    explain_on,
                }
            },
        )
}

fn events_of(s: &Scenario) -> Vec<LoanEvent> {
    let contract = &s.contract;
    let mut events = disbursements(contract, start(), s.tranche);
    let payments = s.payments.iter().enumerate().map(
        |(index, &(day, per_mille, prepayment, entered_late))| {
            // A back-dated payment: entered after the others (a higher sequence), its value date earlier.
            let sequence = if entered_late { 500 } else { 10 } + index as u64;
            (
                start() + Duration::days(day),
                per_mille,
                prepayment,
                sequence,
            )
        },
    );
    push_payments(contract, &mut events, payments);
    if let Some(day) = s.restructure_on {
        let on = start() + Duration::days(day);
        let restructure = LoanEvent {
            id: "x".into(),
            value_date: on,
            sequence: 900,
            kind: EventKind::Restructure(Restructure {
                kind: RestructureKind::Extension,
                first_due_on: on + Duration::days(30),
                installments: 80,
                period_months: 1,
                method: Method::EqualPrincipal,
                principal_grace: 0,
                interest_reduced: false,
                interest_reduction: Vnd::ZERO,
            }),
        };
        push_if_valid(contract, &mut events, restructure);
    }
    if let Some(pick) = &s.reverse {
        let victim = events[pick.index(events.len())].id.clone();
        let reversal = LoanEvent {
            id: "rev".into(),
            value_date: start() + Duration::days(1_500),
            sequence: 999,
            kind: EventKind::Reversal {
                reversed_id: victim,
            },
        };
        push_if_valid(contract, &mut events, reversal);
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(96)))]

    #[test]
    fn every_explained_amount_adds_up_to_the_payoff_quote(s in scenario()) {
        let events = events_of(&s);
        let date = start() + Duration::days(s.explain_on);
        let Ok(quote) = payoff(&s.contract, &events, date) else { return Ok(()) };
        let explanation = explain(&s.contract, &events, date).expect("a quote that folds is explained");
        prop_assert_eq!(&explanation.quote, &quote);
        prop_assert_eq!(explanation.amounts.len(), QuoteField::ALL.len());
        for (explained, field) in explanation.amounts.iter().zip(QuoteField::ALL) {
            prop_assert_eq!(explained.field, field);
            prop_assert_eq!(explained.amount, field.of(&quote));
            prop_assert_eq!(explained.lines_total(), field.of(&quote).as_decimal(), "{:?}: {:?}", field, explained.lines);
            for line in &explained.lines {
                match line.kind {
                    // Each segment's amount is what the fold added: its own formula, to the cent (telescoped).
                    ExplanationKind::Accrual => {
                        let exact = line.exact.expect("an accrual has its formula's value");
                        let formula = line.formula.expect("formula");
                        let recomputed = formula.value(
                            line.balance.expect("balance"),
                            line.rate_percent.expect("rate"),
                            line.days.expect("days"),
                        );
                        prop_assert!((recomputed - exact).abs() <= dec!(0.000001));
                        prop_assert!((line.amount - exact).abs() <= dec!(0.011), "{:?}", line);
                        prop_assert_eq!(line.to, Some(line.from + Duration::days(line.days.unwrap_or(0))));
                    }
                    ExplanationKind::RoundingOnTotal | ExplanationKind::RoundingAtBilling | ExplanationKind::FractionDropped => {
                        prop_assert!(line.amount.abs() <= dec!(0.5), "{:?}", line);
                    }
                    _ => prop_assert!(line.amount.fract().is_zero(), "a movement is whole đồng: {:?}", line),
                }
            }
        }
    }
}
