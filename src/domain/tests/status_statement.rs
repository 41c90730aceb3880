//! A loan's status after a fold, the group it is shown in, the stored names, and the statement with running
//! balances (DOMAIN.md §4, §8; API.md's statement), without a database.

mod common;

use common::vnd;

use std::str::FromStr;

use chrono::NaiveDate;
use coopfund_domain::examples::{date as d, example_3 as contract};
use coopfund_domain::{
    fold, loan_group, shown_group, statement, ClassificationConfig, DebtGroup, EventKind, LineKind,
    LoanEvent, LoanState, LoanStatus, PrepaymentRule, RepaymentKind, RestructureKind,
    StatementTransaction, TransactionKind, UnknownName, Vnd,
};

fn state_of(events: &[LoanEvent], as_of: NaiveDate) -> LoanState {
    fold(&contract(), events, as_of).expect("the events apply")
}

fn disbursed() -> LoanEvent {
    LoanEvent::disbursement("1", d(2026, 1, 10), 1, vnd(100_000_000))
}

fn repaid(id: &str, date: NaiveDate, amount: i64) -> LoanEvent {
    let sequence = id.parse().expect("numeric id");
    LoanEvent::repayment(id, date, sequence, vnd(amount), RepaymentKind::Ordinary)
}

/// Worked example 3 paid off in full on 2026-01-20, as it stands on `as_of`.
fn paid_off_on_20_january(as_of: NaiveDate) -> LoanState {
    let payoff = state_of(&[disbursed()], d(2026, 1, 20))
        .payoff_quote(coopfund_domain::DayCount::Actual365)
        .total;
    let paid_off = repaid("2", d(2026, 1, 20), payoff.to_i64().expect("fits"));
    state_of(&[disbursed(), paid_off], as_of)
}

fn event(id: &str, date: NaiveDate, kind: EventKind) -> LoanEvent {
    LoanEvent {
        id: id.into(),
        value_date: date,
        sequence: id.parse().expect("numeric id"),
        kind,
    }
}

