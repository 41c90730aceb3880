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
//! The loan mails read the amounts from the fold the command just posted (the outstanding principal, the
//! allocation or split of the payment, the next installment with something left to pay): the loan is not
//! folded a second time.
//! They name the officer recorded on the loan as the contact ([`notices::audience_for_loan`]).
//! The closing totals of a paid-off loan are those of its statement (`GET /loans/{id}/statement`):
//! disbursed, principal and each kind of interest collected, cash received.

use chrono::NaiveDate;
use coopfund_domain::{Allocation, HolidayCalendar, InstallmentStatus, LoanState, Vnd};
use sea_orm::ConnectionTrait;

use super::{loan_engine, loans::Recorded};
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
    store::entities::{application, loan, loan_transaction},
};

/// The requested term in months.
fn term_months(app: &application::Model) -> AppResult<u32> {
    u32::try_from(i64::from(app.installments) * i64::from(app.period_months)).map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "stored application {} has installments {} of {} months",
            app.id,
            app.installments,
            app.period_months
        ))
    })
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
        term_months: term_months(app)?,
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
        term_months: term_months(app)?,
        rate_percent_annual: loan_engine::rate_of(created)?,
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

/// An amount for a mail template (whole đồng as an integer); one that does not fit is an error, never 0.
fn dong(amount: Vnd) -> AppResult<i64> {
    amount.to_i64().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "amount {amount} does not fit a mail's amount"
        ))
    })
}

/// The next installment with something left to pay, what is left on it, and the last day to pay it
/// without penalty under `calendar`.
pub fn next_due(state: &LoanState, calendar: &HolidayCalendar) -> AppResult<Option<NextDue>> {
    let next = state
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
        });
    let Some(i) = next else {
        return Ok(None);
    };
    Ok(Some(NextDue {
        due_date: i.due_on,
        pay_by: calendar.grace_end(i.due_on),
        amounts: AmountsByComponent {
            principal_vnd: dong(i.principal - i.paid_principal)?,
            interest_vnd: dong(i.interest - i.paid_interest)?,
            overdue_interest_vnd: 0,
            late_interest_vnd: 0,
        },
    }))
}

fn outstanding_principal_vnd(state: &LoanState) -> AppResult<i64> {
    dong(state.in_term_principal + state.overdue_principal)
}

/// "Money paid out": queued with each disbursement, from the fold the command just posted.
pub(crate) async fn disbursement<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    recorded: &Recorded,
) -> AppResult<()> {
    let (loan, state, tx) = (&recorded.loan, &recorded.state, &recorded.transaction);
    let calendar = &recorded.calendar;
    let to = notices::audience_for_loan(conn, loan).await?;
    let mail = DisbursementNotice {
        loan_number: loan.number.clone(),
        amount_vnd: tx.amount_vnd,
        value_date: tx.value_date,
        outstanding_principal_vnd: outstanding_principal_vnd(state)?,
        next_due: next_due(state, calendar)?,
    };
    notices::disbursement_notice(conn, settings, &to, loan.id, tx.id, &mail).await
}

/// The allocation of a repayment by component, as the receipt shows it.
pub fn allocated(allocation: &Allocation) -> AppResult<AmountsByComponent> {
    Ok(AmountsByComponent {
        principal_vnd: dong(allocation.total_principal())?,
        interest_vnd: dong(allocation.unpaid_interest + allocation.interest)?,
        overdue_interest_vnd: dong(allocation.overdue_interest)?,
        late_interest_vnd: dong(allocation.late_interest)?,
    })
}

/// The engine's record of what stored transaction `tx` did: its allocation (a repayment) or split (a
/// recovery); an error when the fold has none (the command just applied it).
fn applied<'s, T>(
    items: &'s [T],
    tx: &loan_transaction::Model,
    event_id: impl Fn(&T) -> Option<&str>,
) -> AppResult<&'s T> {
    let id = tx.id.to_string();
    items
        .iter()
        .find(|item| event_id(item) == Some(id.as_str()))
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "loan transaction {} is not in its loan's fold",
                tx.id
            ))
        })
}

/// "Payment received": queued with each repayment, with its allocation and the next due.
pub(crate) async fn payment_receipt<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    recorded: &Recorded,
) -> AppResult<()> {
    let (loan, state, tx) = (&recorded.loan, &recorded.state, &recorded.transaction);
    let allocation = applied(&state.allocations, tx, |a| a.event_id.as_deref())?;
    let calendar = &recorded.calendar;
    let to = notices::audience_for_loan(conn, loan).await?;
    let mail = PaymentReceipt {
        loan_number: loan.number.clone(),
        value_date: tx.value_date,
        received_vnd: tx.amount_vnd,
        allocated: allocated(allocation)?,
        advance_vnd: dong(allocation.advance)?,
        outstanding_principal_vnd: outstanding_principal_vnd(state)?,
        next_due: if state.closed_on.is_some() {
            None
        } else {
            next_due(state, calendar)?
        },
        closing: closing(state)?,
    };
    notices::payment_receipt(conn, settings, &to, loan.id, tx.id, &mail).await
}

/// The closing totals of a loan the payment settled (`None` while anything is owed).
fn closing(state: &LoanState) -> AppResult<Option<LoanClosing>> {
    let Some(closed_on) = state.closed_on else {
        return Ok(None);
    };
    Ok(Some(LoanClosing {
        closed_on,
        disbursed_vnd: dong(state.disbursed)?,
        received_vnd: dong(state.cash_received)?,
        paid: AmountsByComponent {
            principal_vnd: dong(state.principal_collected)?,
            interest_vnd: dong(state.interest_collected)?,
            overdue_interest_vnd: dong(state.overdue_interest_collected)?,
            late_interest_vnd: dong(state.late_interest_collected)?,
        },
    }))
}

/// "Payment received" for a recovery on a written-off loan (Decree 45/2021 Art 29): the payment receipt's
/// template, the split as principal and interest, what remains of the principal under follow-up, no next due.
/// Its dedupe key is the recovery transaction's, so a replayed request cannot mail twice.
pub(crate) async fn recovery_receipt<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    recorded: &Recorded,
) -> AppResult<()> {
    let (loan, state, tx) = (&recorded.loan, &recorded.state, &recorded.transaction);
    let split = applied(&state.recoveries, tx, |r| Some(r.event_id.as_str()))?;
    let to = notices::audience_for_loan(conn, loan).await?;
    let mail = PaymentReceipt {
        loan_number: loan.number.clone(),
        value_date: tx.value_date,
        received_vnd: tx.amount_vnd,
        allocated: AmountsByComponent {
            principal_vnd: dong(split.principal)?,
            interest_vnd: dong(split.interest)?,
            overdue_interest_vnd: 0,
            late_interest_vnd: 0,
        },
        advance_vnd: 0,
        outstanding_principal_vnd: dong(state.principal_under_follow_up())?,
        next_due: None,
        closing: None,
    };
    notices::payment_receipt(conn, settings, &to, loan.id, tx.id, &mail).await
}
