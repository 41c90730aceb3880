//! One function per event that mails someone (DOMAIN.md §10). The loans and close-of-business
//! code calls them **inside its own transaction**, after writing the event, so the notice is
//! committed with the event or not at all; each renders its template in the recipient's
//! language and queues it under a dedupe key that makes a second call a no-op.
//!
//! | event | function | dedupe key | to (cc) |
//! |---|---|---|---|
//! | application registered | [`application_received`] | `application_received:{application_id}` | cooperative |
//! | approved / rejected | [`application_decision`] | `application_decision:{application_id}` | cooperative (officer) |
//! | disbursement | [`disbursement_notice`] | `disbursement:{loan_id}:{disbursement_id}` | cooperative |
//! | repayment (the one that settles the loan says so) | [`payment_receipt`] | `payment_receipt:{loan_id}:{payment_id}` | cooperative |
//! | T-7, T-1 (COB), unless the advance covers the installment | [`due_reminder`] | `due_reminder:{loan_id}:{due_date}:T-{days}` | cooperative |
//! | the day after **each** missed due date (COB) | [`overdue_notice`] | `overdue_notice:{loan_id}:{missed_due_date}:DPD-1` | cooperative (loan's officer) |
//! | DPD 10, 30 of the oldest unpaid due date (COB) | [`overdue_notice`] | `overdue_notice:{loan_id}:{oldest_due_date}:DPD-{days}` | cooperative (loan's officer) |
//! | daily (COB) | [`officer_digest`] | `officer_digest:{officer_id}:{business_date}` | officer |
//!
//! The reminder keys hold the due date, not an installment id: a back-dated payment or a
//! reversal replays the schedule, and a rerun of the same COB day must find the same key. The
//! day-after notice of a missed due date is keyed like a "DPD 1" of that due date, so the notice
//! of the oldest one is the same message under either reading and never goes out twice.
//! Whether a day calls for a reminder is [`reminder_due_in`] / [`overdue_notice_due_at`] with
//! the `[reminders]` policy.
//!
//! **Whose officer.** Loan mails (disbursement, receipt, reminders, overdue notices) name and
//! copy the officer recorded on the loan ([`audience_for_loan`]): at approval that is the
//! cooperative's assigned officer or, when it has none, the appraiser. Only when the loan records
//! no officer, or that officer is disabled or has no email address, do they fall back to the
//! cooperative's officer, so an overdue notice is copied to someone who can act whenever the fund
//! knows of one.
//!
//! Typical use, in a repayment use case:
//! ```text
//! let to = notices::audience_for_loan(&txn, &loan).await?;
//! notices::payment_receipt(&txn, &state.settings, &to, loan.id, payment.id, &PaymentReceipt { … }).await?;
//! txn.commit().await?;
//! ```

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query},
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryFilter,
    QueryResult,
};

use super::{
    outbox::{self, NewMessage},
    templates::{
        Addressee, ApplicationDecision, ApplicationReceived, DisbursementNotice, DueReminder,
        MailContext, OfficerContact, OfficerDigest, OverdueNotice, PaymentReceipt, Template,
    },
};
use crate::{
    config::{ReminderSettings, Settings},
    error::{AppError, AppResult, Lang},
    store::entities::{cooperative, cooperative_notification_setting as setting, loan, user},
};

/// A cooperative as a recipient: its address, language, name and officer.
#[derive(Debug, Clone)]
pub struct Audience {
    pub cooperative_id: i64,
    /// One address, or several separated by `, ` (the chair and the accountant it chose).
    pub email: String,
    pub language: Lang,
    pub name: String,
    pub officer: Option<OfficerContact>,
}

impl Audience {
    fn addressee(&self) -> Addressee {
        Addressee {
            name: self.name.clone(),
            officer: self.officer.clone(),
        }
    }

    fn officer_email(&self) -> Option<String> {
        self.officer.as_ref().and_then(|o| o.email.clone())
    }
}

/// Loads the cooperative `cooperative_id` and its officer as a recipient (404 if unknown).
pub async fn audience_for_cooperative<C: ConnectionTrait>(
    conn: &C,
    cooperative_id: i64,
) -> AppResult<Audience> {
    audience(conn, cooperative_id, None).await
}

/// An officer as a contact when the user is enabled and has an email address (the loan's officer must be,
/// to replace the cooperative's).
fn usable_officer(found: &OfficerRow) -> Option<OfficerContact> {
    if found.disabled {
        return None;
    }
    let email = found.email.clone().filter(|e| !e.trim().is_empty())?;
    Some(OfficerContact {
        name: found.full_name.clone(),
        email: Some(email),
    })
}

