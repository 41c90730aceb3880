//! `backup_runs`: one row per backup attempt (scheduled or from the command line), ok or failed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `ok` or `failed`.
    pub status: String,
    /// `schedule` or `cli`.
    pub trigger: String,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    /// The copy written.
    pub file: Option<String>,
    /// Its SHA-256, hex.
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

no_relations!();
