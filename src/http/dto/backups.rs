//! `/backups` on the wire.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::BackupRunId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::backups::{BackupOutcome, BackupRun};

/// One row of `GET /api/v1/backups`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackupView {
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

impl From<BackupRun> for BackupView {
    fn from(run: BackupRun) -> Self {
        let status = run.outcome.status().to_string();
        let (file, sha256, size_bytes, error) = match run.outcome {
            BackupOutcome::Ok {
                file,
                sha256,
                size_bytes,
            } => (Some(file), Some(sha256), size_bytes, None),
            BackupOutcome::Failed { error } => (None, None, None, Some(error)),
        };
        BackupView {
            id: run.id,
            status,
            trigger: run.trigger,
            started_at: run.started_at,
            finished_at: run.finished_at,
            file,
            sha256,
            size_bytes,
            error,
        }
    }
}
