//! The loan statement (API.md `GET /loans/{id}/statement`): every movement of a loan in date order with running
//! balances of principal and advance, and totals — a pure function of the folded [`LoanState`] and the stored
//! transactions.
//!
//! Within one day the lines are ordered as the day happens: disbursements, then what fell due (billing), then the
//! advance applied on a due date, then payments, restructurings, write-offs and recoveries; ties by transaction id
//! (the store's insertion order) or installment number. Reversed transactions and reversals are left out: a
//! reversed transaction never happened (the fold already replayed the loan without it).

use chrono::NaiveDate;

use crate::{allocation::Allocation, loan::LoanState, money::Vnd, status::TransactionKind};

/// A stored transaction as the statement reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTransaction {
    /// The transaction's id in the store (the engine's event id is its decimal text).
    pub id: i64,
    /// What it is.
    pub kind: TransactionKind,
    /// The value date.
    pub value_date: NaiveDate,
    /// Its amount (0 for a restructuring).
    pub amount: Vnd,
    /// The bank's reference, or the restructuring kind.
    pub reference: String,
    /// For a reversal: the transaction it cancels.
    pub reverses_id: Option<i64>,
}

/// What a statement line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// A tranche paid out.
    Disbursement,
    /// An installment fell due (billed).
    InstallmentDue,
    /// The advance held was applied on a due date.
    AdvanceApplied,
    /// A payment received.
    Repayment,
    /// A restructuring (with the interest it forgave).
    Restructure,
    /// The write-off.
    WriteOff,
    /// Money recovered after the write-off.
    Recovery,
}

impl LineKind {
    /// The API spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            LineKind::Disbursement => "disbursement",
            LineKind::InstallmentDue => "installment_due",
            LineKind::AdvanceApplied => "advance_applied",
            LineKind::Repayment => "repayment",
            LineKind::Restructure => "restructure",
            LineKind::WriteOff => "write_off",
            LineKind::Recovery => "recovery",
        }
    }

    /// The order of lines within one day (see the module docs).
    fn order_in_day(self) -> u8 {
        match self {
            LineKind::Disbursement => 0,
            LineKind::InstallmentDue => 1,
            LineKind::AdvanceApplied => 2,
            LineKind::Repayment => 3,
            LineKind::Restructure => 4,
            LineKind::WriteOff => 5,
            LineKind::Recovery => 6,
        }
    }
}

/// The amounts a statement line moves, or their totals over the lines of a period; each zero when not
/// concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Movements {
    /// Disbursed.
    pub disbursed: Vnd,
    /// Principal billed on a due date (less what a restructuring moved out of it).
    pub principal_due: Vnd,
    /// Interest billed on a due date.
    pub interest_due: Vnd,
    /// Cash received.
    pub received: Vnd,
    /// Principal paid (overdue, due and prepaid).
    pub paid_principal: Vnd,
    /// Contractual interest paid (due and unpaid overdue).
    pub paid_interest: Vnd,
    /// Overdue interest paid.
    pub paid_overdue_interest: Vnd,
    /// Late interest paid.
    pub paid_late_interest: Vnd,
    /// Principal written off.
    pub written_off: Vnd,
}

impl std::ops::Add for Movements {
    type Output = Movements;

    fn add(self, other: Movements) -> Movements {
        Movements {
            disbursed: self.disbursed + other.disbursed,
            principal_due: self.principal_due + other.principal_due,
            interest_due: self.interest_due + other.interest_due,
            received: self.received + other.received,
            paid_principal: self.paid_principal + other.paid_principal,
            paid_interest: self.paid_interest + other.paid_interest,
            paid_overdue_interest: self.paid_overdue_interest + other.paid_overdue_interest,
            paid_late_interest: self.paid_late_interest + other.paid_late_interest,
            written_off: self.written_off + other.written_off,
        }
    }
}

impl std::iter::Sum for Movements {
    fn sum<I: Iterator<Item = Movements>>(iter: I) -> Movements {
        iter.fold(Movements::default(), std::ops::Add::add)
    }
}