/// The cooperative of `loan` as a recipient, with the officer recorded on the loan as its
/// contact and copy (DOMAIN.md §10: "the officer recorded on the loan, whoever that is"); the
/// cooperative's own officer only when the loan's cannot be reached (see the module docs).
pub async fn audience_for_loan<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
) -> AppResult<Audience> {
    audience(conn, loan.cooperative_id, loan.officer_id).await
}

/// The columns of a user read as an officer.
const OFFICER_COLUMNS: [user::Column; 4] = [
    user::Column::Id,
    user::Column::FullName,
    user::Column::Email,
    user::Column::Disabled,
];

/// A user as an officer, read with [`OFFICER_COLUMNS`] under a prefix.
#[derive(Debug)]
struct OfficerRow {
    full_name: String,
    email: Option<String>,
    disabled: bool,
}

impl OfficerRow {
    /// The user whose columns `row` holds under `prefix`; `None` when the left join found none.
    fn of(row: &QueryResult, prefix: &str) -> AppResult<Option<OfficerRow>> {
        if row.try_get::<Option<i64>>(prefix, "id")?.is_none() {
            return Ok(None);
        }
        Ok(Some(OfficerRow {
            full_name: row.try_get(prefix, "full_name")?,
            email: row.try_get(prefix, "email")?,
            disabled: row.try_get(prefix, "disabled")?,
        }))
    }
}

/// The cooperative `cooperative_id` as a recipient (404 if unknown) with, as its officer, the enabled and
/// reachable user `loan_officer_id` names, or else the cooperative's officer as recorded: the cooperative,
/// the notification settings it chose on /my/notifications (issue 10 §5), its officer and the loan's in
/// one statement (every repayment's receipt reads them), by primary keys and without `LIMIT ?`
/// (`store::one_by_key`).
async fn audience<C: ConnectionTrait>(
    conn: &C,
    cooperative_id: i64,
    loan_officer_id: Option<i64>,
) -> AppResult<Audience> {
    let (c, s, co, lo) = ("c", "s", "co", "lo");
    let mut select = Query::select();
    for column in cooperative::Column::iter() {
        select.expr_as(
            Expr::col((Alias::new(c), column)),
            Alias::new(format!("{c}_{}", column.as_str())),
        );
    }
    for column in setting::Column::iter() {
        select.expr_as(
            Expr::col((Alias::new(s), column)),
            Alias::new(format!("{s}_{}", column.as_str())),
        );
    }
    let officers = [Some(co), loan_officer_id.map(|_| lo)];
    for alias in officers.into_iter().flatten() {
        for column in OFFICER_COLUMNS {
            select.expr_as(
                Expr::col((Alias::new(alias), column)),
                Alias::new(format!("{alias}_{}", column.as_str())),
            );
        }
    }
    select
        .from_as(cooperative::Entity, Alias::new(c))
        .join_as(
            JoinType::LeftJoin,
            setting::Entity,
            Alias::new(s),
            Expr::col((Alias::new(s), setting::Column::CooperativeId))
                .equals((Alias::new(c), cooperative::Column::Id)),
        )
        .join_as(
            JoinType::LeftJoin,
            user::Entity,
            Alias::new(co),
            Expr::col((Alias::new(co), user::Column::Id))
                .equals((Alias::new(c), cooperative::Column::OfficerId)),
        )
        .and_where(Expr::col((Alias::new(c), cooperative::Column::Id)).eq(cooperative_id));
    if let Some(id) = loan_officer_id {
        select.join_as(
            JoinType::LeftJoin,
            user::Entity,
            Alias::new(lo),
            Expr::col((Alias::new(lo), user::Column::Id)).eq(id),
        );
    }
    // At most one row: every join is by a primary key. A money command reads it with the writes it kept
    // so far, in the same round trip (`deferred_writes`).
    let statement = conn.get_database_backend().build(&select);
    let row = crate::app::deferred_writes::query_all(conn, statement)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    let found = cooperative::Model::from_query_result(&row, &format!("{c}_"))?;
    let chosen = match row.try_get::<Option<i64>>(&format!("{s}_"), "cooperative_id")? {
        Some(_) => Some(setting::Model::from_query_result(&row, &format!("{s}_"))?),
        None => None,
    };
    // The cooperative's officer as recorded, enabled or not; the loan's when it can be reached.
    let mut officer = OfficerRow::of(&row, &format!("{co}_"))?.map(|u| OfficerContact {
        name: u.full_name,
        email: u.email.filter(|e| !e.trim().is_empty()),
    });
    if loan_officer_id.is_some() {
        if let Some(usable) = OfficerRow::of(&row, &format!("{lo}_"))?
            .as_ref()
            .and_then(usable_officer)
        {
            officer = Some(usable);
        }
    }
    let recipients = crate::app::notifications::recipients_of(&found, chosen.as_ref());
    Ok(Audience {
        cooperative_id: found.id,
        email: recipients.to_header(),
        language: recipients.language,
        name: found.name,
        officer,
    })
}

