//! DOMAIN.md §9, Decree 45/2021 Art 29: a written-off loan stays under follow-up; recoveries pay the written-off
//! principal first, then the interest not recognised; the books move exactly as §9's table says.

mod common;

use common::{cases, event, ordinary_repayment, vnd};

use chrono::{Duration, NaiveDate};
use coopfund_domain::examples::{date as d, example_3 as contract};
use coopfund_domain::{
    entry_for_difference, fold, fold_close_of_day, loan_book, Account, AccountBalances, BookInputs,
    DayCount, DebtGroup, EventKind, LoanEvent, LoanState, RepaymentKind, Side, Vnd,
};
use proptest::prelude::*;

fn recovery(id: &str, date: NaiveDate, sequence: u64, amount: i64) -> LoanEvent {
    event(
        id,
        date,
        sequence,
        EventKind::Recovery {
            amount: vnd(amount),
        },
    )
}

/// Disbursed 2026-01-10, one installment paid, then nothing: written off on 2026-09-01 (DPD 173, group 4).
fn written_off() -> Vec<LoanEvent> {
    vec![
        LoanEvent::disbursement("d1", d(2026, 1, 10), 1, vnd(100_000_000)),
        ordinary_repayment("r1", d(2026, 2, 10), 2, 11_019_178),
        event("w1", d(2026, 9, 1), 3, EventKind::WriteOff),
    ]
}

fn inputs(provision: Option<i64>) -> BookInputs {
    BookInputs {
        group: DebtGroup::Four,
        specific_provision: provision.map(vnd),
        day_count: DayCount::Actual365,
    }
}

/// The entry's lines as (account code, side, amount), sorted.
fn lines_of(target: &AccountBalances, posted: &AccountBalances) -> Vec<(&'static str, Side, Vnd)> {
    let entry = entry_for_difference(target, posted)
        .expect("balanced books")
        .expect("an entry");
    let mut lines: Vec<_> = entry
        .lines()
        .iter()
        .map(|l| (l.account.code(), l.side, l.amount))
        .collect();
    lines.sort_by_key(|(code, _, _)| *code);
    lines
}

fn state_at(events: &[LoanEvent], date: NaiveDate) -> LoanState {
    fold(&contract(), events, date).expect("folds")
}

#[test]
fn recoveries_pay_the_written_off_principal_first_then_the_interest_not_recognised() {
    let mut events = written_off();
    let before = state_at(&events[..2], d(2026, 9, 1));
    let at_write_off = state_at(&events, d(2026, 9, 1));
    assert_eq!(at_write_off.written_off_principal, vnd(90_000_000));
    // Interest not recognised: installments 2-7 billed and unpaid, plus 22 days accrued on 30,000,000 not yet due
    // (2026-08-10 to 2026-09-01) — exactly what the books held off balance on 0041 before the write-off.
    let posted_before = loan_book(&before, &inputs(Some(45_000_000)), &AccountBalances::new());
    assert_eq!(
        at_write_off.written_off_interest,
        posted_before.net_debit(Account::MemoInterestNotRecognised)
    );
    let billed_unpaid: Vnd = before.schedule[1..7].iter().map(|i| i.interest).sum();
    assert_eq!(
        at_write_off.written_off_interest,
        billed_unpaid + vnd(216_986) // round(30,000,000 × 12% × 22 / 365) = round(216,986.30)
    );
    let interest = at_write_off.written_off_interest;

    events.push(recovery("c1", d(2026, 10, 5), 4, 30_000_000));
    events.push(recovery("c2", d(2026, 11, 5), 5, 61_000_000));
    let after_two = state_at(&events, d(2026, 11, 5));
    assert_eq!(after_two.recoveries.len(), 2);
    assert_eq!(
        (
            after_two.recoveries[0].principal,
            after_two.recoveries[0].interest
        ),
        (vnd(30_000_000), Vnd::ZERO)
    );
    assert_eq!(
        (
            after_two.recoveries[1].principal,
            after_two.recoveries[1].interest
        ),
        (vnd(60_000_000), vnd(1_000_000))
    );
    assert_eq!(after_two.principal_under_follow_up(), Vnd::ZERO);
    assert_eq!(
        after_two.interest_under_follow_up(),
        interest - vnd(1_000_000)
    );
    assert_eq!(after_two.recovered_on, None);
    // Nothing moved on balance: the schedule is frozen.
    assert_eq!(after_two.outstanding_principal(), Vnd::ZERO);
    assert_eq!(after_two.in_term_principal, Vnd::ZERO);

    let rest = (interest - vnd(1_000_000)).to_i64().expect("fits");
    events.push(recovery("c3", d(2026, 12, 1), 6, rest));
    let recovered = state_at(&events, d(2027, 3, 1));
    assert_eq!(recovered.recovered_on, Some(d(2026, 12, 1)));
    assert_eq!(recovered.interest_under_follow_up(), Vnd::ZERO);
    assert_eq!(recovered.recovered_interest(), interest);
    assert_eq!(recovered.recovered_principal(), vnd(90_000_000));
}

