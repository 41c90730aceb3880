//! What the borrower has to pay, read from a folded [`LoanState`] (DOMAIN.md §4, §5): the next installment net of
//! the advance held, and everything owed today. Pure views: they decide nothing the fold has not decided.
//!
//! - **The next installment to pay** ([`next_to_pay`]). An advance held (§5) is applied on the next due dates,
//!   first, in the product's order, until used up; so what the borrower still has to pay on an installment not
//!   yet billed is its amount less the part of the advance that will reach it. An installment already billed (due
//!   today) had the advance applied when it was billed, so what is unpaid on it is what is left to pay.
//!   - Choice: an installment the advance covers in full is skipped, so the next installment to pay is the first
//!     one with something left to pay after the advance (§10 does the same for reminders: "not for an installment
//!     an advance already covers in full; a partly covered one shows what is left").
//!   - The advance goes to the installment's interest and principal in the order the product gives the
//!     `interest` and `principal` buckets. The overdue buckets do not take any of it: an advance is held only when
//!     nothing billed is unpaid (it is applied to everything owed on each due date, and a payment reaches the
//!     advance only after paying everything owed), so at the next due date there is nothing overdue to pay first.
//!   - The interest of an installment not yet billed is the fold's projection on the current balance (the amount
//!     billed on the due date may differ if the balance changes before).
//!   - A closed or written-off loan has no next installment to pay: the first is settled, the second is followed
//!     up off the balance sheet (§9, 0042) and takes no payment on its schedule.
//! - **What is owed today** ([`owed_now`]): overdue principal, unpaid overdue interest, overdue and late interest
//!   (each rounded as a payment today would charge it, §4), and the interest and principal still unpaid on
//!   installments due today. Paid today, it makes the loan current. The advance is not deducted: by the same
//!   invariant it is zero whenever something is owed.

use chrono::NaiveDate;

use crate::allocation::{AllocationOrder, Bucket};
use crate::loan::{InstallmentStatus, LoanState};
use crate::money::{round_half_up_to_dong, Vnd};

/// The next installment the borrower has to pay something on, net of the advance held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallmentToPay {
    /// The installment's sequence number.
    pub seq: u32,
    /// Its due date.
    pub due_on: NaiveDate,
    /// Principal still to pay on it, after the advance.
    pub principal: Vnd,
    /// Interest still to pay on it (projected until billed), after the advance.
    pub interest: Vnd,
    /// The part of the advance held now that will be applied to it on its due date.
    pub advance_applied: Vnd,
}

impl InstallmentToPay {
    /// principal + interest still to pay.
    pub fn total(&self) -> Vnd {
        self.principal + self.interest
    }
}

/// The next installment with something left to pay after the advance held (module docs), or `None` when
/// nothing is left to pay on the schedule (or the loan is closed or written off).
pub fn next_to_pay(state: &LoanState, order: &AllocationOrder) -> Option<InstallmentToPay> {
    if state.closed_on.is_some() || state.written_off_on.is_some() {
        return None;
    }
    let mut advance = state.advance;
    for installment in &state.schedule {
        if matches!(
            installment.status,
            InstallmentStatus::Paid | InstallmentStatus::Restructured | InstallmentStatus::Overdue
        ) {
            continue;
        }
        let mut to_pay = InstallmentToPay {
            seq: installment.seq,
            due_on: installment.due_on,
            principal: installment.unpaid_principal().clamp_non_negative(),
            interest: installment.unpaid_interest().clamp_non_negative(),
            advance_applied: Vnd::ZERO,
        };
        if !installment.billed {
            for bucket in order.buckets() {
                let owed = match bucket {
                    Bucket::Interest => &mut to_pay.interest,
                    Bucket::Principal => &mut to_pay.principal,
                    _ => continue,
                };
                let applied = advance.min(*owed);
                *owed -= applied;
                advance -= applied;
                to_pay.advance_applied += applied;
            }
        }
        if to_pay.total().is_positive() {
            return Some(to_pay);
        }
    }
    None
}