/// [`audience_for_loan`] for many loans at once (the close of business: a chunk's notices), by loan id, with
/// three queries in all (the cooperatives, their notification settings, the officers) instead of three or
/// four per loan; the same audience, officer fallback included. 404 if a loan's cooperative is unknown.
pub async fn audiences_for_loans<C: ConnectionTrait>(
    conn: &C,
    loans: &[&loan::Model],
) -> AppResult<HashMap<i64, Audience>> {
    if loans.is_empty() {
        return Ok(HashMap::new());
    }
    let cooperative_ids: BTreeSet<i64> = loans.iter().map(|l| l.cooperative_id).collect();
    let cooperatives: HashMap<i64, cooperative::Model> = cooperative::Entity::find()
        .filter(cooperative::Column::Id.is_in(cooperative_ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let settings: HashMap<i64, setting::Model> = setting::Entity::find()
        .filter(setting::Column::CooperativeId.is_in(cooperative_ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.cooperative_id, s))
        .collect();
    let user_ids: BTreeSet<i64> = loans
        .iter()
        .filter_map(|l| l.officer_id)
        .chain(cooperatives.values().filter_map(|c| c.officer_id))
        .collect();
    let users: HashMap<i64, user::Model> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(user_ids.iter().copied()))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };
    let mut audiences = HashMap::with_capacity(loans.len());
    for loan in loans {
        let found = cooperatives
            .get(&loan.cooperative_id)
            .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
        // As `audience_for_cooperative`: the cooperative's officer as recorded, enabled or not.
        let mut officer = found
            .officer_id
            .and_then(|id| users.get(&id))
            .map(|u| OfficerContact {
                name: u.full_name.clone(),
                email: u.email.clone().filter(|e| !e.trim().is_empty()),
            });
        // As `usable_officer`: the loan's officer when enabled and reachable.
        if let Some(usable) = loan
            .officer_id
            .and_then(|id| users.get(&id))
            .filter(|u| !u.disabled)
            .and_then(|u| {
                let email = u.email.clone().filter(|e| !e.trim().is_empty())?;
                Some(OfficerContact {
                    name: u.full_name.clone(),
                    email: Some(email),
                })
            })
        {
            officer = Some(usable);
        }
        let recipients = crate::app::notifications::recipients_of(found, settings.get(&found.id));
        audiences.insert(
            loan.id,
            Audience {
                cooperative_id: found.id,
                email: recipients.to_header(),
                language: recipients.language,
                name: found.name.clone(),
                officer,
            },
        );
    }
    Ok(audiences)
}

/// Whether `days_until_due` (due date − business date) is a reminder day of `policy`, e.g. 7
/// or 1 with the defaults.
pub fn reminder_due_in(policy: &ReminderSettings, days_until_due: i64) -> bool {
    u32::try_from(days_until_due).is_ok_and(|days| policy.days_before.contains(&days))
}

/// Whether `days_past_due` is an overdue-notice day of `policy`, e.g. 1, 10 or 30.
pub fn overdue_notice_due_at(policy: &ReminderSettings, days_past_due: i64) -> bool {
    u32::try_from(days_past_due).is_ok_and(|days| policy.overdue_days.contains(&days))
}

