//! `/backups` on the wire.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::BackupRunId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::backups::BackupRun;

view! {
    /// One row of `GET /api/v1/backups`.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct BackupView from BackupRun {
        #[schema(value_type = i64)]
        pub id: BackupRunId,
        /// `ok` or `failed`.
        pub status: String,
        /// `schedule` or `cli`.
        pub trigger: String,
        pub started_at: DateTime<Utc>,
        pub finished_at: DateTime<Utc>,
        /// The copy (absent when the backup failed).
        pub file: Option<String>,
        pub sha256: Option<String>,
        pub size_bytes: Option<i64>,
        /// Why it failed.
        pub error: Option<String>,
    }
}