#[test]
fn each_recovery_posts_what_domain_9_says() {
    let mut events = written_off();
    let before = state_at(&events[..2], d(2026, 9, 1));
    let posted = loan_book(&before, &inputs(Some(90_000_000)), &AccountBalances::new());
    let at_write_off = state_at(&events, d(2026, 9, 1));
    let posted = {
        let target = loan_book(&at_write_off, &inputs(None), &posted);
        assert_eq!(target.net_debit(Account::SpecificProvision), Vnd::ZERO);
        assert_eq!(
            target.net_debit(Account::MemoWrittenOffLoans),
            vnd(90_000_000)
        );
        target
    };
    events.push(recovery("c1", d(2026, 10, 5), 4, 30_000_000));
    let first = state_at(&events, d(2026, 10, 5));
    let target = loan_book(&first, &inputs(None), &posted);
    assert_eq!(
        lines_of(&target, &posted),
        vec![
            ("0042", Side::Credit, vnd(30_000_000)),
            ("0090", Side::Debit, vnd(30_000_000)),
            ("1121", Side::Debit, vnd(30_000_000)),
            ("711", Side::Credit, vnd(30_000_000)),
        ]
    );
    let posted = target;
    events.push(recovery("c2", d(2026, 11, 5), 5, 61_000_000));
    let second = state_at(&events, d(2026, 11, 5));
    let target = loan_book(&second, &inputs(None), &posted);
    assert_eq!(
        lines_of(&target, &posted),
        vec![
            ("0041", Side::Credit, vnd(1_000_000)),
            ("0042", Side::Credit, vnd(60_000_000)),
            ("0090", Side::Debit, vnd(61_000_000)),
            ("1121", Side::Debit, vnd(61_000_000)),
            ("51511", Side::Credit, vnd(1_000_000)),
            ("711", Side::Credit, vnd(60_000_000)),
        ]
    );
    assert_eq!(target.net_debit(Account::MemoWrittenOffLoans), Vnd::ZERO);
    assert_eq!(target.net_debit(Account::ProvisionExpense), vnd(90_000_000));
    // A reversal of the second recovery: the engine replays without it, the difference is its mirror.
    events.push(event(
        "x2",
        d(2026, 11, 5),
        6,
        EventKind::Reversal {
            reversed_id: "c2".into(),
        },
    ));
    let reversed = state_at(&events, d(2026, 11, 20));
    let back = loan_book(&reversed, &inputs(None), &target);
    assert_eq!(
        lines_of(&back, &target),
        vec![
            ("0041", Side::Debit, vnd(1_000_000)),
            ("0042", Side::Debit, vnd(60_000_000)),
            ("0090", Side::Credit, vnd(61_000_000)),
            ("1121", Side::Credit, vnd(61_000_000)),
            ("51511", Side::Debit, vnd(1_000_000)),
            ("711", Side::Debit, vnd(60_000_000)),
        ]
    );
    assert_eq!(back, loan_book(&first, &inputs(None), &posted));
}