/// Where a mail goes and what it is about: the addressing of its outbox row.
struct Delivery {
    /// Makes a second queuing of the same notice a no-op.
    dedupe_key: String,
    recipient: String,
    cc: Option<String>,
    language: Lang,
    addressee: Addressee,
    /// The record the mail is about: (kind, id).
    related: (&'static str, String),
    /// The cooperative that may read it on its notifications page.
    cooperative_id: Option<i64>,
    /// A VietQR code drawn in the mail (issue 10 §4).
    qr_payload: Option<String>,
}

impl Delivery {
    /// To the cooperative `to`, in its language, scoped to it, about `related`.
    fn to_cooperative(to: &Audience, dedupe_key: String, related: (&'static str, i64)) -> Self {
        Delivery {
            dedupe_key,
            recipient: to.email.clone(),
            cc: None,
            language: to.language,
            addressee: to.addressee(),
            related: (related.0, related.1.to_string()),
            cooperative_id: Some(to.cooperative_id),
            qr_payload: None,
        }
    }

    /// With a copy to `cc` (the officer's address, when there is one).
    fn copy_to(self, cc: Option<String>) -> Self {
        Delivery { cc, ..self }
    }

    /// With the VietQR code of `qr_payload` (none: no code).
    fn with_qr(self, qr_payload: Option<String>) -> Self {
        Delivery { qr_payload, ..self }
    }
}

/// A mail rendered for its addressee and ready for the outbox: the message and its VietQR payload.
#[derive(Debug, Clone)]
pub struct RenderedMail {
    pub message: NewMessage,
    /// The VietQR text the worker draws in the mail, if any.
    pub qr_payload: Option<String>,
}

/// Renders `template` for the delivery's addressee in its language.
fn render<T: Template>(settings: &Settings, template: &T, delivery: Delivery) -> RenderedMail {
    let rendered = template.render(
        delivery.language,
        &MailContext::from_settings(settings),
        &delivery.addressee,
    );
    RenderedMail {
        message: NewMessage {
            dedupe_key: delivery.dedupe_key,
            kind: T::KIND.to_string(),
            recipient: delivery.recipient,
            cc: delivery.cc,
            language: delivery.language,
            subject: rendered.subject,
            body_text: rendered.body_text,
            body_html: rendered.body_html,
            related: Some((delivery.related.0.to_string(), delivery.related.1)),
            cooperative_id: delivery.cooperative_id,
        },
        qr_payload: delivery.qr_payload,
    }
}

/// Renders `template` for the delivery's addressee in its language and queues it.
async fn queue<C: ConnectionTrait, T: Template>(
    conn: &C,
    settings: &Settings,
    template: &T,
    delivery: Delivery,
) -> AppResult<bool> {
    queue_rendered(conn, render(settings, template, delivery)).await
}

/// Renders `template` and queues it with the money command's other writes ([`outbox::enqueue_with_command`]:
/// a dedupe key already queued is a no-op, not answered).
async fn queue_with_command<C: ConnectionTrait, T: Template>(
    conn: &C,
    settings: &Settings,
    template: &T,
    delivery: Delivery,
) -> AppResult<()> {
    let mail = render(settings, template, delivery);
    outbox::enqueue_with_command(conn, mail.message, chrono::Utc::now(), mail.qr_payload).await
}

/// Queues one rendered mail; `false` when its dedupe key is already queued.
pub async fn queue_rendered<C: ConnectionTrait>(conn: &C, mail: RenderedMail) -> AppResult<bool> {
    outbox::enqueue_with_qr(conn, mail.message, chrono::Utc::now(), mail.qr_payload).await
}

/// Queues `mails` together, in order ([`outbox::enqueue_many`]: a few multi-row statements for a close of
/// business chunk's notices); returns how many were new (a dedupe key already queued is a no-op).
pub async fn queue_many<C: ConnectionTrait>(conn: &C, mails: Vec<RenderedMail>) -> AppResult<u64> {
    let messages = mails
        .into_iter()
        .map(|mail| (mail.message, mail.qr_payload))
        .collect();
    outbox::enqueue_many(conn, messages, chrono::Utc::now()).await
}

/// "We received your application": to the cooperative.
pub async fn application_received<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    to: &Audience,
    application_id: i64,
    mail: &ApplicationReceived,
) -> AppResult<bool> {
    let key = format!("application_received:{application_id}");
    let delivery = Delivery::to_cooperative(to, key, ("application", application_id));
    queue(conn, settings, mail, delivery).await
}

/// Approved or rejected: to the cooperative, copy to its officer.
pub async fn application_decision<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    to: &Audience,
    application_id: i64,
    mail: &ApplicationDecision,
) -> AppResult<bool> {
    let key = format!("application_decision:{application_id}");
    let delivery = Delivery::to_cooperative(to, key, ("application", application_id))
        .copy_to(to.officer_email());
    queue(conn, settings, mail, delivery).await
}