#[test]
fn every_name_reads_back_as_itself_and_an_unknown_one_is_named() {
    for status in LoanStatus::ALL {
        assert_eq!(LoanStatus::from_str(status.as_str()), Ok(*status));
        assert_eq!(status.to_string(), status.as_str());
    }
    for kind in TransactionKind::ALL {
        assert_eq!(TransactionKind::from_str(kind.as_str()), Ok(*kind));
    }
    for kind in RepaymentKind::ALL {
        assert_eq!(RepaymentKind::from_str(kind.as_str()), Ok(*kind));
    }
    for rule in PrepaymentRule::ALL {
        assert_eq!(PrepaymentRule::from_str(rule.as_str()), Ok(*rule));
    }
    for kind in RestructureKind::ALL {
        assert_eq!(RestructureKind::from_str(kind.as_str()), Ok(*kind));
    }
    let unknown = LoanStatus::from_str("actif").expect_err("not a status");
    assert_eq!(
        unknown,
        UnknownName {
            what: "loan status",
            text: "actif".into()
        }
    );
    assert_eq!(unknown.to_string(), r#"unknown loan status "actif""#);
    assert_eq!(
        PrepaymentRule::from_str("shorten")
            .expect_err("not a rule")
            .to_string(),
        r#"unknown prepayment rule "shorten""#
    );
}

#[test]
fn a_closed_written_off_or_recovered_loan_is_finished_and_the_finished_list_names_exactly_those() {
    let finished: Vec<LoanStatus> = LoanStatus::ALL
        .iter()
        .copied()
        .filter(|status| status.is_finished())
        .collect();
    assert_eq!(
        finished,
        [
            LoanStatus::Closed,
            LoanStatus::WrittenOff,
            LoanStatus::Recovered
        ]
    );
    assert_eq!(LoanStatus::FINISHED.as_slice(), finished.as_slice());
}

#[test]
fn the_fold_decides_the_status_from_the_first_disbursement_on() {
    let nothing = state_of(&[], d(2026, 1, 10));
    // Before any disbursement the contract's step stands.
    assert_eq!(
        LoanStatus::Approved.after_fold(&nothing),
        LoanStatus::Approved
    );
    assert_eq!(
        LoanStatus::ContractSigned.after_fold(&nothing),
        LoanStatus::ContractSigned
    );
    // Every disbursement reversed: back to contract_signed.
    assert_eq!(
        LoanStatus::Active.after_fold(&nothing),
        LoanStatus::ContractSigned
    );
    let owing = state_of(&[disbursed()], d(2026, 1, 20));
    assert_eq!(
        LoanStatus::ContractSigned.after_fold(&owing),
        LoanStatus::Active
    );

    let settled = paid_off_on_20_january(d(2026, 1, 21));
    assert_eq!(LoanStatus::Active.after_fold(&settled), LoanStatus::Closed);

    let written_off = state_of(
        &[disbursed(), event("2", d(2026, 9, 1), EventKind::WriteOff)],
        d(2026, 9, 2),
    );
    assert_eq!(
        LoanStatus::Active.after_fold(&written_off),
        LoanStatus::WrittenOff
    );
    let remaining =
        written_off.principal_under_follow_up() + written_off.interest_under_follow_up();
    let recovered = state_of(
        &[
            disbursed(),
            event("2", d(2026, 9, 1), EventKind::WriteOff),
            event(
                "3",
                d(2026, 9, 2),
                EventKind::Recovery { amount: remaining },
            ),
        ],
        d(2026, 9, 3),
    );
    assert_eq!(
        LoanStatus::WrittenOff.after_fold(&recovered),
        LoanStatus::Recovered
    );
}

#[test]
fn a_written_off_loan_is_group_5_a_settled_one_group_1_and_the_cached_group_only_worsens_it() {
    let config = ClassificationConfig::default();
    // 2026-06-11: the first installment (2026-02-10) is 121 days past due: group 4 by DPD.
    let late = state_of(&[disbursed()], d(2026, 6, 11));
    assert_eq!(loan_group(&late, &config), DebtGroup::Four);
    let written_off = state_of(
        &[disbursed(), event("2", d(2026, 6, 11), EventKind::WriteOff)],
        d(2026, 6, 12),
    );
    assert_eq!(loan_group(&written_off, &config), DebtGroup::Five);
    let settled = paid_off_on_20_january(d(2026, 6, 11));
    assert_eq!(loan_group(&settled, &config), DebtGroup::One);

    assert_eq!(
        shown_group(DebtGroup::One, DebtGroup::Three),
        DebtGroup::Three
    );
    assert_eq!(
        shown_group(DebtGroup::Four, DebtGroup::Two),
        DebtGroup::Four
    );
}

/// The stored transactions of `events`, as the shell keeps them (ids as numbers, the reference
/// `UNC-<id>`; a reversal stores the amount of the payment it reverses).
fn stored_of(events: &[LoanEvent]) -> Vec<StatementTransaction> {
    let id_of = |id: &str| id.parse::<i64>().expect("numeric id");
    let amount_of = |id: &str| match events.iter().find(|e| e.id == id).map(|e| &e.kind) {
        Some(EventKind::Disbursement { amount } | EventKind::Repayment { amount, .. }) => *amount,
        other => panic!("event {id} has no amount: {other:?}"),
    };
    events
        .iter()
        .map(|e| {
            let (kind, amount, reverses_id) = match &e.kind {
                EventKind::Disbursement { amount } => {
                    (TransactionKind::Disbursement, *amount, None)
                }
                EventKind::Repayment { amount, .. } => (TransactionKind::Repayment, *amount, None),
                EventKind::Reversal { reversed_id } => (
                    TransactionKind::Reversal,
                    amount_of(reversed_id),
                    Some(id_of(reversed_id)),
                ),
                other => panic!("no stored form for {other:?} in these tests"),
            };
            let id = id_of(&e.id);
            StatementTransaction {
                id,
                kind,
                value_date: e.value_date,
                amount,
                reference: format!("UNC-{id}"),
                reverses_id,
            }
        })
        .collect()
}

/// A line as (date, kind, transaction, installment, principal balance, advance balance).
type LineShape = (NaiveDate, LineKind, Option<i64>, Option<u32>, i64, i64);

#[test]
fn the_statement_runs_the_balances_in_day_order_and_leaves_out_what_was_reversed() {
    // Disbursed; the first installment (10,000,000 + 1,019,178) paid on its due date; a payment of 5,000,000 on
    // 2026-02-20 reversed; as of 2026-03-11 the second installment (10,000,000 + 828,493) fell due unpaid.
    let events = [
        disbursed(),
        repaid("2", d(2026, 2, 10), 11_019_178),
        repaid("3", d(2026, 2, 20), 5_000_000),
        event(
            "4",
            d(2026, 2, 20),
            EventKind::Reversal {
                reversed_id: "3".into(),
            },
        ),
    ];
    let transactions = stored_of(&events);
    let as_of = d(2026, 3, 11);
    let state = state_of(&events, as_of);
    let statement = statement(&state, &transactions, as_of);

    let shape: Vec<LineShape> = statement
        .lines
        .iter()
        .map(|l| {
            (
                l.date,
                l.kind,
                l.transaction_id,
                l.seq,
                l.principal_balance.to_i64().expect("fits"),
                l.advance_balance.to_i64().expect("fits"),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                d(2026, 1, 10),
                LineKind::Disbursement,
                Some(1),
                None,
                100_000_000,
                0
            ),
            // Billing comes before the payment of the same day.
            (
                d(2026, 2, 10),
                LineKind::InstallmentDue,
                None,
                Some(1),
                100_000_000,
                0
            ),
            (
                d(2026, 2, 10),
                LineKind::Repayment,
                Some(2),
                None,
                90_000_000,
                0
            ),
            (
                d(2026, 3, 10),
                LineKind::InstallmentDue,
                None,
                Some(2),
                90_000_000,
                0
            ),
        ]
    );
    let billed = &statement.lines[1];
    assert_eq!(
        (billed.moved.principal_due, billed.moved.interest_due),
        (vnd(10_000_000), vnd(1_019_178))
    );
    let paid = &statement.lines[2];
    assert_eq!(paid.reference, "UNC-2");
    assert_eq!(
        (
            paid.moved.received,
            paid.moved.paid_principal,
            paid.moved.paid_interest
        ),
        (vnd(11_019_178), vnd(10_000_000), vnd(1_019_178))
    );
    assert_eq!(statement.lines[3].moved.interest_due, vnd(828_493));
    assert_eq!(statement.total_disbursed, vnd(100_000_000));
    assert_eq!(statement.total_received, vnd(11_019_178));
    assert_eq!(statement.total_principal_paid, vnd(10_000_000));
    assert_eq!(statement.total_interest_paid, vnd(1_019_178));
    assert_eq!(statement.principal_outstanding, vnd(90_000_000));
    assert_eq!(statement.advance, Vnd::ZERO);
}

#[test]
fn an_advance_held_and_applied_runs_in_the_advance_balance() {
    // 15,000,000 paid before the first due date is held whole; on 2026-02-10 it pays the first installment and
    // the rest stays held.
    let events = [disbursed(), repaid("2", d(2026, 1, 25), 15_000_000)];
    let transactions = stored_of(&events);
    let as_of = d(2026, 2, 11);
    let state = state_of(&events, as_of);
    let statement = statement(&state, &transactions, as_of);
    let kinds: Vec<(LineKind, i64)> = statement
        .lines
        .iter()
        .map(|l| (l.kind, l.advance_balance.to_i64().expect("fits")))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (LineKind::Disbursement, 0),
            (LineKind::Repayment, 15_000_000),
            (LineKind::InstallmentDue, 15_000_000),
            (LineKind::AdvanceApplied, 15_000_000 - 11_019_178),
        ]
    );
    assert_eq!(statement.advance, vnd(15_000_000 - 11_019_178));
    assert_eq!(statement.principal_outstanding, vnd(90_000_000));
}
