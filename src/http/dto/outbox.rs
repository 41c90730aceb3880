//! `/outbox` on the wire.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::{CooperativeId, OutboxMessageId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    app::{
        outbox::{OutboxFilter, OutboxMessage},
        page::{Page, PageRequest},
    },
    error::{AppError, AppResult, Lang},
};

view! {
    /// A queued message as listed (the body is left out).
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct OutboxView from OutboxMessage {
        #[schema(value_type = i64)]
        pub id: OutboxMessageId,
        pub dedupe_key: String,
        pub kind: String,
        pub recipient: String,
        pub cc: Option<String>,
        #[schema(value_type = String)]
        pub language: Lang,
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
        #[schema(value_type = Option<i64>)]
        pub cooperative_id: Option<CooperativeId>,
    }
}

/// Filter and paging for the list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: Option<String>,
    /// Only messages about this cooperative.
    #[param(value_type = Option<i64>)]
    pub cooperative_id: Option<CooperativeId>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl TryFrom<OutboxQuery> for OutboxFilter {
    type Error = AppError;

    fn try_from(query: OutboxQuery) -> AppResult<Self> {
        Ok(OutboxFilter {
            page: PageRequest::parse(query.limit, query.cursor.as_deref())?,
            status: query.status,
            cooperative_id: query.cooperative_id,
        })
    }
}

view! {
    /// One page, newest first.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct OutboxPage from Page<OutboxMessage> {
        pub items: Vec<OutboxView> [each],
        /// Pass as `cursor` for the next page; null on the last page.
        pub next_cursor: Option<String>,
    }
}
