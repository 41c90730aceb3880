//! DOMAIN.md §7: a restructuring forgives nothing unless it says so with an amount. Over random loans
//! restructured once to three times (adjustment and extension, with and without a reduction, with payments before
//! and after): the payoff right after a restructuring equals the payoff right before it, less exactly the
//! reduction; the loan never closes while anything restructured is unpaid; the books carry the reduction on its
//! own account (0043) and always balance.

mod common;

use common::{ordinary_repayment, vnd};
use coopfund_domain::examples::date as d;

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    entry_for_difference, fold, loan_book, payoff, Account, AccountBalances, BookInputs, DayCount,
    DebtGroup, EventKind, LoanContract, LoanEvent, LoanState, Method, RepaymentKind, Restructure,
    RestructureKind, ScheduleTerms, Vnd,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// One restructuring of the plan: days after the previous step, extension?, installments, reduction per mille of
/// the interest owed (0 = none), payment before it (per mille of the payoff, 0 = none), prepayment?
#[derive(Debug, Clone)]
struct Step {
    days_later: i64,
    extension: bool,
    installments: u32,
    reduction_per_mille: u32,
    payment_per_mille: u32,
    prepayment: bool,
}

#[derive(Debug, Clone)]
struct Plan {
    contract: LoanContract,
    steps: Vec<Step>,
    /// Payments after the last restructuring: (days later, per mille of the payoff; 1000 = the payoff).
    after: Vec<(i64, u32)>,
}

prop_compose! {
    fn step()(
        days_later in 20i64..200,
        extension in any::<bool>(),
        installments in 1u32..24,
        reduction_per_mille in prop::sample::select(vec![0u32, 0, 1, 250, 1_000]),
        payment_per_mille in prop::sample::select(vec![0u32, 0, 100, 500, 900]),
        prepayment in any::<bool>(),
    ) -> Step {
        Step { days_later, extension, installments, reduction_per_mille, payment_per_mille,
            prepayment }
    }
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        (
            10_000_000i64..=10_000_000_000,
            100u32..=2_000,
            2u32..=36,
            common::any_method(),
            common::any_day_count(),
        ),
        prop::collection::vec(step(), 1..=3),
        prop::collection::vec(
            (1i64..120, prop::sample::select(vec![300u32, 700, 1_000])),
            0..4,
        ),
    )
        .prop_map(
            |((principal, rate_bp, installments, method, day_count), steps, after)| {
                let terms = ScheduleTerms {
                    principal: vnd(principal),
                    rate_percent: Decimal::new(i64::from(rate_bp), 2),
                    disbursed_on: d(2026, 1, 5),
                    installments,
                    period_months: 1,
                    method,
                    principal_grace: 0,
                    first_due_on: None,
                    day_count,
                    installment_unit: vnd(1),
                };
                Plan {
                    contract: LoanContract::new(terms),
                    steps,
                    after,
                }
            },
        )
}

fn fraction(amount: Vnd, per_mille: u32) -> Vnd {
    vnd((amount.to_i64().unwrap_or(0) * i64::from(per_mille) / 1_000).max(1))
}

/// The terms of a restructuring on `date` valid for `state`: an extension ends a few months after the maturity;
/// an adjustment ends on it (when the maturity is far enough ahead; otherwise it is an extension).
fn terms_for(state: &LoanState, date: NaiveDate, step: &Step, reduction: Vnd) -> Restructure {
    Restructure {
        interest_reduced: reduction.is_positive(),
        interest_reduction: reduction,
        ..common::restructuring_on(
            state,
            date,
            step.extension,
            |to_maturity| to_maturity + step.installments,
            state_method(step),
        )
    }
}

fn state_method(step: &Step) -> Method {
    if step.installments.is_multiple_of(2) {
        Method::EqualPrincipal
    } else {
        Method::Annuity
    }
}

