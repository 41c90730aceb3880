//! DOMAIN.md §4-§5: worked example 3 and its prepayment variant, payoff, on-time rules, reversals.

mod common;

use common::{disbursed, ordinary_repayment, vnd};

use coopfund_domain::examples::{date as d, example_3};
use coopfund_domain::{
    fold, fold_close_of_day, fold_without, payoff, EventKind, HolidayCalendar, InstallmentStatus,
    LoanEvent, PrepaymentRule, RepaymentKind, Vnd,
};
use rust_decimal_macros::dec;

fn paid_late(kind: RepaymentKind) -> Vec<LoanEvent> {
    vec![
        disbursed(),
        LoanEvent::repayment("r1", d(2026, 2, 20), 2, vnd(11_100_000), kind),
    ]
}

#[test]
fn installment_1_is_billed_on_its_due_date() {
    let state = fold(&example_3(), &[disbursed()], d(2026, 2, 10)).expect("folds");
    let first = &state.schedule[0];
    assert_eq!(
        (first.principal, first.interest, first.status),
        (vnd(10_000_000), vnd(1_019_178), InstallmentStatus::Due)
    );
    assert_eq!(state.dpd, 0);
    let next_day = fold(&example_3(), &[disbursed()], d(2026, 2, 11)).expect("folds");
    assert_eq!(next_day.overdue_principal, vnd(10_000_000));
    assert_eq!(next_day.unpaid_interest, vnd(1_019_178));
    assert_eq!(next_day.in_term_principal, vnd(90_000_000));
    assert_eq!(next_day.schedule[0].status, InstallmentStatus::Overdue);
    assert_eq!(next_day.dpd, 1);
}

#[test]
fn worked_example_3_a_payment_ten_days_late_leaves_an_advance() {
    let before = payoff(&example_3(), &[disbursed()], d(2026, 2, 20)).expect("quote");
    assert_eq!(before.overdue_principal, vnd(10_000_000));
    assert_eq!(before.unpaid_interest, vnd(1_019_178));
    assert_eq!(before.overdue_interest, vnd(49_315));
    assert_eq!(before.late_interest, vnd(2_792));
    // 90,000,000 × 12% × 10/365 = 295,890.41
    assert_eq!(before.current_interest, vnd(295_890));
    assert_eq!(before.principal, vnd(90_000_000));
    assert_eq!(
        before.total,
        vnd(10_000_000 + 1_019_178 + 49_315 + 2_792 + 295_890 + 90_000_000)
    );

    let state = fold(
        &example_3(),
        &paid_late(RepaymentKind::Ordinary),
        d(2026, 2, 20),
    )
    .expect("folds");
    let allocation = &state.allocations[0];
    assert_eq!(allocation.overdue_principal, vnd(10_000_000));
    assert_eq!(allocation.unpaid_interest, vnd(1_019_178));
    assert_eq!(allocation.overdue_interest, vnd(49_315));
    assert_eq!(allocation.late_interest, vnd(2_792));
    assert_eq!(allocation.advance, vnd(28_715));
    assert_eq!(allocation.total_allocated(), vnd(11_100_000));
    assert_eq!(state.advance, vnd(28_715));
    assert_eq!(state.dpd, 0);
    assert_eq!(state.schedule[0].status, InstallmentStatus::Paid);

    let due_2 = fold(
        &example_3(),
        &paid_late(RepaymentKind::Ordinary),
        d(2026, 3, 10),
    )
    .expect("folds");
    let second = &due_2.schedule[1];
    assert_eq!(
        (second.principal, second.interest),
        (vnd(10_000_000), vnd(828_493))
    );
    assert_eq!(second.paid_interest, vnd(28_715));
    assert_eq!(
        second.unpaid_principal() + second.unpaid_interest(),
        vnd(10_799_778)
    );
    assert_eq!(second.status, InstallmentStatus::PartlyPaid);
    assert_eq!(due_2.advance, Vnd::ZERO);
    assert_eq!(due_2.allocations[1].advance_applied, vnd(28_715));
    assert_eq!(due_2.schedule[9].principal, vnd(10_000_000));
}