/// Everything owed on the state's date (module docs), by component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OwedNow {
    /// Principal of installments that fell overdue.
    pub overdue_principal: Vnd,
    /// Contractual interest of installments that fell overdue.
    pub unpaid_interest: Vnd,
    /// Interest on overdue principal, rounded as charged today.
    pub overdue_interest: Vnd,
    /// Late interest on unpaid overdue interest, rounded as charged today.
    pub late_interest: Vnd,
    /// Interest still unpaid on installments due today.
    pub interest_due: Vnd,
    /// Principal still unpaid on installments due today.
    pub principal_due: Vnd,
}

impl OwedNow {
    /// The sum of every component: what makes the loan current today.
    pub fn total(&self) -> Vnd {
        self.overdue_principal
            + self.unpaid_interest
            + self.overdue_interest
            + self.late_interest
            + self.interest_due
            + self.principal_due
    }
}

/// Everything due and overdue on the state's date, with overdue and late interest (module docs). Zero for a
/// closed or written-off loan.
pub fn owed_now(state: &LoanState) -> OwedNow {
    if state.closed_on.is_some() || state.written_off_on.is_some() {
        return OwedNow::default();
    }
    let due_today = state.schedule.iter().filter(|i| {
        i.billed
            && !i.fell_overdue
            && !matches!(
                i.status,
                InstallmentStatus::Paid | InstallmentStatus::Restructured
            )
    });
    let (interest_due, principal_due) = due_today.fold((Vnd::ZERO, Vnd::ZERO), |(i, p), x| {
        (
            i + x.unpaid_interest().clamp_non_negative(),
            p + x.unpaid_principal().clamp_non_negative(),
        )
    });
    OwedNow {
        overdue_principal: state.overdue_principal,
        unpaid_interest: state.unpaid_interest,
        overdue_interest: round_half_up_to_dong(state.overdue_interest_exact()),
        late_interest: round_half_up_to_dong(state.late_interest_exact()),
        interest_due,
        principal_due,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::{date as d, example_3};
    use crate::loan::{fold, LoanEvent};
    use crate::RepaymentKind;

    fn vnd(amount: i64) -> Vnd {
        Vnd::from_i64(amount)
    }

    /// Installment 1 (11,019,178) paid on its due date with `ahead` more, held as an advance.
    fn paid_ahead(ahead: i64) -> Vec<LoanEvent> {
        vec![
            LoanEvent::disbursement("d1", d(2026, 1, 10), 1, vnd(100_000_000)),
            LoanEvent::repayment(
                "r1",
                d(2026, 2, 10),
                2,
                vnd(11_019_178 + ahead),
                RepaymentKind::Ordinary,
            ),
        ]
    }

    #[test]
    fn ten_million_paid_ahead_leaves_828_493_to_pay_on_installment_2_and_nothing_owed_now() {
        let state = fold(&example_3(), &paid_ahead(10_000_000), d(2026, 2, 11)).unwrap();
        assert_eq!(state.advance, vnd(10_000_000));
        assert_eq!(state.schedule[1].total(), vnd(10_828_493), "the plan");
        let next = next_to_pay(&state, &AllocationOrder::default()).unwrap();
        assert_eq!(
            next,
            InstallmentToPay {
                seq: 2,
                due_on: d(2026, 3, 10),
                principal: vnd(828_493),
                interest: Vnd::ZERO,
                advance_applied: vnd(10_000_000),
            },
            "the advance pays the interest first, then principal (default order)"
        );
        assert_eq!(next.total(), vnd(828_493));
        assert_eq!(owed_now(&state).total(), Vnd::ZERO);

        // On the due date the advance has been applied: the same 828,493 is left, now due today.
        let due = fold(&example_3(), &paid_ahead(10_000_000), d(2026, 3, 10)).unwrap();
        assert_eq!(due.advance, Vnd::ZERO);
        let next = next_to_pay(&due, &AllocationOrder::default()).unwrap();
        assert_eq!(
            (
                next.seq,
                next.principal,
                next.interest,
                next.advance_applied
            ),
            (2, vnd(828_493), Vnd::ZERO, Vnd::ZERO)
        );
        assert_eq!(
            owed_now(&due),
            OwedNow {
                principal_due: vnd(828_493),
                ..OwedNow::default()
            }
        );

        // A day late: it is overdue with one day of overdue interest, round(828,493 × 12% × 1.5 / 365) = 409,
        // and the next installment to pay is the third.
        let late = fold(&example_3(), &paid_ahead(10_000_000), d(2026, 3, 11)).unwrap();
        let owed = owed_now(&late);
        assert_eq!(
            owed,
            OwedNow {
                overdue_principal: vnd(828_493),
                overdue_interest: vnd(409),
                ..OwedNow::default()
            }
        );
        assert_eq!(owed.total(), vnd(828_902));
        let quote = late.payoff_quote(crate::DayCount::Actual365);
        assert_eq!(
            owed.total(),
            quote.overdue_principal
                + quote.unpaid_interest
                + quote.overdue_interest
                + quote.late_interest,
            "the overdue part of the payoff quote"
        );
        assert_eq!(
            next_to_pay(&late, &AllocationOrder::default()).unwrap().seq,
            3
        );
    }

    #[test]
    fn an_advance_covering_an_installment_in_full_moves_on_to_the_next_with_what_is_left() {
        let state = fold(&example_3(), &paid_ahead(12_000_000), d(2026, 2, 11)).unwrap();
        let third = state.schedule[2].clone();
        let next = next_to_pay(&state, &AllocationOrder::default()).unwrap();
        assert_eq!(
            next.seq, 3,
            "10,828,493 of the 12,000,000 cover installment 2"
        );
        assert_eq!(next.advance_applied, vnd(12_000_000 - 10_828_493));
        assert_eq!(next.interest, Vnd::ZERO);
        assert_eq!(next.principal, third.total() - vnd(12_000_000 - 10_828_493));
    }

    #[test]
    fn a_product_that_takes_principal_before_interest_applies_the_advance_to_principal_first() {
        let order = AllocationOrder::new(vec![
            Bucket::OverduePrincipal,
            Bucket::UnpaidInterest,
            Bucket::OverdueInterest,
            Bucket::LateInterest,
            Bucket::Principal,
            Bucket::Interest,
        ])
        .unwrap();
        let mut contract = example_3();
        contract.allocation_order = order.clone();
        let state = fold(&contract, &paid_ahead(10_000_000), d(2026, 2, 11)).unwrap();
        let next = next_to_pay(&state, &order).unwrap();
        assert_eq!(
            (next.seq, next.principal, next.interest),
            (2, Vnd::ZERO, vnd(828_493))
        );
    }

    #[test]
    fn a_closed_loan_has_nothing_to_pay_and_nothing_owed() {
        let mut events = paid_ahead(0);
        let quote = fold(&example_3(), &events, d(2026, 2, 11))
            .unwrap()
            .payoff_quote(crate::DayCount::Actual365);
        events.push(LoanEvent::repayment(
            "r2",
            d(2026, 2, 11),
            3,
            quote.total,
            RepaymentKind::Ordinary,
        ));
        let closed = fold(&example_3(), &events, d(2026, 2, 12)).unwrap();
        assert!(closed.closed_on.is_some());
        assert_eq!(next_to_pay(&closed, &AllocationOrder::default()), None);
        assert_eq!(owed_now(&closed), OwedNow::default());
    }

    #[test]
    fn an_unpaid_installment_ten_days_late_owes_worked_example_3s_amounts() {
        let events = [LoanEvent::disbursement(
            "d1",
            d(2026, 1, 10),
            1,
            vnd(100_000_000),
        )];
        let state = fold(&example_3(), &events, d(2026, 2, 20)).unwrap();
        let owed = owed_now(&state);
        assert_eq!(
            owed,
            OwedNow {
                overdue_principal: vnd(10_000_000),
                unpaid_interest: vnd(1_019_178),
                overdue_interest: vnd(49_315),
                late_interest: vnd(2_792),
                ..OwedNow::default()
            }
        );
        assert_eq!(owed.total(), vnd(11_071_285), "DOMAIN.md §4: owed that day");
    }
}
