//! DOMAIN.md §4, §7: tranches, restructuring (adjustment and extension), write-off.

mod common;

use common::{event, ordinary_repayment, vnd};
use coopfund_domain::examples::date as d;

use coopfund_domain::{
    classify, entry_for_difference, fold, loan_book, Account, AccountBalances, BookInputs,
    ClassificationConfig, DayCount, DebtGroup, EventKind, InstallmentStatus, LoanContract,
    LoanEvent, Method, Restructure, RestructureKind, ScheduleTerms, Side, Vnd,
};
use rust_decimal_macros::dec;

fn contract(method: Method) -> LoanContract {
    LoanContract::new(ScheduleTerms::new(
        vnd(100_000_000),
        dec!(12),
        d(2026, 1, 10),
        10,
        1,
        method,
    ))
}

fn two_tranches() -> Vec<LoanEvent> {
    vec![
        LoanEvent::disbursement("d1", d(2026, 1, 10), 1, vnd(60_000_000)),
        ordinary_repayment("r1", d(2026, 2, 10), 2, 6_611_507),
        LoanEvent::disbursement("d2", d(2026, 2, 15), 3, vnd(40_000_000)),
    ]
}

#[test]
fn a_second_tranche_is_spread_over_the_remaining_equal_principal_installments() {
    let state = fold(
        &contract(Method::EqualPrincipal),
        &two_tranches(),
        d(2026, 2, 15),
    )
    .expect("folds");
    assert_eq!(state.schedule[0].principal, vnd(6_000_000));
    assert_eq!(state.schedule[0].status, InstallmentStatus::Paid);
    // 54,000,000 + 40,000,000 over 9 installments = 10,444,444.4 → 10,444,444; the last takes the rest.
    assert_eq!(state.schedule[1].principal, vnd(10_444_444));
    assert_eq!(
        state.schedule[9].principal,
        vnd(94_000_000 - 8 * 10_444_444)
    );
    assert_eq!(state.disbursed, vnd(100_000_000));
    assert_eq!(state.in_term_principal, vnd(94_000_000));
    let march = fold(
        &contract(Method::EqualPrincipal),
        &two_tranches(),
        d(2026, 3, 10),
    )
    .expect("folds");
    // 54,000,000 for 5 days (10-14 Feb) and 94,000,000 for 23 days at 12%/365.
    let exact = dec!(54_000_000) * dec!(12) * dec!(5) / dec!(36500)
        + dec!(94_000_000) * dec!(12) * dec!(23) / dec!(36500);
    assert_eq!(
        march.schedule[1].interest,
        coopfund_domain::round_half_up_to_dong(exact)
    );
}

#[test]
fn a_second_tranche_reamortizes_an_annuity() {
    let state = fold(&contract(Method::Annuity), &two_tranches(), d(2026, 2, 15)).expect("folds");
    let remaining: Vnd = state.schedule[1..].iter().map(|i| i.principal).sum();
    assert_eq!(remaining, state.in_term_principal);
    let totals: Vec<Vnd> = state.schedule[1..9].iter().map(|i| i.total()).collect();
    let spread = totals.iter().max().copied().unwrap_or_default()
        - totals.iter().min().copied().unwrap_or_default();
    assert!(
        spread < vnd(200_000),
        "annuity totals should be near level: {totals:?}"
    );
}

#[test]
fn tranches_above_the_approved_principal_or_after_maturity_are_refused() {
    let mut events = two_tranches();
    events.push(LoanEvent::disbursement("d3", d(2026, 3, 1), 4, vnd(1)));
    let error = fold(&contract(Method::EqualPrincipal), &events, d(2026, 3, 1))
        .expect_err("above approved");
    assert_eq!(
        (error.code(), error.event_id.as_deref()),
        ("disbursement_above_approved", Some("d3"))
    );
    let late = vec![
        LoanEvent::disbursement("d1", d(2026, 1, 10), 1, vnd(60_000_000)),
        LoanEvent::disbursement("d2", d(2026, 11, 11), 2, vnd(1_000)),
    ];
    assert_eq!(
        fold(&contract(Method::EqualPrincipal), &late, d(2026, 12, 1))
            .expect_err("late")
            .code(),
        "tranche_after_maturity"
    );
}

fn overdue_then_extended() -> Vec<LoanEvent> {
    vec![
        LoanEvent::disbursement("d1", d(2026, 1, 10), 1, vnd(100_000_000)),
        event(
            "s1",
            d(2026, 3, 20),
            2,
            EventKind::Restructure(Restructure {
                kind: RestructureKind::Extension,
                first_due_on: d(2026, 4, 20),
                installments: 12,
                period_months: 1,
                method: Method::EqualPrincipal,
                principal_grace: 0,
                interest_reduced: false,
                interest_reduction: Vnd::ZERO,
            }),
        ),
    ]
}

