//! Event mails (DOMAIN.md §10): the messages a use case queues **inside its own transaction**, right
//! after it wrote the event, so the event and its mail are committed together or not at all.
//!
//! | event | when | template | to (cc) |
//! |---|---|---|---|
//! | application received | `submit` (the application is registered with the fund; a draft is the cooperative's own) | `application_received` | cooperative |
//! | decision | the final `approve` (after the council's step when one is needed) or `reject` | `application_decision` | cooperative (officer) |
//! | disbursement | each tranche | `disbursement_notice` | cooperative |
//! | payment receipt | each repayment, with its allocation and the next due; the one that settles the loan says "your loan is paid off" and shows the loan's closing totals instead | `payment_receipt` | cooperative |
//!
//! The first approval of an application that needs the management council sends nothing: the
//! cooperative hears once, when the decision is final. Dedupe keys (see [`crate::mail::notices`]) are
//! per application and per loan transaction, so a replayed request cannot mail twice.
//!
//! The loan mails refold the loan from its stored events (the same fold the command just posted) to
//! read the amounts: the outstanding principal and the next installment with something left to pay.
//! They name the officer recorded on the loan as the contact ([`notices::audience_for_loan`]).
//! The closing totals of a paid-off loan are those of its statement (`GET /loans/{id}/statement`):
//! disbursed, principal and each kind of interest collected, cash received.

use chrono::NaiveDate;
use coopfund_domain::{HolidayCalendar, InstallmentStatus, LoanState, Vnd};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::{
    loan_engine::{self, contract_of, events_of, transactions_of},
    loans::{AllocationView, TransactionView},
};
use crate::{
    config::Settings,
    error::{AppError, AppResult},
    mail::{
        notices,
        templates::{
            AmountsByComponent, ApplicationDecision, ApplicationReceived, Decision,
            DisbursementNotice, LoanClosing, NextDue, PaymentReceipt,
        },
    },
    store::entities::{application, loan},
};

/// The requested term in months.
fn term_months(app: &application::Model) -> u32 {
    u32::try_from(i64::from(app.installments) * i64::from(app.period_months)).unwrap_or(0)
}

/// "We received your application": queued when the application is submitted.
pub async fn application_received<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    app: &application::Model,
    received_on: NaiveDate,
) -> AppResult<bool> {
    let to = notices::audience_for_cooperative(conn, app.cooperative_id).await?;
    let mail = ApplicationReceived {
        application_number: app.number.clone(),
        amount_vnd: app.amount_vnd,
        term_months: term_months(app),
        purpose: app.purpose.clone(),
        received_on,
    };
    notices::application_received(conn, settings, &to, app.id, &mail).await
}

/// The final decision on an application: approved (with the loan it created) or rejected.
pub async fn application_approved<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    app: &application::Model,
    created: &loan::Model,
    decided_on: NaiveDate,
) -> AppResult<bool> {
    let decision = Decision::Approved {
        amount_vnd: created.principal_vnd,
        term_months: term_months(app),
        rate_percent_annual: created
            .rate_percent
            .trim()
            .parse::<Decimal>()
            .unwrap_or_default(),
        loan_number: Some(created.number.clone()),
    };
    application_decision(conn, settings, app, decision, decided_on).await
}

/// A rejection, with the approver's reason.
pub async fn application_rejected<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    app: &application::Model,
    reason: &str,
    decided_on: NaiveDate,
) -> AppResult<bool> {
    let decision = Decision::Rejected {
        reason: reason.to_string(),
    };
    application_decision(conn, settings, app, decision, decided_on).await
}

async fn application_decision<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    app: &application::Model,
    decision: Decision,
    decided_on: NaiveDate,
) -> AppResult<bool> {
    let to = notices::audience_for_cooperative(conn, app.cooperative_id).await?;
    let mail = ApplicationDecision {
        application_number: app.number.clone(),
        decided_on,
        decision,
    };
    notices::application_decision(conn, settings, &to, app.id, &mail).await
}

fn vnd(amount: Vnd) -> i64 {
    amount.to_i64().unwrap_or(0)
}

/// The loan as the engine sees it on `as_of`, with its row.
async fn loan_state<C: ConnectionTrait>(
    conn: &C,
    loan_id: i64,
    as_of: NaiveDate,
) -> AppResult<(loan::Model, LoanState, HolidayCalendar)> {
    let found = loan::Entity::find_by_id(loan_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("khoản vay", "Loan"))?;
    let calendar = super::calendar::in_force(conn).await?;
    let contract = contract_of(&found, &calendar)?;
    let events = events_of(&transactions_of(conn, loan_id).await?)?;
    let state = loan_engine::fold_at(&contract, &events, as_of)?;
    Ok((found, state, calendar))
}