/// One line of the statement; amounts not concerned are zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// The value date (the due date for `installment_due`).
    pub date: NaiveDate,
    /// What the line records.
    pub kind: LineKind,
    /// The transaction, when the line is one (not for billing or the advance applied).
    pub transaction_id: Option<i64>,
    /// The installment, for `installment_due`.
    pub seq: Option<u32>,
    /// The transaction's reference (empty for billing and the advance applied).
    pub reference: String,
    /// What the line moves.
    pub moved: Movements,
    /// Change of the advance held (+ held, − applied).
    pub advance_change: Vnd,
    /// Interest forgiven by a restructuring (late, overdue and contractual).
    pub interest_reduced: Vnd,
    /// Principal outstanding after the line.
    pub principal_balance: Vnd,
    /// Advance held after the line.
    pub advance_balance: Vnd,
}

impl StatementLine {
    fn new(date: NaiveDate, kind: LineKind) -> StatementLine {
        StatementLine {
            date,
            kind,
            transaction_id: None,
            seq: None,
            reference: String::new(),
            moved: Movements::default(),
            advance_change: Vnd::ZERO,
            interest_reduced: Vnd::ZERO,
            principal_balance: Vnd::ZERO,
            advance_balance: Vnd::ZERO,
        }
    }

    fn of_transaction(tx: &StatementTransaction, kind: LineKind) -> StatementLine {
        StatementLine {
            transaction_id: Some(tx.id),
            reference: tx.reference.clone(),
            ..StatementLine::new(tx.value_date, kind)
        }
    }

    fn of_allocation(allocation: &Allocation, tx: Option<&StatementTransaction>) -> StatementLine {
        let kind = if allocation.event_id.is_some() {
            LineKind::Repayment
        } else {
            LineKind::AdvanceApplied
        };
        StatementLine {
            transaction_id: tx.map(|t| t.id),
            reference: tx.map(|t| t.reference.clone()).unwrap_or_default(),
            moved: Movements {
                received: allocation.amount,
                paid_principal: allocation.total_principal(),
                paid_interest: allocation.interest + allocation.unpaid_interest,
                paid_overdue_interest: allocation.overdue_interest,
                paid_late_interest: allocation.late_interest,
                ..Movements::default()
            },
            advance_change: allocation.advance - allocation.advance_applied,
            ..StatementLine::new(allocation.value_date, kind)
        }
    }
}

/// The statement: the lines and their totals, and the balances as of `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The date the statement is as of (billing after it is not shown).
    pub as_of: NaiveDate,
    /// Every movement, in order, with running balances.
    pub lines: Vec<StatementLine>,
    /// Disbursed in total.
    pub total_disbursed: Vnd,
    /// Cash received in total (repayments and recoveries).
    pub total_received: Vnd,
    /// Principal paid in total.
    pub total_principal_paid: Vnd,
    /// Contractual interest paid in total.
    pub total_interest_paid: Vnd,
    /// Overdue interest paid in total.
    pub total_overdue_interest_paid: Vnd,
    /// Late interest paid in total.
    pub total_late_interest_paid: Vnd,
    /// Interest forgiven by restructurings in total.
    pub total_interest_reduced: Vnd,
    /// Principal outstanding as the fold has it.
    pub principal_outstanding: Vnd,
    /// Advance held as the fold has it.
    pub advance: Vnd,
}

