//! `/audit` on the wire.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::{AuditRecordId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    app::{
        audit::{AuditFilter, AuditRecord},
        page::{Page, PageRequest},
    },
    error::{AppError, AppResult},
};

/// One audit record as shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    #[schema(value_type = i64)]
    pub id: AuditRecordId,
    pub at: DateTime<Utc>,
    #[schema(value_type = Option<i64>)]
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

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        let AuditRecord {
            id,
            at,
            actor_id,
            actor,
            action,
            entity_type,
            entity_id,
            before,
            after,
            request_id,
        } = r;
        AuditView {
            id,
            at,
            actor_id,
            actor,
            action,
            entity_type,
            entity_id,
            before,
            after,
            request_id,
        }
    }
}

/// Filters and paging of the audit trail.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// e.g. `loan`, `cooperative`, `user`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Username, `cli` or `system`.
    pub actor: Option<String>,
    /// Dotted verb, e.g. `loan.repay`.
    pub action: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

impl TryFrom<AuditQuery> for AuditFilter {
    type Error = AppError;

    fn try_from(query: AuditQuery) -> AppResult<Self> {
        Ok(AuditFilter {
            page: PageRequest::parse(query.limit, query.cursor.as_deref())?,
            entity_type: query.entity_type,
            entity_id: query.entity_id,
            actor: query.actor,
            action: query.action,
        })
    }
}

/// One page of the audit trail, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub next_cursor: Option<String>,
}

impl From<Page<AuditRecord>> for AuditPage {
    fn from(page: Page<AuditRecord>) -> Self {
        let page = page.map(AuditView::from);
        AuditPage {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}
