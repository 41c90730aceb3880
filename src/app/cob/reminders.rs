//! What a closed day tells people (DOMAIN.md §10): due reminders and overdue notices per loan, and each
//! loan's line in its officer's daily digest.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use coopfund_domain::HolidayCalendar;
use sea_orm::DatabaseTransaction;

use crate::{
    app::context::AppCtx,
    app::ledger::{self, stored_vnd},
    error::{AppError, AppResult},
    mail::{
        notices,
        templates::{AmountsByComponent, DigestLine, DueReminder, OfficerDigest, OverdueNotice},
    },
    store::entities::loan,
};

/// Days ahead an officer's digest looks for loans coming due (DOMAIN.md §10).
const DIGEST_DAYS_AHEAD: i64 = 7;

/// Due reminders (T-7, T-1 by default) and overdue notices for one loan as of the morning of
/// `as_of`, i.e. after closing `as_of − 1` (DOMAIN.md §10):
///
/// - a reminder `days_before` each due date, for what will be left to pay on it once the advance
///   held is applied (the advance goes to the coming due dates in order, §5): none for an
///   installment the advance covers in full, the remainder for one it covers in part;
/// - the day after **each** missed due date (when `1` is in `overdue_days`), also when an earlier
///   one is still unpaid: a notice for every installment whose on-time window ended with the day
///   just closed and that is still unpaid. "The day after" is the day after that window, which
///   is the due date itself unless a holiday calendar extends it;
/// - on the other `overdue_days` (10, 30): a notice when the loan's days past due, counted from
///   its oldest unpaid due date, reach that number.
///
/// With the fund's calendar (DOMAIN.md §4) a reminder names the last day to pay without penalty
/// (`pay_by`), and nothing is overdue, so no notice goes out, while a loan is inside its on-time
/// window: a due date on a Sunday unpaid on Monday gets its day-after notice on Tuesday (DPD 2).
///
/// Every overdue notice shows the loan's overdue amounts in total and is copied to the officer
/// recorded on the loan.
pub(crate) async fn queue_loan_notices(
    ctx: &AppCtx,
    txn: &DatabaseTransaction,
    refolded: &ledger::Refolded,
    as_of: NaiveDate,
    calendar: &HolidayCalendar,
) -> AppResult<i32> {
    let due = loan_notices(ctx, refolded, as_of, calendar)?;
    if due.is_empty() {
        return Ok(0);
    }
    let audience = notices::audience_for_loan(txn, &refolded.loan).await?;
    let mut queued = 0;
    for notice in due {
        let mail = notice.render(ctx, &audience, refolded.loan.id);
        queued += i32::from(notices::queue_rendered(txn, mail).await?);
    }
    Ok(queued)
}

/// One notice a closed day calls for (see [`queue_loan_notices`]), not yet addressed.
#[derive(Debug, Clone)]
pub(crate) enum LoanNotice {
    Reminder(DueReminder),
    /// An overdue notice with its milestone (1 for the day after a missed due date, else the days past due).
    Overdue(u32, OverdueNotice),
}

impl LoanNotice {
    /// The notice rendered for `audience` (the cooperative of loan `loan_id`, with its officer).
    pub(crate) fn render(
        &self,
        ctx: &AppCtx,
        audience: &notices::Audience,
        loan_id: i64,
    ) -> notices::RenderedMail {
        match self {
            LoanNotice::Reminder(mail) => {
                notices::due_reminder_mail(&ctx.settings, audience, loan_id, mail)
            }
            LoanNotice::Overdue(milestone_days, mail) => notices::overdue_notice_mail(
                &ctx.settings,
                audience,
                loan_id,
                *milestone_days,
                mail,
            ),
        }
    }
}

/// The notices the morning of `as_of` calls for on one loan, in the order they are queued (reminders,
/// then overdue notices); what [`queue_loan_notices`] queues, and what the set-based close queues for a
/// whole chunk at once. Pure: no database.
pub(crate) fn loan_notices(
    ctx: &AppCtx,
    refolded: &ledger::Refolded,
    as_of: NaiveDate,
    calendar: &HolidayCalendar,
) -> AppResult<Vec<LoanNotice>> {
    let policy = &ctx.settings.reminders;
    let loan = &refolded.loan;
    let loan_state = &refolded.state;
    let closed_day = as_of - Duration::days(1);
    let reminders = reminders_due(policy, loan_state, as_of);
    let mut overdue: Vec<(u32, NaiveDate)> = Vec::new();
    if policy.overdue_days.contains(&1) {
        let just_missed = loan_state.schedule.iter().filter(|i| {
            i.status == coopfund_domain::InstallmentStatus::Overdue && i.due_on <= closed_day
        });
        for installment in just_missed {
            if calendar.grace_end(installment.due_on) == closed_day {
                overdue.push((1, installment.due_on));
            }
        }
    }
    if loan_state.dpd > 1 && notices::overdue_notice_due_at(policy, loan_state.dpd) {
        overdue.push((
            days(loan_state.dpd)?,
            as_of - Duration::days(loan_state.dpd),
        ));
    }
    let mut due = Vec::with_capacity(reminders.len() + overdue.len());
    for (installment, advance_vnd) in reminders {
        due.push(LoanNotice::Reminder(DueReminder {
            loan_number: loan.number.clone(),
            due_date: installment.due_on,
            pay_by: calendar.grace_end(installment.due_on),
            days_before: days((installment.due_on - as_of).num_days())?,
            amounts: AmountsByComponent {
                principal_vnd: stored_vnd(installment.unpaid_principal())?,
                interest_vnd: stored_vnd(installment.unpaid_interest())?,
                ..Default::default()
            },
            advance_vnd: stored_vnd(advance_vnd)?,
        }));
    }
    if !overdue.is_empty() {
        let quote = loan_state.payoff_quote(day_count_of(loan)?);
        let oldest_due_date = as_of - Duration::days(loan_state.dpd);
        for (milestone_days, due_date) in overdue {
            due.push(LoanNotice::Overdue(
                milestone_days,
                OverdueNotice {
                    loan_number: loan.number.clone(),
                    due_date,
                    days_past_due: days((as_of - due_date).num_days())?,
                    earlier_unpaid_due_date: (oldest_due_date < due_date)
                        .then_some(oldest_due_date),
                    as_of,
                    overdue: AmountsByComponent {
                        principal_vnd: stored_vnd(quote.overdue_principal)?,
                        interest_vnd: stored_vnd(quote.unpaid_interest)?,
                        overdue_interest_vnd: stored_vnd(quote.overdue_interest)?,
                        late_interest_vnd: stored_vnd(quote.late_interest)?,
                    },
                },
            ));
        }
    }
    Ok(due)
}

