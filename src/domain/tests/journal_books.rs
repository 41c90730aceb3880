//! DOMAIN.md §9: posting each loan's books by difference, day by day through worked example 3.

mod common;

use common::{ordinary_repayment, vnd};

use chrono::NaiveDate;
use coopfund_domain::examples::{date as d, example_3 as contract};
use coopfund_domain::{
    classify, entry_for_difference, fold_close_of_day, loan_book, Account, AccountBalances,
    BookInputs, ClassificationConfig, DayCount, DebtGroup, LoanEvent, LoanState, Side, Vnd,
};

fn events() -> Vec<LoanEvent> {
    vec![
        LoanEvent::disbursement("d1", d(2026, 1, 10), 1, vnd(100_000_000)),
        ordinary_repayment("r1", d(2026, 2, 20), 2, 11_100_000),
    ]
}

fn inputs(state: &LoanState) -> BookInputs {
    let group = classify(
        state.classification_input(),
        &ClassificationConfig::default(),
    );
    BookInputs {
        group,
        specific_provision: None,
        day_count: DayCount::Actual365,
    }
}

/// Posts the difference entry at the close of each day and checks every invariant.
fn post_daily(
    from: NaiveDate,
    to: NaiveDate,
) -> (
    AccountBalances,
    Vec<(NaiveDate, coopfund_domain::JournalEntry)>,
) {
    post_daily_with(&events(), from, to)
}

fn post_daily_with(
    events: &[LoanEvent],
    from: NaiveDate,
    to: NaiveDate,
) -> (
    AccountBalances,
    Vec<(NaiveDate, coopfund_domain::JournalEntry)>,
) {
    let mut posted = AccountBalances::new();
    let mut entries = Vec::new();
    let mut day = from;
    while day <= to {
        let state = fold_close_of_day(&contract(), events, day).expect("folds");
        let target = loan_book(&state, &inputs(&state), &posted);
        assert!(target.is_balanced(), "book of {day} unbalanced: {target:?}");
        if let Some(entry) = entry_for_difference(&target, &posted).expect("balanced books") {
            posted.post(&entry);
            entries.push((day, entry));
        }
        assert_eq!(posted, target);
        assert_eq!(
            posted.net_debit(Account::LoansInTerm),
            state.in_term_principal
        );
        assert_eq!(
            posted.net_debit(Account::LoansOverdue),
            state.overdue_principal
        );
        assert_eq!(
            posted.normal_balance(Account::BorrowerAdvances),
            state.advance
        );
        day = day.succ_opt().expect("next day");
    }
    (posted, entries)
}

fn line(entry: &coopfund_domain::JournalEntry, account: Account) -> Option<(Side, Vnd)> {
    entry
        .lines()
        .iter()
        .find(|l| l.account == account)
        .map(|l| (l.side, l.amount))
}

#[test]
fn the_disbursement_posts_loans_in_term_against_cash() {
    let (_, entries) = post_daily(d(2026, 1, 10), d(2026, 1, 10));
    let (_, first) = &entries[0];
    assert_eq!(
        line(first, Account::LoansInTerm),
        Some((Side::Debit, vnd(100_000_000)))
    );
    assert_eq!(
        line(first, Account::Cash),
        Some((Side::Credit, vnd(100_000_000)))
    );
    // The first day's accrual (100,000,000 × 12% / 365 = 32,876.7) is posted by difference too.
    assert_eq!(
        line(first, Account::InterestReceivable),
        Some((Side::Debit, vnd(32_877)))
    );
}

#[test]
fn daily_accruals_round_by_difference_and_sum_to_the_billed_interest() {
    let (posted, entries) = post_daily(d(2026, 1, 10), d(2026, 2, 9));
    assert_eq!(
        posted.net_debit(Account::InterestReceivable),
        vnd(1_019_178)
    );
    assert_eq!(
        posted.normal_balance(Account::InterestIncome),
        vnd(1_019_178)
    );
    assert!(entries
        .iter()
        .skip(1)
        .all(|(_, e)| matches!(e.total_debits().to_i64(), Some(32_876..=32_877))));
}

#[test]
fn an_unpaid_installment_moves_to_overdue_and_leaving_group_1_reverses_accrued_interest() {
    let unpaid = &events()[..1];
    let (_, entries) = post_daily_with(unpaid, d(2026, 1, 10), d(2026, 2, 20));
    let (_, overdue_move) = entries
        .iter()
        .find(|(day, _)| *day == d(2026, 2, 10))
        .expect("entry on the due date");
    assert_eq!(
        line(overdue_move, Account::LoansOverdue),
        Some((Side::Debit, vnd(10_000_000)))
    );
    assert_eq!(
        line(overdue_move, Account::LoansInTerm),
        Some((Side::Credit, vnd(10_000_000)))
    );
    // DPD 10 at the close of 2026-02-20 → group 2: the receivable goes to 6428 and to the memo account.
    let (_, leaves_group_1) = entries.last().expect("an entry");
    let (side, reversed) = line(leaves_group_1, Account::InterestReversed).expect("6428 line");
    assert_eq!(side, Side::Debit);
    assert_eq!(
        line(leaves_group_1, Account::InterestReceivable),
        Some((Side::Credit, reversed))
    );
    assert!(matches!(
        line(leaves_group_1, Account::MemoInterestNotRecognised),
        Some((Side::Debit, _))
    ));
    assert!(matches!(
        line(leaves_group_1, Account::MemoContra),
        Some((Side::Credit, _))
    ));
}

#[test]
fn the_late_payment_splits_into_principal_interest_penalties_and_an_advance() {
    let (_, before) = post_daily(d(2026, 1, 10), d(2026, 2, 19));
    let (posted, entries) = post_daily(d(2026, 1, 10), d(2026, 2, 20));
    assert_eq!(entries.len(), before.len() + 1);
    let (_, payment) = entries.last().expect("payment entry");
    assert_eq!(
        line(payment, Account::Cash),
        Some((Side::Debit, vnd(11_100_000)))
    );
    assert_eq!(
        line(payment, Account::LoansOverdue),
        Some((Side::Credit, vnd(10_000_000)))
    );
    assert_eq!(
        line(payment, Account::PenaltyInterestIncome),
        Some((Side::Credit, vnd(49_315 + 2_792)))
    );
    assert_eq!(
        line(payment, Account::BorrowerAdvances),
        Some((Side::Credit, vnd(28_715)))
    );
    // Back in group 1 (DPD 0): the memo is released and income recognised again.
    assert_eq!(
        posted.net_debit(Account::MemoInterestNotRecognised),
        Vnd::ZERO
    );
    assert!(posted.is_balanced());
    let _ = DebtGroup::One;
}
