//! Notifications the cooperative controls (issue 10 §5): the language of the fund's mails and who
//! receives them (the chair's and the accountant's addresses), and the list of mails sent to it.
//!
//! The choice is stored per cooperative (`cooperative_notification_settings`) and read by
//! [`crate::mail::notices::audience_for_cooperative`], so every mail to the cooperative — due
//! reminders, overdue notices, receipts, decisions — goes where and in the language it chose.
//! Without a choice, mails go to the email and language the fund registered. When neither the chair's
//! nor the accountant's address is given, the registered email still receives them: a cooperative
//! cannot switch off the notices the fund must send (DOMAIN.md §10).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    TransactionTrait,
};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::AppCtx,
    outbox::OutboxMessage,
    page::{paginate, Page, PageRequest},
    validate, Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, Lang, Reason},
    store::entities::{cooperative, cooperative_notification_setting as setting, outbox_message},
};

/// A cooperative's notification settings as it sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationSettings {
    pub cooperative_id: i64,
    /// The language of the mails: `vi` or `en`.
    pub language: String,
    /// The chair's address ("" when not set).
    pub chair_email: String,
    /// The accountant's address ("" when not set).
    pub accountant_email: String,
    /// The email the fund registered, used when neither address above is set.
    pub registered_email: String,
    /// The addresses the mails go to now.
    pub recipients: Vec<String>,
    /// Whether the cooperative has made a choice (else the registered email and language hold).
    pub chosen: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Audited for NotificationSettings {
    const ENTITY_TYPE: &'static str = "cooperative_notification_settings";

    fn audit_id(&self) -> String {
        self.cooperative_id.to_string()
    }
}

/// What the cooperative chooses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationChange {
    /// `vi` or `en`.
    pub language: String,
    /// Empty for none.
    pub chair_email: String,
    /// Empty for none.
    pub accountant_email: String,
}

/// Where and in what language a cooperative's mails go: what the mail code reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    /// One or more addresses, for the `To` header.
    pub emails: Vec<String>,
    pub language: Lang,
}

impl Recipients {
    /// The addresses as one `To` header value.
    pub fn to_header(&self) -> String {
        self.emails.join(", ")
    }
}

fn settings_of(coop: &cooperative::Model, row: Option<&setting::Model>) -> NotificationSettings {
    let recipients = recipients_of(coop, row);
    NotificationSettings {
        cooperative_id: coop.id,
        language: recipients.language.code().to_string(),
        chair_email: row.map(|r| r.chair_email.clone()).unwrap_or_default(),
        accountant_email: row.map(|r| r.accountant_email.clone()).unwrap_or_default(),
        registered_email: coop.email.clone(),
        recipients: recipients.emails,
        chosen: row.is_some(),
        updated_at: row.map(|r| r.updated_at),
    }
}

/// The recipients of cooperative `coop` with its stored choice `row` (see the module docs).
pub fn recipients_of(coop: &cooperative::Model, row: Option<&setting::Model>) -> Recipients {
    let chosen: Vec<String> = row
        .map(|r| {
            [&r.chair_email, &r.accountant_email]
                .into_iter()
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut emails: Vec<String> = Vec::new();
    for email in chosen {
        if !emails.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
            emails.push(email);
        }
    }
    if emails.is_empty() {
        emails.push(coop.email.clone());
    }
    let language = row
        .and_then(|r| Lang::parse(&r.language))
        .or_else(|| Lang::parse(&coop.language))
        .unwrap_or_default();
    Recipients { emails, language }
}

fn own_cooperative(caller: &Caller) -> AppResult<i64> {
    caller.require(&[Role::Cooperative])?;
    caller.own_cooperative().ok_or_else(AppError::forbidden)
}

async fn load<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> AppResult<(cooperative::Model, Option<setting::Model>)> {
    let coop = cooperative::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    let row = setting::Entity::find_by_id(id).one(conn).await?;
    Ok((coop, row))
}

/// The caller's cooperative's settings. Cooperative users only (staff manage the registered email
/// on the cooperative itself).
pub async fn get(ctx: &AppCtx, caller: &Caller) -> AppResult<NotificationSettings> {
    let id = own_cooperative(caller)?;
    let (coop, row) = load(&ctx.db, id).await?;
    Ok(settings_of(&coop, row.as_ref()))
}

fn optional_email(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    // One address per field: a list separator would turn it into several recipients.
    if value.contains([',', ';', '<', '>', '"']) {
        return Err(AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "one email address",
            },
        ));
    }
    validate::email(field, value)
}

