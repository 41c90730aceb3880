//! Schema migrations for coopfund, the same on SQLite and PostgreSQL.
//!
//! Conventions, so that no amount is ever rounded through a float on either backend:
//! - money is a `BIGINT` of whole đồng in a column ending `_vnd`;
//! - rates and other fractional decimals are `TEXT` holding the exact decimal string (`"7.25"`),
//!   parsed into `rust_decimal::Decimal` by the store layer;
//! - business dates are `DATE`, timestamps are `TIMESTAMP WITH TIME ZONE` in UTC.
//!
//! Every migration runs in a transaction of its own on both backends (SQLite and PostgreSQL both
//! have transactional DDL; sea-orm would wrap only PostgreSQL's), so one that fails part-way leaves
//! the schema as it was and is tried again whole at the next start. Migrations only go forward: to
//! undo an upgrade, restore the backup taken before it (README, "Backups").

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_foundation;
pub mod m20261125_000002_lending;
mod m20261125_000003_outbox;
mod m20261125_000004_appraisal_recommendation;
mod m20261125_000005_cob_runs;
mod m20261129_000006_interest_waived_account;
mod m20261129_000007_backup_runs;
mod m20261129_000008_calendar;
mod m20261129_000009_recoveries;
mod m20261129_000010_login_failures;
mod m20261129_000011_login_failures_last_failed_at;
mod m20261129_000012_bank_statements;
mod m20261204_000013_cooperative_self_service;
mod m20261204_000014_hash_chains;
mod m20261204_000015_cooperative_profiles;
mod m20261205_000016_loan_snapshots;
mod m20261205_000017_chain_parts;
mod m20261205_000018_loans_cached_through;
mod m20261206_000019_loan_books;
mod m20261206_000020_loan_snapshots_lz4;
mod m20261206_000021_chain_bulk_parts;
mod m20261207_000022_loan_transactions_by_loan_and_id;

pub mod chain_rows;

/// Every migration, in the order it runs.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        in_transactions(vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_lending::Migration),
            Box::new(m20261125_000003_outbox::Migration),
            Box::new(m20261125_000004_appraisal_recommendation::Migration),
            Box::new(m20261125_000005_cob_runs::Migration),
            Box::new(m20261129_000006_interest_waived_account::Migration),
            Box::new(m20261129_000007_backup_runs::Migration),
            Box::new(m20261129_000008_calendar::Migration),
            Box::new(m20261129_000009_recoveries::Migration),
            Box::new(m20261129_000010_login_failures::Migration),
            Box::new(m20261129_000011_login_failures_last_failed_at::Migration),
            Box::new(m20261129_000012_bank_statements::Migration),
            Box::new(m20261204_000013_cooperative_self_service::Migration),
            Box::new(m20261204_000014_hash_chains::Migration),
            Box::new(m20261204_000015_cooperative_profiles::Migration),
            Box::new(m20261205_000016_loan_snapshots::Migration),
            Box::new(m20261205_000017_chain_parts::Migration),
            Box::new(m20261205_000018_loans_cached_through::Migration),
            Box::new(m20261206_000019_loan_books::Migration),
            Box::new(m20261206_000020_loan_snapshots_lz4::Migration),
            Box::new(m20261206_000021_chain_bulk_parts::Migration),
            Box::new(m20261207_000022_loan_transactions_by_loan_and_id::Migration),
        ])
    }
}

/// Wraps each migration so it runs in a transaction and cannot be rolled back (see the crate docs).
pub fn in_transactions(migrations: Vec<Box<dyn MigrationTrait>>) -> Vec<Box<dyn MigrationTrait>> {
    migrations
        .into_iter()
        .map(|inner| Box::new(ForwardInTransaction(inner)) as Box<dyn MigrationTrait>)
        .collect()
}

/// A migration run in its own transaction, forward only.
struct ForwardInTransaction(Box<dyn MigrationTrait>);

impl MigrationName for ForwardInTransaction {
    fn name(&self) -> &str {
        self.0.name()
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ForwardInTransaction {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.up(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(format!(
            "{} cannot be undone: migrations only go forward; restore the backup taken before the upgrade",
            self.0.name()
        )))
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
