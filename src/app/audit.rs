//! The audit trail: who, when, what, before and after, appended in the transaction of the change.
//!
//! A use case records with [`created`] or [`changed`] on a value that is [`Audited`] (it names its
//! entity type and id), so the create-then-audit tail is one line. [`record_at`] is the general form
//! (an action whose before and after are not the same type).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryTrait, Set};
use serde::Serialize;

use coopfund_domain::{
    chain::Chain,
    ids::{AuditRecordId, UserId},
};

use super::{
    chains::ChainHeads,
    context::AppCtx,
    deferred_writes::{self, Changes},
    page::{paginate, Page, PageRequest},
    Caller,
};
use crate::{error::AppResult, store::entities::audit_record};

/// One change to record.
pub struct Change<'a, B: Serialize, A: Serialize> {
    /// Dotted verb, e.g. `cooperative.update`.
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

impl<'a, A: Serialize> Change<'a, (), A> {
    /// The creation of `after`: nothing before it.
    pub fn created(action: &'a str, entity_type: &'a str, entity_id: String, after: &'a A) -> Self {
        Change {
            action,
            entity_type,
            entity_id,
            before: None,
            after: Some(after),
        }
    }
}

/// A record the audit trail names: its entity type and its id.
pub trait Audited: Serialize {
    /// The `entity_type` of its audit records, e.g. `cooperative`.
    const ENTITY_TYPE: &'static str;

    /// The id its audit records name.
    fn audit_id(&self) -> String;
}

/// Records that `caller` created `after` (action e.g. `cooperative.create`), in `conn` (the use
/// case's transaction), at the context's time.
pub async fn created<C, T>(
    conn: &C,
    ctx: &AppCtx,
    caller: &Caller,
    action: &str,
    after: &T,
) -> AppResult<()>
where
    C: ConnectionTrait,
    T: Audited,
{
    let change = Change::created(action, T::ENTITY_TYPE, after.audit_id(), after);
    record_at(conn, caller, ctx.now(), change).await
}

/// Records that `caller` changed `before` into `after` (action e.g. `cooperative.update`).
pub async fn changed<C, T>(
    conn: &C,
    ctx: &AppCtx,
    caller: &Caller,
    action: &str,
    before: &T,
    after: &T,
) -> AppResult<()>
where
    C: ConnectionTrait,
    T: Audited,
{
    let change = Change {
        action,
        entity_type: T::ENTITY_TYPE,
        entity_id: after.audit_id(),
        before: Some(before),
        after: Some(after),
    };
    record_at(conn, caller, ctx.now(), change).await
}

/// Appends `change` by `caller` on `conn` (pass the use case's transaction) at `at` (the context's time,
/// `ctx.now()`, for a use case): the general form, for an action whose before and after are not one
/// [`Audited`] type.
pub async fn record_at(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    at: DateTime<Utc>,
    change: Change<'_, impl Serialize, impl Serialize>,
) -> AppResult<()> {
    let mut heads = ChainHeads::new();
    record_linked(conn, &mut heads, caller, at, change).await?;
    heads.finish(conn).await
}

/// [`record_at`], the record linked after `heads` (the unit of work's chain heads, which it moves before
/// it commits: [`ChainHeads::finish`]).
pub async fn record_linked(
    conn: &impl ConnectionTrait,
    heads: &mut ChainHeads,
    caller: &Caller,
    at: DateTime<Utc>,
    change: Change<'_, impl Serialize, impl Serialize>,
) -> AppResult<()> {
    let to_json = |value: Option<&dyn erased::Json>| value.map(|v| v.json());
    let mut row = audit_record::ActiveModel {
        at: Set(at),
        actor_id: Set(caller.user_id()),
        actor: Set(caller.name().to_string()),
        action: Set(change.action.to_string()),
        entity_type: Set(change.entity_type.to_string()),
        entity_id: Set(change.entity_id),
        before: Set(to_json(change.before.map(|b| b as &dyn erased::Json))),
        after: Set(to_json(change.after.map(|a| a as &dyn erased::Json))),
        request_id: Set(caller.request_id.clone()),
        ..Default::default()
    };
    // Tamper-evident: the record takes its place in the audit chain in this transaction.
    heads
        .link(conn, Chain::Audit, std::slice::from_mut(&mut row))
        .await?;
    // Without `RETURNING`: nothing reads the row back, and on SQLite the returned row (its `before` and
    // `after` JSON) would be copied and sent back from the connection's thread for nothing. In a group
    // commit it goes with the command's other writes (`deferred_writes`).
    let insert = audit_record::Entity::insert(row).build(conn.get_database_backend());
    deferred_writes::execute(conn, insert, Changes::Any).await
}

mod erased {
    /// Object-safe JSON rendering, so `record_at` can treat before and after alike.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self)
                .unwrap_or_else(|e| format!("{{\"unserializable\":\"{e}\"}}"))
        }
    }
}

/// One audit record as read back.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: AuditRecordId,
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The entity before the change, as recorded (JSON), absent on creation.
    pub before: Option<serde_json::Value>,
    /// The entity after the change (JSON).
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<audit_record::Model> for AuditRecord {
    fn from(m: audit_record::Model) -> Self {
        // Recorded by `record_at` as JSON; anything else is shown as the text it is.
        let parse = |text: Option<String>| {
            text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
        };
        AuditRecord {
            id: AuditRecordId::new(m.id),
            at: m.at,
            actor_id: m.actor_id.map(UserId::new),
            actor: m.actor,
            action: m.action,
            entity_type: m.entity_type,
            entity_id: m.entity_id,
            before: parse(m.before),
            after: parse(m.after),
            request_id: m.request_id,
        }
    }
}

/// Which records to list: each filter, when given, must match exactly.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// e.g. `loan`, `cooperative`, `user`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Username, `cli` or `system`.
    pub actor: Option<String>,
    /// Dotted verb, e.g. `loan.repay`.
    pub action: Option<String>,
    /// Which page.
    pub page: PageRequest,
}

/// The audit trail, newest first. Admins and auditors.
#[tracing::instrument(name = "audit.list", skip_all)]
pub async fn list(
    ctx: &AppCtx,
    caller: &Caller,
    filter: AuditFilter,
) -> AppResult<Page<AuditRecord>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    caller.require(&[crate::auth::Role::Admin, crate::auth::Role::Auditor])?;
    let mut select = filter
        .page
        .apply(audit_record::Entity::find(), audit_record::Column::Id);
    let filters = [
        (audit_record::Column::EntityType, filter.entity_type),
        (audit_record::Column::EntityId, filter.entity_id),
        (audit_record::Column::Actor, filter.actor),
        (audit_record::Column::Action, filter.action),
    ];
    for (column, value) in filters {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            select = select.filter(column.eq(value.trim()));
        }
    }
    let rows = select.all(&ctx.db).await?;
    Ok(paginate(rows, &filter.page, |row| row.id).map(AuditRecord::from))
}
