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

view! {
    /// One audit record as shown.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct AuditView from AuditRecord {
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

view! {
    /// One page of the audit trail, newest first.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct AuditPage from Page<AuditRecord> {
        pub items: Vec<AuditView> [each],
        pub next_cursor: Option<String>,
    }
}

/// `GET /api/v1/audit/verify` query: a checkpoint to compare with, optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChainVerifyQuery {
    /// The heads saved by `coopfund audit checkpoint` or `GET /api/v1/audit/checkpoint`, in the compact form
    /// `audit:SEQ:HASH;journal:SEQ:HASH;…` (any subset of the chains audit, journal, loan_transactions,
    /// charter_capital; a part other than 0 as `journal/3:SEQ:HASH`).
    pub checkpoint: Option<String>,
}

/// One thing found wrong in a chain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChainFindingView {
    /// `edited`, `deleted`, `inserted`, `reordered`, `checkpoint_mismatch`, `head_mismatch` or
    /// `line_without_entry`.
    pub kind: String,
    /// The row named: its id in the chained table (a journal line's id for `line_without_entry`; the row
    /// after the gap for `deleted`).
    pub row_id: Option<i64>,
    /// Its sequence number in the chain (the first missing one for `deleted`).
    pub seq: Option<i64>,
    /// The part of the chain it was found in (`seq` is the part's: each part numbers its rows from 1);
    /// absent for a row in no part and a journal line without entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u16>,
    /// The finding in English.
    pub message: String,
    /// The finding in Vietnamese.
    pub message_vi: String,
}

impl From<crate::app::chains::FindingReport> for ChainFindingView {
    fn from(report: crate::app::chains::FindingReport) -> Self {
        let (row_id, seq) = report.finding.row();
        ChainFindingView {
            kind: report.finding.kind().to_string(),
            row_id,
            seq,
            part: report.part,
            message: report.message,
            message_vi: report.message_vi,
        }
    }
}

/// One chain's verdict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChainView {
    /// `audit`, `journal`, `loan_transactions` or `charter_capital`.
    pub chain: String,
    /// Chained rows walked, in every part.
    pub rows: u64,
    /// The head of part 0 as the database holds it (the whole chain's before it was split into parts).
    pub head_seq: i64,
    pub head_hash: String,
    /// The head of every part as the database holds it, part 0 first (`chain` names the part:
    /// `journal`, `journal/1` … `journal/15`).
    #[serde(default)]
    pub heads: Vec<ChainHeadView>,
    /// True when nothing was found.
    pub intact: bool,
    /// Whether a checkpoint head was compared.
    pub checked_against_checkpoint: bool,
    /// The first row tampered with, in chain order.
    pub first: Option<ChainFindingView>,
    /// The findings (at most 100).
    pub findings: Vec<ChainFindingView>,
    /// How many findings there were.
    pub findings_total: u64,
}

/// What `GET /api/v1/audit/verify` found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChainsVerifyView {
    pub checked_at: DateTime<Utc>,
    /// True when every chain is intact.
    pub passed: bool,
    /// Wall time of the walk, milliseconds.
    pub millis: u64,
    pub chains: Vec<ChainView>,
}

impl From<crate::app::chains::ChainsReport> for ChainsVerifyView {
    fn from(report: crate::app::chains::ChainsReport) -> Self {
        ChainsVerifyView {
            checked_at: report.checked_at,
            passed: report.passed,
            millis: report.millis,
            chains: report
                .chains
                .into_iter()
                .map(|c| ChainView {
                    chain: c.chain.name().to_string(),
                    rows: c.rows,
                    head_seq: c.head_seq,
                    head_hash: c.head_hash,
                    heads: c.heads.into_iter().map(ChainHeadView::from).collect(),
                    intact: c.intact,
                    checked_against_checkpoint: c.checked_against_checkpoint,
                    first: c.first.map(ChainFindingView::from),
                    findings: c.findings.into_iter().map(ChainFindingView::from).collect(),
                    findings_total: u64::try_from(c.findings_total).unwrap_or(u64::MAX),
                })
                .collect(),
        }
    }
}

/// One chain head.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChainHeadView {
    /// The chain and part: `journal` (part 0), `journal/3`.
    pub chain: String,
    /// The last row's sequence number (0: empty).
    pub seq: i64,
    /// Its hash (64 zeros: empty).
    pub hash: String,
}

/// The chain heads at one moment, to print, sign off and compare later.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckpointView {
    /// The chain encoding (`coopfund-chain/v1`).
    pub encoding: String,
    /// When it was taken (RFC 3339, UTC).
    pub taken_at: String,
    pub business_date: chrono::NaiveDate,
    pub heads: Vec<ChainHeadView>,
    /// The heads in one line, as `GET /api/v1/audit/verify?checkpoint=` takes them.
    pub compact: String,
}

impl From<coopfund_domain::chain::Checkpoint> for CheckpointView {
    fn from(checkpoint: coopfund_domain::chain::Checkpoint) -> Self {
        CheckpointView {
            compact: checkpoint.compact(),
            encoding: checkpoint.encoding,
            taken_at: checkpoint.taken_at,
            business_date: checkpoint.business_date,
            heads: checkpoint
                .heads
                .into_iter()
                .map(ChainHeadView::from)
                .collect(),
        }
    }
}

impl From<coopfund_domain::chain::Head> for ChainHeadView {
    fn from(head: coopfund_domain::chain::Head) -> Self {
        ChainHeadView {
            chain: head.name(),
            seq: head.seq,
            hash: head.hash,
        }
    }
}