/// Stores the caller's cooperative's choice, audited.
#[tracing::instrument(name = "set notification settings", skip_all)]
pub async fn update(
    ctx: &AppCtx,
    caller: &Caller,
    change: NotificationChange,
) -> AppResult<NotificationSettings> {
    let id = own_cooperative(caller)?;
    let language = Lang::parse(change.language.trim()).ok_or_else(|| {
        AppError::invalid(
            "language",
            Reason::UnknownValue {
                allowed: "vi, en".into(),
            },
        )
    })?;
    let chair_email = optional_email("chair_email", &change.chair_email)?;
    let accountant_email = optional_email("accountant_email", &change.accountant_email)?;
    let txn = ctx.db.begin().await?;
    let (coop, row) = load(&txn, id).await?;
    let before = settings_of(&coop, row.as_ref());
    let now = ctx.now();
    let stored = match row {
        Some(row) => {
            let mut active = row.into_active_model();
            active.language = Set(language.code().to_string());
            active.chair_email = Set(chair_email);
            active.accountant_email = Set(accountant_email);
            active.updated_by = Set(caller.user_id());
            active.updated_at = Set(now);
            active.update(&txn).await?
        }
        None => {
            setting::ActiveModel {
                cooperative_id: Set(id),
                language: Set(language.code().to_string()),
                chair_email: Set(chair_email),
                accountant_email: Set(accountant_email),
                updated_by: Set(caller.user_id()),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    let after = settings_of(&coop, Some(&stored));
    audit::changed(
        &txn,
        ctx,
        caller,
        "cooperative.notifications",
        &before,
        &after,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// The mails sent (or waiting to be sent) to the caller's cooperative, newest first, with their
/// state. Cooperative users only.
pub async fn mails(
    ctx: &AppCtx,
    caller: &Caller,
    page: PageRequest,
) -> AppResult<Page<OutboxMessage>> {
    let id = own_cooperative(caller)?;
    let select = page
        .apply(outbox_message::Entity::find(), outbox_message::Column::Id)
        .filter(outbox_message::Column::CooperativeId.eq(id));
    let rows = select.all(&ctx.db).await?;
    paginate(rows, &page, |row| row.id).try_map(OutboxMessage::try_from)
}

/// The loan officer a cooperative may contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficerContact {
    pub name: String,
    pub email: Option<String>,
}

/// The officer assigned to the caller's cooperative, if any (and still enabled). Cooperative users.
pub async fn officer_contact(ctx: &AppCtx, caller: &Caller) -> AppResult<Option<OfficerContact>> {
    let id = own_cooperative(caller)?;
    let (coop, _) = load(&ctx.db, id).await?;
    let Some(officer_id) = coop.officer_id else {
        return Ok(None);
    };
    Ok(crate::store::entities::user::Entity::find_by_id(officer_id)
        .one(&ctx.db)
        .await?
        .filter(|u| !u.disabled)
        .map(|u| OfficerContact {
            name: u.full_name,
            email: u.email.filter(|e| !e.trim().is_empty()),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coop() -> cooperative::Model {
        cooperative::Model {
            id: 1,
            registration_code: "x".into(),
            name: "HTX".into(),
            kind: "cooperative".into(),
            district: String::new(),
            commune: String::new(),
            address: String::new(),
            legal_representative: String::new(),
            phone: String::new(),
            email: "htx@example.vn".into(),
            language: "vi".into(),
            member_count: 7,
            charter_capital_vnd: 0,
            founded_on: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            related_group: None,
            officer_id: None,
            version: 1,
            created_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
            updated_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn choice(chair: &str, accountant: &str, language: &str) -> setting::Model {
        setting::Model {
            cooperative_id: 1,
            language: language.into(),
            chair_email: chair.into(),
            accountant_email: accountant.into(),
            updated_by: None,
            updated_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn without_a_choice_the_registered_email_and_language_hold() {
        let r = recipients_of(&coop(), None);
        assert_eq!(r.emails, ["htx@example.vn"]);
        assert_eq!(r.language, Lang::Vi);
    }

    #[test]
    fn the_chair_and_the_accountant_receive_in_the_chosen_language() {
        let row = choice("chu.tich@example.vn", "ke.toan@example.vn", "en");
        let r = recipients_of(&coop(), Some(&row));
        assert_eq!(r.emails, ["chu.tich@example.vn", "ke.toan@example.vn"]);
        assert_eq!(r.to_header(), "chu.tich@example.vn, ke.toan@example.vn");
        assert_eq!(r.language, Lang::En);
    }

    #[test]
    fn no_address_chosen_falls_back_to_the_registered_one_and_duplicates_go() {
        let r = recipients_of(&coop(), Some(&choice("", "", "en")));
        assert_eq!(r.emails, ["htx@example.vn"]);
        let same = choice("a@example.vn", "A@example.vn", "vi");
        assert_eq!(recipients_of(&coop(), Some(&same)).emails, ["a@example.vn"]);
    }
}