/// The installments to remind of on `as_of` (a `days_before` day of the policy), each with the part
/// of the advance held that its due date will take. The advance is applied on each coming due date
/// in turn until used up (DOMAIN.md §5), so it is walked through every unpaid installment due after
/// `as_of` in order; one it covers in full gets no reminder.
pub(super) fn reminders_due<'a>(
    policy: &crate::config::ReminderSettings,
    loan_state: &'a coopfund_domain::LoanState,
    as_of: NaiveDate,
) -> Vec<(&'a coopfund_domain::LoanInstallment, coopfund_domain::Vnd)> {
    let mut advance_left = loan_state.advance;
    let mut due = Vec::new();
    for installment in loan_state.schedule.iter().filter(|i| i.due_on > as_of) {
        let owed = installment.unpaid_principal() + installment.unpaid_interest();
        if !owed.is_positive() {
            continue;
        }
        let covered = advance_left.min(owed);
        advance_left -= covered;
        let remind = notices::reminder_due_in(policy, (installment.due_on - as_of).num_days());
        if remind && owed > covered {
            due.push((installment, covered));
        }
    }
    due
}

/// The loan's stored day count; text that is not one is an error naming the loan, never a default.
pub(super) fn day_count_of(loan: &loan::Model) -> AppResult<coopfund_domain::DayCount> {
    loan.day_count
        .parse()
        .map_err(|_| AppError::unreadable("loan", loan.id, "day count", &loan.day_count))
}

/// A count of days shown in a mail (never negative here; an impossible one is an error, not a clamp).
pub(super) fn days(count: i64) -> AppResult<u32> {
    u32::try_from(count)
        .map_err(|_| AppError::internal(anyhow::anyhow!("{count} days cannot be shown in a mail")))
}

pub(super) fn empty_digest(date: NaiveDate) -> OfficerDigest {
    OfficerDigest {
        business_date: date + Duration::days(1),
        due_within_days: DIGEST_DAYS_AHEAD as u32,
        due_soon: vec![],
        overdue: vec![],
    }
}

/// The loan's line in its officer's daily digest (DOMAIN.md §10): overdue loans, and loans with
/// an installment due within a week of `as_of`. `(officer id, line, overdue?)`.
pub(super) fn digest_line(
    refolded: &ledger::Refolded,
    as_of: NaiveDate,
    cooperative_names: &BTreeMap<i64, String>,
) -> AppResult<Option<(i64, DigestLine, bool)>> {
    let loan = &refolded.loan;
    let Some(officer_id) = loan.officer_id else {
        return Ok(None);
    };
    let loan_state = &refolded.state;
    let horizon = as_of + Duration::days(DIGEST_DAYS_AHEAD);
    let overdue = loan_state.dpd > 0;
    let (due_date, amount) = if overdue {
        (
            as_of - Duration::days(loan_state.dpd),
            loan_state.overdue_principal + loan_state.unpaid_interest,
        )
    } else {
        let next = loan_state.schedule.iter().find(|i| {
            i.due_on >= as_of
                && i.due_on <= horizon
                && !matches!(
                    i.status,
                    coopfund_domain::InstallmentStatus::Paid
                        | coopfund_domain::InstallmentStatus::Restructured
                )
        });
        let Some(next) = next else { return Ok(None) };
        (
            next.due_on,
            (next.principal - next.paid_principal) + (next.interest - next.paid_interest),
        )
    };
    let cooperative_name = cooperative_names.get(&loan.cooperative_id).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "loan {} belongs to cooperative {}, which is not stored",
            loan.id,
            loan.cooperative_id
        ))
    })?;
    let line = DigestLine {
        loan_number: loan.number.clone(),
        cooperative_name: cooperative_name.clone(),
        due_date,
        amount_vnd: stored_vnd(amount)?,
        days_past_due: days(loan_state.dpd)?,
    };
    Ok(Some((officer_id, line, overdue)))
}
