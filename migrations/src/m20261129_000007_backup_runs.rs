//! Backup runs: one row per backup attempt, so an admin sees at `GET /api/v1/backups` that the nightly copy
//! was made — or why it was not.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupRuns::Table)
                    .col(big_pk_auto(BackupRuns::Id))
                    .col(string_len(BackupRuns::Status, 20))
                    .col(string_len(BackupRuns::Trigger, 20))
                    .col(timestamp_with_time_zone(BackupRuns::StartedAt))
                    .col(timestamp_with_time_zone(BackupRuns::FinishedAt))
                    .col(text_null(BackupRuns::File))
                    .col(string_len_null(BackupRuns::Sha256, 64))
                    .col(big_integer_null(BackupRuns::SizeBytes))
                    .col(text_null(BackupRuns::Error))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BackupRuns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BackupRuns {
    Table,
    Id,
    Status,
    Trigger,
    StartedAt,
    FinishedAt,
    File,
    Sha256,
    SizeBytes,
    Error,
}