/// A closed loan owes nothing, and every đồng of contractual interest billed was collected or forgiven.
fn check_closed_means_paid(state: &LoanState) -> Result<(), TestCaseError> {
    if state.closed_on.is_some() {
        prop_assert!(state.restructured_interest_not_due().is_zero());
        prop_assert!(state.outstanding_principal().is_zero());
        prop_assert!(state.unpaid_interest.is_zero());
        prop_assert_eq!(
            state.interest_collected + state.contractual_interest_waived(),
            state.interest_billed,
            "a closed loan left billed interest unpaid"
        );
    }
    Ok(())
}

/// The books of the loan balance and carry every reduction on 0043.
fn check_books(contract: &LoanContract, state: &LoanState) -> Result<(), TestCaseError> {
    for group in [DebtGroup::One, DebtGroup::Three] {
        let inputs = BookInputs {
            group,
            specific_provision: Some(Vnd::ZERO),
            day_count: contract.terms.day_count,
        };
        let book = loan_book(state, &inputs, &AccountBalances::new());
        prop_assert!(entry_for_difference(&book, &AccountBalances::new()).is_ok());
        prop_assert_eq!(
            book.net_debit(Account::MemoInterestWaived),
            state.interest_waived()
        );
    }
    Ok(())
}

fn run(plan: &Plan) -> Result<(), TestCaseError> {
    let contract = &plan.contract;
    let mut events = vec![LoanEvent::disbursement(
        "d0",
        contract.terms.disbursed_on,
        0,
        contract.terms.principal,
    )];
    let mut date = contract.terms.disbursed_on;
    let mut sequence = 1u64;
    let mut restructured = 0;
    for (index, step) in plan.steps.iter().enumerate() {
        date += Duration::days(step.days_later);
        let quote = payoff(contract, &events, date).expect("folds");
        if quote.total.is_zero() {
            break;
        }
        if step.payment_per_mille > 0 {
            let kind = if step.prepayment {
                RepaymentKind::Prepayment
            } else {
                RepaymentKind::Ordinary
            };
            events.push(LoanEvent::repayment(
                format!("p{index}"),
                date,
                sequence,
                fraction(quote.total, step.payment_per_mille),
                kind,
            ));
            sequence += 1;
        }
        let before = fold(contract, &events, date).expect("folds");
        let quote_before = before.payoff_quote(contract.terms.day_count);
        let forgivable = quote_before.unpaid_interest
            + quote_before.overdue_interest
            + quote_before.late_interest
            + quote_before.restructured_interest;
        let wanted = if step.reduction_per_mille == 0 || forgivable.is_zero() {
            Vnd::ZERO
        } else {
            fraction(forgivable, step.reduction_per_mille).min(forgivable)
        };
        // The advance already paid may cover part of the interest: nothing above the payoff net of it can be
        // forgiven (the fund would owe the borrower the rest), and asking for more is refused saying so.
        let reduction = wanted.min(quote_before.total);
        if wanted > reduction && before.closed_on.is_none() {
            let mut above = events.clone();
            above.push(LoanEvent {
                id: format!("s{index}"),
                value_date: date,
                sequence,
                kind: EventKind::Restructure(terms_for(&before, date, step, wanted)),
            });
            let refused = fold(contract, &above, date).expect_err("a reduction above the payoff");
            prop_assert_eq!(refused.code(), "interest_reduction_above_payoff");
        }
        let terms = terms_for(&before, date, step, reduction);
        let mut with = events.clone();
        with.push(LoanEvent {
            id: format!("s{index}"),
            value_date: date,
            sequence,
            kind: EventKind::Restructure(terms),
        });
        let after = match fold(contract, &with, date) {
            Ok(after) => after,
            // A loan already paid off or past what a restructuring allows today: no restructuring this step.
            Err(error) if before.closed_on.is_some() => {
                prop_assert_eq!(error.code(), "loan_closed");
                break;
            }
            Err(error) => return Err(TestCaseError::fail(format!("restructure refused: {error}"))),
        };
        sequence += 1;
        events = with;
        restructured += 1;
        let quote_after = after.payoff_quote(contract.terms.day_count);
        prop_assert_eq!(
            quote_after.total + reduction,
            quote_before.total,
            "payoff before {:?} after {:?} reduction {}",
            quote_before,
            quote_after,
            reduction
        );
        prop_assert_eq!(
            after.interest_waived(),
            before.interest_waived() + reduction
        );
        check_closed_means_paid(&after)?;
        check_books(contract, &after)?;
    }
    for (index, &(days_later, per_mille)) in plan.after.iter().enumerate() {
        date += Duration::days(days_later);
        let quote = payoff(contract, &events, date).expect("folds");
        if quote.total.is_zero() {
            break;
        }
        let amount = if per_mille == 1_000 {
            quote.total
        } else {
            fraction(quote.total, per_mille)
        };
        events.push(LoanEvent::repayment(
            format!("a{index}"),
            date,
            sequence,
            amount,
            RepaymentKind::Ordinary,
        ));
        sequence += 1;
        let state = fold(contract, &events, date).expect("folds");
        check_closed_means_paid(&state)?;
        check_books(contract, &state)?;
        if per_mille == 1_000 {
            prop_assert!(
                state.closed_on.is_some(),
                "paying the payoff closes the loan"
            );
        }
    }
    prop_assert!(restructured <= 3);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(300)))]

    #[test]
    fn a_restructuring_forgives_exactly_its_stated_reduction_and_nothing_restructured_is_dropped(plan in plan()) {
        run(&plan)?;
    }
}

