//! Close-of-business runs: one row per business date closed (or attempted), with counts, so
//! operators see progress and failures at `GET /api/v1/cob/runs`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CobRuns::Table)
                    .col(big_pk_auto(CobRuns::Id))
                    .col(date(CobRuns::BusinessDate))
                    .col(string_len(CobRuns::Status, 20))
                    .col(string_len(CobRuns::Trigger, 20))
                    .col(string_len(CobRuns::Instance, 100))
                    .col(timestamp_with_time_zone(CobRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(CobRuns::FinishedAt))
                    .col(integer(CobRuns::LoansProcessed))
                    .col(integer(CobRuns::EntriesPosted))
                    .col(integer(CobRuns::NoticesQueued))
                    .col(integer(CobRuns::Errors))
                    .col(text_null(CobRuns::Message))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cob_runs_date")
                    .table(CobRuns::Table)
                    .col(CobRuns::BusinessDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CobRuns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CobRuns {
    Table,
    Id,
    BusinessDate,
    Status,
    Trigger,
    Instance,
    StartedAt,
    FinishedAt,
    LoansProcessed,
    EntriesPosted,
    NoticesQueued,
    Errors,
    Message,
}