#[test]
fn a_short_provision_is_expensed_in_the_write_off_entry() {
    let events = written_off();
    let before = state_at(&events[..2], d(2026, 9, 1));
    // Group 4 at the last month-end: 50% of 90,000,000 held on 22931.
    let posted = loan_book(&before, &inputs(Some(45_000_000)), &AccountBalances::new());
    assert_eq!(
        posted.net_debit(Account::SpecificProvision),
        vnd(-45_000_000)
    );
    let at_write_off = state_at(&events, d(2026, 9, 1));
    let target = loan_book(&at_write_off, &inputs(None), &posted);
    let in_term = before.in_term_principal;
    let overdue = before.overdue_principal;
    assert_eq!(in_term + overdue, vnd(90_000_000));
    assert_eq!(overdue, vnd(60_000_000)); // installments 2-7
    let interest = at_write_off.written_off_interest;
    let moved_off_balance = interest - posted.net_debit(Account::MemoInterestNotRecognised);
    let mut expected = vec![
        ("0042", Side::Debit, vnd(90_000_000)),
        ("0090", Side::Credit, vnd(90_000_000) + moved_off_balance),
        ("12831", Side::Credit, in_term),
        ("12832", Side::Credit, overdue),
        ("22931", Side::Debit, vnd(45_000_000)),
        ("6426", Side::Debit, vnd(45_000_000)),
    ];
    if moved_off_balance.is_positive() {
        expected.insert(0, ("0041", Side::Debit, moved_off_balance));
    }
    assert_eq!(lines_of(&target, &posted), expected);
    for account in [
        Account::LoansInTerm,
        Account::LoansOverdue,
        Account::SpecificProvision,
    ] {
        assert_eq!(target.net_debit(account), Vnd::ZERO, "{account:?}");
    }
    assert_eq!(target.net_debit(Account::ProvisionExpense), vnd(90_000_000));
    // A full provision: no expense in the write-off entry.
    let full = loan_book(&before, &inputs(Some(90_000_000)), &AccountBalances::new());
    let lines = lines_of(&loan_book(&at_write_off, &inputs(None), &full), &full);
    assert!(
        lines.iter().all(|(code, _, _)| *code != "6426"),
        "{lines:?}"
    );
    assert!(lines.contains(&("22931", Side::Debit, vnd(90_000_000))));
}

#[test]
fn a_recovery_above_what_remains_is_refused_naming_it() {
    let mut events = written_off();
    let remaining = state_at(&events, d(2026, 9, 1)).written_off_interest + vnd(90_000_000);
    events.push(event(
        "c1",
        d(2026, 10, 5),
        4,
        EventKind::Recovery {
            amount: remaining + vnd(1),
        },
    ));
    let error = fold(&contract(), &events, d(2026, 10, 5)).expect_err("above");
    assert_eq!(error.code(), "recovery_above_remaining");
    assert_eq!(error.field(), Some("amount_vnd"));
    assert_eq!(
        error.error,
        coopfund_domain::LoanError::RecoveryAboveRemaining {
            amount: remaining + vnd(1),
            remaining,
        }
    );
}

#[test]
fn a_recovery_needs_a_written_off_loan_on_its_value_date() {
    let mut active = written_off();
    active.pop();
    active.push(recovery("c1", d(2026, 10, 5), 4, 1_000));
    let error = fold(&contract(), &active, d(2026, 10, 5)).expect_err("active");
    assert_eq!(error.code(), "loan_not_written_off");
    let mut early = written_off();
    early.push(recovery("c1", d(2026, 8, 31), 4, 1_000));
    let error = fold(&contract(), &early, d(2026, 10, 5)).expect_err("before the write-off");
    assert_eq!(error.code(), "loan_not_written_off");
    let mut repaid = written_off();
    repaid.push(ordinary_repayment("r2", d(2026, 10, 5), 4, 1_000));
    let error = fold(&contract(), &repaid, d(2026, 10, 5)).expect_err("written off");
    assert_eq!(error.code(), "loan_written_off");
}

