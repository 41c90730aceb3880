//! Properties of the loan fold, allocation, classification and books over random loans and payments.

mod common;

use common::{cases, contract, disbursements, push_payments};

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    classify, entry_for_difference, fold, fold_close_of_day, fold_without, loan_book, payoff,
    AccountBalances, BookInputs, ClassificationConfig, ClassificationInput, EventKind,
    LoanContract, LoanEvent, LoanFolder, LoanState, Vnd,
};
use proptest::prelude::*;

/// A random loan and a plan of payments: (days after disbursement, per-mille of the payoff, prepayment?).
#[derive(Debug, Clone)]
struct Scenario {
    contract: LoanContract,
    payments: Vec<(i64, u32, bool)>,
    tranche: Option<(i64, u32)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        contract(start(), 1..=360, 2),
        prop::collection::vec((1i64..1_500, 1u32..=1_000, any::<bool>()), 0..8),
        prop::option::of((1i64..200, 1u32..=900)),
    )
        .prop_map(|(contract, mut payments, tranche)| {
            payments.sort();
            Scenario {
                contract,
                payments,
                tranche,
            }
        })
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 31).expect("date")
}

/// Builds valid events: each payment is a fraction of the payoff on its date (so never above it).
fn events_of(scenario: &Scenario) -> Vec<LoanEvent> {
    let contract = &scenario.contract;
    let mut events = disbursements(contract, start(), scenario.tranche);
    let payments =
        scenario
            .payments
            .iter()
            .enumerate()
            .map(|(index, &(day, per_mille, prepayment))| {
                (
                    start() + Duration::days(day),
                    per_mille,
                    prepayment,
                    10 + index as u64,
                )
            });
    push_payments(contract, &mut events, payments);
    events
}

fn check_invariants(state: &LoanState) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        state.in_term_principal
            + state.overdue_principal
            + state.principal_collected
            + state.written_off_principal,
        state.disbursed
    );
    for amount in [
        state.in_term_principal,
        state.overdue_principal,
        state.unpaid_interest,
        state.advance,
    ] {
        prop_assert!(!amount.is_negative());
    }
    prop_assert!(state.principal_not_due() <= state.in_term_principal);
    let unpaid: Vnd = state.schedule.iter().map(|i| i.unpaid_principal()).sum();
    prop_assert_eq!(unpaid, state.outstanding_principal());
    for installment in &state.schedule {
        prop_assert!(
            !installment.unpaid_principal().is_negative(),
            "{:?}",
            installment
        );
        prop_assert!(!installment.interest.is_negative());
        if installment.billed {
            prop_assert!(!installment.unpaid_interest().is_negative());
        }
    }
    prop_assert!(state.interest_collected <= state.interest_billed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn allocations_conserve_the_payment_and_never_pay_more_than_is_due(s in scenario()) {
        let events = events_of(&s);
        let last = events.last().map_or(start(), |e| e.value_date);
        let state = fold(&s.contract, &events, last).expect("valid events fold");
        check_invariants(&state)?;
        for allocation in &state.allocations {
            prop_assert_eq!(allocation.total_allocated(), allocation.amount + allocation.advance_applied);
            let Some(id) = allocation.event_id.as_deref() else { continue };
            let earlier: Vec<LoanEvent> = events.iter().take_while(|e| e.id != id).cloned().collect();
            let quote = payoff(&s.contract, &earlier, allocation.value_date).expect("quote");
            prop_assert!(allocation.amount <= quote.total);
            prop_assert!(allocation.overdue_principal <= quote.overdue_principal);
            prop_assert!(allocation.unpaid_interest <= quote.unpaid_interest);
            prop_assert!(allocation.overdue_interest <= quote.overdue_interest);
            prop_assert!(allocation.late_interest <= quote.late_interest);
            prop_assert!(allocation.interest <= quote.current_interest);
            prop_assert!(allocation.principal + allocation.prepaid_principal <= quote.principal);
            prop_assert_eq!(allocation.settled_loan, allocation.amount == quote.total);
        }
    }

    #[test]
    fn folding_step_by_step_equals_folding_at_once(s in scenario(), stops in prop::collection::vec(0i64..2_000, 0..6)) {
        let events = events_of(&s);
        let through = start() + Duration::days(2_000);
        let at_once = fold(&s.contract, &events, through).expect("folds");
        let mut folder = LoanFolder::new(&s.contract).expect("valid contract");
        let mut stops: Vec<NaiveDate> = stops.into_iter().map(|d| start() + Duration::days(d)).collect();
        stops.sort();
        let mut next_stop = stops.into_iter().peekable();
        let mut sorted = events.clone();
        sorted.sort_by_key(|e| (e.value_date, e.sequence));
        for event in &sorted {
            while let Some(stop) = next_stop.next_if(|stop| *stop < event.value_date) {
                folder.advance_to(stop);
            }
            folder.apply(event).expect("applies");
        }
        for stop in next_stop {
            folder.advance_to(stop);
        }
        folder.advance_to(through);
        prop_assert_eq!(folder.into_state(), at_once.clone());
        check_invariants(&at_once)?;
    }

    #[test]
    fn replaying_after_a_reversal_equals_never_having_had_the_event(s in scenario(), pick in any::<prop::sample::Index>()) {
        let events = events_of(&s);
        let victim = events[pick.index(events.len())].id.clone();
        let through = start() + Duration::days(1_600);
        let mut with_reversal = events.clone();
        with_reversal.push(LoanEvent {
            id: "rev".into(),
            value_date: through,
            sequence: 999,
            kind: EventKind::Reversal { reversed_id: victim.clone() },
        });
        let never: Vec<LoanEvent> = events.iter().filter(|e| e.id != victim).cloned().collect();
        let replayed = fold(&s.contract, &with_reversal, through);
        prop_assert_eq!(&replayed, &fold(&s.contract, &never, through));
        prop_assert_eq!(&replayed, &fold_without(&s.contract, &events, &[victim.as_str()], through));
    }

    #[test]
    fn every_posted_entry_balances_and_the_books_follow_the_loan(s in scenario(), extra in prop::collection::vec(0i64..1_500, 1..6)) {
        let events = events_of(&s);
        let mut days: Vec<NaiveDate> = events.iter().map(|e| e.value_date).collect();
        days.extend(extra.into_iter().map(|d| start() + Duration::days(d)));
        days.sort();
        days.dedup();
        let mut posted = AccountBalances::new();
        for day in days {
            let state = fold_close_of_day(&s.contract, &events, day).expect("folds");
            let group = classify(state.classification_input(), &ClassificationConfig::default());
            let inputs = BookInputs { group, specific_provision: None, day_count: s.contract.terms.day_count };
            let target = loan_book(&state, &inputs, &posted);
            prop_assert!(target.is_balanced());
            if let Some(entry) = entry_for_difference(&target, &posted).expect("balanced books") {
                prop_assert_eq!(entry.total_debits(), entry.lines().iter().filter(|l| l.side == coopfund_domain::Side::Credit).map(|l| l.amount).sum::<Vnd>());
                posted.post(&entry);
            }
            prop_assert_eq!(&posted, &target);
        }
    }

    #[test]
    fn the_group_never_improves_as_dpd_grows(dpd in 0i64..1_000, more in 0i64..1_000, count in 0u32..4, reduced in any::<bool>()) {
        let config = ClassificationConfig::default();
        let at = |dpd| classify(ClassificationInput { dpd, restructure_count: count, interest_reduced: reduced }, &config);
        prop_assert!(at(dpd) <= at(dpd + more));
    }
}