/// Money paid out: to the cooperative, with the disbursement's other writes. `disbursement_id` is the loan
/// transaction's id.
pub async fn disbursement_notice<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    to: &Audience,
    loan_id: i64,
    disbursement_id: i64,
    mail: &DisbursementNotice,
) -> AppResult<()> {
    let key = format!("disbursement:{loan_id}:{disbursement_id}");
    let delivery = Delivery::to_cooperative(to, key, ("loan", loan_id));
    queue_with_command(conn, settings, mail, delivery).await
}

/// A repayment received: to the cooperative, with the repayment's other writes. `payment_id` is the loan
/// transaction's id.
pub async fn payment_receipt<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    to: &Audience,
    loan_id: i64,
    payment_id: i64,
    mail: &PaymentReceipt,
) -> AppResult<()> {
    let key = format!("payment_receipt:{loan_id}:{payment_id}");
    let delivery = Delivery::to_cooperative(to, key, ("loan", loan_id));
    queue_with_command(conn, settings, mail, delivery).await
}

/// T-7 / T-1 before a due date: to the cooperative. Once per (loan, due date, days before).
pub async fn due_reminder<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    to: &Audience,
    loan_id: i64,
    mail: &DueReminder,
) -> AppResult<bool> {
    queue_rendered(conn, due_reminder_mail(settings, to, loan_id, mail)).await
}

/// [`due_reminder`] rendered, not queued (for [`queue_many`]).
pub fn due_reminder_mail(
    settings: &Settings,
    to: &Audience,
    loan_id: i64,
    mail: &DueReminder,
) -> RenderedMail {
    let key = format!(
        "due_reminder:{loan_id}:{}:T-{}",
        mail.due_date, mail.days_before
    );
    let qr = crate::app::payment_qr::payload_for(settings, &mail.loan_number, mail.to_pay_vnd());
    let delivery = Delivery::to_cooperative(to, key, ("loan", loan_id)).with_qr(qr);
    render(settings, mail, delivery)
}

/// An overdue notice: to the cooperative, copy to the loan's officer (DOMAIN.md §10; pass
/// [`audience_for_loan`]). `milestone_days` names it: 1 for the day after the missed due date
/// `mail.due_date`, 10 or 30 for the days past the oldest unpaid due date. Once per (loan, due
/// date, milestone).
pub async fn overdue_notice<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    to: &Audience,
    loan_id: i64,
    milestone_days: u32,
    mail: &OverdueNotice,
) -> AppResult<bool> {
    queue_rendered(
        conn,
        overdue_notice_mail(settings, to, loan_id, milestone_days, mail),
    )
    .await
}

/// [`overdue_notice`] rendered, not queued (for [`queue_many`]).
pub fn overdue_notice_mail(
    settings: &Settings,
    to: &Audience,
    loan_id: i64,
    milestone_days: u32,
    mail: &OverdueNotice,
) -> RenderedMail {
    let key = format!(
        "overdue_notice:{loan_id}:{}:DPD-{milestone_days}",
        mail.due_date
    );
    let qr =
        crate::app::payment_qr::payload_for(settings, &mail.loan_number, mail.overdue.total_vnd());
    let delivery = Delivery::to_cooperative(to, key, ("loan", loan_id))
        .copy_to(to.officer_email())
        .with_qr(qr);
    render(settings, mail, delivery)
}

/// The daily digest of officer `officer_id`, in the officer's language. Returns `false`
/// without queuing when the officer has no email address or is disabled.
pub async fn officer_digest<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    officer_id: i64,
    mail: &OfficerDigest,
) -> AppResult<bool> {
    let officer = user::Entity::find_by_id(officer_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("cán bộ", "Officer"))?;
    let Some(email) = officer
        .email
        .clone()
        .filter(|e| !e.trim().is_empty() && !officer.disabled)
    else {
        return Ok(false);
    };
    // A stored language that cannot be read is an error naming the officer, never a default.
    let language = Lang::parse(&officer.language)
        .ok_or_else(|| AppError::unreadable("user", officer_id, "language", &officer.language))?;
    let delivery = Delivery {
        dedupe_key: format!("officer_digest:{officer_id}:{}", mail.business_date),
        recipient: email,
        cc: None,
        language,
        addressee: Addressee {
            name: officer.full_name.clone(),
            officer: None,
        },
        related: ("user", officer_id.to_string()),
        cooperative_id: None,
        qr_payload: None,
    };
    queue(conn, settings, mail, delivery).await
}