/// Issue 16's loan: 150,000,000 at 12%, equal principal, 6 monthly from 2026-01-05.
fn issue_16_contract() -> LoanContract {
    LoanContract::new(ScheduleTerms {
        principal: vnd(150_000_000),
        rate_percent: Decimal::new(12, 0),
        disbursed_on: d(2026, 1, 5),
        installments: 6,
        period_months: 1,
        method: Method::EqualPrincipal,
        principal_grace: 0,
        first_due_on: None,
        day_count: DayCount::Actual365,
        installment_unit: vnd(1),
    })
}

/// Issue 16's extension on 2026-02-25: first due 2026-04-05, 6 monthly installments of equal
/// principal, forgiving `reduction` of interest (none when zero).
fn issue_16_extension(reduction: Vnd) -> LoanEvent {
    LoanEvent {
        id: "s1".into(),
        value_date: d(2026, 2, 25),
        sequence: 1,
        kind: EventKind::Restructure(Restructure {
            kind: RestructureKind::Extension,
            first_due_on: d(2026, 4, 5),
            installments: 6,
            period_months: 1,
            method: Method::EqualPrincipal,
            principal_grace: 0,
            interest_reduced: !reduction.is_zero(),
            interest_reduction: reduction,
        }),
    }
}

/// Issue 16's reproduction in the engine: 150,000,000 at 12%, equal principal, 6 monthly from 2026-01-05;
/// installment 1 unpaid; extended on 2026-02-25 (first due 2026-04-05, 6 installments), nothing forgiven.
#[test]
fn the_unpaid_interest_of_a_restructured_installment_stays_in_the_payoff_until_paid() {
    let contract = issue_16_contract();
    let mut events = vec![LoanEvent::disbursement(
        "d0",
        d(2026, 1, 5),
        0,
        vnd(150_000_000),
    )];
    let before = payoff(&contract, &events, d(2026, 2, 25)).expect("folds");
    assert_eq!(before.total, vnd(152_605_637));
    events.push(issue_16_extension(Vnd::ZERO));
    let after = payoff(&contract, &events, d(2026, 2, 25)).expect("folds");
    assert_eq!(after.total, vnd(152_605_637), "nothing was forgiven");
    assert_eq!(after.restructured_interest, vnd(1_528_767));
    let next_day = payoff(&contract, &events, d(2026, 2, 26)).expect("folds");
    // The quote of the issue (151,126,185) plus the interest that had been left out.
    assert_eq!(next_day.total, vnd(151_126_185 + 1_528_767));
    // Paying the old, short quote no longer closes the loan.
    let mut short = events.clone();
    short.push(ordinary_repayment("r1", d(2026, 2, 26), 2, 151_126_185));
    let state = fold(&contract, &short, d(2026, 2, 26)).expect("folds");
    assert_eq!(state.closed_on, None);
    // Paying the full quote does, and collects the restructured interest.
    events.push(LoanEvent::repayment(
        "r1",
        d(2026, 2, 26),
        2,
        next_day.total,
        RepaymentKind::Ordinary,
    ));
    let state = fold(&contract, &events, d(2026, 2, 26)).expect("folds");
    assert_eq!(state.closed_on, Some(d(2026, 2, 26)));
    assert_eq!(state.interest_collected, state.interest_billed);
}