#[test]
fn worked_example_3_as_a_prepayment_cuts_the_last_installment() {
    let events = paid_late(RepaymentKind::Prepayment);
    let state = fold(&example_3(), &events, d(2026, 2, 20)).expect("folds");
    assert_eq!(state.allocations[0].prepaid_principal, vnd(28_715));
    assert_eq!(state.allocations[0].advance, Vnd::ZERO);
    assert_eq!(state.advance, Vnd::ZERO);
    assert_eq!(state.schedule[9].unpaid_principal(), vnd(9_971_285));
    assert_eq!(state.in_term_principal, vnd(89_971_285));

    let due_2 = fold(&example_3(), &events, d(2026, 3, 10)).expect("folds");
    // round(90,000,000 × 0.12 × 10/365 + 89,971,285 × 0.12 × 18/365) = round(295,890.41 + 532,432.81)
    assert_eq!(due_2.schedule[1].interest, vnd(828_323));
    assert_eq!(due_2.schedule[1].principal, vnd(10_000_000));
}

#[test]
fn worked_example_3_reamortizing_spreads_the_cut() {
    let mut contract = example_3();
    contract.prepayment_rule = PrepaymentRule::Reamortize;
    let state = fold(
        &contract,
        &paid_late(RepaymentKind::Prepayment),
        d(2026, 2, 20),
    )
    .expect("folds");
    let remaining: Vnd = state.schedule[1..]
        .iter()
        .map(|i| i.unpaid_principal())
        .sum();
    assert_eq!(remaining, vnd(89_971_285));
    // 89,971,285 / 9 = 9,996,809.4 → 9,996,809; the last takes the rest.
    assert_eq!(state.schedule[1].principal, vnd(9_996_809));
    assert_eq!(state.schedule[9].principal, vnd(89_971_285 - 8 * 9_996_809));
}

#[test]
fn paid_on_the_due_date_is_on_time_and_a_day_later_costs_one_day() {
    let on_time = vec![
        disbursed(),
        ordinary_repayment("r1", d(2026, 2, 10), 2, 11_019_178),
    ];
    let state = fold(&example_3(), &on_time, d(2026, 2, 10)).expect("folds");
    assert_eq!(state.allocations[0].interest, vnd(1_019_178));
    assert_eq!(state.allocations[0].principal, vnd(10_000_000));
    assert_eq!(state.allocations[0].advance, Vnd::ZERO);
    let later = fold(&example_3(), &on_time, d(2026, 3, 1)).expect("folds");
    assert_eq!(later.overdue_principal, Vnd::ZERO);
    assert_eq!(later.overdue_interest_exact(), dec!(0));

    let one_day_late = payoff(&example_3(), &[disbursed()], d(2026, 2, 11)).expect("quote");
    // 10,000,000 × 12% × 1.5 / 365 = 4,931.5; 1,019,178 × 10% / 365 = 279.2
    assert_eq!(one_day_late.overdue_interest, vnd(4_932));
    assert_eq!(one_day_late.late_interest, vnd(279));
}

#[test]
fn a_holiday_due_date_may_be_paid_on_the_next_business_day() {
    // 2026-01-10 + 1 month = 2026-02-10, a Tuesday; make it a holiday (and the Wednesday too).
    let mut contract = example_3();
    contract.calendar = HolidayCalendar {
        holidays: [d(2026, 2, 10), d(2026, 2, 11)].into_iter().collect(),
        weekends_off: true,
        ..HolidayCalendar::none()
    };
    let paid_thursday = vec![
        disbursed(),
        ordinary_repayment("r1", d(2026, 2, 12), 2, 11_019_178),
    ];
    let state = fold(&contract, &paid_thursday, d(2026, 2, 12)).expect("folds");
    assert_eq!(state.allocations[0].overdue_interest, Vnd::ZERO);
    assert_eq!(state.allocations[0].principal, vnd(10_000_000));
    assert_eq!(state.advance, Vnd::ZERO);
    assert_eq!(state.dpd, 0);
    let unpaid_friday = fold(&contract, &[disbursed()], d(2026, 2, 13)).expect("folds");
    assert_eq!(unpaid_friday.dpd, 3);
    assert_eq!(unpaid_friday.overdue_principal, vnd(10_000_000));
}

