//! Snapshots of the fold (issue 14): a loan's folded position at the start of a business date, so that reads
//! and the close of business fold only the events after it (`coopfund_domain::snapshot`).
//!
//! One row per loan and date (`as_of`): the close of business writes the position at the start of the next
//! business date and keeps a week of them, so a back-dated event replays from the latest snapshot before its
//! value date. `state` is the domain's serialised folder (JSON) in format `format_version`; a row of another
//! version, or of another contract (`contract_fingerprint`), is not used. A snapshot is a cache: deleting every
//! row is always safe (everything is then refolded from the events).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoanSnapshots::Table)
                    .col(big_integer(LoanSnapshots::LoanId))
                    .col(date(LoanSnapshots::AsOf))
                    // The highest loan_transactions.id folded into it (the engine's event sequence).
                    .col(big_integer(LoanSnapshots::CoveredSequence))
                    .col(integer(LoanSnapshots::FormatVersion))
                    .col(string_len(LoanSnapshots::ContractFingerprint, 64))
                    .col(text(LoanSnapshots::State))
                    .col(timestamp_with_time_zone(LoanSnapshots::TakenAt))
                    .primary_key(
                        Index::create()
                            .col(LoanSnapshots::LoanId)
                            .col(LoanSnapshots::AsOf),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanSnapshots::Table, LoanSnapshots::LoanId)
                            .to(Loans::Table, Loans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The close of business prunes by date across all loans.
        manager
            .create_index(
                Index::create()
                    .name("idx_loan_snapshots_as_of")
                    .table(LoanSnapshots::Table)
                    .col(LoanSnapshots::AsOf)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoanSnapshots::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoanSnapshots {
    Table,
    LoanId,
    AsOf,
    CoveredSequence,
    FormatVersion,
    ContractFingerprint,
    State,
    TakenAt,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
}
