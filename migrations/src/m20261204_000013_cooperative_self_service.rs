//! The cooperative's own pages (issue 10): who receives the fund's mails and in what language, per
//! cooperative; the documents a cooperative uploads with an application; and the VietQR payload a
//! reminder or overdue notice carries, drawn as an inline PNG when the worker sends it.
//!
//! - `cooperative_notification_settings`: one row per cooperative that chose (none: the registered
//!   email and language). The chair's and the accountant's addresses receive the mails; empty means
//!   not set.
//! - `application_documents`: the file itself (`content`, binary: BLOB on SQLite, BYTEA on
//!   PostgreSQL) with its type as checked from its first bytes, never from its name, its size and its
//!   SHA-256. A supporting document is at most a few MB, so the database keeps it with its backup.
//! - `outbox_messages.qr_payload`: the VietQR text of the amount the mail asks for (NULL for mails
//!   without a payment code).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CooperativeNotificationSettings::Table)
                    .col(big_integer(CooperativeNotificationSettings::CooperativeId).primary_key())
                    .col(string_len(CooperativeNotificationSettings::Language, 5))
                    .col(string_len(CooperativeNotificationSettings::ChairEmail, 254))
                    .col(string_len(
                        CooperativeNotificationSettings::AccountantEmail,
                        254,
                    ))
                    .col(big_integer_null(CooperativeNotificationSettings::UpdatedBy))
                    .col(timestamp_with_time_zone(
                        CooperativeNotificationSettings::UpdatedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApplicationDocuments::Table)
                    .col(big_pk_auto(ApplicationDocuments::Id))
                    .col(big_integer(ApplicationDocuments::ApplicationId))
                    .col(big_integer(ApplicationDocuments::CooperativeId))
                    .col(string_len(ApplicationDocuments::FileName, 200))
                    .col(string_len(ApplicationDocuments::ContentType, 50))
                    .col(big_integer(ApplicationDocuments::SizeBytes))
                    .col(string_len(ApplicationDocuments::Sha256, 64))
                    .col(blob(ApplicationDocuments::Content))
                    .col(big_integer_null(ApplicationDocuments::UploadedBy))
                    .col(timestamp_with_time_zone(ApplicationDocuments::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_application_documents_application")
                    .table(ApplicationDocuments::Table)
                    .col(ApplicationDocuments::ApplicationId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxMessages::Table)
                    .add_column(text_null(OutboxMessages::QrPayload))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m20261204_000013 only goes forward".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum CooperativeNotificationSettings {
    Table,
    CooperativeId,
    Language,
    ChairEmail,
    AccountantEmail,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationDocuments {
    Table,
    Id,
    ApplicationId,
    CooperativeId,
    FileName,
    ContentType,
    SizeBytes,
    Sha256,
    Content,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    QrPayload,
}
