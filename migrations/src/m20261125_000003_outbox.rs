//! The transactional outbox: every email is first a row here, written in the same transaction
//! as the event that causes it, then delivered by a worker (src/mail/worker.rs).
//!
//! - `dedupe_key` is unique: a reminder or notice enqueued twice (a COB rerun, a retried
//!   request) is one row, so one mail.
//! - `message_id` is fixed at insert, so every attempt of one row carries the same RFC 5322
//!   Message-ID and a receiving system can recognise a resend.
//! - `status` + `next_attempt_at` drive claiming: a worker takes rows that are `pending` (or
//!   `sending` with an expired lease) whose `next_attempt_at` has passed, in that order; the
//!   index `idx_outbox_due` serves exactly that query. `claim_token` names the claim so that
//!   only its holder can mark the row sent.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxMessages::Table)
                    .col(big_pk_auto(OutboxMessages::Id))
                    .col(string_len_uniq(OutboxMessages::DedupeKey, 200))
                    .col(string_len(OutboxMessages::Kind, 40))
                    .col(string_len(OutboxMessages::Recipient, 254))
                    .col(string_len_null(OutboxMessages::Cc, 254))
                    .col(string_len(OutboxMessages::Language, 5))
                    .col(string_len(OutboxMessages::Subject, 300))
                    .col(text(OutboxMessages::BodyText))
                    .col(text_null(OutboxMessages::BodyHtml))
                    .col(string_len_uniq(OutboxMessages::MessageId, 120))
                    .col(string_len(OutboxMessages::Status, 10))
                    .col(integer(OutboxMessages::Attempts))
                    .col(timestamp_with_time_zone(OutboxMessages::NextAttemptAt))
                    .col(string_len_null(OutboxMessages::ClaimToken, 64))
                    .col(text_null(OutboxMessages::LastError))
                    .col(timestamp_with_time_zone(OutboxMessages::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxMessages::SentAt))
                    .col(string_len_null(OutboxMessages::RelatedType, 40))
                    .col(string_len_null(OutboxMessages::RelatedId, 64))
                    .col(big_integer_null(OutboxMessages::CooperativeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::Status)
                    .col(OutboxMessages::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_claim")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::ClaimToken)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_cooperative")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::CooperativeId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxMessages::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Id,
    DedupeKey,
    Kind,
    Recipient,
    Cc,
    Language,
    Subject,
    BodyText,
    BodyHtml,
    MessageId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimToken,
    LastError,
    CreatedAt,
    SentAt,
    RelatedType,
    RelatedId,
    CooperativeId,
}