#[test]
fn an_extension_reschedules_all_unpaid_principal_and_carries_the_unpaid_interest() {
    let before = fold(
        &contract(Method::EqualPrincipal),
        &overdue_then_extended()[..1],
        d(2026, 3, 20),
    )
    .expect("folds");
    assert_eq!(before.overdue_principal, vnd(20_000_000));
    assert_eq!(before.dpd, 38);
    let state = fold(
        &contract(Method::EqualPrincipal),
        &overdue_then_extended(),
        d(2026, 3, 20),
    )
    .expect("folds");
    assert_eq!(state.overdue_principal, Vnd::ZERO);
    assert_eq!(state.in_term_principal, vnd(100_000_000));
    assert_eq!(state.dpd, 0);
    assert_eq!(state.restructure_count, 1);
    assert_eq!(state.schedule[0].status, InstallmentStatus::Restructured);
    assert_eq!(state.schedule.len(), 2 + 12);
    let first_new = &state.schedule[2];
    assert_eq!((first_new.seq, first_new.due_on), (3, d(2026, 4, 20)));
    assert_eq!(first_new.carried_interest, before.unpaid_interest);
    assert_eq!(state.schedule[13].due_on, d(2027, 3, 20));
    // Overdue and late interest accrued before stay owed.
    assert!(state
        .payoff_quote(DayCount::Actual365)
        .overdue_interest
        .is_positive());
    let group = classify(
        state.classification_input(),
        &ClassificationConfig::default(),
    );
    assert_eq!(group, DebtGroup::Two);
    let billed = fold(
        &contract(Method::EqualPrincipal),
        &overdue_then_extended(),
        d(2026, 4, 20),
    )
    .expect("folds");
    let fresh = billed.schedule[2].interest - before.unpaid_interest;
    // Interest of 2026-03-10 .. 2026-04-19 on the 80,000,000 in term until the restructuring, then 100,000,000.
    let exact = dec!(80_000_000) * dec!(12) * dec!(10) / dec!(36500)
        + dec!(100_000_000) * dec!(12) * dec!(31) / dec!(36500);
    assert_eq!(fresh, coopfund_domain::round_half_up_to_dong(exact));
}

#[test]
fn an_adjustment_must_keep_the_maturity_and_an_extension_must_move_it() {
    let mut events = overdue_then_extended();
    if let EventKind::Restructure(terms) = &mut events[1].kind {
        terms.kind = RestructureKind::Adjustment;
    }
    let error = fold(&contract(Method::EqualPrincipal), &events, d(2026, 4, 1))
        .expect_err("moves maturity");
    assert_eq!(error.code(), "adjustment_changes_maturity");
    if let EventKind::Restructure(terms) = &mut events[1].kind {
        terms.installments = 8; // 2026-04-10 + 7 months = 2026-11-10, the maturity
        terms.first_due_on = d(2026, 4, 10);
    }
    let adjusted =
        fold(&contract(Method::EqualPrincipal), &events, d(2026, 4, 1)).expect("keeps maturity");
    assert_eq!(
        adjusted.schedule.last().map(|i| i.due_on),
        Some(d(2026, 11, 10))
    );
    if let EventKind::Restructure(terms) = &mut events[1].kind {
        terms.kind = RestructureKind::Extension;
    }
    let error = fold(&contract(Method::EqualPrincipal), &events, d(2026, 4, 1))
        .expect_err("does not extend");
    assert_eq!(error.code(), "extension_does_not_extend");
}

#[test]
fn a_write_off_uses_the_provision_and_stops_accruing() {
    let mut events = vec![LoanEvent::disbursement(
        "d1",
        d(2026, 1, 10),
        1,
        vnd(100_000_000),
    )];
    events.push(event("w1", d(2026, 9, 1), 2, EventKind::WriteOff));
    let before = fold(
        &contract(Method::EqualPrincipal),
        &events[..1],
        d(2026, 9, 1),
    )
    .expect("folds");
    let state = fold(&contract(Method::EqualPrincipal), &events, d(2026, 9, 1)).expect("folds");
    assert_eq!(state.written_off_principal, vnd(100_000_000));
    assert_eq!(state.outstanding_principal(), Vnd::ZERO);
    let later = fold(&contract(Method::EqualPrincipal), &events, d(2026, 12, 1)).expect("folds");
    assert_eq!(
        later.overdue_interest_exact(),
        state.overdue_interest_exact()
    );

    // Books: fully provisioned before, then the write-off entry.
    let group = classify(
        before.classification_input(),
        &ClassificationConfig::default(),
    );
    let inputs = BookInputs {
        group,
        specific_provision: Some(before.outstanding_principal()),
        day_count: DayCount::Actual365,
    };
    let empty = AccountBalances::new();
    let posted = loan_book(&before, &inputs, &empty);
    let target = loan_book(&state, &inputs, &posted);
    let entry = entry_for_difference(&target, &posted)
        .expect("balanced")
        .expect("an entry");
    let side_of = |account| {
        entry
            .lines()
            .iter()
            .find(|l| l.account == account)
            .map(|l| (l.side, l.amount))
    };
    assert_eq!(
        side_of(Account::SpecificProvision),
        Some((Side::Debit, vnd(100_000_000)))
    );
    assert_eq!(
        side_of(Account::MemoWrittenOffLoans),
        Some((Side::Debit, vnd(100_000_000)))
    );
    assert_eq!(side_of(Account::ProvisionExpense), None);

    events.push(ordinary_repayment("r1", d(2026, 10, 1), 3, 5));
    let error =
        fold(&contract(Method::EqualPrincipal), &events, d(2026, 10, 1)).expect_err("written off");
    assert_eq!(error.code(), "loan_written_off");
}