#[test]
fn a_payment_equal_to_the_payoff_settles_and_one_above_is_refused() {
    let quote = payoff(
        &example_3(),
        &paid_late(RepaymentKind::Ordinary),
        d(2026, 4, 2),
    )
    .expect("quote");
    let mut events = paid_late(RepaymentKind::Ordinary);
    events.push(LoanEvent::repayment(
        "r2",
        d(2026, 4, 2),
        3,
        quote.total + vnd(1),
        RepaymentKind::Ordinary,
    ));
    let error = fold(&example_3(), &events, d(2026, 4, 2)).expect_err("above payoff");
    assert_eq!(error.code(), "payment_above_payoff");
    assert_eq!(error.event_id.as_deref(), Some("r2"));
    // Amounts written for people (`Vnd`'s Display): "…of 81,234,567 VND".
    assert_eq!(
        error.to_string(),
        format!(
            "the payment {} is above the payoff of {}",
            (quote.total + vnd(1)).for_people(coopfund_domain::Language::English),
            quote.total.for_people(coopfund_domain::Language::English)
        )
    );

    events.pop();
    events.push(LoanEvent::repayment(
        "r2",
        d(2026, 4, 2),
        3,
        quote.total,
        RepaymentKind::Ordinary,
    ));
    let state = fold(&example_3(), &events, d(2026, 4, 2)).expect("folds");
    assert!(state.is_fully_repaid());
    assert!(state.allocations.last().is_some_and(|a| a.settled_loan));
    assert_eq!(state.outstanding_principal(), Vnd::ZERO);
    assert_eq!(state.principal_collected, vnd(100_000_000));
    assert!(state
        .schedule
        .iter()
        .all(|i| i.status == InstallmentStatus::Paid));
    let after = payoff(&example_3(), &events, d(2026, 6, 1)).expect("quote");
    assert_eq!(after.total, Vnd::ZERO);
}

#[test]
fn paying_every_installment_on_time_closes_the_loan() {
    let contract = example_3();
    let plan = fold(&contract, &[disbursed()], d(2026, 1, 10)).expect("folds");
    let mut events = vec![disbursed()];
    for (k, installment) in plan.schedule.iter().enumerate() {
        events.push(LoanEvent::repayment(
            format!("r{k}"),
            installment.due_on,
            10 + k as u64,
            installment.total(),
            RepaymentKind::Ordinary,
        ));
    }
    let state = fold(&contract, &events, d(2027, 1, 1)).expect("folds");
    assert!(
        state.is_fully_repaid(),
        "{:?}",
        state.payoff_quote(contract.terms.day_count)
    );
    assert_eq!(
        state.interest_billed,
        plan.schedule.iter().map(|i| i.interest).sum()
    );
}

#[test]
fn a_reversed_payment_is_as_if_it_never_happened() {
    let mut events = paid_late(RepaymentKind::Ordinary);
    events.push(LoanEvent {
        id: "x1".into(),
        value_date: d(2026, 3, 2),
        sequence: 9,
        kind: EventKind::Reversal {
            reversed_id: "r1".into(),
        },
    });
    let reversed = fold(&example_3(), &events, d(2026, 3, 20)).expect("folds");
    let never = fold(&example_3(), &[disbursed()], d(2026, 3, 20)).expect("folds");
    assert_eq!(reversed, never);
    let without = fold_without(
        &example_3(),
        &paid_late(RepaymentKind::Ordinary),
        &["r1"],
        d(2026, 3, 20),
    )
    .expect("folds");
    assert_eq!(without, never);
}

#[test]
fn close_of_day_moves_the_unpaid_installment_to_overdue() {
    let state = fold_close_of_day(&example_3(), &[disbursed()], d(2026, 2, 10)).expect("folds");
    assert!(state.day_closed);
    assert_eq!(state.overdue_principal, vnd(10_000_000));
    assert_eq!(state.dpd, 0);
    // One day of overdue interest (on the end-of-day balance of the due date) is already accrued.
    assert_eq!(
        state.overdue_interest_exact(),
        dec!(10_000_000) * dec!(18) / dec!(36500)
    );
}

#[test]
fn repayments_before_disbursement_and_oversized_tranches_are_refused() {
    let early = vec![ordinary_repayment("r1", d(2026, 1, 5), 1, 5)];
    assert_eq!(
        fold(&example_3(), &early, d(2026, 2, 1))
            .expect_err("refused")
            .code(),
        "loan_not_disbursed"
    );
    let too_much = vec![LoanEvent::disbursement(
        "d1",
        d(2026, 1, 10),
        1,
        vnd(100_000_001),
    )];
    assert_eq!(
        fold(&example_3(), &too_much, d(2026, 2, 1))
            .expect_err("refused")
            .code(),
        "disbursement_above_approved"
    );
}
