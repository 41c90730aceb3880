//! `cob_runs`: one row per business date closed (or attempted) by close of business.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cob_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The business date this run closed.
    pub business_date: Date,
    /// `running`, `finished` or `failed`.
    pub status: String,
    /// `schedule`, `api` or `cli`.
    pub trigger: String,
    /// Which process ran it (host and pid).
    pub instance: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub loans_processed: i32,
    pub entries_posted: i32,
    pub notices_queued: i32,
    pub errors: i32,
    pub message: Option<String>,
}

no_relations!();