/// The next installment with something left to pay, what is left on it, and the last day to pay it
/// without penalty under `calendar`.
pub fn next_due(state: &LoanState, calendar: &HolidayCalendar) -> Option<NextDue> {
    state
        .schedule
        .iter()
        .filter(|i| {
            !matches!(
                i.status,
                InstallmentStatus::Paid | InstallmentStatus::Restructured
            )
        })
        .find(|i| {
            (i.principal - i.paid_principal).is_positive()
                || (i.interest - i.paid_interest).is_positive()
        })
        .map(|i| NextDue {
            due_date: i.due_on,
            pay_by: calendar.grace_end(i.due_on),
            amounts: AmountsByComponent {
                principal_vnd: vnd(i.principal - i.paid_principal),
                interest_vnd: vnd(i.interest - i.paid_interest),
                ..Default::default()
            },
        })
}

fn outstanding_principal_vnd(state: &LoanState) -> i64 {
    vnd(state.in_term_principal + state.overdue_principal)
}

/// "Money paid out": queued with each disbursement.
pub async fn disbursement<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    tx: &TransactionView,
    as_of: NaiveDate,
) -> AppResult<bool> {
    let (found, state, calendar) = loan_state(conn, tx.loan_id, as_of).await?;
    let to = notices::audience_for_loan(conn, &found).await?;
    let mail = DisbursementNotice {
        loan_number: found.number.clone(),
        amount_vnd: tx.amount_vnd,
        value_date: tx.value_date,
        outstanding_principal_vnd: outstanding_principal_vnd(&state),
        next_due: next_due(&state, &calendar),
    };
    notices::disbursement_notice(conn, settings, &to, found.id, tx.id, &mail).await
}

/// The allocation of a repayment by component, as the receipt shows it.
pub fn allocated(allocation: &AllocationView) -> AmountsByComponent {
    AmountsByComponent {
        principal_vnd: allocation.overdue_principal_vnd
            + allocation.principal_vnd
            + allocation.prepaid_principal_vnd,
        interest_vnd: allocation.unpaid_interest_vnd + allocation.interest_vnd,
        overdue_interest_vnd: allocation.overdue_interest_vnd,
        late_interest_vnd: allocation.late_interest_vnd,
    }
}

/// "Payment received": queued with each repayment, with its allocation and the next due.
pub async fn payment_receipt<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    tx: &TransactionView,
    as_of: NaiveDate,
) -> AppResult<bool> {
    let (found, state, calendar) = loan_state(conn, tx.loan_id, as_of).await?;
    let to = notices::audience_for_loan(conn, &found).await?;
    let allocation = tx.allocation.clone().unwrap_or_default();
    let mail = PaymentReceipt {
        loan_number: found.number.clone(),
        value_date: tx.value_date,
        received_vnd: tx.amount_vnd,
        allocated: allocated(&allocation),
        advance_vnd: allocation.advance_vnd,
        outstanding_principal_vnd: outstanding_principal_vnd(&state),
        next_due: if state.closed_on.is_some() {
            None
        } else {
            next_due(&state, &calendar)
        },
        closing: closing(&state),
    };
    notices::payment_receipt(conn, settings, &to, found.id, tx.id, &mail).await
}

/// The closing totals of a loan the payment settled (`None` while anything is owed).
fn closing(state: &LoanState) -> Option<LoanClosing> {
    let closed_on = state.closed_on?;
    Some(LoanClosing {
        closed_on,
        disbursed_vnd: vnd(state.disbursed),
        received_vnd: vnd(state.cash_received),
        paid: AmountsByComponent {
            principal_vnd: vnd(state.principal_collected),
            interest_vnd: vnd(state.interest_collected),
            overdue_interest_vnd: vnd(state.overdue_interest_collected),
            late_interest_vnd: vnd(state.late_interest_collected),
        },
    })
}

/// "Payment received" for a recovery on a written-off loan (Decree 45/2021 Art 29): the payment receipt's
/// template, the split as principal and interest, what remains of the principal under follow-up, no next due.
/// Its dedupe key is the recovery transaction's, so a replayed request cannot mail twice.
pub async fn recovery_receipt<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    tx: &TransactionView,
    as_of: NaiveDate,
) -> AppResult<bool> {
    let (found, state, _calendar) = loan_state(conn, tx.loan_id, as_of).await?;
    let to = notices::audience_for_loan(conn, &found).await?;
    let split = tx.allocation.clone().unwrap_or_default();
    let mail = PaymentReceipt {
        loan_number: found.number.clone(),
        value_date: tx.value_date,
        received_vnd: tx.amount_vnd,
        allocated: AmountsByComponent {
            principal_vnd: split.principal_vnd,
            interest_vnd: split.interest_vnd,
            ..Default::default()
        },
        advance_vnd: 0,
        outstanding_principal_vnd: vnd(state.principal_under_follow_up()),
        next_due: None,
        closing: None,
    };
    notices::payment_receipt(conn, settings, &to, found.id, tx.id, &mail).await
}