#[test]
fn a_written_off_loan_is_frozen_however_late_it_is_replayed() {
    let events = written_off();
    let at = state_at(&events, d(2026, 9, 1));
    for later in [d(2026, 9, 10), d(2026, 12, 31), d(2028, 1, 1)] {
        let state = fold_close_of_day(&contract(), &events, later).expect("folds");
        assert_eq!(state.in_term_principal, Vnd::ZERO, "{later}");
        assert_eq!(state.overdue_principal, Vnd::ZERO, "{later}");
        assert_eq!(state.unpaid_interest, at.unpaid_interest, "{later}");
        assert_eq!(state.interest_billed, at.interest_billed, "{later}");
        assert_eq!(state.written_off_interest, at.written_off_interest);
        let book = loan_book(&state, &inputs(None), &AccountBalances::new());
        assert_eq!(book, loan_book(&at, &inputs(None), &AccountBalances::new()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    /// Random write-off dates and recoveries (per-mille of what remains): the split conserves each recovery,
    /// principal goes first, the books balance and follow the loan (0042 = principal under follow-up, 0041 =
    /// interest under follow-up), reversing a recovery equals never having had it, and the loan is recovered
    /// exactly when nothing remains.
    #[test]
    fn recoveries_conserve_money_and_keep_the_memo_accounts_equal_to_what_remains(
        write_off_day in 1i64..600,
        paid_per_mille in 0u32..900,
        recoveries in prop::collection::vec((1i64..200, 1u32..=1_000), 1..6),
        pick in any::<prop::sample::Index>(),
    ) {
        let start = d(2026, 1, 10);
        let mut events = vec![LoanEvent::disbursement("d1", start, 1, vnd(100_000_000))];
        let paid_on = start + Duration::days(write_off_day / 2);
        let payoff = coopfund_domain::payoff(&contract(), &events, paid_on).expect("quote").total;
        let paid = (payoff.to_i64().unwrap_or(0) * i64::from(paid_per_mille) / 1_000).max(1);
        events.push(LoanEvent::repayment("r1", paid_on, 2, vnd(paid), RepaymentKind::Ordinary));
        let written_on = start + Duration::days(write_off_day);
        events.push(event("w1", written_on, 3, EventKind::WriteOff));
        let mut date = written_on;
        let mut posted = AccountBalances::new();
        for (index, (days, per_mille)) in recoveries.iter().enumerate() {
            date += Duration::days(*days);
            let state = fold(&contract(), &events, date).expect("folds");
            let remaining = state.principal_under_follow_up() + state.interest_under_follow_up();
            if remaining.is_zero() {
                prop_assert!(state.recovered_on.is_some());
                break;
            }
            let amount = (remaining.to_i64().unwrap_or(0) * i64::from(*per_mille) / 1_000).max(1);
            events.push(recovery(&format!("c{index}"), date, 10 + index as u64, amount));
            let state = fold(&contract(), &events, date).expect("a recovery within what remains");
            let last = state.recoveries.last().expect("recorded");
            prop_assert_eq!(last.principal + last.interest, vnd(amount));
            prop_assert!(last.interest.is_zero() || state.principal_under_follow_up().is_zero());
            prop_assert!(!state.interest_under_follow_up().is_negative());
            prop_assert_eq!(state.recovered_on.is_some(), vnd(amount) == remaining);
            let target = loan_book(&state, &inputs(None), &posted);
            prop_assert!(target.is_balanced());
            prop_assert_eq!(target.net_debit(Account::MemoWrittenOffLoans), state.principal_under_follow_up());
            prop_assert_eq!(target.net_debit(Account::MemoInterestNotRecognised), state.interest_under_follow_up());
            prop_assert_eq!(-target.net_debit(Account::OtherIncome), state.recovered_principal());
            prop_assert_eq!(target.net_debit(Account::ProvisionExpense), state.written_off_principal);
            prop_assert_eq!(target.net_debit(Account::LoansInTerm) + target.net_debit(Account::LoansOverdue), Vnd::ZERO);
            posted = target;
        }
        let recovered: Vec<&LoanEvent> = events.iter().filter(|e| matches!(e.kind, EventKind::Recovery { .. })).collect();
        if recovered.is_empty() {
            return Ok(());
        }
        let victim = recovered[pick.index(recovered.len())].id.clone();
        let mut with_reversal = events.clone();
        with_reversal.push(event("x", date, 99, EventKind::Reversal { reversed_id: victim.clone() }));
        let never: Vec<LoanEvent> = events.iter().filter(|e| e.id != victim).cloned().collect();
        // Dropping one recovery can only leave more to recover, so the later ones still fit.
        prop_assert_eq!(
            fold(&contract(), &with_reversal, date).expect("replays"),
            fold(&contract(), &never, date).expect("replays")
        );
    }
}