/// The statement of a loan folded to `state` as of `as_of`, from its stored `transactions` (every one, in store
/// order, reversals included).
pub fn statement(
    state: &LoanState,
    transactions: &[StatementTransaction],
    as_of: NaiveDate,
) -> Statement {
    let reversed: Vec<i64> = transactions.iter().filter_map(|t| t.reverses_id).collect();
    // (line, tie-break within its date and kind).
    let mut keyed: Vec<(StatementLine, i64)> = Vec::new();
    for tx in transactions.iter().filter(|t| !reversed.contains(&t.id)) {
        let line = match tx.kind {
            TransactionKind::Disbursement => StatementLine {
                moved: Movements {
                    disbursed: tx.amount,
                    ..Movements::default()
                },
                ..StatementLine::of_transaction(tx, LineKind::Disbursement)
            },
            TransactionKind::Restructure => {
                let event_id = tx.id.to_string();
                StatementLine {
                    interest_reduced: state
                        .interest_reductions
                        .iter()
                        .filter(|r| r.event_id == event_id)
                        .map(|r| r.total())
                        .sum(),
                    ..StatementLine::of_transaction(tx, LineKind::Restructure)
                }
            }
            TransactionKind::Recovery => StatementLine {
                moved: Movements {
                    received: tx.amount,
                    ..Movements::default()
                },
                ..StatementLine::of_transaction(tx, LineKind::Recovery)
            },
            TransactionKind::WriteOff => StatementLine {
                moved: Movements {
                    written_off: state.written_off_principal,
                    ..Movements::default()
                },
                ..StatementLine::of_transaction(tx, LineKind::WriteOff)
            },
            // Repayments come from the fold's allocations below (as the loan stands now); reversals never show.
            TransactionKind::Repayment | TransactionKind::Reversal => continue,
        };
        keyed.push((line, tx.id));
    }
    for installment in state
        .schedule
        .iter()
        .filter(|i| i.billed && i.due_on <= as_of)
    {
        let line = StatementLine {
            seq: Some(installment.seq),
            moved: Movements {
                principal_due: installment.principal - installment.rescheduled_principal,
                interest_due: installment.interest,
                ..Movements::default()
            },
            ..StatementLine::new(installment.due_on, LineKind::InstallmentDue)
        };
        keyed.push((line, i64::from(installment.seq)));
    }
    for (index, allocation) in state.allocations.iter().enumerate() {
        let tx = allocation
            .event_id
            .as_deref()
            .and_then(|id| transactions.iter().find(|t| t.id.to_string() == id));
        let tie = tx.map_or(i64::try_from(index).unwrap_or(i64::MAX), |t| t.id);
        keyed.push((StatementLine::of_allocation(allocation, tx), tie));
    }
    keyed.sort_by_key(|(line, tie)| (line.date, line.kind.order_in_day(), *tie));
    let (mut principal, mut advance) = (Vnd::ZERO, Vnd::ZERO);
    let lines: Vec<StatementLine> = keyed
        .into_iter()
        .map(|(mut line, _)| {
            principal += line.moved.disbursed - line.moved.paid_principal - line.moved.written_off;
            advance += line.advance_change;
            line.principal_balance = principal;
            line.advance_balance = advance;
            line
        })
        .collect();
    let total: Movements = lines.iter().map(|l| l.moved).sum();
    Statement {
        as_of,
        total_disbursed: total.disbursed,
        total_received: total.received,
        total_principal_paid: total.paid_principal,
        total_interest_paid: total.paid_interest,
        total_overdue_interest_paid: total.paid_overdue_interest,
        total_late_interest_paid: total.paid_late_interest,
        total_interest_reduced: lines.iter().map(|l| l.interest_reduced).sum(),
        principal_outstanding: state.outstanding_principal(),
        advance: state.advance,
        lines,
    }
}

/// A statement for a period (issue 10: "a printable statement for any period"): the balances the
/// period opens and closes with, its movements, and their totals.
///
/// Cut from the whole statement rather than folded again, so a period's closing balance is the
/// next period's opening balance and the lines are the very lines of the full statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPeriod {
    /// The first day of the period.
    pub from: NaiveDate,
    /// The last day of the period.
    pub to: NaiveDate,
    /// Principal outstanding at the start of `from` (after every line before it).
    pub opening_principal: Vnd,
    /// Advance held at the start of `from`.
    pub opening_advance: Vnd,
    /// The lines dated `from` to `to`, in statement order.
    pub lines: Vec<StatementLine>,
    /// What the lines moved in the period, in total.
    pub moved: Movements,
    /// Principal outstanding at the end of `to`: opening + disbursed − paid − written off.
    pub closing_principal: Vnd,
    /// Advance held at the end of `to`.
    pub closing_advance: Vnd,
}