/// A reduction lowers the payoff by exactly its amount: late interest first, then overdue, then contractual.
#[test]
fn a_reduction_forgives_late_then_overdue_then_contractual_interest() {
    let contract = issue_16_contract();
    let disbursed = LoanEvent::disbursement("d0", d(2026, 1, 5), 0, vnd(150_000_000));
    let before =
        payoff(&contract, std::slice::from_ref(&disbursed), d(2026, 2, 25)).expect("folds");
    let penalty = before.overdue_interest + before.late_interest;
    let reduction = penalty + vnd(1_000_000);
    let events = vec![disbursed, issue_16_extension(reduction)];
    let state = fold(&contract, &events, d(2026, 2, 25)).expect("folds");
    let quote = state.payoff_quote(DayCount::Actual365);
    assert_eq!(quote.total + reduction, before.total);
    assert_eq!(quote.overdue_interest, Vnd::ZERO);
    assert_eq!(quote.late_interest, Vnd::ZERO);
    assert_eq!(quote.restructured_interest, vnd(1_528_767 - 1_000_000));
    let reduced = &state.interest_reductions[0];
    assert_eq!(
        (
            reduced.late_interest + reduced.overdue_interest,
            reduced.contractual_interest
        ),
        (penalty, vnd(1_000_000))
    );
    // More than is owed is refused, naming what is owed.
    let mut too_much = events.clone();
    if let EventKind::Restructure(terms) = &mut too_much[1].kind {
        terms.interest_reduction = penalty + vnd(1_528_768);
    }
    let error = fold(&contract, &too_much, d(2026, 2, 25)).expect_err("above what is owed");
    assert_eq!(error.code(), "interest_reduction_above_interest_owed");
}

/// The case the property found on 2026-12-05 (seed `ff51f5e9…` in `proptest-regressions`): a bullet loan of
/// 10,000,000 at 12.61%, 4 monthly; restructured unpaid on day 127 (2 installments); half the payoff paid and
/// restructured 62 days later (1 installment); 90% of the payoff paid 20 days later (it waits as an advance) and
/// restructured with all the interest owed forgiven. That interest (590,771) is above the payoff net of the
/// advance (537,907): forgiving it all left the borrower owed 52,864 by the fund and the payoff short of the
/// reduction. It is now refused (`interest_reduction_above_payoff`), and forgiving the payoff net of the advance
/// leaves a payoff of exactly zero.
#[test]
fn a_full_reduction_after_two_restructurings_and_part_payments_forgives_exactly_what_it_says() {
    let step = |days_later, installments, reduction_per_mille, payment_per_mille| Step {
        days_later,
        extension: false,
        installments,
        reduction_per_mille,
        payment_per_mille,
        prepayment: false,
    };
    let plan = Plan {
        contract: LoanContract::new(ScheduleTerms {
            principal: vnd(10_000_000),
            rate_percent: Decimal::new(1261, 2),
            disbursed_on: d(2026, 1, 5),
            installments: 4,
            period_months: 1,
            method: Method::Bullet,
            principal_grace: 0,
            first_due_on: None,
            day_count: DayCount::Actual365,
            installment_unit: vnd(1),
        }),
        steps: vec![
            step(127, 2, 0, 0),
            step(62, 1, 0, 500),
            step(20, 1, 1_000, 900),
        ],
        after: vec![],
    };
    if let Err(failure) = run(&plan) {
        panic!("{failure}");
    }
}
