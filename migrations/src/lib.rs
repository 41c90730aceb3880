//! Schema migrations for coopfund, the same on SQLite and PostgreSQL.
//!
//! Conventions, so that no amount is ever rounded through a float on either backend:
//! - money is a `BIGINT` of whole đồng in a column ending `_vnd`;
//! - rates and other fractional decimals are `TEXT` holding the exact decimal string (`"7.25"`),
//!   parsed into `rust_decimal::Decimal` by the store layer;
//! - business dates are `DATE`, timestamps are `TIMESTAMP WITH TIME ZONE` in UTC.

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
mod m20261129_000011_bank_statements;

/// Every migration, in the order it runs.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
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
            Box::new(m20261129_000011_bank_statements::Migration),
        ]
    }
}
