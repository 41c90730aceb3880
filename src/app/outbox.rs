//! The outbox as people see it: admins and auditors list queued, sent and failed messages;
//! an admin puts a failed message back in the queue.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::{CooperativeId, OutboxMessageId};
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::AppCtx,
    page::{paginate, Page, PageRequest},
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Lang, Localized, Reason},
    store::entities::outbox_message::{self, FAILED, PENDING, SENDING, SENT},
};

/// The statuses a message goes through.
pub const STATUSES: [&str; 4] = [PENDING, SENDING, SENT, FAILED];

/// A queued message as listed (the body is left out); serialized as the audit trail's before and
/// after.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: OutboxMessageId,
    pub dedupe_key: String,
    pub kind: String,
    pub recipient: String,
    pub cc: Option<String>,
    pub language: Lang,
    pub subject: String,
    pub message_id: String,
    /// One of [`STATUSES`].
    pub status: String,
    pub attempts: i32,
    /// When a pending message is next tried (for `sending`: when its lease ends).
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub related_type: Option<String>,
    pub related_id: Option<String>,
    pub cooperative_id: Option<CooperativeId>,
}

impl Audited for OutboxMessage {
    const ENTITY_TYPE: &'static str = "outbox_message";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

impl TryFrom<outbox_message::Model> for OutboxMessage {
    type Error = AppError;

    /// The stored message; a language other than `vi` or `en` is an error naming the row.
    fn try_from(m: outbox_message::Model) -> AppResult<Self> {
        let language = Lang::parse(&m.language)
            .ok_or_else(|| AppError::unreadable("outbox message", m.id, "language", &m.language))?;
        Ok(Self {
            id: OutboxMessageId::new(m.id),
            dedupe_key: m.dedupe_key,
            kind: m.kind,
            recipient: m.recipient,
            cc: m.cc,
            language,
            subject: m.subject,
            message_id: m.message_id,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            related_type: m.related_type,
            related_id: m.related_id,
            cooperative_id: m.cooperative_id.map(CooperativeId::new),
        })
    }
}

/// Which messages to list.
#[derive(Debug, Clone)]
pub struct OutboxFilter {
    /// One of [`STATUSES`] (checked here), or all.
    pub status: Option<String>,
    /// Only messages about this cooperative.
    pub cooperative_id: Option<CooperativeId>,
    /// Which page.
    pub page: PageRequest,
}

/// Lists messages newest first. Admins and auditors.
#[tracing::instrument(name = "outbox.list", skip_all)]
pub async fn list(
    ctx: &AppCtx,
    caller: &Caller,
    filter: OutboxFilter,
) -> AppResult<Page<OutboxMessage>> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let mut select = filter
        .page
        .apply(outbox_message::Entity::find(), outbox_message::Column::Id);
    if let Some(status) = filter.status.as_deref().filter(|s| !s.is_empty()) {
        if !STATUSES.contains(&status) {
            return Err(AppError::invalid(
                "status",
                Reason::UnknownValue {
                    allowed: STATUSES.join(", "),
                },
            ));
        }
        select = select.filter(outbox_message::Column::Status.eq(status));
    }
    if let Some(cooperative_id) = filter.cooperative_id {
        select = select.filter(outbox_message::Column::CooperativeId.eq(cooperative_id.get()));
    }
    let rows = select.all(&ctx.db).await?;
    paginate(rows, &filter.page, |row| row.id).try_map(OutboxMessage::try_from)
}

/// Puts a failed message back in the queue with its attempts reset; it keeps its Message-ID.
/// Admins only; 409 `outbox_not_failed` for a message that has not failed.
#[tracing::instrument(name = "outbox.retry", skip_all, fields(message_id = %id))]
pub async fn retry(ctx: &AppCtx, caller: &Caller, id: OutboxMessageId) -> AppResult<OutboxMessage> {
    caller.require(&[Role::Admin])?;
    let txn = ctx.db.begin().await?;
    let current = outbox_message::Entity::find_by_id(id.get())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("thư", "Message"))?;
    let not_failed = || {
        AppError::new(
            ErrorKind::Conflict,
            "outbox_not_failed",
            Localized::new(
                "Chỉ có thể gửi lại thư đã thất bại.",
                "Only a failed message can be retried.",
            ),
        )
        .with_field("status")
    };
    if current.status != FAILED {
        return Err(not_failed());
    }
    let now = ctx.now();
    // Conditional on `failed`, so two admins retrying at once reset it once.
    let updated = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Status, Expr::value(PENDING))
        .col_expr(outbox_message::Column::Attempts, Expr::value(0))
        .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            outbox_message::Column::ClaimToken,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox_message::Column::Id.eq(id.get()))
        .filter(outbox_message::Column::Status.eq(FAILED))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(not_failed());
    }
    let after = outbox_message::Entity::find_by_id(id.get())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("thư", "Message"))?;
    let (before, after) = (
        OutboxMessage::try_from(current)?,
        OutboxMessage::try_from(after)?,
    );
    audit::changed(&txn, ctx, caller, "outbox.retry", &before, &after).await?;
    txn.commit().await?;
    Ok(after)
}
