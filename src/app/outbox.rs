//! The outbox as people see it: admins and auditors list queued, sent and failed messages;
//! an admin puts a failed message back in the queue.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    audit::{self, Change},
    cooperatives::paging,
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::outbox_message::{self, FAILED, PENDING, SENDING, SENT},
};

/// The statuses a message goes through.
pub const STATUSES: [&str; 4] = [PENDING, SENDING, SENT, FAILED];

/// A queued message as listed (the body is left out).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxView {
    pub id: i64,
    pub dedupe_key: String,
    pub kind: String,
    pub recipient: String,
    pub cc: Option<String>,
    pub language: String,
    pub subject: String,
    pub message_id: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// When a pending message is next tried (for `sending`: when its lease ends).
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub related_type: Option<String>,
    pub related_id: Option<String>,
    pub cooperative_id: Option<i64>,
}

impl From<outbox_message::Model> for OutboxView {
    fn from(m: outbox_message::Model) -> Self {
        Self {
            id: m.id,
            dedupe_key: m.dedupe_key,
            kind: m.kind,
            recipient: m.recipient,
            cc: m.cc,
            language: m.language,
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
            cooperative_id: m.cooperative_id,
        }
    }
}

/// Filter and paging for the list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: Option<String>,
    /// Only messages about this cooperative.
    pub cooperative_id: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxPage {
    pub items: Vec<OutboxView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Lists messages newest first. Admins and auditors.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    query: OutboxQuery,
) -> AppResult<OutboxPage> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let (limit, cursor) = paging(query.limit, query.cursor.as_deref())?;
    let mut select = outbox_message::Entity::find().order_by_desc(outbox_message::Column::Id);
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
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
    if let Some(cooperative_id) = query.cooperative_id {
        select = select.filter(outbox_message::Column::CooperativeId.eq(cooperative_id));
    }
    if let Some(cursor) = cursor {
        select = select.filter(outbox_message::Column::Id.lt(cursor));
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let items: Vec<OutboxView> = rows
        .into_iter()
        .take(limit as usize)
        .map(OutboxView::from)
        .collect();
    let next_cursor = has_more
        .then(|| items.last().map(|m| m.id.to_string()))
        .flatten();
    Ok(OutboxPage { items, next_cursor })
}

/// Puts a failed message back in the queue with its attempts reset; it keeps its Message-ID.
/// Admins only; 409 `outbox_not_failed` for a message that has not failed.
pub async fn retry(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<OutboxView> {
    caller.require(&[Role::Admin])?;
    let txn = db.begin().await?;
    let current = outbox_message::Entity::find_by_id(id)
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
    let now = Utc::now();
    // Conditional on `failed`, so two admins retrying at once reset it once.
    let updated = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Status, Expr::value(PENDING))
        .col_expr(outbox_message::Column::Attempts, Expr::value(0))
        .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            outbox_message::Column::ClaimToken,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::Status.eq(FAILED))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(not_failed());
    }
    let after = outbox_message::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("thư", "Message"))?;
    let (before, after) = (OutboxView::from(current), OutboxView::from(after));
    audit::record(
        &txn,
        caller,
        Change {
            action: "outbox.retry",
            entity_type: "outbox_message",
            entity_id: id.to_string(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