/// The part of `statement` dated `from` to `to` (both included); `from` after `to` gives an empty
/// period whose balances are those at the start of `from`.
pub fn statement_period(statement: &Statement, from: NaiveDate, to: NaiveDate) -> StatementPeriod {
    let before = statement.lines.iter().rev().find(|l| l.date < from);
    let opening_principal = before.map_or(Vnd::ZERO, |l| l.principal_balance);
    let opening_advance = before.map_or(Vnd::ZERO, |l| l.advance_balance);
    let lines: Vec<StatementLine> = statement
        .lines
        .iter()
        .filter(|l| l.date >= from && l.date <= to)
        .cloned()
        .collect();
    let last = lines.last();
    StatementPeriod {
        from,
        to,
        opening_principal,
        opening_advance,
        moved: lines.iter().map(|l| l.moved).sum(),
        closing_principal: last.map_or(opening_principal, |l| l.principal_balance),
        closing_advance: last.map_or(opening_advance, |l| l.advance_balance),
        lines,
    }
}

#[cfg(test)]
mod period_tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn line(date: NaiveDate, disbursed: i64, paid_principal: i64, balance: i64) -> StatementLine {
        StatementLine {
            moved: Movements {
                disbursed: Vnd::from_i64(disbursed),
                paid_principal: Vnd::from_i64(paid_principal),
                received: Vnd::from_i64(paid_principal),
                ..Movements::default()
            },
            principal_balance: Vnd::from_i64(balance),
            ..StatementLine::new(date, LineKind::Repayment)
        }
    }

    fn whole() -> Statement {
        let lines = vec![
            line(day(1), 100, 0, 100),
            line(day(10), 0, 10, 90),
            line(day(20), 0, 30, 60),
            line(day(25), 0, 5, 55),
        ];
        Statement {
            as_of: day(31),
            lines,
            total_disbursed: Vnd::from_i64(100),
            total_received: Vnd::from_i64(45),
            total_principal_paid: Vnd::from_i64(45),
            total_interest_paid: Vnd::ZERO,
            total_overdue_interest_paid: Vnd::ZERO,
            total_late_interest_paid: Vnd::ZERO,
            total_interest_reduced: Vnd::ZERO,
            principal_outstanding: Vnd::from_i64(55),
            advance: Vnd::ZERO,
        }
    }

    #[test]
    fn a_period_opens_with_the_balance_before_it_and_closes_with_its_last_line() {
        let period = statement_period(&whole(), day(5), day(20));
        assert_eq!(period.opening_principal, Vnd::from_i64(100));
        assert_eq!(period.lines.len(), 2);
        assert_eq!(period.moved.paid_principal, Vnd::from_i64(40));
        assert_eq!(period.closing_principal, Vnd::from_i64(60));
        assert_eq!(
            period.opening_principal + period.moved.disbursed
                - period.moved.paid_principal
                - period.moved.written_off,
            period.closing_principal
        );
    }

    #[test]
    fn consecutive_periods_chain_and_an_empty_one_keeps_its_opening_balance() {
        let first = statement_period(&whole(), day(1), day(15));
        let second = statement_period(&whole(), day(16), day(31));
        assert_eq!(first.closing_principal, second.opening_principal);
        assert_eq!(first.moved.disbursed, Vnd::from_i64(100));
        assert_eq!(second.closing_principal, Vnd::from_i64(55));
        let quiet = statement_period(&whole(), day(11), day(19));
        assert!(quiet.lines.is_empty());
        assert_eq!(quiet.opening_principal, Vnd::from_i64(90));
        assert_eq!(quiet.closing_principal, Vnd::from_i64(90));
    }
}
